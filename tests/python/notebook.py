"""The walkthrough's functions as it publishes them ("Convolutional Neural
Networks: Step by Step", /work/shared/seed/walkthrough.md in the project's
notes), loops and all, for clcnn.walkthrough to be compared with.

One change, marked FIXED: the published conv_backward never writes dA_prev
(its loop ends with `dA_prev_pad[i, :, :, :] = da_prev_pad`, so dA_prev
stays zeros); conv_backward here copies the unpadded da_prev_pad into
dA_prev, as the walkthrough's own hint says. conv_backward_as_published
keeps the bug, to show it. The published `try: ... except Exception: a = 0`
around the dA update is left out: it only hides shape errors, and with
valid shapes nothing raises. The loops over h, w and c with the window's
corners are written once, in _windows, rather than in each function.
"""

import numpy as np


def _windows(n_H, n_W, n_C, stride, f):
    """The published loops over h, w and c with the window's corners, once."""
    for h in range(n_H):
        for w in range(n_W):
            for c in range(n_C):
                vert_start = h * stride
                vert_end = h * stride + f
                horiz_start = w * stride
                horiz_end = w * stride + f
                yield h, w, c, vert_start, vert_end, horiz_start, horiz_end


def zero_pad(X, pad):
    X_pad = np.pad(X, ((0, 0), (pad, pad), (pad, pad), (0, 0)), mode='constant', constant_values=(0, 0))
    return X_pad


def conv_single_step(a_slice_prev, W, b):
    s = a_slice_prev * W
    Z = np.sum(s)
    Z = Z + float(np.asarray(b).item())  # the published float(b), without numpy's deprecation warning
    return Z


def conv_forward(A_prev, W, b, hparameters):
    (m, n_H_prev, n_W_prev, n_C_prev) = A_prev.shape
    (f, f, n_C_prev, n_C) = W.shape
    stride = hparameters['stride']
    pad = hparameters['pad']
    n_H = int((n_H_prev - f + 2 * pad) / stride) + 1
    n_W = int((n_W_prev - f + 2 * pad) / stride) + 1
    Z = np.zeros(shape=(m, n_H, n_W, n_C))
    A_prev_pad = zero_pad(A_prev, pad)
    for i in range(m):
        a_prev_pad = A_prev_pad[i]
        for h, w, c, vert_start, vert_end, horiz_start, horiz_end in _windows(n_H, n_W, n_C, stride, f):
            a_slice_prev = a_prev_pad[vert_start:vert_end, horiz_start:horiz_end, :]
            Z[i, h, w, c] = conv_single_step(a_slice_prev, W[:, :, :, c], b[:, :, :, c])
    assert (Z.shape == (m, n_H, n_W, n_C))
    cache = (A_prev, W, b, hparameters)
    return Z, cache


def _conv_backward(dZ, cache, fixed):
    (A_prev, W, b, hparameters) = cache
    (m, n_H_prev, n_W_prev, n_C_prev) = A_prev.shape
    (f, f, n_C_prev, n_C) = W.shape
    stride = hparameters['stride']
    pad = hparameters['pad']
    (m, n_H, n_W, n_C) = dZ.shape
    dA_prev = np.zeros(shape=(m, n_H_prev, n_W_prev, n_C_prev))
    dW = np.zeros(shape=(f, f, n_C_prev, n_C))
    db = np.zeros(shape=(1, 1, 1, n_C))
    A_prev_pad = zero_pad(A_prev, pad)
    dA_prev_pad = zero_pad(dA_prev, pad)
    for i in range(m):
        a_prev_pad = A_prev_pad[i]
        da_prev_pad = dA_prev_pad[i]
        for h, w, c, vert_start, vert_end, horiz_start, horiz_end in _windows(n_H, n_W, n_C, stride, f):
            a_slice = a_prev_pad[vert_start:vert_end, horiz_start:horiz_end, :]
            da_prev_pad[vert_start:vert_end, horiz_start:horiz_end, :] += W[:, :, :, c] * dZ[i, h, w, c]
            dW[:, :, :, c] += a_slice * dZ[i, h, w, c]
            db[:, :, :, c] += dZ[i, h, w, c]
        if fixed:
            # FIXED: the hint's X[pad:-pad, pad:-pad, :], written so that pad = 0 works too.
            dA_prev[i, :, :, :] = da_prev_pad[pad:pad + n_H_prev, pad:pad + n_W_prev, :]
        else:
            dA_prev_pad[i, :, :, :] = da_prev_pad
    assert (dA_prev.shape == (m, n_H_prev, n_W_prev, n_C_prev))
    return dA_prev, dW, db


def conv_backward(dZ, cache):
    return _conv_backward(dZ, cache, fixed=True)


def conv_backward_as_published(dZ, cache):
    return _conv_backward(dZ, cache, fixed=False)


def pool_forward(A_prev, hparameters, mode="max"):
    (m, n_H_prev, n_W_prev, n_C_prev) = A_prev.shape
    f = hparameters["f"]
    stride = hparameters["stride"]
    n_H = int(1 + (n_H_prev - f) / stride)
    n_W = int(1 + (n_W_prev - f) / stride)
    n_C = n_C_prev
    A = np.zeros((m, n_H, n_W, n_C))
    for i in range(m):
        for h, w, c, vert_start, vert_end, horiz_start, horiz_end in _windows(n_H, n_W, n_C, stride, f):
            a_prev_slice = A_prev[i, vert_start:vert_end, horiz_start:horiz_end, c]
            if mode == "max":
                A[i, h, w, c] = np.max(a_prev_slice)
            elif mode == "average":
                A[i, h, w, c] = np.average(a_prev_slice)
    cache = (A_prev, hparameters)
    assert (A.shape == (m, n_H, n_W, n_C))
    return A, cache


def create_mask_from_window(x):
    mask = x == np.max(x)
    return mask


def distribute_value(dz, shape):
    (n_H, n_W) = shape
    average = dz / (n_W * n_H)
    a = np.ones(shape=shape) * average
    return a


def pool_backward(dA, cache, mode="max"):
    (A_prev, hparameters) = cache
    stride = hparameters['stride']
    f = hparameters['f']
    m, n_H_prev, n_W_prev, n_C_prev = A_prev.shape
    m, n_H, n_W, n_C = dA.shape
    dA_prev = np.zeros(shape=(m, n_H_prev, n_W_prev, n_C_prev))
    for i in range(m):
        a_prev = A_prev[i]
        for h, w, c, vert_start, vert_end, horiz_start, horiz_end in _windows(n_H, n_W, n_C, stride, f):
            if mode == "max":
                a_prev_slice = a_prev[vert_start:vert_end, horiz_start:horiz_end, c]
                mask = create_mask_from_window(a_prev_slice)
                dA_prev[i, vert_start: vert_end, horiz_start: horiz_end, c] += mask * dA[i, h, w, c]
            elif mode == "average":
                da = dA[i, h, w, c]
                shape = (f, f)
                dA_prev[i, vert_start: vert_end, horiz_start: horiz_end, c] += distribute_value(da, shape)
    assert (dA_prev.shape == A_prev.shape)
    return dA_prev
