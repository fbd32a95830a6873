#!/usr/bin/env python3
"""Writes the seed corpus of fuzz-capture (and fuzz-predict's measured-boot
lines): valid CVMKIT-MEASURED-BOOT lines and "N: hex" files, and named
corruptions of them.  Deterministic; run from the repository root."""
import base64, hashlib, json, os, struct

out = "tests/fuzz/corpus/capture"
os.makedirs(out, exist_ok=True)

def pcrs(n, size):
    return {str(i): hashlib.new("sha256" if size == 32 else "sha384", bytes([i])).hexdigest() for i in range(n)}

# A minimal crypto-agile event log: the Spec ID header (sha256) and one separator.
spec = b"Spec ID Event03\0" + struct.pack("<IBBBBI", 0, 0, 2, 0, 2, 1) + struct.pack("<HH", 0x0B, 32) + b"\0"
log = struct.pack("<II", 0, 3) + b"\0" * 20 + struct.pack("<I", len(spec)) + spec
log += struct.pack("<III", 4, 4, 1) + struct.pack("<H", 0x0B) + hashlib.sha256(b"\0" * 4).digest()
log += struct.pack("<I", 4) + b"\0" * 4

def line(obj):
    return ("CVMKIT-MEASURED-BOOT " + json.dumps(obj, separators=(",", ":")) + "\r\n").encode()

base = {"version": 1, "pcrs": {"sha256": pcrs(24, 32), "sha384": pcrs(24, 48)},
        "eventlog": {"size": len(log), "sha256": hashlib.sha256(log).hexdigest()}}
with_log = json.loads(json.dumps(base))
with_log["eventlog"]["base64"] = base64.b64encode(log).decode()

files = {
    "line": b"[    1.234567] init: phase report\r\n" + line(base) + b"Hello\r\n",
    "line-eventlog": line(with_log),
    "two-lines": line({"version": 1, "pcrs": {"sha256": pcrs(2, 32)}}) + line(base),
    "pcr-lines": "".join("%s: %s\n" % (i, v) for i, v in pcrs(24, 32).items()).encode(),
    "pcr-lines-space": "# comment\n\n".encode() + "".join("%s %s\n" % (i, v) for i, v in pcrs(8, 48).items()).encode(),
    "bad-json": b"CVMKIT-MEASURED-BOOT {\"version\":1,\"pcrs\":{\n",
    "bad-version": line({"version": 2, "pcrs": {}}),
    "bad-index": line({"version": 1, "pcrs": {"sha256": {"24": "00" * 32}}}),
    "bad-hex-length": line({"version": 1, "pcrs": {"sha256": {"0": "00" * 31}}}),
    "eventlog-digest-mismatch": line(dict(with_log, eventlog=dict(with_log["eventlog"], sha256="00" * 32))),
    "eventlog-size-mismatch": line(dict(with_log, eventlog=dict(with_log["eventlog"], size=1))),
    "eventlog-bad-base64": line(dict(with_log, eventlog=dict(with_log["eventlog"], base64="!!!!"))),
    "pcr-lines-duplicate": b"1: " + b"00" * 32 + b"\n1: " + b"11" * 32 + b"\n",
    "pcr-lines-bad": b"25: " + b"00" * 32 + b"\n",
}
for name, data in files.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
