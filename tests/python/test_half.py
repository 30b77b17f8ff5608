"""The 16-bit dtypes from Python: numpy float16 arrays as they are, bfloat16
from float32 arrays (rounded to nearest even on the device) back to float32,
Tensor.astype, conv in 16 bits, and ops that do not take 16-bit tensors
refusing them."""

import numpy as np
import pytest

import clcnn


def bfloat16_round(x):
    """float32 values rounded to bfloat16 (nearest even, as floats): numpy's
    own arithmetic on the bits, apart from the device's."""
    bits = np.asarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    rounded = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16) << 16
    return rounded.astype(np.uint32).view(np.float32)


def test_float16_arrays_round_trip(ctx):
    bits = np.arange(65536, dtype=np.uint16).reshape(1, 256, 256, 1)
    values = bits.view(np.float16)
    t = ctx.tensor(values)
    assert t.dtype == "float16" and t.nbytes == 65536 * 2
    back = t.numpy()
    assert back.dtype == np.float16
    np.testing.assert_array_equal(back.view(np.uint16)[~np.isnan(values)], bits[~np.isnan(values)])
    assert np.isnan(back[np.isnan(values)]).all()


def test_bfloat16_takes_and_gives_float32(ctx):
    rng = np.random.default_rng(23)
    x = (rng.standard_normal((2, 3, 4, 5)) * 100).astype(np.float32)
    x[0, 0, 0, :3] = [1.0 + 2.0 ** -8, 1.0 + 3 * 2.0 ** -8, -0.0]  # ties to even; -0 keeps its sign
    t = ctx.tensor(x, "bfloat16")
    assert t.dtype == "bfloat16" and t.nbytes == x.size * 2
    got = t.numpy()
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, bfloat16_round(x))
    assert got[0, 0, 0, 0] == 1.0 and got[0, 0, 0, 1] == 1.0 + 2.0 ** -6
    assert np.signbit(got[0, 0, 0, 2])


def test_astype_between_every_pair(ctx):
    x = np.array([1.0, -2.5, 65520.0, 1e-8, np.inf, np.nan], dtype=np.float32).reshape(1, 1, 1, 6)
    with np.errstate(over="ignore"):
        x16 = x.astype(np.float16)  # 65520: a tie, to even: infinity
    src = ctx.tensor(x)
    half = src.astype("float16")
    np.testing.assert_array_equal(half.numpy(), x16)
    assert half.astype("bfloat16").astype(np.float32).numpy()[0, 0, 0, 2] == np.inf
    np.testing.assert_array_equal(src.astype("bfloat16").numpy(), bfloat16_round(x))
    if ctx.supports("float64"):
        np.testing.assert_array_equal(half.astype("float64").numpy(), x16.astype(np.float64))


def test_unconverted_op_refuses_16_bit(ctx):
    a = ctx.tensor(np.zeros((1, 4, 4, 1), dtype=np.float16))
    with pytest.raises(clcnn.Error) as caught:
        ctx.pool_forward(a, 2, 2)
    assert caught.value.status == clcnn.Status.ERROR_UNSUPPORTED
    assert "float16" in caught.value.message and "clcnn_tensor_convert" in caught.value.message


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_conv_forward_16_bit(ctx, dtype):
    """conv_forward in 16 bits within docs/tolerance.md's bound of the float32
    result on the same (exactly converted) inputs: B + u (|r| + B) + tiny,
    B = 8 eps32 sum|terms|, the terms' sums from the float32 op on |a|, |w|, |b|."""
    rng = np.random.default_rng(7)
    shapes = [(2, 6, 7, 5), (3, 3, 5, 4), (1, 1, 1, 4)]
    host = [rng.standard_normal(shape).astype(np.float32) for shape in shapes]
    a, w, b = [ctx.tensor(x).astype(dtype) for x in host]
    a32, w32, b32 = [t.astype("float32") for t in (a, w, b)]
    z = ctx.conv_forward(a, w, b, stride=1, pad=1)
    assert z.dtype == dtype
    got = z.astype("float32").numpy().astype(np.float64)
    ref = ctx.conv_forward(a32, w32, b32, stride=1, pad=1).numpy().astype(np.float64)
    terms = ctx.conv_forward(*[ctx.tensor(np.abs(t.numpy())) for t in (a32, w32, b32)], stride=1, pad=1).numpy()
    u, tiny = (2.0 ** -11, 2.0 ** -24) if dtype == "float16" else (2.0 ** -8, 2.0 ** -126)
    bound_b = 8 * np.finfo(np.float32).eps * terms.astype(np.float64)
    assert (np.abs(got - ref) <= bound_b + u * (np.abs(ref) + bound_b) + tiny).all()


def test_softmax_bfloat16_with_float32_labels(ctx):
    rng = np.random.default_rng(5)
    logits = bfloat16_round(rng.standard_normal((4, 1, 1, 300)).astype(np.float32))
    labels = rng.integers(0, 300, (4, 1, 1, 1)).astype(np.float32)
    z = ctx.tensor(logits, "bfloat16")
    with pytest.raises(clcnn.Error) as caught:
        ctx.softmax_cross_entropy_forward(z, labels)  # uploaded as bfloat16: 300 classes do not fit
    assert "float32 labels" in caught.value.message
    probs, loss, mean = ctx.softmax_cross_entropy_forward(z, ctx.tensor(labels, "float32"))
    shifted = logits.astype(np.float64) - logits.max(axis=3, keepdims=True)
    ref = np.exp(shifted) / np.exp(shifted).sum(axis=3, keepdims=True)
    assert probs.dtype == "bfloat16"
    np.testing.assert_allclose(probs.numpy(), ref, rtol=2.0 ** -7, atol=2.0 ** -133)
    picked = -np.log(np.take_along_axis(ref, labels.astype(np.int64), axis=3))
    np.testing.assert_allclose(loss.numpy(), picked, rtol=2.0 ** -7)
