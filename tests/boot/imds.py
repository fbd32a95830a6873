#!/usr/bin/python3
"""A TEST Azure IMDS for one connection on stdin/stdout (QEMU guestfwd cmd:).

  imds.py THIM_JSON_FILE [LOG_FILE]
  imds.py --tdx CHAIN_DIR [--fault down|hang|500|garbage] [LOG_FILE]

Answers GET /metadata/THIM/amd/certification (header "Metadata: true"
required, as IMDS does) with the file's bytes; anything else is 404, a
missing Metadata header 400.

With --tdx it answers POST /acc/tdquote instead, as Azure does on a TDX CVM
(../shared/notes/azure-vtpm-evidence.md section 7): headers "Metadata: true"
and "Content-Type: application/json" exactly (415 for any other media type),
body {"report":"<base64 or base64url of the 1024-byte TDREPORT>"}, answer
{"quote":"<base64url of a TD quote v4>"} made by the test quoting enclave
(tests/tools/azure_tdx_qe.py) with the chain in CHAIN_DIR; a TD report the
QE rejects is 400.  Faults for the quote endpoint: down (the connection is
closed unanswered), hang (no answer for 60 s), 500, garbage (200 with a body that
is not JSON).

userData: GET /metadata/instance/compute/userData?api-version=...&format=text
answers with the bytes of the file named by $IMDS_USER_DATA (base64 text, as
Azure stores it), or an empty 200 when it is unset, as Azure answers a VM
without userData; without api-version or format=text it is 400.  Test code only.
"""
import base64
import binascii
import json
import os
import sys
import time
import urllib.parse

USER_DATA = "/metadata/instance/compute/userData"


def user_data(target):
    """(status, body) for a userData request, as Azure IMDS answers it."""
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(target).query)
    if not q.get("api-version") or q.get("format") != ["text"]:
        return 400, b'{"error":"Bad request. api-version and format=text are required for leaf values"}'
    path = os.environ.get("IMDS_USER_DATA")
    return 200, open(path, "rb").read() if path else b""


def reply(out, status, body):
    out.write(b"HTTP/1.1 %d %s\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: %d\r\n"
              b"Connection: close\r\n\r\n" % (status, b"OK" if status == 200 else b"Error", len(body)) + body)
    out.flush()


def td_quote(inp, headers, chain, fault):
    """(status, body) for POST /acc/tdquote."""
    n = int(headers.get("content-length", "0") or 0)
    data = inp.read(n) if 0 < n <= 65536 else b""
    if headers.get("metadata") != "true":
        return 400, b'{"error":"Bad request. Required metadata header not specified"}'
    if headers.get("content-type") != "application/json":
        return 415, b'{"error":"Unsupported Media Type"}'
    if fault == "500":
        return 500, b'{"error":"Internal server error"}'
    if fault == "garbage":
        return 200, b"<html>quote service unavailable</html>"
    try:
        s = json.loads(data)["report"].replace("+", "-").replace("/", "_").rstrip("=")
        report = base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error):
        return 400, b'{"error":"Bad request. report is not base64 JSON"}'
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
    import azure_tdx_qe
    try:
        q = azure_tdx_qe.quote(report, chain)
    except azure_tdx_qe.BadReport as e:
        return 400, json.dumps({"error": "Bad request. %s" % e}).encode()
    return 200, json.dumps({"quote": base64.urlsafe_b64encode(q).rstrip(b"=").decode()}).encode()


def main():
    args = sys.argv[1:]
    thim = chain = fault = None
    while args and args[0].startswith("--"):
        opt, val, args = args[0], args[1], args[2:]
        if opt == "--tdx":
            chain = val
        elif opt == "--fault":
            fault = val
        else:
            sys.exit("imds.py: fatal: unable to parse arguments: unknown option %s" % opt)
    if not chain:
        thim, args = args[0], args[1:]
    log = open(args[0], "a") if args else None
    inp, out = sys.stdin.buffer, sys.stdout.buffer
    line = inp.readline(8192).decode("latin-1").strip()
    headers = {}
    while True:
        h = inp.readline(8192)
        if not h or h in (b"\r\n", b"\n"):
            break
        k, _, v = h.decode("latin-1").partition(":")
        headers[k.strip().lower()] = v.strip()
    parts = line.split()
    if len(parts) == 3 and parts[0] == "GET" and urllib.parse.urlsplit(parts[1]).path == USER_DATA:
        status, body = user_data(parts[1])
        if headers.get("metadata") != "true":
            status, body = 400, b'{"error":"Bad request. Required metadata header not specified"}'
    elif chain and len(parts) == 3 and parts[:2] == ["POST", "/acc/tdquote"]:
        if fault in ("down", "hang"):
            if log:
                log.write("%s -> %s\n" % (line, fault))
                log.close()
            if fault == "hang":
                time.sleep(60)  # past any client timeout; QEMU does not reap it
            return
        status, body = td_quote(inp, headers, chain, fault)
    elif thim and len(parts) == 3 and parts[:2] == ["GET", "/metadata/THIM/amd/certification"]:
        status, body = 200, open(thim, "rb").read()
        if headers.get("metadata") != "true":
            status, body = 400, b'{"error":"Bad request. Required metadata header not specified"}'
    else:
        status, body = 404, b'{"error":"not found"}'
    if log:
        log.write("%s -> %d\n" % (line, status))
        log.close()
    reply(out, status, body)


if __name__ == "__main__":
    main()
