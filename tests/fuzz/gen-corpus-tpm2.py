#!/usr/bin/env python3
"""Seed corpus for tests/fuzz/fuzz-tpm2.c: TPM 2.0 responses (Part 3 layouts), valid and broken.

    tests/fuzz/gen-corpus-tpm2.py tests/fuzz/corpus/tpm2
"""
import os
import struct
import sys

PW_RESP = bytes.fromhex("0000 00 0000".replace(" ", ""))


def resp(params, sessions=False, rc=0):
    body = struct.pack(">I", len(params)) + params + PW_RESP if sessions else params
    return struct.pack(">HII", 0x8002 if sessions else 0x8001, 10 + len(body), rc) + body


def tpm2b(b):
    return struct.pack(">H", len(b)) + b


def pcr_read(sel, digests, alg=0x000B, counter=16):
    return resp(struct.pack(">IIHB", counter, 1, alg, 3) + bytes(sel) + struct.pack(">I", len(digests))
                + b"".join(tpm2b(d) for d in digests))


name = tpm2b(b"\x00\x0b" + bytes([0x5A]) * 32)
rsa_public = tpm2b(struct.pack(">HHIH", 1, 0x0B, 0x00050072, 0) + struct.pack(">HHHHI", 0x10, 0x14, 0x0B, 2048, 0)
                   + tpm2b(bytes([0xC5]) * 256))
nv_public = tpm2b(struct.pack(">IHIHH", 0x01400001, 0x0B, 0x20060006, 0, 2048))
attest = bytes.fromhex("ff5443478018") + name + tpm2b(b"nonce") + bytes(17) + bytes(8) \
    + struct.pack(">IHB", 1, 0x0B, 3) + b"\xff\xff\xff" + tpm2b(bytes(32))

seeds = {
    "getrandom": resp(tpm2b(bytes(range(16)))),
    "getcap-nvbuffer": resp(b"\x00" + struct.pack(">IIII", 6, 1, 0x12C, 1024)),
    "getcap-empty": resp(b"\x00" + struct.pack(">II", 6, 0)),
    "pcrread-8": pcr_read([0xFF, 0, 0], [bytes([i]) * 32 for i in range(8)]),
    "pcrread-sha384": pcr_read([0x0F, 0x0F, 0], [bytes([i]) * 48 for i in range(8)], alg=0x000C),
    "pcrread-none": pcr_read([0, 0, 0], []),
    "readpublic-rsa": resp(rsa_public + name + name),
    "nvreadpublic": resp(nv_public + name),
    "nvread-64": resp(tpm2b(bytes(64)), sessions=True),
    "nv-ok": resp(b"", sessions=True),
    "quote-rsassa": resp(tpm2b(attest) + struct.pack(">HH", 0x14, 0x0B) + tpm2b(bytes([0xAB]) * 256), sessions=True),
    "quote-ecdsa": resp(tpm2b(attest) + struct.pack(">HH", 0x18, 0x0B) + tpm2b(b"\x11" * 32) + tpm2b(b"\x22" * 32),
                        sessions=True),
    "rc-handle": resp(b"", rc=0x18B),
    "rc-bad-auth": resp(b"", rc=0x9A2),
    "rc-lockout": resp(b"", rc=0x921),
    "bad-size": resp(tpm2b(bytes(16)))[:-3],
    "bad-tag": b"\x00\xc4" + resp(tpm2b(bytes(16)))[2:],
    "bad-tpm2b": resp(struct.pack(">H", 0xFFFF) + bytes(8)),
    "bad-session-area": resp(tpm2b(bytes(64)), sessions=True)[:-2],
    "short": b"\x80\x01\x00",
}

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
for k, v in seeds.items():
    with open(os.path.join(out, k), "wb") as f:
        f.write(v)
