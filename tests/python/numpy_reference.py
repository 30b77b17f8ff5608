"""Every op of clcnn in numpy (float64), vectorised over the batch, for the
tests to compare the device with: the general (version 0.2) convolution
and pooling, of which the walkthrough's ops are the special case, and the
training ops. Each returns its result, and `terms` functions give the sum
of the absolute values of the terms behind each result, for tolerances
that scale with the reduction (the project's rule: |got - ref| <=
k * eps(dtype) * sum|terms|)."""

import numpy as np


def _window_slices(kh, kw, n_H, n_W, stride, dilation):
    """The input rows and columns tap (kh, kw) reads for every output pixel."""
    (sh, sw), (dh, dw) = stride, dilation
    return (slice(kh * dh, kh * dh + sh * (n_H - 1) + 1, sh),
            slice(kw * dw, kw * dw + sw * (n_W - 1) + 1, sw))


def conv_output_hw(a_shape, w_shape, stride=(1, 1), pad=(0, 0, 0, 0), dilation=(1, 1)):
    _, H, W, _ = a_shape
    f_h, f_w = w_shape[:2]
    pt, pb, pl, pr = pad
    return ((H + pt + pb - dilation[0] * (f_h - 1) - 1) // stride[0] + 1,
            (W + pl + pr - dilation[1] * (f_w - 1) - 1) // stride[1] + 1)


def conv_forward(a, w, b, stride=(1, 1), pad=(0, 0, 0, 0), dilation=(1, 1), groups=1, relu=False):
    """z = act(conv(a, w) + b); w (f_h, f_w, n_C_prev / groups, n_C); b None
    or (1, 1, 1, n_C)."""
    m, H, W, C = a.shape
    f_h, f_w, Cg, K = w.shape
    Kg = K // groups
    pt, pb, pl, pr = pad
    n_H, n_W = conv_output_hw(a.shape, w.shape, stride, pad, dilation)
    ap = np.pad(a, ((0, 0), (pt, pb), (pl, pr), (0, 0)))
    z = np.zeros((m, n_H, n_W, K))
    for g in range(groups):
        cin, cout = slice(g * Cg, (g + 1) * Cg), slice(g * Kg, (g + 1) * Kg)
        for kh in range(f_h):
            for kw in range(f_w):
                rows, cols = _window_slices(kh, kw, n_H, n_W, stride, dilation)
                z[..., cout] += ap[:, rows, cols, cin] @ w[kh, kw][:, cout]
    if b is not None:
        z += b.reshape(1, 1, 1, K)
    return np.maximum(z, 0) if relu else z


def conv_forward_terms(a, w, b, **params):
    """sum|terms| of each output of conv_forward."""
    params = dict(params, relu=False)
    return conv_forward(np.abs(a), np.abs(w), None if b is None else np.abs(b), **params)


def conv_backward(dz, a, w, stride=(1, 1), pad=(0, 0, 0, 0), dilation=(1, 1), groups=1):
    """(da_prev, dw, db) of conv_forward without activation."""
    m, H, W, C = a.shape
    f_h, f_w, Cg, K = w.shape
    Kg = K // groups
    pt, pb, pl, pr = pad
    n_H, n_W = dz.shape[1:3]
    ap = np.pad(a, ((0, 0), (pt, pb), (pl, pr), (0, 0)))
    dap = np.zeros_like(ap)
    dw = np.zeros_like(w)
    for g in range(groups):
        cin, cout = slice(g * Cg, (g + 1) * Cg), slice(g * Kg, (g + 1) * Kg)
        for kh in range(f_h):
            for kw in range(f_w):
                rows, cols = _window_slices(kh, kw, n_H, n_W, stride, dilation)
                dw[kh, kw][:, cout] = np.einsum("mhwc,mhwk->ck", ap[:, rows, cols, cin], dz[..., cout])
                dap[:, rows, cols, cin] += dz[..., cout] @ w[kh, kw][:, cout].T
    db = dz.sum(axis=(0, 1, 2)).reshape(1, 1, 1, K)
    return dap[:, pt:pt + H, pl:pl + W, :], dw, db


def conv_backward_terms(dz, a, w, **params):
    return conv_backward(np.abs(dz), np.abs(a), np.abs(w), **params)


def zero_pad(x, pad):
    return np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))


def _pool_windows(a, f, stride, pad, fill):
    """(windows, n_H, n_W): windows[..., k] is tap k = kh * f_w + kw of every
    output pixel (row-major order of the window), padding read as fill."""
    f_h, f_w = f
    pt, pb, pl, pr = pad
    _, H, W, _ = a.shape
    n_H = (H + pt + pb - f_h) // stride[0] + 1
    n_W = (W + pl + pr - f_w) // stride[1] + 1
    ap = np.pad(a, ((0, 0), (pt, pb), (pl, pr), (0, 0)), constant_values=fill)
    taps = []
    for kh in range(f_h):
        for kw in range(f_w):
            rows, cols = _window_slices(kh, kw, n_H, n_W, stride, (1, 1))
            taps.append(ap[:, rows, cols, :])
    return np.stack(taps, axis=-1), n_H, n_W


def _average_divisor(a, f, stride, pad, count_include_pad):
    if count_include_pad:
        return f[0] * f[1]
    inside, _, _ = _pool_windows(np.ones(a.shape[:3] + (1,)), f, stride, pad, 0.0)
    return inside.sum(axis=-1)


def pool_forward(a, f, stride, mode="max", pad=(0, 0, 0, 0), count_include_pad=True):
    """f and stride are (h, w); padding never wins a max nor adds to a sum."""
    if mode == "max":
        windows, _, _ = _pool_windows(a, f, stride, pad, -np.inf)
        return windows.max(axis=-1)
    windows, _, _ = _pool_windows(a, f, stride, pad, 0.0)
    return windows.sum(axis=-1) / _average_divisor(a, f, stride, pad, count_include_pad)


def pool_backward(da, a, f, stride, mode="max", pad=(0, 0, 0, 0), count_include_pad=True):
    """Max: each window's gradient to its first maximum (row-major), or to
    its last NaN where it holds one (as PyTorch)."""
    pt, pb, pl, pr = pad
    _, H, W, _ = a.shape
    windows, n_H, n_W = _pool_windows(a, f, stride, pad, -np.inf if mode == "max" else 0.0)
    dap = np.zeros((a.shape[0], H + pt + pb, W + pl + pr, a.shape[3]))
    if mode == "max":
        nans = np.isnan(windows)
        last_nan = windows.shape[-1] - 1 - nans[..., ::-1].argmax(axis=-1)
        first = np.where(nans.any(axis=-1), last_nan, windows.argmax(axis=-1))
    else:
        share = da / _average_divisor(a, f, stride, pad, count_include_pad)
    for k in range(f[0] * f[1]):
        rows, cols = _window_slices(k // f[1], k % f[1], n_H, n_W, stride, (1, 1))
        dap[:, rows, cols, :] += np.where(first == k, da, 0.0) if mode == "max" else share
    return dap[:, pt:pt + H, pl:pl + W, :]


def relu_forward(x):
    return np.where(x < 0, 0.0, x)


def relu_backward(dy, x):
    return np.where(x <= 0, 0.0, dy)


def softmax_cross_entropy_forward(logits, labels):
    """(probs, loss, mean_loss) over the last axis; labels (m, n_H, n_W, 1)."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    total = np.exp(shifted).sum(axis=-1, keepdims=True)
    probs = np.exp(shifted) / total
    picked = np.take_along_axis(shifted, labels.astype(np.int64), axis=-1)
    loss = np.log(total) - picked
    return probs, loss, np.full((1, 1, 1, 1), loss.mean())


def softmax_cross_entropy_backward(probs, labels):
    rows = probs.size // probs.shape[-1]
    onehot = np.zeros_like(probs)
    np.put_along_axis(onehot, labels.astype(np.int64), 1.0, axis=-1)
    return (probs - onehot) / rows


def sgd_update(param, grad, velocity, lr, momentum, weight_decay):
    """(param, velocity) after one step; velocity None when momentum is 0."""
    g = grad + weight_decay * param
    if velocity is None:
        return param - lr * g, None
    velocity = momentum * velocity + g
    return param - lr * velocity, velocity
