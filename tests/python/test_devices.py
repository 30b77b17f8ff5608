"""The device list (clcnn.devices, a ctypes mirror of clcnn_device_info
checked against the C compiler's layout) and the context's diagnostics."""

import ctypes
import json
import os
import subprocess

import numpy as np
import pytest

import clcnn
from clcnn import _library


def test_devices_and_the_chosen_one(ctx):
    found = clcnn.devices()
    assert found, "a context exists, so there is a device"
    chosen = [d for d in found if d.chosen]
    assert len(chosen) == 1
    # Context()'s device name is "device name (platform name)".
    assert ctx.device_name.startswith(chosen[0].name)
    assert chosen[0].platform in ctx.device_name
    for d in found:
        assert d.type in ("cpu", "gpu", "accelerator", "other")
        assert d.compute_units >= 1 and d.max_alloc_bytes > 0 and d.global_mem_bytes >= d.max_alloc_bytes
        assert d.max_work_group_size >= 1 and d.opencl_version.startswith("OpenCL")
        assert d.fp64 == clcnn.Context(d.spec).supports("float64")
    # A spec picks a device; one that matches nothing picks none.
    assert [d.chosen for d in clcnn.devices(found[-1].spec)][-1]
    assert not any(d.chosen for d in clcnn.devices("no-such-device"))


def test_diagnostics(ctx):
    assert ctx.config.startswith("table=")
    assert "conv_vector=" in ctx.config
    assert isinstance(ctx.workspace_bytes, int)
    assert ctx.build_warnings == ""
    assert clcnn.version().count(".") == 2
    ctx.finish()


def test_set_tuning():
    ctx = clcnn.Context()
    before = ctx.config
    with pytest.raises(clcnn.Error, match="no_such_key"):
        ctx.set_tuning("conv_local=4,no_such_key=1")
    assert ctx.config == before
    ctx.set_tuning("conv_local=4")
    assert ",conv_local=4," in ctx.config
    ctx.plan()
    ctx.relu_forward(ctx.tensor(np.ones((1, 2, 2, 3), np.float32)))
    assert ctx.plan().startswith("relu_forward.cl relu_forward float32 ")
    assert ctx.plan() == ""
    assert "CLCNN_TUNE:" not in ctx.tuning_notes


def test_build_stats():
    ctx = clcnn.Context()
    assert ctx.build_stats() == {"programs": 0, "cached_programs": 0, "build_seconds": 0.0, "first_launches": 0,
                                 "first_launch_seconds": 0.0}
    x = ctx.tensor(np.ones((1, 2, 2, 3), np.float32))
    ctx.relu_forward(x)
    ctx.finish()
    once = ctx.build_stats()
    assert once["programs"] == 1 and once["first_launches"] == 1 and once["build_seconds"] > 0
    ctx.relu_forward(x)
    ctx.finish()
    assert ctx.build_stats() == once


def _c_layout():
    helper = os.environ.get("CLCNN_STRUCT_LAYOUT")
    if not helper:
        pytest.skip("CLCNN_STRUCT_LAYOUT (the clcnn_struct_layout helper ctest passes) is not set")
    return json.loads(subprocess.run([helper], check=True, capture_output=True, text=True).stdout)


@pytest.mark.parametrize("name,mirror", [("clcnn_device_info", _library.DeviceInfo),
                                         ("clcnn_conv_params", _library.ConvParams),
                                         ("clcnn_pool_params", _library.PoolParams),
                                         ("clcnn_build_stats", _library.BuildStats)])
def test_struct_mirrors_match_the_c_layout(name, mirror):
    layout = _c_layout()
    if name not in layout:
        pytest.skip(f"this clcnn.h has no {name}")
    c = layout[name]
    assert ctypes.sizeof(mirror) == c["size"], f"{mirror.__name__} is {ctypes.sizeof(mirror)} bytes, {name} {c['size']}"
    fields = [f[0] for f in mirror._fields_]
    assert fields == list(c["fields"]), f"fields {fields} against {list(c['fields'])}"
    for field, (offset, size) in c["fields"].items():
        described = getattr(mirror, field)
        assert (described.offset, described.size) == (offset, size), f"{name}.{field}"
