#!/usr/bin/env python3
"""Seed corpus for tests/fuzz/fuzz-sbvars.c: edk2 variable stores, Azure
template JSON and signed PEs with db lists, valid and broken.  Certificates and
the PKCS#7 come from openssl (a throw-away key, never stored).

    tests/fuzz/gen-corpus-sbvars.py tests/fuzz/corpus/sbvars
"""
import base64
import json
import os
import struct
import subprocess
import sys
import tempfile
import uuid


def guid(s):
    return uuid.UUID(s).bytes_le


GLOBAL = guid("8be4df61-93ca-11d2-aa0d-00e098032b8c")
SECDB = guid("d719b2cb-3d3a-4596-a3bc-dad00e67656f")
X509 = guid("a5c059a1-94e4-4aa7-87b5-ab155c2bf072")
SHA256 = guid("c1c41626-504c-4092-aca9-41f936934328")
OWNER = guid("77fa9abd-0359-4d32-bd60-28f4e78f784b")
AUTH_STORE = guid("aaf32c78-947b-439a-a180-2e144ec37792")
PLAIN_STORE = guid("ddcf3616-3275-4164-98b6-fe85707ffe7d")


def esl(kind, sigs):
    size = 16 + len(sigs[0])
    return kind + struct.pack("<III", 28 + size * len(sigs), 0, size) + b"".join(OWNER + s for s in sigs)


def var(name, vendor, data, state=0x3F, auth=True):
    n = (name + "\0").encode("utf-16-le")
    if auth:
        h = struct.pack("<HBBIQ16sIII", 0x55AA, state, 0, 0x27, 0, bytes(16), 0, len(n), len(data)) + vendor
    else:
        h = struct.pack("<HBBIII", 0x55AA, state, 0, 0x07, len(n), len(data)) + vendor
    v = h + n + data
    return v + bytes((4 - len(v) % 4) % 4)


def varstore(vars_, auth=True, size=4096):
    body = b"".join(vars_)
    store = (AUTH_STORE if auth else PLAIN_STORE) + struct.pack("<IBBHI", size - 72, 0x5A, 0xFE, 0, 0) + body
    store += b"\xff" * (size - 72 - len(store))
    fv = bytes(16) + guid("fff12b8d-7696-4c8b-a985-2747075b4f50") + struct.pack("<Q", size) + b"_FVH" \
        + struct.pack("<IHHHBB", 0x4FEFF, 72, 0, 0, 0, 2) + struct.pack("<IIII", 1, size, 0, 0)
    fv += bytes(72 - len(fv))
    return fv + store


def minimal_pe(cert_table):
    """PE32+ with no sections, 16 data directories, the certificate table at 0x200."""
    opt = struct.pack("<HBBIIIIIQIIHHHHHHIIIIHHQQQQII", 0x20B, 0, 0, 0, 0, 0, 0, 0, 0, 0x1000, 0x200, 0, 0, 0, 0,
                      0, 0, 0, 0x1000, 0x200, 0, 10, 0, 0, 0, 0, 0, 0, 16)
    dirs = bytearray(16 * 8)
    struct.pack_into("<II", dirs, 4 * 8, 0x200, len(cert_table))
    opt += bytes(dirs)
    coff = struct.pack("<HHIIIHH", 0x8664, 0, 0, 0, 0, len(opt), 0x22)
    head = bytearray(b"MZ" + bytes(0x3A) + struct.pack("<I", 0x40)) + b"PE\0\0" + coff + opt
    return bytes(head) + bytes(0x200 - len(head)) + cert_table


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    with tempfile.TemporaryDirectory() as t:
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-keyout", t + "/k", "-out", t + "/c", "-subj", "/CN=fuzz", "-days", "1"],
                       check=True, capture_output=True)
        der = subprocess.run(["openssl", "x509", "-in", t + "/c", "-outform", "DER"], check=True,
                             capture_output=True).stdout
        open(t + "/data", "wb").write(b"fuzz")
        p7 = subprocess.run(["openssl", "cms", "-sign", "-binary", "-outform", "DER", "-nodetach", "-in", t + "/data",
                             "-signer", t + "/c", "-inkey", t + "/k", "-md", "sha256"], check=True,
                            capture_output=True).stdout
    wc = struct.pack("<IHH", 8 + len(p7), 0x200, 2) + p7
    wc += bytes((8 - len(wc) % 8) % 8)
    pe = minimal_pe(wc)
    db_cert = esl(X509, [der])
    db_hash = esl(SHA256, [bytes(32), bytes([1]) * 32])
    pk = esl(X509, [der])
    seeds = {
        "vs-auth": b"\0" + varstore([var("PK", GLOBAL, pk), var("KEK", GLOBAL, pk), var("db", SECDB, db_cert),
                                      var("dbx", SECDB, db_hash)]),
        "vs-transition": b"\0" + varstore([var("db", SECDB, db_hash, 0x3E), var("db", SECDB, db_cert),
                                            var("SecureBootEnable", guid("f0a30bc7-af08-4556-99c4-001009c93a44"), b"\0")]),
        "vs-plain": b"\0" + varstore([var("PK", GLOBAL, pk, auth=False)], auth=False),
        "vs-truncated": b"\0" + varstore([var("PK", GLOBAL, pk)])[:300],
        "vs-deleted": b"\0" + varstore([var("PK", GLOBAL, pk, 0x3C)]),
        "az-template": b"\1" + json.dumps({"properties": {"uefiSettings": {"signatures": {
            "PK": {"type": "x509", "value": [base64.b64encode(der).decode()]},
            "KEK": [{"type": "x509", "value": [base64.b64encode(der).decode()] * 2}],
            "db": [{"type": "x509", "value": [base64.b64encode(der).decode()]}],
            "dbx": [{"type": "sha256", "value": [base64.b64encode(bytes(32)).decode()]}]}}}}).encode(),
        "az-bad-sha": b"\1" + b'{"properties":{"uefiSettings":{"signatures":{"db":[{"type":"sha256","value":["AAAA"]}]}}}}',
        "az-not-json": b"\1{\"properties\":",
        "auth-cert": b"\2" + struct.pack("<H", len(db_cert)) + db_cert + pe,
        "auth-hash": b"\2" + struct.pack("<H", len(db_hash)) + db_hash + pe,
        "auth-bad-esl": b"\2" + struct.pack("<H", 40) + db_cert[:40] + pe,
        "auth-no-certs": b"\2" + struct.pack("<H", len(db_cert)) + db_cert + minimal_pe(b""),
    }
    for name, data in seeds.items():
        open(os.path.join(out, name), "wb").write(data)


main()
