"""The version 0.2 ops (conv_forward_ex, conv_backward_ex, pool_forward_ex,
pool_backward_ex) against numpy, and against the walkthrough's ops, which
they must reproduce bit for bit with the default params. Skipped for a
libclcnn older than 0.2."""

import numpy as np
import pytest

import clcnn
import numpy_reference as ref
from conftest import assert_close, rounded


def need(ctx, name):
    if getattr(ctx._lib, name) is None:
        pytest.skip(f"{ctx._lib.path} has no {name}")


CONV_EX_CASES = [
    # a_prev dims, (f_h, f_w, n_C), stride, pad (t, b, l, r), dilation, groups, bias, relu
    ((2, 7, 6, 4), (3, 2, 6), (2, 1), (1, 0, 2, 1), (1, 1), 1, True, False),
    ((1, 9, 9, 3), (3, 3, 4), (1, 1), (2, 2, 2, 2), (2, 2), 1, True, True),
    ((2, 6, 5, 6), (3, 3, 4), (1, 2), (1, 1, 1, 1), (1, 1), 2, False, False),
    ((2, 5, 5, 4), (3, 3, 8), (1, 1), (1, 1, 1, 1), (1, 1), 4, True, False),  # depthwise, multiplier 2
]


@pytest.mark.parametrize("a_dims,w_spec,stride,pad,dilation,groups,bias,relu", CONV_EX_CASES)
def test_conv_ex(ctx, dtype, a_dims, w_spec, stride, pad, dilation, groups, bias, relu):
    need(ctx, "clcnn_conv_forward_ex")
    rng = np.random.default_rng(sum(a_dims) + groups)
    f_h, f_w, n_C = w_spec
    a = rounded(rng, a_dims, dtype)
    w = rounded(rng, (f_h, f_w, a_dims[3] // groups, n_C), dtype)
    b = rounded(rng, (1, 1, 1, n_C), dtype) if bias else None
    numbers = dict(stride=stride, pad=pad, dilation=dilation, groups=groups)
    params = clcnn.conv_params(**numbers)
    z_ref = ref.conv_forward(a, w, b, relu=relu, **numbers)
    z = ctx.conv_forward_ex(a.astype(dtype), w, b, params, "relu" if relu else "none")
    assert_close("z", z.numpy(), z_ref, ref.conv_forward_terms(a, w, b, **numbers), dtype)

    dz = rounded(rng, z_ref.shape, dtype)
    wanted = ref.conv_backward(dz, a, w, **numbers)
    terms = ref.conv_backward_terms(dz, a, w, **numbers)
    got = ctx.conv_backward_ex(dz.astype(dtype), a, w, params, db=bias)
    for name, g, want, term in zip(("da_prev", "dw", "db"), got, wanted, terms):
        if g is None:
            assert name == "db" and not bias
            continue
        assert_close(name, g.numpy(), want, term, dtype)


def test_conv_ex_defaults_are_the_walkthroughs_conv_bit_for_bit(ctx):
    need(ctx, "clcnn_conv_forward_ex")
    rng = np.random.default_rng(11)
    a = rounded(rng, (3, 7, 7, 5), "float32").astype(np.float32)
    w = rounded(rng, (3, 3, 5, 6), "float32")
    b = rounded(rng, (1, 1, 1, 6), "float32")
    z = ctx.conv_forward(a, w, b, 2, 1).numpy()
    params = ctx._lib.clcnn_conv_params_default(2, 1)
    assert (params.stride_h, params.pad_right, params.dilation_w, params.groups) == (2, 1, 1, 1)
    assert z.tobytes() == ctx.conv_forward_ex(a, w, b, params).numpy().tobytes()
    dz = rounded(rng, z.shape, "float32").astype(np.float32)
    for walk, ex in zip(ctx.conv_backward(dz, a, w, 2, 1), ctx.conv_backward_ex(dz, a, w, params)):
        assert walk.numpy().tobytes() == ex.numpy().tobytes()


def test_conv_ex_errors_name_the_field(ctx):
    need(ctx, "clcnn_conv_forward_ex")
    a = np.zeros((1, 6, 6, 4), np.float32)
    w = np.zeros((3, 3, 2, 6), np.float32)
    with pytest.raises(clcnn.Error) as info:
        ctx.conv_forward_ex(a, w, None, clcnn.conv_params(groups=3))
    assert info.value.status == clcnn.Status.ERROR_INVALID_ARGUMENT
    assert "conv_forward_ex" in info.value.message and "groups" in info.value.message
    with pytest.raises(clcnn.Error) as info:
        ctx.conv_forward_ex(a, w, None, clcnn.conv_params(dilation=0, groups=2))
    assert "dilation" in info.value.message


POOL_EX_CASES = [
    # a_prev dims, f, stride, pad (t, b, l, r), count_include_pad
    ((2, 7, 6, 3), (3, 2), (2, 1), (1, 0, 1, 1), True),
    ((2, 7, 6, 3), (3, 2), (2, 1), (1, 0, 1, 1), False),
    ((1, 5, 4, 5), (5, 4), (1, 1), (0, 0, 0, 0), True),   # global
    ((3, 6, 6, 2), (2, 2), (3, 3), (1, 1, 1, 1), False),  # stride > f
]


@pytest.mark.parametrize("a_dims,f,stride,pad,count_include_pad", POOL_EX_CASES)
@pytest.mark.parametrize("mode", ["max", "average"])
def test_pool_ex(ctx, dtype, a_dims, f, stride, pad, count_include_pad, mode):
    need(ctx, "clcnn_pool_forward_ex")
    rng = np.random.default_rng(sum(a_dims) + f[0])
    a = rounded(rng, a_dims, dtype)
    numbers = dict(pad=pad, count_include_pad=count_include_pad)
    params = clcnn.pool_params(f, stride, **numbers)
    a_ref = ref.pool_forward(a, f, stride, mode, **numbers)
    got = ctx.pool_forward_ex(a.astype(dtype), params, mode)
    assert_close("a", got.numpy(), a_ref, ref.pool_forward(np.abs(a), f, stride, mode, **numbers), dtype)
    da = rounded(rng, a_ref.shape, dtype)
    da_ref = ref.pool_backward(da, a, f, stride, mode, **numbers)
    terms = ref.pool_backward(np.abs(da), a, f, stride, mode, **numbers)
    got = ctx.pool_backward_ex(da.astype(dtype), a, params, mode)
    assert_close("da_prev", got.numpy(), da_ref, terms, dtype)


def test_pool_ex_defaults_are_the_walkthroughs_pool_bit_for_bit(ctx):
    need(ctx, "clcnn_pool_forward_ex")
    rng = np.random.default_rng(12)
    a = rounded(rng, (2, 8, 8, 3), "float32").astype(np.float32)
    params = ctx._lib.clcnn_pool_params_default(3, 2)
    assert (params.f_h, params.stride_w, params.pad_top, params.count_include_pad) == (3, 2, 0, 1)
    for mode in ("max", "average"):
        out = ctx.pool_forward(a, 3, 2, mode).numpy()
        assert out.tobytes() == ctx.pool_forward_ex(a, params, mode).numpy().tobytes()
        da = rounded(rng, out.shape, "float32").astype(np.float32)
        assert (ctx.pool_backward(da, a, 3, 2, mode).numpy().tobytes() ==
                ctx.pool_backward_ex(da, a, params, mode).numpy().tobytes())
