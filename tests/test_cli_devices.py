"""`clcnn devices` and `clcnn devices --json`: the table marks one device,
the JSON parses, has every field of clcnn_device_info and marks the same
device; --device P:D marks that one; a spec that matches nothing marks
none and exits 1; without any OpenCL driver the install hint shows.

usage: python3 test_cli_devices.py CLCNN_BINARY
Exits 77 (skip) without an OpenCL device, unless CLCNN_REQUIRE_DEVICE=1."""
import json
import os
import re
import subprocess
import sys
import tempfile

FIELDS = {
    "index": str, "platform_index": int, "device_index": int, "platform": str, "name": str,
    "driver_version": str, "opencl_version": str, "type": str, "compute_units": int,
    "global_mem_bytes": int, "max_alloc_bytes": int, "local_mem_bytes": int,
    "max_work_group_size": int, "fp64": bool, "fp16": bool, "chosen": bool,
}
TYPES = {"CPU", "GPU", "accelerator", "other"}


def fail(message):
    print("FAIL: " + message, file=sys.stderr)
    sys.exit(1)


def run(*args, env=None):
    result = subprocess.run([clcnn, "devices", *args], capture_output=True, text=True, env=env)
    print("$ clcnn devices " + " ".join(args) + " -> " + str(result.returncode))
    print(result.stdout + result.stderr, end="")
    return result


def parse(result):
    try:
        devices = json.loads(result.stdout)
    except ValueError as error:
        fail("--json printed no valid JSON: %s" % error)
    if not isinstance(devices, list):
        fail("--json printed a %s, not an array" % type(devices).__name__)
    for device in devices:
        if set(device) != set(FIELDS):
            fail("device fields %s, expected %s" % (sorted(device), sorted(FIELDS)))
        for field, kind in FIELDS.items():
            if type(device[field]) is not kind:
                fail("%s is %r, not a %s" % (field, device[field], kind.__name__))
        if device["index"] != "%d:%d" % (device["platform_index"], device["device_index"]):
            fail("index %s is not platform_index:device_index" % device["index"])
        if device["type"] not in TYPES:
            fail("type %r is none of %s" % (device["type"], sorted(TYPES)))
    return devices


def chosen_indices(devices):
    return [device["index"] for device in devices if device["chosen"]]


clcnn = sys.argv[1]
table = run()
if table.returncode == 77:
    print("no OpenCL device: skipped")
    sys.exit(77)
if table.returncode != 0:
    fail("clcnn devices exited %d" % table.returncode)
choice = re.search(r"^\* default choice: (\S+) ", table.stdout, re.MULTILINE)
rows = [line.split()[1] for line in table.stdout.splitlines()
        if line.startswith("* ") and not line.startswith("* default choice:")]
if len(rows) != 1 or not choice or choice.group(1) != rows[0]:
    fail("the table marks rows %s and names %s as the default choice; expected one, the same"
         % (rows, choice and choice.group(1)))

listed = run("--json")
if listed.returncode != 0:
    fail("clcnn devices --json exited %d" % listed.returncode)
devices = parse(listed)
if chosen_indices(devices) != rows:
    fail("--json marks %s chosen, the table %s" % (chosen_indices(devices), rows))

last = devices[-1]["index"]
picked = run("--json", "--device", last)
if picked.returncode != 0 or chosen_indices(parse(picked)) != [last]:
    fail("--device %s --json exited %d and marks %s" % (last, picked.returncode,
                                                         chosen_indices(parse(picked))))

unmatched = run("--json", "--device=no-such-device-anywhere")
if unmatched.returncode != 1 or chosen_indices(parse(unmatched)) != []:
    fail("a spec that matches nothing exited %d, expected 1 and no device chosen"
         % unmatched.returncode)
if "--device \"no-such-device-anywhere\"" not in unmatched.stderr:
    fail("the message does not name --device and its value")

# No OpenCL driver at all: the ICD loader reads its vendor list from an
# empty folder.
with tempfile.TemporaryDirectory() as empty:
    env = dict(os.environ, OCL_ICD_VENDORS=empty, CLCNN_REQUIRE_DEVICE="0")
    none = run("--json", env=env)
    if none.returncode != 77 or parse(none) != [] or "pocl-opencl-icd" not in none.stderr:
        fail("without a driver: exit %d, expected 77, [] and the install hint" % none.returncode)
print("PASS")
