#!/usr/bin/env python3
"""Writes the seed corpora of fuzz-http and fuzz-dhcp (tests/fuzz/corpus/{http,dhcp}).

http: one control byte (caps, HEAD, slice size; see fuzz-http.c) + a response.
dhcp: bare DHCP messages (RFC 2131 layout) and IPv4/UDP frames around them.
Run from anywhere; output is deterministic."""
import os
import struct

top = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def write(sub, name, data):
    d = os.path.join(top, sub)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


HTTP = {
    "content-length": b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n{\"a\":1}",
    "chunked": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;x=y\r\nWiki\r\n5\r\npedia\r\n0\r\nT: v\r\n\r\n",
    "until-close": b"HTTP/1.0 200 OK\r\nServer: x\r\n\r\nbody until close",
    "continue-then-204": b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
    "set-cookie": b"HTTP/1.1 200 OK\r\nSet-Cookie: kbs-session-id=abc; Path=/; Max-Age=300\r\nContent-Length: 0\r\n\r\n",
    "kbs-error": b"HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: 74\r\n\r\n"
                 b"{\"type\":\"https://github.com/confidential-containers/kbs/errors/Unauthorized\"}",
    "bare-lf": b"HTTP/1.1 404 Not Found\nContent-Length: 2\n\nno",
    "bad-status": b"HTTP/1.1 2x0 OK\r\n\r\n",
    "cl-and-te": b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    "two-lengths": b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
    "huge-chunk": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\n",
    "obs-fold": b"HTTP/1.1 200 OK\r\nA: b\r\n c\r\n\r\n",
    "truncated": b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort",
    "nul-in-header": b"HTTP/1.1 200 OK\r\nA: b\x00c\r\n\r\n",
    "many-headers": b"HTTP/1.1 200 OK\r\n" + b"".join(b"H%d: v\r\n" % i for i in range(70)) + b"\r\n",
}
for name, body in HTTP.items():
    write("http", name, b"\x0f" + body)
write("http", "head-small-caps", b"\xc1" + HTTP["content-length"])
write("http", "sliced-chunked", b"\x3f" + HTTP["chunked"])


def dhcp(op, mtype, xid=0x3903F326, yiaddr=bytes([192, 168, 1, 100]), opts=b"", file=b"", sname=b""):
    hdr = struct.pack("!BBBBIHH", op, 1, 6, 0, xid, 0, 0x8000)
    hdr += bytes(4) + yiaddr + bytes([192, 168, 1, 1]) + bytes(4)
    hdr += bytes([0x52, 0x54, 0, 0x12, 0x34, 0x56]) + bytes(10)
    hdr += sname.ljust(64, b"\0") + file.ljust(128, b"\0")
    body = b"\x63\x82\x53\x63" + bytes([53, 1, mtype]) + opts + b"\xff"
    return hdr + body


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def frame(payload, udp_sum=True):
    ulen = len(payload) + 8
    src, dst = bytes([10, 0, 2, 2]), b"\xff" * 4
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, ulen + 20, 0, 0, 64, 17, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", ~csum(ip) & 0xFFFF) + ip[12:]
    udp = struct.pack("!HHHH", 67, 68, ulen, 0) + payload
    if udp_sum:
        c = ~csum(src + dst + struct.pack("!BBH", 0, 17, ulen) + udp) & 0xFFFF
        udp = udp[:6] + struct.pack("!H", c or 0xFFFF) + udp[8:]
    return ip + udp


LEASE = (bytes([1, 4, 255, 255, 255, 0, 3, 4, 10, 0, 2, 2, 6, 8, 10, 0, 2, 3, 8, 8, 8, 8])
         + bytes([51, 4, 0, 1, 0x51, 0x80, 54, 4, 10, 0, 2, 2]))
offer = dhcp(2, 2, opts=LEASE)
ack = dhcp(2, 5, opts=LEASE)
write("dhcp", "offer", offer)
write("dhcp", "ack", ack)
write("dhcp", "nak", dhcp(2, 6, yiaddr=bytes(4), opts=bytes([54, 4, 10, 0, 2, 2])))
write("dhcp", "overload-both", dhcp(2, 5, opts=bytes([52, 1, 3]), file=bytes([3, 4, 10, 0, 0, 1, 255]),
                                    sname=bytes([1, 4, 255, 255, 0, 0, 255])))
write("dhcp", "frame-offer", frame(offer))
write("dhcp", "frame-ack-nosum", frame(ack, udp_sum=False))
write("dhcp", "bad-magic", offer[:236] + b"\x63\x82\x53\x64" + offer[240:])
write("dhcp", "option-past-end", offer[:240] + bytes([53, 1, 2, 6, 200, 1]))
write("dhcp", "dns-len-5", dhcp(2, 2, opts=bytes([6, 5, 1, 2, 3, 4, 5])))
write("dhcp", "truncated", offer[:239])
write("dhcp", "frame-bad-ipsum", frame(offer)[:10] + b"\0\0" + frame(offer)[12:])
write("dhcp", "frame-short", frame(offer)[:100])
