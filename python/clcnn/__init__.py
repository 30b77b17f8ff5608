"""clcnn from Python: the building blocks of convolutional networks as
OpenCL kernels (libclcnn), through ctypes, with numpy arrays in and out.

    import numpy as np
    import clcnn

    ctx = clcnn.Context()                 # CLCNN_DEVICE, else a GPU, else POCL
    a = ctx.tensor(np.random.randn(2, 8, 8, 3))          # float64, NHWC
    w = ctx.tensor(np.random.randn(3, 3, 3, 4))
    b = ctx.tensor(np.zeros((1, 1, 1, 4)))
    z = ctx.conv_forward(a, w, b, stride=1, pad=1)       # queued on the device
    print(z.numpy().shape)                               # waits: (2, 8, 8, 4)

Every op of host/clcnn.h is a method of Context of the same name, without
the clcnn_ prefix, built from the op table (clcnn._library.OPS, which the
tests hold to host/api/op_table.h); a failing call raises clcnn.Error with
the library's message. clcnn.devices() lists the OpenCL devices.
clcnn.walkthrough is the numpy walkthrough's functions as a drop-in.

numpy is needed only where arrays are: `import clcnn` works without it.
The library is found as clcnn._library describes (CLCNN_LIBRARY first).
"""

from ._core import (Context, Device, Error, Status, Tensor, conv_params, devices, layer, pool_params,
                    version)
from ._library import LibraryNotFoundError

# Shown as clcnn.Error (not clcnn._core.Error) in tracebacks and reprs.
for _public in (Context, Device, Error, Status, Tensor, LibraryNotFoundError):
    _public.__module__ = __name__
del _public

__all__ = ["Context", "Device", "Error", "LibraryNotFoundError", "Status", "Tensor", "conv_params",
           "devices", "layer", "pool_params", "version"]
