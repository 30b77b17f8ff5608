"""Contexts, tensors, the ops of host/clcnn.h, errors and the device list.

Every op of a Context takes its inputs as Tensors or as numpy arrays (an
array is uploaded in the call's dtype: that of its first input) and
returns new Tensors for its outputs, unless `out=` (or, in conv_backward,
a Tensor for a gradient) names an existing one to overwrite. Ops are
queued on the device and return at once; Tensor.numpy() waits for them.
"""

import ctypes
import dataclasses
import enum
import inspect
import weakref

from . import _library


# ---- statuses and errors ----

class Status(enum.IntEnum):
    """clcnn_status (clcnn.h), without the CLCNN_ prefix; the test api_tables
    holds it to host/api/status_list.h."""
    OK = 0
    ERROR_INVALID_ARGUMENT = 1
    ERROR_SHAPE = 2
    ERROR_NO_DEVICE = 3
    ERROR_UNSUPPORTED = 4
    ERROR_OUT_OF_MEMORY = 5
    ERROR_KERNEL_BUILD = 6
    ERROR_OPENCL = 7


class Error(Exception):
    """A call that failed: `status` (a Status) and `message`, the library's
    one-line explanation naming the op, the argument and the numbers."""

    def __init__(self, status, message):
        try:
            status = Status(status)
        except ValueError:
            pass
        self.status = status
        self.message = message
        name = status.name if isinstance(status, Status) else str(status)
        super().__init__(f"{message} (CLCNN_{name})")


def _text(value):
    return value.decode("utf-8", "replace") if value is not None else ""


def _numpy():
    """numpy, imported where arrays are needed so that `import clcnn` works
    without it."""
    try:
        import numpy
    except ImportError as error:
        raise ImportError(
            "clcnn needs numpy to move arrays to and from tensors "
            "(Debian: apt-get install python3-numpy; else pip install numpy)") from error
    return numpy


# ---- dtypes ----
# clcnn_dtype values by name; Tensor.dtype is the name, which numpy takes
# wherever it takes a dtype (but "bfloat16", which numpy lacks: such a
# tensor takes and gives float32 arrays, see Tensor).
_DTYPES = {"float32": 0, "float64": 1, "float16": 2, "bfloat16": 3}
_DTYPE_BYTES = {"float32": 4, "float64": 8, "float16": 2, "bfloat16": 2}
# The numpy dtype of the arrays a tensor of each dtype takes and gives.
_NUMPY_DTYPES = {"float32": "float32", "float64": "float64", "float16": "float16", "bfloat16": "float32"}
_DTYPE_NAMES = {code: name for name, code in _DTYPES.items()}
_POOL_MODES = {"max": 0, "average": 1}
_ACTIVATIONS = {"none": 0, "relu": 1}


def _dtype_name(dtype):
    """'float32', 'float64', 'float16' or 'bfloat16' from a name
    ("float32"), a numpy type (numpy.float32) or a numpy dtype
    (numpy.dtype("float32"))."""
    if isinstance(dtype, str):
        name = dtype
    elif isinstance(dtype, type):
        name = dtype.__name__
    else:
        name = getattr(dtype, "name", None)
    if name not in _DTYPES:
        raise Error(Status.ERROR_INVALID_ARGUMENT,
                    f"dtype is {dtype!r}; clcnn tensors are float32, float64, float16 or bfloat16")
    return name


# ---- devices ----

_DEVICE_TYPES = {0: "cpu", 1: "gpu", 2: "accelerator", 3: "other"}


@dataclasses.dataclass(frozen=True)
class Device:
    """One OpenCL device as clcnn_devices_list reports it. `spec` ("P:D")
    picks it in Context(spec); `chosen` marks the one the list's spec (by
    default, Context()'s choice) selects."""
    platform_index: int
    device_index: int
    platform: str
    name: str
    driver_version: str
    opencl_version: str
    type: str  # "cpu", "gpu", "accelerator" or "other"
    compute_units: int
    global_mem_bytes: int
    max_alloc_bytes: int
    local_mem_bytes: int
    max_work_group_size: int
    fp64: bool
    fp16: bool
    chosen: bool

    @property
    def spec(self):
        return f"{self.platform_index}:{self.device_index}"


def devices(spec=None):
    """Every OpenCL device of every platform, in "P:D" order; the one
    Context(spec) would pick has `chosen` set (spec None: the default
    choice, with CLCNN_DEVICE honoured). No OpenCL driver is an empty list."""
    lib = _library.load()
    count = ctypes.c_size_t(0)
    encoded = spec.encode() if spec is not None else None
    status = lib.clcnn_devices_list(encoded, None, 0, ctypes.byref(count))
    if status != Status.OK:
        raise Error(status, "devices_list: " + _text(lib.clcnn_status_string(status)))
    # Devices can appear between the two calls: list what fits.
    infos = (_library.DeviceInfo * max(count.value, 1))()
    capacity = count.value
    status = lib.clcnn_devices_list(encoded, infos, capacity, ctypes.byref(count))
    if status != Status.OK:
        raise Error(status, "devices_list: " + _text(lib.clcnn_status_string(status)))
    return [Device(platform_index=i.platform_index, device_index=i.device_index,
                   platform=_text(i.platform), name=_text(i.name),
                   driver_version=_text(i.driver_version), opencl_version=_text(i.opencl_version),
                   type=_DEVICE_TYPES.get(i.type, "other"), compute_units=i.compute_units,
                   global_mem_bytes=i.global_mem_bytes, max_alloc_bytes=i.max_alloc_bytes,
                   local_mem_bytes=i.local_mem_bytes, max_work_group_size=i.max_work_group_size,
                   fp64=bool(i.fp64), fp16=bool(i.fp16), chosen=bool(i.chosen))
            for i in infos[:min(count.value, capacity)]]


def version():
    """The library's version, "0.3.0"."""
    return _text(_library.load().clcnn_version())


# ---- version 0.2 parameters ----

def _pair(value, name):
    if isinstance(value, int):
        return value, value
    if len(value) == 2:
        return tuple(value)
    raise Error(Status.ERROR_INVALID_ARGUMENT, f"{name} is {value!r}; give an int or (h, w)")


def _pads(value):
    if isinstance(value, int):
        return (value,) * 4
    if len(value) == 2:
        return value[0], value[0], value[1], value[1]
    if len(value) == 4:
        return tuple(value)
    raise Error(Status.ERROR_INVALID_ARGUMENT,
                f"pad is {value!r}; give an int, (h, w) or (top, bottom, left, right)")


def conv_params(stride=1, pad=0, dilation=1, groups=1):
    """A clcnn_conv_params: stride and dilation an int or (h, w); pad an int,
    (h, w) or (top, bottom, left, right)."""
    p = _library.ConvParams()
    p.stride_h, p.stride_w = _pair(stride, "stride")
    p.pad_top, p.pad_bottom, p.pad_left, p.pad_right = _pads(pad)
    p.dilation_h, p.dilation_w = _pair(dilation, "dilation")
    p.groups = groups
    return p


def pool_params(f, stride=None, pad=0, count_include_pad=True):
    """A clcnn_pool_params: window f and stride (default: f) an int or
    (h, w); pad an int, (h, w) or (top, bottom, left, right)."""
    p = _library.PoolParams()
    p.f_h, p.f_w = _pair(f, "f")
    p.stride_h, p.stride_w = _pair(f if stride is None else stride, "stride")
    p.pad_top, p.pad_bottom, p.pad_left, p.pad_right = _pads(pad)
    p.count_include_pad = int(bool(count_include_pad))
    return p


_GRADIENTS = {"da": 1, "dw": 2, "db": 4}


def layer(op, input, weights=None, params=None, mode="max", bias=True, activation=None, gradients=None, pad=0,
          momentum=0.0, dtype="float32"):
    """One layer for Context.prepare: op is a name of clcnn_prepare_op
    ("conv_forward", "conv_backward", "pool_forward", ..., "zero_pad"),
    input the input's shape (a_prev, x, logits or the parameter), weights
    w's shape (conv), params a conv_params (conv; None: the default) or a
    pool_params (pooling), mode "max" or "average" (pooling), bias and
    activation (conv forward), gradients some of "da", "dw", "db" (conv
    backward; None: all three), pad (zero_pad), momentum (sgd_update)."""
    if op not in _library.PREPARE_OPS:
        raise Error(Status.ERROR_INVALID_ARGUMENT, f"layer op is {op!r}; use one of {', '.join(_library.PREPARE_OPS)}")
    spec = _library.LayerSpec()
    spec.op = _library.PREPARE_OPS.index(op)
    spec.dtype = _DTYPES[_dtype_name(dtype)]
    spec.input_dims[:] = tuple(input)
    if op.startswith("conv"):
        spec.weight_dims[:] = tuple(weights)
        spec.conv = params if params is not None else conv_params()
    if op.startswith("pool"):
        spec.pool = params
        spec.mode = _pool_mode(mode)
    spec.has_bias = int(bool(bias))
    spec.act = _activation(activation)
    unknown = [g for g in gradients or () if g not in _GRADIENTS]
    if unknown:
        raise Error(Status.ERROR_INVALID_ARGUMENT, f"gradients {unknown!r}; use 'da', 'dw', 'db'")
    spec.gradients = sum(_GRADIENTS[g] for g in set(gradients or ()))
    spec.pad = pad
    spec.momentum = momentum
    return spec


# ---- tensors ----

def _dims_array(shape):
    return (ctypes.c_size_t * 4)(*shape)


class Tensor:
    """A 4-D NHWC array in device memory, of one Context. `shape` and
    `dtype` ("float32", "float64", "float16" or "bfloat16") are fixed;
    numpy() reads it (waiting for the ops before), write() overwrites it. It
    keeps its Context alive. numpy has no bfloat16: a bfloat16 tensor takes
    float32 arrays, rounded to nearest even on the device as it is written
    (clcnn_tensor_convert), and numpy() gives float32 arrays (exact)."""

    def __init__(self, context, handle, shape, dtype):
        self.context = context
        self._handle = handle
        self.shape = tuple(shape)
        self.dtype = dtype
        self._close = weakref.finalize(self, context._lib.clcnn_tensor_destroy, handle)

    @property
    def nbytes(self):
        n = 1
        for d in self.shape:
            n *= d
        return n * _DTYPE_BYTES[self.dtype]

    def _live_handle(self):
        if not self._close.alive:
            raise Error(Status.ERROR_INVALID_ARGUMENT, "this tensor was closed")
        return self._handle

    def numpy(self):
        """A new numpy array with the tensor's contents."""
        np = _numpy()
        if self.dtype == "bfloat16":
            # A bfloat16 is the top half of a float32's bits: widening is exact.
            bits = np.empty(self.shape, dtype=np.uint16)
            self.context._check(self.context._lib.clcnn_tensor_read(
                self._live_handle(), bits.ctypes.data_as(ctypes.c_void_p), bits.nbytes))
            return (bits.astype(np.uint32) << 16).view(np.float32)
        array = np.empty(self.shape, dtype=self.dtype)
        self.context._check(self.context._lib.clcnn_tensor_read(
            self._live_handle(), array.ctypes.data_as(ctypes.c_void_p), array.nbytes))
        return array

    def write(self, array):
        """Overwrites the tensor with array (converted to its dtype; the
        shape must be the tensor's)."""
        np = _numpy()
        data = np.ascontiguousarray(array, dtype=_NUMPY_DTYPES[self.dtype])
        if data.shape != self.shape:
            raise Error(Status.ERROR_SHAPE,
                        f"tensor_write: the array's shape is {data.shape} but the tensor's is {self.shape}")
        if self.dtype == "bfloat16":
            # Rounded where every other conversion is: on the device.
            staged = self.context.tensor(data, "float32")
            try:
                self.context.tensor_convert(staged, out=self)
            finally:
                staged.close()
            return self
        self.context._check(self.context._lib.clcnn_tensor_write(
            self._live_handle(), data.ctypes.data_as(ctypes.c_void_p), data.nbytes))
        return self

    def astype(self, dtype):
        """A new tensor of this one's values in dtype, converted on the device
        (clcnn_tensor_convert: to nearest even, NaN stays NaN, float16
        overflow is infinity)."""
        out = self.context.empty(self.shape, dtype)
        return self.context.tensor_convert(self, out=out)

    def close(self):
        """Frees the device memory now (else when the tensor is collected)."""
        self._close()

    def __repr__(self):
        return f"<clcnn.Tensor {self.shape} {self.dtype}>"


# ---- contexts and ops ----

class Context:
    """One OpenCL device with its queue, compiled kernels and workspace.

    device: None (the CLCNN_DEVICE environment variable, else the first
    GPU, accelerator or CPU), "gpu", "cpu", "P:D", or a case-insensitive
    part of the platform and device name ("pocl", "nvidia"). Usable as a
    `with` block, which closes it at the end."""

    def __init__(self, device=None):
        self._lib = _library.load()
        handle = ctypes.c_void_p()
        status = self._lib.clcnn_context_create(device.encode() if device is not None else None,
                                                ctypes.byref(handle))
        if status != Status.OK:
            # A failed create still hands back a context holding the reason.
            message = _text(self._lib.clcnn_context_last_error(handle))
            self._lib.clcnn_context_destroy(handle)
            raise Error(status, message)
        self._handle = handle.value
        self._close = weakref.finalize(self, self._lib.clcnn_context_destroy, self._handle)

    # -- the context itself --

    def close(self):
        """Waits for the device, then frees the context (else when it is
        collected). Its tensors may still be closed, not used."""
        self._close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _live_handle(self):
        if not self._close.alive:
            raise Error(Status.ERROR_INVALID_ARGUMENT, "this context was closed")
        return self._handle

    def _check(self, status):
        if status != Status.OK:
            raise Error(status, _text(self._lib.clcnn_context_last_error(self._handle)))

    @property
    def device_name(self):
        return _text(self._lib.clcnn_context_device_name(self._live_handle()))

    def supports(self, dtype):
        """Whether the device runs dtype ("float64" needs cl_khr_fp64)."""
        return bool(self._lib.clcnn_context_supports_dtype(self._live_handle(), _DTYPES[_dtype_name(dtype)]))

    def finish(self):
        """Waits until every queued op has run."""
        self._check(self._lib.clcnn_context_finish(self._live_handle()))

    # -- diagnostics --

    @property
    def config(self):
        """The kernels' tile configuration, in CLCNN_TUNE's form."""
        return _text(self._lib.clcnn_context_config(self._live_handle()))

    def set_tuning(self, config):
        """Sets tuning keys from now on, in CLCNN_TUNE's form ("conv_vector=8,...");
        an unknown key or a value out of range raises and changes nothing."""
        self._check(self._lib.clcnn_context_set_tuning(self._live_handle(), config.encode()))

    def plan(self):
        """The kernels the ops since the last call took, one line each: file,
        kernel, dtype and the -D options the planner chose; then forgets them."""
        return _text(self._lib.clcnn_context_plan(self._live_handle()))

    def build_stats(self):
        """What compiling kernels has cost this context so far: a dict of
        programs, build_seconds, first_launches and first_launch_seconds
        (clcnn_context_build_stats)."""
        stats = _library.BuildStats()
        self._check(self._lib.clcnn_context_build_stats(self._live_handle(), ctypes.byref(stats)))
        return {name: getattr(stats, name) for name, _ in stats._fields_}

    def prepare(self, layers):
        """Compiles ahead every kernel these layers (clcnn.layer(...) each)
        will take, so that their first calls run at speed
        (clcnn_context_prepare)."""
        layers = list(layers)
        array = (_library.LayerSpec * len(layers))(*layers)
        self._check(self._need("clcnn_context_prepare")(self._live_handle(), array, len(layers)))

    @property
    def tuning_notes(self):
        """The items of CLCNN_TUNE the context skipped, and why; "" when none."""
        return _text(self._lib.clcnn_context_tuning_notes(self._live_handle()))

    @property
    def workspace_bytes(self):
        """Device scratch memory the context holds for reuse."""
        return self._lib.clcnn_context_workspace_bytes(self._live_handle())

    @property
    def build_warnings(self):
        """What the OpenCL compiler said about kernels that built with warnings."""
        return _text(self._lib.clcnn_context_build_warnings(self._live_handle()))

    # -- tensors --

    def empty(self, shape, dtype="float32"):
        """A new tensor of 4-D shape; its contents are undefined until written."""
        name = _dtype_name(dtype)
        shape = tuple(int(d) for d in shape)
        if len(shape) != 4:
            raise Error(Status.ERROR_SHAPE,
                        f"tensor_create: shape is {shape}; clcnn tensors are 4-D NHWC (m, n_H, n_W, n_C)")
        handle = ctypes.c_void_p()
        self._check(self._lib.clcnn_tensor_create(self._live_handle(), _DTYPES[name], _dims_array(shape),
                                                  ctypes.byref(handle)))
        return Tensor(self, handle.value, shape, name)

    def tensor(self, array, dtype=None):
        """A new tensor holding a copy of array (4-D NHWC). dtype None keeps
        a float32, float64 or float16 array's dtype; give one to convert
        others, or "bfloat16" (from any float array, rounded on the device)."""
        np = _numpy()
        array = np.asarray(array)
        if dtype is None:
            if array.dtype.name not in _DTYPES:
                raise Error(Status.ERROR_INVALID_ARGUMENT,
                            f"tensor: the array is {array.dtype.name}; pass a float32, float64 or float16 array, "
                            f"or dtype='float32', 'float64', 'float16' or 'bfloat16' to convert it")
            dtype = array.dtype.name
        if array.ndim != 4:
            raise Error(Status.ERROR_SHAPE,
                        f"tensor: the array has shape {array.shape}; clcnn tensors are 4-D NHWC "
                        f"(m, n_H, n_W, n_C): reshape it")
        return self.empty(array.shape, dtype).write(array)

    def _input(self, x, dtype):
        """x as a tensor of this context: a Tensor as it is, an array uploaded
        in dtype (the call's)."""
        if isinstance(x, Tensor) or x is None:
            return x
        return self.tensor(x, dtype=dtype)

    def _call_dtype(self, x):
        if isinstance(x, Tensor):
            return x.dtype
        name = _numpy().asarray(x).dtype.name
        if name not in _DTYPES:
            raise Error(Status.ERROR_INVALID_ARGUMENT,
                        f"the first input is {name}; pass float32, float64 or float16 arrays (or Tensors)")
        return name

    def _output(self, out, shape, dtype):
        """out if given, else a new tensor of shape. shape None means the
        arguments define no output (e.g. a window larger than the input):
        a 1x1x1x1 tensor stands in, and the op's own check reports why."""
        if out is not None:
            return out
        return self.empty(shape if shape is not None else (1, 1, 1, 1), dtype)

    @staticmethod
    def _h(tensor):
        """The C handle of a Tensor, or None (NULL)."""
        return tensor._live_handle() if tensor is not None else None

    def _need(self, name):
        function = getattr(self._lib, name)
        if function is None:
            raise Error(Status.ERROR_UNSUPPORTED,
                        f"{name[len('clcnn_'):]}: {self._lib.path} is clcnn {version()}, which lacks it")
        return function

    def _output_dims(self, name, *args):
        """Output dims from clcnn_conv_output_dims or clcnn_pool_output_dims,
        or None when the arguments define none: the op then says why."""
        out = (ctypes.c_size_t * 4)()
        status = self._need(name)(self._live_handle(), *args, out)
        return tuple(out) if status == Status.OK else None

    def conv_output_dims(self, a_prev_shape, w_shape, params=None):
        """z's shape for conv_forward_ex with these shapes and params
        (conv_params(...); None: stride 1, pad 0), or Error as the op would
        raise it (named conv_output_dims)."""
        out = (ctypes.c_size_t * 4)()
        params = params if params is not None else conv_params()
        self._check(self._need("clcnn_conv_output_dims")(self._live_handle(), _dims_array(a_prev_shape),
                                                         _dims_array(w_shape), ctypes.byref(params), out))
        return tuple(out)

    def pool_output_dims(self, a_prev_shape, params):
        """The output's shape for pool_forward_ex with this shape and params
        (pool_params(...)), or Error as the op would raise it."""
        out = (ctypes.c_size_t * 4)()
        self._check(self._need("clcnn_pool_output_dims")(self._live_handle(), _dims_array(a_prev_shape),
                                                         ctypes.byref(params), out))
        return tuple(out)

    def _new_output(self, spec, op, args, name, dtype):
        """A new tensor for output `name` of op, shaped by spec.shapes."""
        rule = spec.shapes[name]
        if isinstance(rule, str):
            shape = args[rule].shape
        elif callable(rule):
            shape = rule(self, args)
        else:
            shape = rule
        # None: the arguments define no output (e.g. a window larger than
        # the input); a 1x1x1x1 tensor stands in and the op says why.
        return self.empty(shape if shape is not None else (1, 1, 1, 1), dtype)

    def _run_op(self, op, spec, args):
        """Calls clcnn_<op> with args (the method's arguments by the table's
        operand names); returns what the method returns."""
        operands = _library.operands(op)[1:]
        function = self._need("clcnn_" + op)
        dtype = None
        for role, name in operands:
            if role in ("IN", "IN_OPT"):
                dtype = dtype or (self._call_dtype(args[name]) if args[name] is not None else None)
                args[name] = self._input(args[name], dtype)
            elif role in ("IN_OUT", "IN_OUT_OPT"):
                if not isinstance(args[name], Tensor) and not (role == "IN_OUT_OPT" and args[name] is None):
                    raise Error(Status.ERROR_INVALID_ARGUMENT,
                                f"{op}: {name} must be a Tensor (it is updated in place on the device)")
                dtype = dtype or args[name].dtype
            elif role in _SCALARS:
                args[name] = _SCALARS[role](args[name])
        c_args, results = [], []
        for role, name in operands:
            value = args[name]
            if role in ("OUT", "OUT_OPT") and value is not None and not isinstance(value, (Tensor, bool)):
                raise Error(Status.ERROR_INVALID_ARGUMENT, f"{op}: {name} is {type(value).__name__}; give a Tensor")
            if (role == "OUT" and value is None) or (role == "OUT_OPT" and value is True):
                value = self._new_output(spec, op, args, name, dtype)
            elif role == "OUT_OPT":
                value = value or None  # False or None: not computed
            if role in ("OUT", "OUT_OPT", "IN_OUT"):
                results.append(value)
            args[name] = value
            if role in ("CONV_PARAMS", "POOL_PARAMS"):
                c_args.append(ctypes.byref(value) if value is not None else None)
            elif isinstance(value, Tensor) or value is None:
                c_args.append(self._h(value))
            else:
                c_args.append(value)
        self._check(function(self._live_handle(), *c_args))
        return results[0] if len(results) == 1 and not spec.tuple_result else tuple(results)

    def __repr__(self):
        state = self.device_name if self._close.alive else "closed"
        return f"<clcnn.Context {state}>"


def _pool_mode(mode):
    if mode not in _POOL_MODES:
        raise Error(Status.ERROR_INVALID_ARGUMENT, f"pool mode is {mode!r}; use 'max' or 'average'")
    return _POOL_MODES[mode]


def _activation(activation):
    if activation is None:
        activation = "none"
    if activation not in _ACTIVATIONS:
        raise Error(Status.ERROR_INVALID_ARGUMENT, f"activation is {activation!r}; use 'none' or 'relu'")
    return _ACTIVATIONS[activation]


# ---- the ops: Context's methods from the op table ----
# _library.OPS (host/api/op_table.h) gives each op's operands in order;
# each becomes an argument of the method: an input (IN) a Tensor or an
# array, a scalar converted by _SCALARS, a params struct (None: NULL, or
# for conv params the default), an output (OUT) `out=None` when the op has
# one (else all new and returned as a tuple), an optional output (OUT_OPT)
# a keyword True (new), False (not computed) or a Tensor, and a tensor
# updated in place (IN_OUT) a Tensor, which is returned. What the table
# cannot say is in _SPECS: the defaults, the shapes of new outputs, the
# Python names and the docstring.

_SCALARS = {
    "INT": int,
    "DOUBLE": float,
    "POOL_MODE": lambda mode: _pool_mode(mode),
    "ACTIVATION": lambda activation: _activation(activation),
    "CONV_PARAMS": lambda params: params if params is not None else conv_params(),
    "POOL_PARAMS": lambda params: params,
}


@dataclasses.dataclass(frozen=True)
class _Spec:
    doc: str
    defaults: dict = dataclasses.field(default_factory=dict)
    # Output name -> its shape: an input's name (that input's shape), a
    # tuple, or f(context, args) returning a shape or None.
    shapes: dict = dataclasses.field(default_factory=dict)
    names: dict = dataclasses.field(default_factory=dict)  # table name -> Python name
    tuple_result: bool = False


def _zero_pad_shape(context, args):
    m, h, w, c = args["x"].shape
    pad = args["pad"]
    return (m, h + 2 * pad, w + 2 * pad, c) if pad >= 0 else None


def _conv_shape(context, args):
    params = args.get("params") or context._lib.clcnn_conv_params_default(args["stride"], args["pad"])
    return context._output_dims("clcnn_conv_output_dims", _dims_array(args["a_prev"].shape),
                                _dims_array(args["w"].shape), ctypes.byref(params))


def _pool_shape(context, args):
    params = args.get("params") or context._lib.clcnn_pool_params_default(args["f"], args["stride"])
    return context._output_dims("clcnn_pool_output_dims", _dims_array(args["a_prev"].shape), ctypes.byref(params))


_CONV_GRADIENTS = {"da_prev": "a_prev", "dw": "w", "db": lambda context, args: (1, 1, 1, args["w"].shape[3])}

_SPECS = {
    "zero_pad": _Spec("x padded with `pad` zeros around H and W.", shapes={"x_pad": _zero_pad_shape}),
    "conv_forward": _Spec(
        "z = conv(a_prev, w) + b: a_prev (m, n_H_prev, n_W_prev, n_C_prev),\n"
        "w (f_h, f_w, n_C_prev, n_C), b (1, 1, 1, n_C).",
        defaults={"stride": 1, "pad": 0}, shapes={"z": _conv_shape}),
    "conv_backward": _Spec(
        "(da_prev, dw, db), the gradients of conv_forward. Each keyword is\n"
        "True (a new tensor), False (not computed: None in the result) or a\n"
        "Tensor to overwrite.",
        defaults={"stride": 1, "pad": 0}, shapes=_CONV_GRADIENTS),
    "pool_forward": _Spec("Max or average pooling with an f x f window.", defaults={"mode": "max"},
                          shapes={"a": _pool_shape}),
    "pool_backward": _Spec(
        "da_prev from da; max mode gives each window's gradient to its first\nmaximum (row-major).",
        defaults={"mode": "max"}, shapes={"da_prev": "a_prev"}),
    "conv_forward_ex": _Spec(
        "z = act(conv(a_prev, w) + b) with params (conv_params(...); None:\n"
        "stride 1, pad 0). w is (f_h, f_w, n_C_prev / groups, n_C); b may be\n"
        "None; activation \"none\" or \"relu\".",
        defaults={"b": None, "params": None, "act": "none"}, shapes={"z": _conv_shape},
        names={"act": "activation"}),
    "conv_backward_ex": _Spec(
        "(da_prev, dw, db), the gradients of conv_forward_ex with no\n"
        "activation; keywords as in conv_backward (db=False when the forward\nhad no bias).",
        defaults={"params": None}, shapes=_CONV_GRADIENTS),
    "pool_forward_ex": _Spec("Pooling with params (pool_params(...)).", defaults={"mode": "max"},
                             shapes={"a": _pool_shape}),
    "pool_backward_ex": _Spec("da_prev from da, for pool_forward_ex with the same params.",
                              defaults={"mode": "max"}, shapes={"da_prev": "a_prev"}),
    "relu_forward": _Spec("max(x, 0) element-wise.", shapes={"y": "x"}),
    "relu_backward": _Spec("dy where x > 0 or NaN, else 0; x is relu_forward's input or output.", shapes={"dx": "dy"}),
    "softmax_cross_entropy_forward": _Spec(
        "(probs, loss, mean_loss) for logits (m, n_H, n_W, K) and labels\n"
        "(m, n_H, n_W, 1) holding class indices (any numeric array).",
        shapes={"probs": "logits", "loss": lambda context, args: args["logits"].shape[:3] + (1,),
                "mean_loss": (1, 1, 1, 1)}),
    "softmax_cross_entropy_backward": _Spec("dlogits = (probs - onehot(labels)) / rows.",
                                            shapes={"dlogits": "probs"}),
    "tensor_convert": _Spec(
        "dst = src in dst's dtype, on the device (to nearest even; NaN stays\n"
        "NaN, float16 overflow is infinity). out None: a copy in src's dtype;\n"
        "Tensor.astype(dtype) makes the tensor for you.", shapes={"dst": "src"}),
    "sgd_update": _Spec(
        "One SGD step on the Tensor param, in place (velocity, a Tensor\n"
        "starting at zero, is updated too; None when momentum is 0). Returns\nparam.",
        defaults={"velocity": None, "lr": 0.01, "momentum": 0.0, "weight_decay": 0.0}),
}


def _op_method(op, spec):
    """Context.<op>, with a signature from the table and spec."""
    operands = _library.operands(op)[1:]
    outs = [name for role, name in operands if role == "OUT"]
    parameters, keyword_only, python_names = [], [], {}
    for role, name in operands:
        python = spec.names.get(name, name)
        python_names[python] = name
        if role == "OUT":
            continue
        if role == "OUT_OPT":
            keyword_only.append(inspect.Parameter(python, inspect.Parameter.KEYWORD_ONLY, default=True))
            continue
        default = spec.defaults.get(name, inspect.Parameter.empty)
        parameters.append(inspect.Parameter(python, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=default))
    if len(outs) == 1:
        parameters.append(inspect.Parameter("out", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None))
        python_names["out"] = outs[0]
    signature = inspect.Signature(
        [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)] + parameters + keyword_only)

    def method(self, *args, **kwargs):
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        values = {python_names[python]: value for python, value in bound.arguments.items() if python != "self"}
        for name in outs:
            values.setdefault(name, None)
        return self._run_op(op, spec, values)

    method.__name__ = method.__qualname__ = op
    method.__qualname__ = "Context." + op
    method.__signature__ = signature
    method.__doc__ = spec.doc
    return method


for _op in _library.OPS:
    setattr(Context, _op, _op_method(_op, _SPECS[_op]))
del _op
