#!/usr/bin/python3
"""Writes the seed corpus tests/fuzz/corpus/imds (harness tests/fuzz/fuzz-imds.c): answers of
Azure IMDS as the guest meets them.  First byte 0: a POST /acc/tdquote answer ({"quote": base64}),
the quote made here by the test quoting enclave (tests/tools/azure_tdx_qe.py) with a throw-away
chain; first byte 1: a THIM certification answer.  Well-formed ones in each encoding IMDS
implementations use, and named malformed ones.  Nothing is taken from ../shared/vectors.
Usage: /usr/bin/python3 tests/fuzz/gen-corpus-imds.py  (needs python3-cryptography)"""
import base64
import hashlib
import json
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
import azure_tdx_qe  # noqa: E402

OUT = os.path.join(HERE, "corpus", "imds")


def put(name, data):
    os.makedirs(OUT, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    assert len(data) < 64 << 10
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


with tempfile.TemporaryDirectory() as d:
    chain = os.path.join(d, "pck")
    azure_tdx_qe.make_chain(chain, "fuzz corpus")
    r = bytearray(1024)
    r[0] = 0x81
    r[128:160] = hashlib.sha256(b"runtime claims").digest()
    r[512 + 16:512 + 64] = hashlib.sha384(b"mrtd").digest()
    r[32:80] = hashlib.sha384(bytes(r[256:495])).digest()
    r[80:128] = hashlib.sha384(bytes(r[512:1024])).digest()
    quote = azure_tdx_qe.quote(bytes(r), chain)
    pem = open(os.path.join(chain, "pck-chain.pem")).read()

url_nopad = base64.urlsafe_b64encode(quote).rstrip(b"=").decode()
std_pad = base64.b64encode(quote).decode()
put("quote-url-nopad", b"\0" + json.dumps({"quote": url_nopad}).encode())
put("quote-std-padded", b"\0" + json.dumps({"quote": std_pad}).encode())
put("quote-extra-members", b"\0" + json.dumps({"quote": url_nopad, "status": "ok", "n": 1}).encode())
put("quote-truncated-b64", b"\0" + json.dumps({"quote": url_nopad[:1001]}).encode())
put("quote-mixed-alphabets", b"\0" + json.dumps({"quote": "-_+/" + url_nopad[4:64]}).encode())
put("quote-number", b'\0{"quote":12345}')
put("quote-empty", b'\0{"quote":""}')
put("no-quote", b'\0{"error":"Internal server error"}')
put("not-json", b"\0<html>quote service unavailable</html>")
put("json-truncated", b"\0" + json.dumps({"quote": url_nopad}).encode()[:300])
put("thim", b"\1" + json.dumps({"vcekCert": pem.split("-----END CERTIFICATE-----")[0] +
                                 "-----END CERTIFICATE-----\n", "certificateChain": pem}).encode())
put("thim-no-vcek", b'\1{"certificateChain":"","tcbm":"DB18000000000004"}')
put("thim-bad-pem", b'\1{"vcekCert":"-----BEGIN CERTIFICATE-----\\nAAAA\\n-----END CERTIFICATE-----\\n"}')
