"""Failing calls raise clcnn.Error with the library's status and message
(naming the op, the argument and the numbers) and write nothing."""

import numpy as np
import pytest

import clcnn


def raises(status, part, call, *args, **kwargs):
    with pytest.raises(clcnn.Error) as info:
        call(*args, **kwargs)
    error = info.value
    assert error.status == status, f"{error.status!r}: {error}"
    assert part in error.message, f"{part!r} not in {error.message!r}"
    assert str(error).endswith(f"(CLCNN_{status.name})")
    return error


def test_bad_shapes_name_the_op_and_the_numbers(ctx):
    a = ctx.tensor(np.zeros((2, 5, 5, 3), np.float32))
    b = ctx.tensor(np.zeros((1, 1, 1, 4), np.float32))
    raises(clcnn.Status.ERROR_SHAPE, "conv_forward: w has 2 input channels (dims[2]) but a_prev has 3",
           ctx.conv_forward, a, np.zeros((3, 3, 2, 4)), b)
    raises(clcnn.Status.ERROR_SHAPE, "conv_forward: the 8 x 3 window is larger than the padded input 7 x 7 "
           "(a_prev 5 x 5, pad 1)", ctx.conv_forward, a, np.zeros((8, 3, 3, 4)), b, 1, 1)
    raises(clcnn.Status.ERROR_SHAPE, "conv_forward: b is 1 x 1 x 1 x 4 but must be 1 x 1 x 1 x 5",
           ctx.conv_forward, a, np.zeros((3, 3, 3, 5)), b)
    raises(clcnn.Status.ERROR_SHAPE, "pool_forward: the 6 x 6 window is larger than the input 5 x 5",
           ctx.pool_forward, a, 6, 1)
    raises(clcnn.Status.ERROR_SHAPE, "pool_backward: da is 2 x 3 x 3 x 3 but must be 2 x 2 x 2 x 3",
           ctx.pool_backward, np.zeros((2, 3, 3, 3), np.float32), a, 2, 2)
    raises(clcnn.Status.ERROR_SHAPE, "relu_backward: x is 2 x 5 x 5 x 1 but must be 2 x 5 x 5 x 3",
           ctx.relu_backward, a, np.zeros((2, 5, 5, 1)))


def test_bad_arguments(ctx):
    a = ctx.tensor(np.zeros((1, 4, 4, 2), np.float32))
    w = ctx.tensor(np.zeros((2, 2, 2, 3), np.float32))
    b = ctx.tensor(np.zeros((1, 1, 1, 3), np.float32))
    raises(clcnn.Status.ERROR_INVALID_ARGUMENT, "conv_forward: stride is 0; it must be at least 1",
           ctx.conv_forward, a, w, b, 0, 0)
    raises(clcnn.Status.ERROR_INVALID_ARGUMENT, "conv_forward: pad is -1; it must be at least 0",
           ctx.conv_forward, a, w, b, 1, -1)
    raises(clcnn.Status.ERROR_INVALID_ARGUMENT, "zero_pad", ctx.zero_pad, a, -2)
    raises(clcnn.Status.ERROR_INVALID_ARGUMENT, "pool mode is 'median'", ctx.pool_forward, a, 2, 2, "median")
    raises(clcnn.Status.ERROR_INVALID_ARGUMENT, "conv_backward", ctx.conv_backward,
           np.zeros((1, 3, 3, 3), np.float32), a, w, da_prev=False, dw=False, db=False)
    raises(clcnn.Status.ERROR_INVALID_ARGUMENT, "relu_forward: y is also x", ctx.relu_forward, a, out=a)
    raises(clcnn.Status.ERROR_INVALID_ARGUMENT, "sgd_update: lr is -1", ctx.sgd_update, a,
           np.zeros((1, 4, 4, 2), np.float32), lr=-1.0)


def test_dtypes_and_contexts_must_agree(ctx):
    if not ctx.supports("float64"):
        pytest.skip("no float64")
    x32 = ctx.tensor(np.zeros((1, 2, 2, 3), np.float32))
    y64 = ctx.empty((1, 2, 2, 3), "float64")
    raises(clcnn.Status.ERROR_INVALID_ARGUMENT, "relu_forward: y is float64 but the call's first input is "
           "float32", ctx.relu_forward, x32, out=y64)
    with clcnn.Context() as other:
        y_other = other.empty((1, 2, 2, 3), "float32")
        raises(clcnn.Status.ERROR_INVALID_ARGUMENT, "relu_forward: y belongs to another context",
               ctx.relu_forward, x32, out=y_other)


def test_a_failed_call_writes_nothing(ctx):
    a = ctx.tensor(np.ones((1, 4, 4, 2), np.float32))
    w = ctx.tensor(np.ones((2, 2, 2, 3), np.float32))
    b = ctx.tensor(np.ones((1, 1, 1, 4), np.float32))  # wrong: 3 channels
    z = ctx.tensor(np.full((1, 3, 3, 3), 7.0, np.float32))
    with pytest.raises(clcnn.Error):
        ctx.conv_forward(a, w, b, out=z)
    np.testing.assert_array_equal(z.numpy(), np.full((1, 3, 3, 3), 7.0))


def test_python_side_checks(ctx):
    raises(clcnn.Status.ERROR_SHAPE, "tensor: the array has shape (4, 3, 3); clcnn tensors are 4-D NHWC",
           ctx.tensor, np.zeros((4, 3, 3)))
    raises(clcnn.Status.ERROR_INVALID_ARGUMENT, "tensor: the array is int64", ctx.tensor,
           np.zeros((1, 1, 1, 1), np.int64))
    raises(clcnn.Status.ERROR_INVALID_ARGUMENT, "dtype is 'int16'", ctx.empty, (1, 1, 1, 1), "int16")
    raises(clcnn.Status.ERROR_SHAPE, "tensor_create: dims[2] is 0", ctx.empty, (1, 1, 0, 1))
    t = ctx.empty((1, 2, 2, 1))
    raises(clcnn.Status.ERROR_SHAPE, "tensor_write: the array's shape is (1, 2, 2, 2) but the tensor's is "
           "(1, 2, 2, 1)", t.write, np.zeros((1, 2, 2, 2)))
    t.close()
    raises(clcnn.Status.ERROR_INVALID_ARGUMENT, "this tensor was closed", t.numpy)


def test_context_errors(ctx):  # ctx: skips without a device, whose absence changes the message
    raises(clcnn.Status.ERROR_NO_DEVICE, "context_create: no device matches argument 'no-such-device'",
           clcnn.Context, "no-such-device")
    with clcnn.Context() as c:
        pass
    raises(clcnn.Status.ERROR_INVALID_ARGUMENT, "this context was closed", c.empty, (1, 1, 1, 1))
    assert "closed" in repr(c)
