"""clcnn.walkthrough against the walkthrough's own functions (notebook.py,
its loops ported as published, conv_backward's dA_prev fixed): the same
names, arguments, return values and caches, the same numbers, including
the numbers the walkthrough prints."""

import numpy as np
import pytest

import clcnn
import notebook
from clcnn import walkthrough as wt

# Device results in float64 against numpy's loops: the device sums in
# another order, so the last bits differ.
RTOL, ATOL = 1e-12, 1e-12


@pytest.fixture(autouse=True)
def walkthrough_on_the_test_context(ctx):
    if not ctx.supports("float64"):
        pytest.skip(f"{ctx.device_name} has no float64: the walkthrough's numbers need it")
    wt.use_context(ctx)


def same(got, want):
    assert isinstance(got, np.ndarray) and got.dtype == np.float64
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=RTOL, atol=ATOL)


def seeded_conv_inputs(seed, a_shape, w_shape):
    """A_prev, W and b drawn in the walkthrough's order after np.random.seed(seed)."""
    np.random.seed(seed)
    A_prev = np.random.randn(*a_shape)
    W = np.random.randn(*w_shape)
    b = np.random.randn(1, 1, 1, w_shape[3])
    return A_prev, W, b


def test_zero_pad():
    np.random.seed(1)
    x = np.random.randn(4, 3, 3, 2)
    x_pad = wt.zero_pad(x, 2)
    assert x_pad.shape == (4, 7, 7, 2)
    np.testing.assert_array_equal(x_pad, notebook.zero_pad(x, 2))
    np.testing.assert_array_equal(x_pad[1, 1], np.zeros((7, 2)))


def test_conv_single_step():
    np.random.seed(1)
    a_slice_prev = np.random.randn(4, 4, 3)
    W = np.random.randn(4, 4, 3)
    b = np.random.randn(1, 1, 1)
    Z = wt.conv_single_step(a_slice_prev, W, b)
    assert np.ndim(Z) == 0
    assert Z == notebook.conv_single_step(a_slice_prev, W, b)
    assert round(float(Z), 11) == -6.99908945068  # the walkthrough's printed value


def test_conv_forward_and_backward_the_walkthroughs_example():
    A_prev, W, b = seeded_conv_inputs(1, (10, 4, 4, 3), (2, 2, 3, 8))
    hparameters = {"pad": 2, "stride": 2}
    Z, cache_conv = wt.conv_forward(A_prev, W, b, hparameters)
    Z_nb, cache_nb = notebook.conv_forward(A_prev, W, b, hparameters)
    same(Z, Z_nb)
    # The cache holds the arguments themselves, as the walkthrough's does.
    assert len(cache_conv) == 4 and all(x is y for x, y in zip(cache_conv, (A_prev, W, b, hparameters)))
    # The numbers the walkthrough prints.
    assert round(float(np.mean(Z)), 13) == 0.0489952035289
    np.testing.assert_allclose(Z[3, 2, 1], [-0.61490741, -6.7439236, -2.55153897, 1.75698377, 3.56208902,
                                            0.53036437, 5.18531798, 8.75898442], atol=5e-9)
    np.testing.assert_allclose(cache_conv[0][1][2][3], [-0.20075807, 0.18656139, 0.41005165], atol=5e-9)

    np.random.seed(1)
    dA, dW, db = wt.conv_backward(Z, cache_conv)
    dA_nb, dW_nb, db_nb = notebook.conv_backward(Z_nb, cache_nb)
    same(dA, dA_nb)
    same(dW, dW_nb)
    same(db, db_nb)
    assert dA.shape == A_prev.shape and dW.shape == W.shape and db.shape == b.shape
    assert round(float(np.mean(dA)), 11) == 1.45243777754
    assert round(float(np.mean(dW)), 11) == 1.72699145831
    assert round(float(np.mean(db)), 11) == 7.83923256462


def test_conv_backward_writes_dA_prev_where_the_published_one_does_not():
    A_prev, W, b = seeded_conv_inputs(2, (2, 5, 5, 3), (3, 3, 3, 2))
    hparameters = {"pad": 1, "stride": 1}
    Z, cache = wt.conv_forward(A_prev, W, b, hparameters)
    dA, dW, db = wt.conv_backward(Z, cache)
    dA_pub, dW_pub, db_pub = notebook.conv_backward_as_published(Z, cache)
    assert not dA_pub.any(), "the published conv_backward was expected to return zeros for dA_prev"
    assert np.abs(dA).min() > 0 or dA.any()
    same(dA, notebook.conv_backward(Z, cache)[0])
    same(dW, dW_pub)
    same(db, db_pub)


@pytest.mark.parametrize("m,H,W_,C,f,n_C,stride,pad", [
    (2, 5, 7, 3, 3, 4, 1, 0),
    (3, 6, 6, 2, 2, 3, 3, 1),     # stride > f
    (1, 4, 4, 5, 2, 1, 1, 3),     # pad >= f
    (2, 3, 3, 1, 1, 6, 2, 2),     # f = 1
])
def test_conv_random_shapes(m, H, W_, C, f, n_C, stride, pad):
    rng = np.random.RandomState(m * 100 + H * 10 + f)
    A_prev = rng.randn(m, H, W_, C)
    W = rng.randn(f, f, C, n_C)
    b = rng.randn(1, 1, 1, n_C)
    hparameters = {"stride": stride, "pad": pad}
    Z, cache = wt.conv_forward(A_prev, W, b, hparameters)
    Z_nb, _ = notebook.conv_forward(A_prev, W, b, hparameters)
    same(Z, Z_nb)
    dZ = rng.randn(*Z.shape)
    for got, want in zip(wt.conv_backward(dZ, cache), notebook.conv_backward(dZ, cache)):
        same(got, want)


def test_pool_forward_the_walkthroughs_example():
    np.random.seed(1)
    A_prev = np.random.randn(2, 4, 4, 3)
    hparameters = {"stride": 2, "f": 3}
    A, cache = wt.pool_forward(A_prev, hparameters)
    assert cache[0] is A_prev and cache[1] is hparameters
    same(A, notebook.pool_forward(A_prev, hparameters)[0])
    np.testing.assert_allclose(A.reshape(2, 3), [[1.74481176, 0.86540763, 1.13376944],
                                                 [1.13162939, 1.51981682, 2.18557541]], atol=5e-9)
    A, _ = wt.pool_forward(A_prev, hparameters, mode="average")
    same(A, notebook.pool_forward(A_prev, hparameters, mode="average")[0])
    np.testing.assert_allclose(A.reshape(2, 3), [[0.02105773, -0.20328806, -0.40389855],
                                                 [-0.22154621, 0.51716526, 0.48155844]], atol=5e-9)


def test_create_mask_from_window_and_distribute_value():
    np.random.seed(1)
    x = np.random.randn(2, 3)
    mask = wt.create_mask_from_window(x)
    assert mask.dtype == bool
    np.testing.assert_array_equal(mask, notebook.create_mask_from_window(x))
    np.testing.assert_array_equal(mask, [[True, False, False], [False, False, False]])
    # With ties only the first maximum: what the device's max pooling does.
    np.testing.assert_array_equal(wt.create_mask_from_window(np.array([[1.0, 3.0], [3.0, 2.0]])),
                                  [[False, True], [False, False]])
    # With NaN the last NaN, as PyTorch's max pooling.
    np.testing.assert_array_equal(wt.create_mask_from_window(np.array([[np.nan, 9.0], [np.nan, 2.0]])),
                                  [[False, False], [True, False]])
    a = wt.distribute_value(2, (2, 2))
    np.testing.assert_array_equal(a, notebook.distribute_value(2, (2, 2)))
    np.testing.assert_array_equal(a, [[0.5, 0.5], [0.5, 0.5]])


@pytest.mark.parametrize("mode", ["max", "average"])
def test_pool_backward_the_walkthroughs_example(mode):
    np.random.seed(1)
    A_prev = np.random.randn(5, 5, 3, 2)
    hparameters = {"stride": 1, "f": 2}
    A, cache = wt.pool_forward(A_prev, hparameters)
    dA = np.random.randn(5, 4, 2, 2)
    dA_prev = wt.pool_backward(dA, cache, mode=mode)
    same(dA_prev, notebook.pool_backward(dA, cache, mode=mode))
    assert round(float(np.mean(dA)), 12) == 0.145713902729
    want = {"max": [[0.0, 0.0], [5.05844394, -1.68282702], [0.0, 0.0]],
            "average": [[0.08485462, 0.2787552], [1.26461098, -0.25749373], [1.17975636, -0.53624893]]}
    np.testing.assert_allclose(dA_prev[1, 1], want[mode], atol=5e-9)


@pytest.mark.parametrize("shape,f,stride", [((2, 6, 5, 3), 2, 2), ((1, 7, 7, 2), 3, 1), ((3, 8, 8, 1), 2, 3)])
@pytest.mark.parametrize("mode", ["max", "average"])
def test_pool_random_shapes(shape, f, stride, mode):
    rng = np.random.RandomState(sum(shape) + f)
    A_prev = rng.randn(*shape)
    hparameters = {"f": f, "stride": stride}
    A, cache = wt.pool_forward(A_prev, hparameters, mode)
    same(A, notebook.pool_forward(A_prev, hparameters, mode)[0])
    dA = rng.randn(*A.shape)
    same(wt.pool_backward(dA, cache, mode), notebook.pool_backward(dA, cache, mode))


def test_max_pool_backward_ties_keep_the_gradient_once():
    """Where a window holds its maximum twice, the walkthrough's mask gives
    the gradient to both; clcnn to the first only, so dA's sum is kept."""
    A_prev = np.zeros((1, 2, 2, 1))
    dA = np.full((1, 1, 1, 1), 3.0)
    hparameters = {"f": 2, "stride": 2}
    _, cache = wt.pool_forward(A_prev, hparameters)
    np.testing.assert_array_equal(wt.pool_backward(dA, cache)[0, :, :, 0], [[3.0, 0.0], [0.0, 0.0]])
    assert notebook.pool_backward(dA, cache).sum() == 12.0


def test_errors_are_clcnn_errors():
    with pytest.raises(clcnn.Error) as info:
        wt.conv_forward(np.zeros((1, 4, 4, 3)), np.zeros((2, 2, 2, 8)), np.zeros((1, 1, 1, 8)),
                        {"stride": 1, "pad": 0})
    assert info.value.status == clcnn.Status.ERROR_SHAPE
    assert "conv_forward: w has 2 input channels (dims[2]) but a_prev has 3" in str(info.value)
    with pytest.raises(clcnn.Error) as info:
        wt.pool_forward(np.zeros((1, 4, 4, 3)), {"f": 2, "stride": 2}, mode="min")
    assert "mode is 'min'" in str(info.value)
