"""The tables beside clcnn.h against clcnn.h, and the Python package
against both: host/api/op_table.h (every op, operand names and roles),
host/api/status_list.h (the statuses) and python/clcnn (Status, OPS and the
ctypes PROTOTYPES). op_table.c already fails to compile when an entry's
types disagree with the declaration; this adds what C cannot check: that
every op clcnn.h declares is in the table, the operands' names, and the
Python side, whose every prototype must match its declaration in name,
argument count and argument types.

Usage: check_api_tables.py HEADER DUMP PYTHON_PACKAGE_PARENT
  HEADER  host/clcnn.h
  DUMP    the op_table_dump executable (prints the two tables)
Exits 1 with one line per disagreement.
"""

import ctypes
import re
import subprocess
import sys

# A parameter's C type (as the header writes it, spaces normalised,
# arrays as pointers) -> the role the op table gives it.
ROLE_TYPES = {
    "CTX": "clcnn_context *",
    "IN": "const clcnn_tensor *",
    "IN_OPT": "const clcnn_tensor *",
    "OUT": "clcnn_tensor *",
    "OUT_OPT": "clcnn_tensor *",
    "IN_OUT": "clcnn_tensor *",
    "IN_OUT_OPT": "clcnn_tensor *",
    "INT": "int",
    "DOUBLE": "double",
    "POOL_MODE": "clcnn_pool_mode",
    "ACTIVATION": "clcnn_activation",
    "CONV_PARAMS": "const clcnn_conv_params *",
    "POOL_PARAMS": "const clcnn_pool_params *",
}


def normal_type(text):
    """'const size_t dims[4]' -> ('const size_t *', 'dims')."""
    text = " ".join(text.replace("*", " * ").split())
    array = re.search(r"\[\s*\d*\s*\]$", text)
    if array:
        text = text[:array.start()].strip()
    match = re.match(r"^(.*?)\s*([A-Za-z_]\w*)$", text)
    if not match or match.group(1) in ("", "const", "struct"):
        return text.replace(" *", "*").replace("*", " *").strip(), ""
    ctype, name = match.group(1), match.group(2)
    ctype = ctype.replace(" *", "*").replace("*", " *").replace("* *", "**").strip()
    if array:
        ctype += " *"
    return ctype, name


def parse_header(path):
    """{function: (return type, [(type, name), ...])} and the status enum."""
    text = open(path).read()
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    functions = {}
    for match in re.finditer(r"CLCNN_API\s+([^;{]*?)\b(clcnn_\w+)\s*\(([^)]*)\)\s*;", text):
        ret = normal_type(match.group(1).strip() + " x")[0]
        params = [p.strip() for p in match.group(3).split(",")]
        params = [] if params == ["void"] else [normal_type(p) for p in params]
        functions[match.group(2)] = (ret, params)
    enum = re.search(r"typedef enum clcnn_status \{(.*?)\} clcnn_status;", text, flags=re.S)
    statuses = {}
    for name, value in re.findall(r"CLCNN_(\w+)\s*=\s*(\d+)", enum.group(1)):
        statuses[name] = int(value)
    return functions, statuses


def parse_dump(path):
    """The op table ({name: [(role, operand), ...]}) and the status list."""
    out = subprocess.run([path], check=True, capture_output=True, text=True).stdout
    ops, statuses = {}, {}
    for line in out.splitlines():
        kind, name, rest = line.split(" ", 2)
        if kind == "op":
            ops[name] = parse_operands(rest)
        else:
            statuses[name] = int(rest)
    return ops, statuses


def parse_operands(text):
    """'(CLCNN_CTX(ctx), CLCNN_IN(x))' -> [('CTX', 'ctx'), ('IN', 'x')]."""
    return [(role, name) for role, name in re.findall(r"CLCNN_(\w+)\((\w+)\)", text)]


def is_op(ret, params):
    """An op: returns a status, takes the context first and a tensor."""
    return (ret == "clcnn_status" and params and params[0][0] == "clcnn_context *"
            and any(t in ("clcnn_tensor *", "const clcnn_tensor *") for t, _ in params))


def check_ops(header, table, errors):
    for name, (ret, params) in header.items():
        op = name[len("clcnn_"):]
        if is_op(ret, params) and op not in table:
            errors.append(f"op_table.h: clcnn.h declares the op {name}, which the table lacks")
    for op, operands in table.items():
        if "clcnn_" + op not in header:
            errors.append(f"op_table.h: {op} is not declared in clcnn.h")
            continue
        ret, params = header["clcnn_" + op]
        got = [(ROLE_TYPES.get(role, "?" + role), name) for role, name in operands]
        if ret != "clcnn_status" or got != params:
            errors.append(f"op_table.h: {op} is {got} returning clcnn_status; clcnn.h has {params} returning {ret}")


def check_ops_comment(path, table, errors):
    """clcnn.h's opening comment lists the ops ("The ops"): every one."""
    opening = open(path).read().split("*/", 1)[0]
    for op in table:
        if not re.search(r"\bclcnn_" + op + r"\b", opening):
            errors.append(f"clcnn.h: the opening comment's list of ops lacks clcnn_{op}")


def check_statuses(header, listed, python_status, errors):
    if header != listed:
        errors.append(f"status_list.h has {listed}; clcnn.h's enum has {header}")
    python = {member.name: int(member) for member in python_status}
    if python != header:
        errors.append(f"python clcnn.Status has {python}; clcnn.h's enum has {header}")


def ctypes_of(library, ctype):
    """The ctypes type the Python package must use for a C type."""
    handle = ctypes.c_void_p
    simple = {
        "void": None, "int": ctypes.c_int, "unsigned": ctypes.c_uint, "double": ctypes.c_double,
        "size_t": ctypes.c_size_t, "const char *": ctypes.c_char_p,
        "clcnn_status": ctypes.c_int, "clcnn_dtype": ctypes.c_int, "clcnn_pool_mode": ctypes.c_int,
        "clcnn_activation": ctypes.c_int, "clcnn_device_type": ctypes.c_int,
        "clcnn_context *": handle, "const clcnn_context *": handle, "clcnn_tensor *": handle,
        "const clcnn_tensor *": handle, "void *": ctypes.c_void_p, "const void *": ctypes.c_void_p,
        "clcnn_context **": ctypes.POINTER(handle), "clcnn_tensor **": ctypes.POINTER(handle),
        "size_t *": ctypes.POINTER(ctypes.c_size_t), "const size_t *": ctypes.POINTER(ctypes.c_size_t),
        "clcnn_device_info *": ctypes.POINTER(library.DeviceInfo),
        "clcnn_build_stats *": ctypes.POINTER(library.BuildStats),
        "clcnn_conv_params": library.ConvParams, "clcnn_pool_params": library.PoolParams,
        "const clcnn_conv_params *": ctypes.POINTER(library.ConvParams),
        "const clcnn_pool_params *": ctypes.POINTER(library.PoolParams),
    }
    return simple.get(ctype, "no ctypes type for " + ctype)


def type_name(t):
    return "None" if t is None else getattr(t, "__name__", str(t))


def check_python(header, table, library, errors):
    python_ops = {name: parse_operands(text) for name, text in library.OPS.items()}
    if python_ops != table:
        for op in sorted(set(python_ops) | set(table)):
            if python_ops.get(op) != table.get(op):
                errors.append(f"python _library.OPS[{op!r}] is {python_ops.get(op)}; op_table.h has {table.get(op)}")
    for name, (restype, argtypes) in library.PROTOTYPES.items():
        if name not in header:
            errors.append(f"python PROTOTYPES has {name}, which clcnn.h does not declare")
            continue
        ret, params = header[name]
        want_ret = ctypes_of(library, ret)
        want_args = [ctypes_of(library, t) for t, _ in params]
        if restype is not want_ret:
            errors.append(f"python PROTOTYPES[{name!r}] returns {type_name(restype)}; clcnn.h: {ret} "
                          f"({type_name(want_ret)})")
        if len(argtypes) != len(want_args):
            errors.append(f"python PROTOTYPES[{name!r}] has {len(argtypes)} arguments; clcnn.h has "
                          f"{len(want_args)}: {[t for t, _ in params]}")
            continue
        for i, (got, want) in enumerate(zip(argtypes, want_args)):
            if got is not want:
                errors.append(f"python PROTOTYPES[{name!r}] argument {i} ({params[i][1]}) is {type_name(got)}; "
                              f"clcnn.h: {params[i][0]} ({type_name(want)})")
    for op in table:
        if "clcnn_" + op not in library.PROTOTYPES:
            errors.append(f"python PROTOTYPES lacks the op clcnn_{op}")


def main():
    header_path, dump_path, package_parent = sys.argv[1:4]
    sys.path.insert(0, package_parent)
    sys.dont_write_bytecode = True
    from clcnn import _core, _library

    functions, header_statuses = parse_header(header_path)
    table, listed_statuses = parse_dump(dump_path)
    errors = []
    check_ops(functions, table, errors)
    check_ops_comment(header_path, table, errors)
    check_statuses(header_statuses, listed_statuses, _core.Status, errors)
    check_python(functions, table, _library, errors)
    for error in errors:
        print("FAIL", error)
    if errors:
        return 1
    print(f"ok: {len(table)} ops, {len(listed_statuses)} statuses and {len(_library.PROTOTYPES)} Python "
          f"prototypes agree with {header_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
