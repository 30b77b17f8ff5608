"""Finding and loading libclcnn.so, and the C prototypes of host/clcnn.h.

The library is looked for, in this order:

1. the path in the environment variable CLCNN_LIBRARY, if set (nothing
   else is tried then, so that a wrong path is an error, not a surprise);
2. for an installed copy of this package, the library installed with it
   (``_installed.py``, written by ``cmake --install``, holds its path
   relative to this directory);
3. for the copy in a source tree, that tree's ``build/libclcnn.so`` (the
   build of scripts/test.sh and scripts/demo.sh);
4. ``libclcnn.so.0`` through the system's dynamic loader (ld.so.conf,
   LD_LIBRARY_PATH).

The library is loaded on first use, not at import, so that ``import
clcnn`` works anywhere and a missing library is reported with the places
that were tried.
"""

import ctypes
import os
import pathlib
import re

_HERE = pathlib.Path(__file__).resolve().parent
_SONAME = "libclcnn.so.0"


class LibraryNotFoundError(OSError):
    """libclcnn.so could not be found or loaded; the message says where it looked."""


# ---- the structs of clcnn.h, field for field ----

class DeviceInfo(ctypes.Structure):
    """clcnn_device_info (clcnn.h)."""
    _fields_ = [
        ("platform_index", ctypes.c_uint),
        ("device_index", ctypes.c_uint),
        ("platform", ctypes.c_char * 128),
        ("name", ctypes.c_char * 256),
        ("driver_version", ctypes.c_char * 128),
        ("opencl_version", ctypes.c_char * 128),
        ("type", ctypes.c_int),  # clcnn_device_type
        ("compute_units", ctypes.c_uint),
        ("global_mem_bytes", ctypes.c_ulonglong),
        ("max_alloc_bytes", ctypes.c_ulonglong),
        ("local_mem_bytes", ctypes.c_ulonglong),
        ("max_work_group_size", ctypes.c_size_t),
        ("fp64", ctypes.c_int),
        ("fp16", ctypes.c_int),
        ("chosen", ctypes.c_int),
    ]


class LayerSpec(ctypes.Structure):
    """clcnn_layer_spec (clcnn.h, version 0.3); its struct fields follow below ConvParams."""


class BuildStats(ctypes.Structure):
    """clcnn_build_stats (clcnn.h, version 0.3)."""
    _fields_ = [
        ("programs", ctypes.c_size_t),
        ("cached_programs", ctypes.c_size_t),
        ("build_seconds", ctypes.c_double),
        ("first_launches", ctypes.c_size_t),
        ("first_launch_seconds", ctypes.c_double),
    ]


class ConvParams(ctypes.Structure):
    """clcnn_conv_params (clcnn.h, version 0.2)."""
    _fields_ = [(name, ctypes.c_int) for name in (
        "stride_h", "stride_w", "pad_top", "pad_bottom", "pad_left", "pad_right",
        "dilation_h", "dilation_w", "groups")]


class PoolParams(ctypes.Structure):
    """clcnn_pool_params (clcnn.h, version 0.2)."""
    _fields_ = [(name, ctypes.c_int) for name in (
        "f_h", "f_w", "stride_h", "stride_w", "pad_top", "pad_bottom", "pad_left", "pad_right",
        "count_include_pad")]


LayerSpec._fields_ = [
    ("op", ctypes.c_int),  # clcnn_prepare_op
    ("dtype", ctypes.c_int),
    ("input_dims", ctypes.c_size_t * 4),
    ("weight_dims", ctypes.c_size_t * 4),
    ("conv", ConvParams),
    ("pool", PoolParams),
    ("mode", ctypes.c_int),
    ("has_bias", ctypes.c_int),
    ("act", ctypes.c_int),
    ("gradients", ctypes.c_int),
    ("pad", ctypes.c_int),
    ("momentum", ctypes.c_double),
]

# clcnn_prepare_op's values, in clcnn.h's order.
PREPARE_OPS = ("conv_forward", "conv_backward", "pool_forward", "pool_backward", "relu_forward", "relu_backward",
               "softmax_cross_entropy_forward", "softmax_cross_entropy_backward", "sgd_update", "zero_pad")


# ---- the ops: host/api/op_table.h, entry for entry ----
# Each op's operands in order, as the table writes them: a role and the
# parameter's name. The test api_tables fails when this and op_table.h (or
# clcnn.h) disagree; the ops' prototypes below and Context's methods
# (_core.py) are built from it.

OPS = {
    "zero_pad": "(CLCNN_CTX(ctx), CLCNN_IN(x), CLCNN_INT(pad), CLCNN_OUT(x_pad))",
    "conv_forward": "(CLCNN_CTX(ctx), CLCNN_IN(a_prev), CLCNN_IN(w), CLCNN_IN(b), CLCNN_INT(stride), "
                    "CLCNN_INT(pad), CLCNN_OUT(z))",
    "conv_backward": "(CLCNN_CTX(ctx), CLCNN_IN(dz), CLCNN_IN(a_prev), CLCNN_IN(w), CLCNN_INT(stride), "
                     "CLCNN_INT(pad), CLCNN_OUT_OPT(da_prev), CLCNN_OUT_OPT(dw), CLCNN_OUT_OPT(db))",
    "pool_forward": "(CLCNN_CTX(ctx), CLCNN_IN(a_prev), CLCNN_INT(f), CLCNN_INT(stride), CLCNN_POOL_MODE(mode), "
                    "CLCNN_OUT(a))",
    "pool_backward": "(CLCNN_CTX(ctx), CLCNN_IN(da), CLCNN_IN(a_prev), CLCNN_INT(f), CLCNN_INT(stride), "
                     "CLCNN_POOL_MODE(mode), CLCNN_OUT(da_prev))",
    "conv_forward_ex": "(CLCNN_CTX(ctx), CLCNN_IN(a_prev), CLCNN_IN(w), CLCNN_IN_OPT(b), "
                       "CLCNN_CONV_PARAMS(params), CLCNN_ACTIVATION(act), CLCNN_OUT(z))",
    "conv_backward_ex": "(CLCNN_CTX(ctx), CLCNN_IN(dz), CLCNN_IN(a_prev), CLCNN_IN(w), CLCNN_CONV_PARAMS(params), "
                        "CLCNN_OUT_OPT(da_prev), CLCNN_OUT_OPT(dw), CLCNN_OUT_OPT(db))",
    "pool_forward_ex": "(CLCNN_CTX(ctx), CLCNN_IN(a_prev), CLCNN_POOL_PARAMS(params), CLCNN_POOL_MODE(mode), "
                       "CLCNN_OUT(a))",
    "pool_backward_ex": "(CLCNN_CTX(ctx), CLCNN_IN(da), CLCNN_IN(a_prev), CLCNN_POOL_PARAMS(params), "
                        "CLCNN_POOL_MODE(mode), CLCNN_OUT(da_prev))",
    "relu_forward": "(CLCNN_CTX(ctx), CLCNN_IN(x), CLCNN_OUT(y))",
    "relu_backward": "(CLCNN_CTX(ctx), CLCNN_IN(dy), CLCNN_IN(x), CLCNN_OUT(dx))",
    "softmax_cross_entropy_forward": "(CLCNN_CTX(ctx), CLCNN_IN(logits), CLCNN_IN(labels), CLCNN_OUT(probs), "
                                     "CLCNN_OUT(loss), CLCNN_OUT(mean_loss))",
    "softmax_cross_entropy_backward": "(CLCNN_CTX(ctx), CLCNN_IN(probs), CLCNN_IN(labels), CLCNN_OUT(dlogits))",
    "sgd_update": "(CLCNN_CTX(ctx), CLCNN_IN_OUT(param), CLCNN_IN(grad), CLCNN_IN_OUT_OPT(velocity), "
                  "CLCNN_DOUBLE(lr), CLCNN_DOUBLE(momentum), CLCNN_DOUBLE(weight_decay))",
    "tensor_convert": "(CLCNN_CTX(ctx), CLCNN_IN(src), CLCNN_OUT(dst))",
}


def operands(op):
    """[(role, name), ...] of an op of OPS: [("CTX", "ctx"), ("IN", "x"), ...]."""
    return re.findall(r"CLCNN_(\w+)\((\w+)\)", OPS[op])


# ---- prototypes: name -> (return type, argument types) ----
# Handles (clcnn_context *, clcnn_tensor *) are opaque: c_void_p. Every
# function returning clcnn_status returns c_int. The test api_tables
# compares each with its declaration in clcnn.h.

_status = ctypes.c_int
_handle = ctypes.c_void_p
_dims = ctypes.POINTER(ctypes.c_size_t)  # const size_t dims[4]
_int = ctypes.c_int

# An operand's ctypes type by its role in OPS.
ROLE_CTYPES = {
    "CTX": _handle, "IN": _handle, "IN_OPT": _handle, "OUT": _handle, "OUT_OPT": _handle,
    "IN_OUT": _handle, "IN_OUT_OPT": _handle, "INT": _int, "DOUBLE": ctypes.c_double,
    "POOL_MODE": _int, "ACTIVATION": _int,
    "CONV_PARAMS": ctypes.POINTER(ConvParams), "POOL_PARAMS": ctypes.POINTER(PoolParams),
}

PROTOTYPES = {
    "clcnn_status_string": (ctypes.c_char_p, [_int]),
    "clcnn_version": (ctypes.c_char_p, []),
    "clcnn_devices_list": (_status, [ctypes.c_char_p, ctypes.POINTER(DeviceInfo), ctypes.c_size_t,
                                     ctypes.POINTER(ctypes.c_size_t)]),
    "clcnn_context_create": (_status, [ctypes.c_char_p, ctypes.POINTER(_handle)]),
    "clcnn_context_destroy": (None, [_handle]),
    "clcnn_context_device_name": (ctypes.c_char_p, [_handle]),
    "clcnn_context_last_error": (ctypes.c_char_p, [_handle]),
    "clcnn_context_finish": (_status, [_handle]),
    "clcnn_context_supports_dtype": (_int, [_handle, _int]),
    "clcnn_context_config": (ctypes.c_char_p, [_handle]),
    "clcnn_context_set_tuning": (_status, [_handle, ctypes.c_char_p]),
    "clcnn_context_tuning_notes": (ctypes.c_char_p, [_handle]),
    "clcnn_context_plan": (ctypes.c_char_p, [_handle]),
    "clcnn_context_build_stats": (_status, [_handle, ctypes.POINTER(BuildStats)]),
    "clcnn_context_prepare": (_status, [_handle, ctypes.POINTER(LayerSpec), ctypes.c_size_t]),
    "clcnn_context_workspace_bytes": (ctypes.c_size_t, [_handle]),
    "clcnn_context_build_warnings": (ctypes.c_char_p, [_handle]),
    "clcnn_tensor_create": (_status, [_handle, _int, _dims, ctypes.POINTER(_handle)]),
    "clcnn_tensor_destroy": (None, [_handle]),
    "clcnn_tensor_dims": (None, [_handle, _dims]),
    "clcnn_tensor_dtype": (_int, [_handle]),
    "clcnn_tensor_write": (_status, [_handle, ctypes.c_void_p, ctypes.c_size_t]),
    "clcnn_tensor_read": (_status, [_handle, ctypes.c_void_p, ctypes.c_size_t]),
    # Version 0.2: general convolution and pooling.
    "clcnn_conv_params_default": (ConvParams, [_int, _int]),
    "clcnn_pool_params_default": (PoolParams, [_int, _int]),
    # Version 0.3: output shapes.
    "clcnn_conv_output_dims": (_status, [_handle, _dims, _dims, ctypes.POINTER(ConvParams), _dims]),
    "clcnn_pool_output_dims": (_status, [_handle, _dims, ctypes.POINTER(PoolParams), _dims]),
}
PROTOTYPES.update({"clcnn_" + op: (_status, [ROLE_CTYPES[role] for role, _ in operands(op)]) for op in OPS})

# Functions an older libclcnn lacks: bound when present, else None.
OPTIONAL = {
    "clcnn_conv_params_default", "clcnn_pool_params_default",
    "clcnn_conv_forward_ex", "clcnn_conv_backward_ex",
    "clcnn_pool_forward_ex", "clcnn_pool_backward_ex",
    "clcnn_conv_output_dims", "clcnn_pool_output_dims", "clcnn_tensor_convert",
}


class Library:
    """libclcnn with every function of PROTOTYPES as an attribute (None for
    an OPTIONAL one the library lacks), and `path`, where it was loaded from."""

    def __init__(self, cdll, path):
        self.path = path
        for name, (restype, argtypes) in PROTOTYPES.items():
            try:
                function = getattr(cdll, name)
            except AttributeError:
                if name in OPTIONAL:
                    setattr(self, name, None)
                    continue
                raise LibraryNotFoundError(
                    f"{path} has no function {name}: it is not a libclcnn this package knows "
                    f"(set CLCNN_LIBRARY to the libclcnn.so of the same clcnn)")
            function.restype = restype
            function.argtypes = argtypes
            setattr(self, name, function)


def candidates():
    """The (origin, path) pairs tried, in order (see the module's doc)."""
    env = os.environ.get("CLCNN_LIBRARY")
    if env:
        return [("CLCNN_LIBRARY", env)]
    found = []
    try:
        from . import _installed
    except ImportError:
        _installed = None
    if _installed is not None:
        found.append(("installed with this package", str(_HERE / _installed.LIBRARY)))
    else:
        found.append(("this source tree's build", str(_HERE.parent.parent / "build" / "libclcnn.so")))
    found.append(("the system's dynamic loader", _SONAME))
    return found


_loaded = None


def load():
    """The Library, loaded on the first call."""
    global _loaded
    if _loaded is None:
        tried = []
        for origin, path in candidates():
            # A bare name goes to the dynamic loader; a path must exist.
            if os.sep in path and not os.path.exists(path):
                tried.append(f"{path} ({origin}): no such file")
                continue
            try:
                cdll = ctypes.CDLL(path)
            except OSError as error:
                tried.append(f"{path} ({origin}): {error}")
                continue
            _loaded = Library(cdll, path)
            break
        else:
            raise LibraryNotFoundError(
                "clcnn: cannot load libclcnn.so; tried " + "; ".join(tried) +
                ". Build it (cmake -S . -B build && cmake --build build), install it "
                "(cmake --install build), or set CLCNN_LIBRARY to its path")
    return _loaded
