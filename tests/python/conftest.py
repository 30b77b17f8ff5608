"""Fixtures of the Python package's tests: the shared Context (the tests skip
without an OpenCL device, unless CLCNN_REQUIRE_DEVICE=1), the dtypes, and
the comparison with the project's tolerance rule."""

import os

import numpy as np
import pytest

import clcnn

# Set when the device fixture skipped for want of a device: the run then
# exits 77, which ctest reports as skipped (see pytest_sessionfinish).
_no_device = []


def _device_required():
    return os.environ.get("CLCNN_REQUIRE_DEVICE") == "1"


@pytest.fixture(scope="session")
def ctx():
    try:
        context = clcnn.Context()
    except clcnn.Error as error:
        if error.status == clcnn.Status.ERROR_NO_DEVICE and not _device_required():
            _no_device.append(error.message)
            pytest.skip(f"no OpenCL device ({error.message}); set CLCNN_REQUIRE_DEVICE=1 to fail")
        raise
    print("device:", context.device_name)
    yield context
    context.close()


@pytest.fixture(params=["float32", "float64"])
def dtype(request, ctx):
    if not ctx.supports(request.param):
        pytest.skip(f"{ctx.device_name} has no {request.param}")
    return request.param


def pytest_sessionfinish(session, exitstatus):
    if _no_device and exitstatus == 0:
        session.exitstatus = 77


def eps(dtype):
    return float(np.finfo(dtype).eps)


def rounded(rng, shape, dtype, scale=1.0):
    """Normal values rounded to dtype and back to float64, so that numpy
    computes from exactly what the device holds."""
    return (rng.standard_normal(shape) * scale).astype(dtype).astype(np.float64)


def assert_close(what, got, ref, terms, dtype, k=16.0):
    """|got - ref| <= k * eps(dtype) * terms element-wise (terms: the sum of
    |terms| behind each value; exact when terms is 0)."""
    got = np.asarray(got, dtype=np.float64)
    assert got.shape == ref.shape, f"{what}: shape {got.shape}, expected {ref.shape}"
    bound = k * eps(dtype) * np.asarray(terms)
    bad = ~(np.abs(got - ref) <= bound)
    if bad.any():
        where = tuple(int(i) for i in np.argwhere(bad)[0])
        raise AssertionError(f"{what}: {int(bad.sum())} of {bad.size} values off; first at {where}: "
                             f"got {got[where]!r}, expected {ref[where]!r}, bound {np.broadcast_to(bound, ref.shape)[where]!r}")
