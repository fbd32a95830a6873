#!/usr/bin/python3
"""A TEST Azure IMDS for one connection on stdin/stdout (QEMU guestfwd cmd:).

  imds.py THIM_JSON_FILE [LOG_FILE]

Answers GET /metadata/THIM/amd/certification (header "Metadata: true"
required, as IMDS does) with the file's bytes; anything else is 404, a
missing Metadata header 400.  Test code only.

userData: GET /metadata/instance/compute/userData?api-version=...&format=text
answers with the bytes of the file named by $IMDS_USER_DATA (base64 text, as
Azure stores it), or an empty 200 when it is unset, as Azure answers a VM
without userData; without api-version or format=text it is 400.
"""
import os
import sys
import urllib.parse

USER_DATA = "/metadata/instance/compute/userData"


def user_data(target):
    """(status, body) for a userData request, as Azure IMDS answers it."""
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(target).query)
    if not q.get("api-version") or q.get("format") != ["text"]:
        return 400, b'{"error":"Bad request. api-version and format=text are required for leaf values"}'
    path = os.environ.get("IMDS_USER_DATA")
    return 200, open(path, "rb").read() if path else b""


def main():
    body = open(sys.argv[1], "rb").read()
    log = open(sys.argv[2], "a") if len(sys.argv) > 2 else None
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
    status, reply = 200, body
    if len(parts) == 3 and parts[0] == "GET" and urllib.parse.urlsplit(parts[1]).path == USER_DATA:
        status, reply = user_data(parts[1])
        if headers.get("metadata") != "true":
            status, reply = 400, b'{"error":"Bad request. Required metadata header not specified"}'
    elif len(parts) != 3 or parts[0] != "GET" or parts[1] != "/metadata/THIM/amd/certification":
        status, reply = 404, b'{"error":"not found"}'
    elif headers.get("metadata") != "true":
        status, reply = 400, b'{"error":"Bad request. Required metadata header not specified"}'
    if log:
        log.write("%s -> %d\n" % (line, status))
        log.close()
    out.write(b"HTTP/1.1 %d %s\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: %d\r\n"
              b"Connection: close\r\n\r\n" % (status, b"OK" if status == 200 else b"Error", len(reply)) + reply)
    out.flush()


if __name__ == "__main__":
    main()
