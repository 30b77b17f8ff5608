"""The numpy walkthrough "Convolutional Neural Networks: Step by Step" as a
drop-in: its eight functions with the same names, arguments, return values
and caches, computed by clcnn.

    from clcnn.walkthrough import zero_pad, conv_single_step, conv_forward, \\
        conv_backward, create_mask_from_window, distribute_value, \\
        pool_forward, pool_backward

Arrays go in and come out as float64 numpy arrays, NHWC, as in the
walkthrough. zero_pad, conv_forward, conv_backward, pool_forward and
pool_backward run on the device of context() (by default clcnn's default
device, CLCNN_DEVICE honoured), in float64 when the device has it (else in
float32, with a warning). The results match the walkthrough's loops to
rounding (the device sums in another order), with two differences where
the walkthrough is wrong or silent:

- conv_backward returns the real dA_prev. The walkthrough's loop fills
  dA_prev_pad but never copies it into dA_prev, so its dA_prev is all zeros.
- In max pooling backward (and create_mask_from_window) a window's gradient
  goes to its first maximum in row-major order, not to every element equal
  to the maximum: with ties, the walkthrough multiplies the gradient. A
  window with a NaN pools to NaN and gives the gradient to its last NaN,
  as PyTorch does.

conv_single_step, create_mask_from_window and distribute_value work on one
window and run in numpy: on the device each would cost uploads, a kernel
launch and a read for a handful of numbers, and the device's ops already do
their work inside the kernels of conv and pool.
"""

import warnings

import numpy as np

from . import _core

_context = None
_dtype = None


def context():
    """The clcnn.Context the functions run on, created on first use."""
    global _context
    if _context is None:
        use_context(_core.Context())
    return _context


def use_context(ctx):
    """Runs the functions on ctx from now on (e.g. clcnn.Context("gpu"))."""
    global _context, _dtype
    _context = ctx
    _dtype = "float64" if ctx.supports("float64") else "float32"
    if _dtype == "float32":
        warnings.warn(f"clcnn.walkthrough: {ctx.device_name} has no float64 (cl_khr_fp64); computing in "
                      f"float32, so results differ from numpy's from the 7th digit on", stacklevel=3)


def _on_device(array):
    """array as the device's tensor dtype (float64 where it can)."""
    context()
    return np.asarray(array, dtype=_dtype)


def _back(tensor):
    return tensor.numpy().astype(np.float64, copy=False)


def _mode(mode):
    if mode not in ("max", "average"):
        raise _core.Error(_core.Status.ERROR_INVALID_ARGUMENT,
                          f"pooling: mode is {mode!r}; use \"max\" or \"average\"")
    return mode


def zero_pad(X, pad):
    """X (m, n_H, n_W, n_C) with pad zeros around H and W:
    (m, n_H + 2*pad, n_W + 2*pad, n_C)."""
    return _back(context().zero_pad(_on_device(X), pad))


def conv_single_step(a_slice_prev, W, b):
    """sum(a_slice_prev * W) + b for one window: a scalar (numpy; see the
    module's doc)."""
    return np.sum(np.asarray(a_slice_prev) * np.asarray(W)) + np.asarray(b).item()


def conv_forward(A_prev, W, b, hparameters):
    """Z = conv(A_prev, W) + b with hparameters {"stride", "pad"}.
    A_prev (m, n_H_prev, n_W_prev, n_C_prev), W (f, f, n_C_prev, n_C),
    b (1, 1, 1, n_C). Returns (Z, cache), cache = (A_prev, W, b, hparameters)."""
    ctx = context()
    Z = ctx.conv_forward(_on_device(A_prev), _on_device(W), _on_device(b),
                         hparameters["stride"], hparameters["pad"])
    return _back(Z), (A_prev, W, b, hparameters)


def conv_backward(dZ, cache):
    """(dA_prev, dW, db) from dZ (m, n_H, n_W, n_C) and conv_forward's cache."""
    A_prev, W, b, hparameters = cache
    dA_prev, dW, db = context().conv_backward(_on_device(dZ), _on_device(A_prev), _on_device(W),
                                              hparameters["stride"], hparameters["pad"])
    return _back(dA_prev), _back(dW), _back(db)


def create_mask_from_window(x):
    """A boolean array of x's shape, True at x's first maximum (row-major),
    or at its last NaN where x holds one."""
    x = np.asarray(x)
    mask = np.zeros(x.shape, dtype=bool)
    nans = np.flatnonzero(np.isnan(x))
    mask[np.unravel_index(nans[-1] if nans.size else np.argmax(x), x.shape)] = True
    return mask


def distribute_value(dz, shape):
    """An array of shape (n_H, n_W) holding dz / (n_H * n_W) everywhere."""
    (n_H, n_W) = shape
    average = dz / (n_H * n_W)
    return np.ones(shape=shape) * average


def pool_forward(A_prev, hparameters, mode="max"):
    """Max or average pooling with hparameters {"f", "stride"}. Returns
    (A, cache), cache = (A_prev, hparameters)."""
    A = context().pool_forward(_on_device(A_prev), hparameters["f"], hparameters["stride"], _mode(mode))
    return _back(A), (A_prev, hparameters)


def pool_backward(dA, cache, mode="max"):
    """dA_prev from dA and pool_forward's cache."""
    A_prev, hparameters = cache
    dA_prev = context().pool_backward(_on_device(dA), _on_device(A_prev), hparameters["f"],
                                      hparameters["stride"], _mode(mode))
    return _back(dA_prev)
