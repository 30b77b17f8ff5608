"""The package itself: it imports without numpy, finds its library as
documented, and says where it looked when it cannot."""

import os
import pathlib
import subprocess
import sys

import clcnn
from clcnn import _library

PACKAGE_PARENT = str(pathlib.Path(clcnn.__file__).resolve().parent.parent)


def run_python(code, **env):
    environment = dict(os.environ, PYTHONPATH=PACKAGE_PARENT, **env)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environment)


def test_import_and_devices_without_numpy(ctx):
    # numpy = None in sys.modules makes `import numpy` fail, as where it is
    # not installed.
    result = run_python(
        "import sys\n"
        "sys.modules['numpy'] = None\n"
        "import clcnn\n"
        "print(len(clcnn.devices()) > 0, clcnn.version())\n"
        "ctx = clcnn.Context()\n"
        "t = ctx.empty((1, 2, 2, 1))\n"
        "try:\n"
        "    t.numpy()\n"
        "except ImportError as error:\n"
        "    print('ImportError:', error)\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("True ")
    assert "ImportError: clcnn needs numpy to move arrays to and from tensors" in result.stdout
    assert "python3-numpy" in result.stdout


def test_clcnn_library_names_the_library():
    result = run_python("import clcnn; clcnn.devices()", CLCNN_LIBRARY="/nonexistent/libclcnn.so")
    assert result.returncode != 0
    assert "LibraryNotFoundError" in result.stderr
    assert "/nonexistent/libclcnn.so (CLCNN_LIBRARY): no such file" in result.stderr
    # import alone still works: the library loads on first use.
    assert run_python("import clcnn", CLCNN_LIBRARY="/nonexistent/libclcnn.so").returncode == 0


def test_lookup_order_in_a_source_tree(monkeypatch):
    monkeypatch.delenv("CLCNN_LIBRARY", raising=False)
    found = _library.candidates()
    repo = pathlib.Path(clcnn.__file__).resolve().parent.parent.parent
    if (pathlib.Path(clcnn.__file__).parent / "_installed.py").exists():
        assert found[0][0] == "installed with this package"
    else:
        assert found[0] == ("this source tree's build", str(repo / "build" / "libclcnn.so"))
    assert found[-1] == ("the system's dynamic loader", "libclcnn.so.0")
    monkeypatch.setenv("CLCNN_LIBRARY", "/some/where/libclcnn.so")
    assert _library.candidates() == [("CLCNN_LIBRARY", "/some/where/libclcnn.so")]


def test_loaded_library_is_the_one_under_test():
    expected = os.environ.get("CLCNN_LIBRARY")
    if expected:
        assert _library.load().path == expected
