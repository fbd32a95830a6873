#!/usr/bin/python3
"""A TEST Azure IMDS for one connection on stdin/stdout (QEMU guestfwd cmd:).

  imds.py THIM_JSON_FILE [LOG_FILE]

Answers GET /metadata/THIM/amd/certification (header "Metadata: true"
required, as IMDS does) with the file's bytes; anything else is 404, a
missing Metadata header 400.  Test code only.
"""
import sys


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
    if len(parts) != 3 or parts[0] != "GET" or parts[1] != "/metadata/THIM/amd/certification":
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
