#!/usr/bin/env python3
"""Writes the seed corpus of fuzz-explain: crypto-agile event logs (banks
sha256 and sha384) whose events carry the digests fuzz-explain's fixed
prediction expects (PCR i, event k: every byte 0x10 * (k + 1) + i % 16), then
logs that depart from it, stop short or run on.  Deterministic; run from the
repository root."""
import os, struct

out = "tests/fuzz/corpus/explain"
os.makedirs(out, exist_ok=True)
SHA256, SHA384, EV_NO_ACTION, EV_EFI_ACTION, EV_SEPARATOR = 0x0B, 0x0C, 3, 0x80000007, 4

spec = b"Spec ID Event03\0" + struct.pack("<IBBBBI", 0, 0, 2, 0, 2, 2)
spec += struct.pack("<HHHH", SHA256, 32, SHA384, 48) + b"\0"
header = struct.pack("<II", 0, EV_NO_ACTION) + b"\0" * 20 + struct.pack("<I", len(spec)) + spec

def event(pcr, typ, byte, data=b"fuzz"):
    return (struct.pack("<III", pcr, typ, 2) + struct.pack("<H", SHA256) + bytes([byte]) * 32
            + struct.pack("<H", SHA384) + bytes([byte]) * 48 + struct.pack("<I", len(data)) + data)

def expected(pcr, k):
    return 0x10 * (k + 1) + pcr % 16

def log(pcrs, n, depart=None):
    body = b""
    for pcr in pcrs:
        for k in range(n):
            b = expected(pcr, k) if depart != k else 0xEE
            body += event(pcr, EV_EFI_ACTION, b)
    return header + body

files = {
    "header-only": header,
    "all-match": log([4, 9, 11], 3),
    "departs-at-1": log([4, 9], 3, depart=1),
    "stops-short": log([4, 11], 2),
    "runs-on": log([4, 12], 4),
    "no-action-between": header + event(4, EV_EFI_ACTION, expected(4, 0)) + event(4, EV_NO_ACTION, 0)
        + event(4, EV_EFI_ACTION, expected(4, 1)) + event(4, EV_SEPARATOR, 0, b"\0\0\0\0"),
    "platform-pcr": log([0, 3, 8], 3),
}
for name, data in files.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
