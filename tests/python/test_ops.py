"""Every op of clcnn.Context against numpy (numpy_reference.py), in both
dtypes, over shapes that include f = 1, stride > f, pad >= f, H != W, odd
channel counts and a 1x1 output; plus out=, optional gradients, ties in
max pooling and determinism."""

import numpy as np
import pytest

import numpy_reference as ref
from conftest import assert_close, rounded

CONV_CASES = [
    # a_prev dims, (f_h, f_w, n_C), stride, pad
    ((10, 4, 4, 3), (2, 2, 8), 2, 2),     # the walkthrough's
    ((2, 7, 5, 3), (3, 3, 5), 1, 1),
    ((3, 6, 9, 1), (1, 1, 7), 1, 0),      # f = 1
    ((2, 9, 9, 4), (2, 2, 3), 3, 0),      # stride > f: pixels no window covers
    ((1, 3, 4, 2), (2, 3, 17), 1, 3),     # pad >= f
    ((2, 5, 5, 6), (5, 5, 2), 1, 0),      # 1x1 output (a fully connected layer)
]

POOL_CASES = [
    # a_prev dims, f, stride
    ((2, 4, 4, 3), 3, 2),     # the walkthrough's
    ((5, 5, 3, 2), 2, 1),
    ((2, 8, 7, 5), 2, 2),
    ((1, 9, 9, 3), 2, 3),     # stride > f
    ((3, 4, 6, 17), 1, 1),    # f = 1
    ((2, 5, 5, 4), 5, 1),     # global
]


@pytest.mark.parametrize("a_dims,w_spec,stride,pad", CONV_CASES)
def test_conv_forward_and_backward(ctx, dtype, a_dims, w_spec, stride, pad):
    rng = np.random.default_rng(sum(a_dims) + 10 * stride + pad)
    f_h, f_w, n_C = w_spec
    a = rounded(rng, a_dims, dtype)
    w = rounded(rng, (f_h, f_w, a_dims[3], n_C), dtype)
    b = rounded(rng, (1, 1, 1, n_C), dtype)
    params = dict(stride=(stride, stride), pad=(pad,) * 4)
    z_ref = ref.conv_forward(a, w, b, **params)
    z = ctx.conv_forward(ctx.tensor(a, dtype), ctx.tensor(w, dtype), ctx.tensor(b, dtype), stride, pad)
    assert z.shape == z_ref.shape and z.dtype == dtype
    assert_close("z", z.numpy(), z_ref, ref.conv_forward_terms(a, w, b, **params), dtype)

    dz = rounded(rng, z_ref.shape, dtype)
    da_ref, dw_ref, db_ref = ref.conv_backward(dz, a, w, **params)
    da_terms, dw_terms, db_terms = ref.conv_backward_terms(dz, a, w, **params)
    # Arrays as inputs: uploaded in the call's dtype (dz's).
    da, dw, db = ctx.conv_backward(dz.astype(dtype), a, w, stride, pad)
    assert_close("da_prev", da.numpy(), da_ref, da_terms, dtype)
    assert_close("dw", dw.numpy(), dw_ref, dw_terms, dtype)
    assert_close("db", db.numpy(), db_ref, db_terms, dtype)


def test_conv_backward_some_gradients_and_out(ctx):
    rng = np.random.default_rng(5)
    a = rounded(rng, (2, 6, 6, 3), "float32")
    w = rounded(rng, (3, 3, 3, 4), "float32")
    dz = rounded(rng, (2, 6, 6, 4), "float32")
    _, dw_ref, _ = ref.conv_backward(dz, a, w, pad=(1, 1, 1, 1))
    _, dw_terms, _ = ref.conv_backward_terms(dz, a, w, pad=(1, 1, 1, 1))
    dw_out = ctx.empty(w.shape, "float32")
    da, dw, db = ctx.conv_backward(dz.astype(np.float32), a, w, 1, 1, da_prev=False, dw=dw_out, db=False)
    assert da is None and db is None and dw is dw_out
    assert_close("dw", dw.numpy(), dw_ref, dw_terms, "float32")


def test_zero_pad(ctx, dtype):
    rng = np.random.default_rng(1)
    x = rounded(rng, (4, 3, 3, 2), dtype)
    for pad in (0, 1, 2, 5):
        got = ctx.zero_pad(ctx.tensor(x, dtype), pad).numpy()
        np.testing.assert_array_equal(got, ref.zero_pad(x, pad))
    out = ctx.empty((4, 5, 5, 2), dtype)
    assert ctx.zero_pad(x.astype(dtype), 1, out=out) is out
    np.testing.assert_array_equal(out.numpy(), ref.zero_pad(x, 1))


@pytest.mark.parametrize("a_dims,f,stride", POOL_CASES)
@pytest.mark.parametrize("mode", ["max", "average"])
def test_pool_forward_and_backward(ctx, dtype, a_dims, f, stride, mode):
    rng = np.random.default_rng(sum(a_dims) + f + stride)
    a = rounded(rng, a_dims, dtype)
    a_ref = ref.pool_forward(a, (f, f), (stride, stride), mode)
    got = ctx.pool_forward(ctx.tensor(a, dtype), f, stride, mode)
    if mode == "max":
        np.testing.assert_array_equal(got.numpy(), a_ref)
    else:
        assert_close("a", got.numpy(), a_ref, ref.pool_forward(np.abs(a), (f, f), (stride, stride), mode), dtype)
    da = rounded(rng, a_ref.shape, dtype)
    da_ref = ref.pool_backward(da, a, (f, f), (stride, stride), mode)
    terms = ref.pool_backward(np.abs(da), a, (f, f), (stride, stride), mode)
    got = ctx.pool_backward(ctx.tensor(da, dtype), ctx.tensor(a, dtype), f, stride, mode)
    assert_close("da_prev", got.numpy(), da_ref, terms, dtype)


def test_max_pool_ties_go_to_the_first_maximum(ctx, dtype):
    """After a ReLU whole windows are 0: the gradient goes to each window's
    first element (row-major), so its sum is kept."""
    rng = np.random.default_rng(3)
    a = ref.relu_forward(rounded(rng, (2, 6, 6, 3), dtype))
    a[0, :2, :2, :] = 0.0
    da = rounded(rng, (2, 3, 3, 3), dtype)
    got = ctx.pool_backward(ctx.tensor(da, dtype), ctx.tensor(a, dtype), 2, 2, "max").numpy()
    np.testing.assert_array_equal(got, ref.pool_backward(da, a, (2, 2), (2, 2), "max"))
    assert got[0, 0, 0, 0] == da[0, 0, 0, 0] and got[0, 0, 1, 0] == 0 and got[0, 1, 1, 0] == 0


def test_max_pool_nan_as_pytorch(ctx, dtype):
    """A NaN anywhere in a window pools to NaN, and the window's gradient
    goes to its last NaN (row-major), as torch's max_pool2d does; ties
    among the other values still go to the first maximum."""
    rng = np.random.default_rng(5)
    a = np.round(rounded(rng, (2, 7, 7, 5), dtype))
    a[rng.random(a.shape) < 0.15] = np.nan
    a[0, 0, 0, :] = [np.nan, np.inf, -np.inf, 1.0, np.nan]
    da = rounded(rng, (2, 3, 3, 5), dtype)
    got = ctx.pool_forward(ctx.tensor(a, dtype), 3, 2, "max").numpy()
    np.testing.assert_array_equal(got, ref.pool_forward(a, (3, 3), (2, 2), "max"))
    assert np.isnan(got).any() and not np.isnan(got).all()
    got = ctx.pool_backward(ctx.tensor(da, dtype), ctx.tensor(a, dtype), 3, 2, "max").numpy()
    assert_close("da_prev", got, ref.pool_backward(da, a, (3, 3), (2, 2), "max"),
                 ref.pool_backward(np.abs(da), a, (3, 3), (2, 2), "max"), dtype)


def test_relu(ctx, dtype):
    rng = np.random.default_rng(4)
    x = rounded(rng, (3, 4, 5, 7), dtype)
    x[0, 0, 0, :3] = 0.0
    x[0, 0, 1, :2] = np.nan  # NaN stays NaN and passes dy back, as in PyTorch
    x_t = ctx.tensor(x, dtype)
    y = ctx.relu_forward(x_t)
    np.testing.assert_array_equal(y.numpy(), ref.relu_forward(x))
    dy = rounded(rng, x.shape, dtype)
    # x may be the forward's input or its output.
    for through in (x_t, y):
        np.testing.assert_array_equal(ctx.relu_backward(ctx.tensor(dy, dtype), through).numpy(),
                                      ref.relu_backward(dy, x))


def test_softmax_cross_entropy(ctx, dtype):
    rng = np.random.default_rng(6)
    logits = rounded(rng, (4, 2, 3, 10), dtype, scale=3.0)
    labels = rng.integers(0, 10, size=(4, 2, 3, 1))
    probs_ref, loss_ref, mean_ref = ref.softmax_cross_entropy_forward(logits, labels)
    # labels as an integer array: uploaded in the call's dtype.
    probs, loss, mean_loss = ctx.softmax_cross_entropy_forward(ctx.tensor(logits, dtype), labels)
    tolerance = dict(rtol=1e-5, atol=1e-6) if dtype == "float32" else dict(rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(probs.numpy(), probs_ref, **tolerance)
    np.testing.assert_allclose(loss.numpy(), loss_ref, **tolerance)
    np.testing.assert_allclose(mean_loss.numpy(), mean_ref, **tolerance)
    dlogits = ctx.softmax_cross_entropy_backward(probs, labels)
    np.testing.assert_allclose(dlogits.numpy(), ref.softmax_cross_entropy_backward(probs.numpy().astype(np.float64), labels),
                               **tolerance)


@pytest.mark.parametrize("momentum,weight_decay", [(0.0, 0.0), (0.9, 0.0), (0.9, 1e-3)])
def test_sgd_update(ctx, dtype, momentum, weight_decay):
    rng = np.random.default_rng(7)
    param = rounded(rng, (3, 3, 2, 4), dtype)
    grad = rounded(rng, param.shape, dtype)
    velocity = rounded(rng, param.shape, dtype) if momentum else None
    p_t = ctx.tensor(param, dtype)
    v_t = ctx.tensor(velocity, dtype) if momentum else None
    assert ctx.sgd_update(p_t, grad.astype(dtype), v_t, lr=0.1, momentum=momentum,
                          weight_decay=weight_decay) is p_t
    p_ref, v_ref = ref.sgd_update(param, grad, velocity, 0.1, momentum, weight_decay)
    tolerance = dict(rtol=1e-6, atol=1e-6) if dtype == "float32" else dict(rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(p_t.numpy(), p_ref, **tolerance)
    if momentum:
        np.testing.assert_allclose(v_t.numpy(), v_ref, **tolerance)


def test_deterministic(ctx):
    rng = np.random.default_rng(8)
    a = rounded(rng, (4, 9, 9, 5), "float32")
    w = rounded(rng, (3, 3, 5, 6), "float32")
    b = rounded(rng, (1, 1, 1, 6), "float32")
    dz = rounded(rng, (4, 9, 9, 6), "float32")
    runs = []
    for _ in range(2):
        z = ctx.conv_forward(a.astype(np.float32), w, b, 1, 1).numpy()
        grads = [t.numpy() for t in ctx.conv_backward(dz.astype(np.float32), a, w, 1, 1)]
        runs.append([z] + grads)
    for first, second in zip(*runs):
        assert first.tobytes() == second.tobytes()


def test_tensor_round_trip(ctx, dtype):
    rng = np.random.default_rng(9)
    x = rounded(rng, (2, 3, 4, 5), dtype).astype(dtype)
    t = ctx.tensor(x)
    assert t.shape == x.shape and t.dtype == dtype and t.nbytes == x.nbytes
    np.testing.assert_array_equal(t.numpy(), x)
    # Other arrays convert when asked.
    ints = ctx.tensor(np.arange(24).reshape(1, 2, 3, 4), dtype=dtype)
    np.testing.assert_array_equal(ints.numpy(), np.arange(24).reshape(1, 2, 3, 4))
    # A non-contiguous view is copied in order.
    view = np.asarray(x)[:, ::-1]
    np.testing.assert_array_equal(ctx.tensor(view).numpy(), view)
    t.close()
    t.close()  # twice is fine
