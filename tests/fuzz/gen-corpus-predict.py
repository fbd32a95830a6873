#!/usr/bin/env python3
"""Seed corpus of fuzz-predict: small hand-built UKIs (PE32+ with .sdmagic,
.osrel, .cmdline, .initrd and a PE .linux) and named corruptions of them.
Deterministic; run from the repository root."""
import os, struct

out = "tests/fuzz/corpus/predict"
os.makedirs(out, exist_ok=True)

def pe(sections):
    """PE32+ EFI application: headers 0x400, each section at the next 0x200 in
    the file and the next 0x1000 in memory."""
    n = len(sections)
    raw, off, rva, table = b"", 0x400, 0x1000, b""
    for name, data in sections:
        size = (len(data) + 0x1ff) & ~0x1ff
        table += struct.pack("<8sIIIIIIHHI", name, len(data), rva, size, off, 0, 0, 0, 0, 0x40000040)
        raw += data + b"\0" * (size - len(data))
        off += size
        rva += (len(data) + 0xfff) & ~0xfff or 0x1000
    h = bytearray(0x400)
    h[0:2] = b"MZ"
    struct.pack_into("<I", h, 0x3c, 0x40)
    h[0x40:0x44] = b"PE\0\0"
    struct.pack_into("<HHIIIHH", h, 0x44, 0x8664, n, 0, 0, 0, 240, 0x22e)
    o = 0x58
    struct.pack_into("<H", h, o, 0x20b)
    struct.pack_into("<I", h, o + 16, 0x1000)
    struct.pack_into("<Q", h, o + 24, 0x140000000)
    struct.pack_into("<II", h, o + 32, 0x1000, 0x200)
    struct.pack_into("<II", h, o + 56, rva, 0x400)
    struct.pack_into("<H", h, o + 68, 10)
    struct.pack_into("<I", h, o + 108, 16)
    h[0x148:0x148 + len(table)] = table
    return bytes(h) + raw

kernel = pe([(b".text", bytes(range(256)) * 2)])
magic = b"#### LoaderInfo: systemd-stub 257.13-1~deb13u1 ####"

def uki(magic=magic, cmdline=b"console=ttyS0 quiet", extra=()):
    secs = [(b".text", b"\xc3" * 64), (b".sdmagic", magic), (b".osrel", b"ID=cvmkit\n"),
            (b".cmdline", cmdline), (b".initrd", b"foobar\n"), (b".linux", kernel)]
    return pe(secs + list(extra))

good = uki()
files = {
    "uki-257": good,
    "uki-252": uki(magic=b"#### LoaderInfo: systemd-stub 252.39-1~deb12u1 ####"),
    "uki-pcrpkey": uki(extra=[(b".pcrpkey", b"-----BEGIN PUBLIC KEY-----\n")]),
    "uki-258-unmodelled": uki(magic=b"#### LoaderInfo: systemd-stub 258.1 ####"),
    "uki-profile": uki(extra=[(b".profile", b"ID=a\n")]),
    "uki-non-ascii-cmdline": uki(cmdline="café".encode()),
    "uki-no-sdmagic": pe([(b".text", b"\xc3"), (b".linux", kernel)]),
    "uki-truncated": good[: len(good) // 2],
    "uki-linux-not-pe": pe([(b".sdmagic", magic), (b".linux", b"HALLO\n")]),
    "not-an-image": b"\x5a" * 4096,
    "empty": b"",
}
for name, data in files.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
