"""Context.conv_output_dims and pool_output_dims (clcnn_conv_output_dims,
clcnn_pool_output_dims): the ops' shapes, and the ops' errors named after
themselves; the methods' new outputs take their shapes from them."""

import numpy as np
import pytest

import clcnn


def test_conv_output_dims(ctx):
    params = clcnn.conv_params(stride=(2, 1), pad=(1, 0, 2, 1), dilation=(1, 2))
    assert ctx.conv_output_dims((2, 9, 8, 4), (3, 3, 4, 5), params) == (2, 4, 7, 5)
    assert ctx.conv_output_dims((1, 5, 5, 3), (5, 5, 3, 2)) == (1, 1, 1, 2)
    z = ctx.conv_forward_ex(np.zeros((2, 9, 8, 4), np.float32), np.zeros((3, 3, 4, 5), np.float32),
                            params=params)
    assert z.shape == (2, 4, 7, 5)


def test_pool_output_dims(ctx):
    params = clcnn.pool_params((3, 2), stride=(2, 2), pad=(1, 1, 0, 1))
    assert ctx.pool_output_dims((2, 9, 8, 4), params) == (2, 5, 4, 4)
    a = ctx.pool_forward_ex(np.zeros((2, 9, 8, 4), np.float32), params)
    assert a.shape == (2, 5, 4, 4)


def test_output_dims_errors_are_the_ops(ctx):
    params = clcnn.conv_params(groups=2)
    with pytest.raises(clcnn.Error) as dims_error:
        ctx.conv_output_dims((1, 6, 6, 3), (3, 3, 1, 4), params)
    with pytest.raises(clcnn.Error) as op_error:
        ctx.conv_forward_ex(np.zeros((1, 6, 6, 3), np.float32), np.zeros((3, 3, 1, 4), np.float32), params=params)
    assert dims_error.value.status == op_error.value.status == clcnn.Status.ERROR_INVALID_ARGUMENT
    assert dims_error.value.message.startswith("conv_output_dims: params->groups is 2")
    assert op_error.value.message == dims_error.value.message.replace("conv_output_dims", "conv_forward_ex")

    with pytest.raises(clcnn.Error) as dims_error:
        ctx.pool_output_dims((1, 4, 4, 3), clcnn.pool_params(6))
    assert dims_error.value.status == clcnn.Status.ERROR_SHAPE
    assert dims_error.value.message.startswith("pool_output_dims: params->f_h is 6 but the padded input spans 4")
