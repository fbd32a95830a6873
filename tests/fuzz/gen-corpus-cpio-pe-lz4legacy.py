#!/usr/bin/env python3
"""Regenerates the seed corpora of fuzz-cpio, fuzz-pe and fuzz-lz4legacy:
small valid inputs built from scratch plus named corruptions of them.
Run from the repository root: tests/fuzz/gen-corpus-cpio-pe-lz4legacy.py
(needs lz4(1) for the LZ4 seeds).  Output is deterministic."""
import os
import struct
import subprocess

ROOT = 'tests/fuzz/corpus'


def put(sub, name, data):
    assert len(data) < 65536, name
    os.makedirs(f'{ROOT}/{sub}', exist_ok=True)
    with open(f'{ROOT}/{sub}/{name}', 'wb') as f:
        f.write(data)


# ---------------------------------------------------------------- cpio
def pad4(b):
    return b + b'\0' * (-len(b) % 4)


def entry(name, mode, data=b'', ino=1, nlink=1, upper=False, magic=b'070701'):
    fields = [ino, mode, 0, 0, nlink, 0, len(data), 0, 0, 0, 0, len(name) + 1, 0]
    fmt = '%08X' if upper else '%08x'
    hdr = magic + b''.join((fmt % v).encode() for v in fields)
    return pad4(hdr + name + b'\0') + pad4(data)


TRAILER = entry(b'TRAILER!!!', 0, ino=0)

stub = entry(b'.extra', 0o40555) + entry(b'.extra/os-release', 0o100444, b'ID=debian\n', ino=2) + TRAILER
put('cpio', 'stub-osrel', stub)
put('cpio', 'trailer-only', TRAILER)
put('cpio', 'tree', entry(b'bin', 0o40755, nlink=2) + entry(b'bin/sh', 0o120777, b'busybox', ino=2)
    + entry(b'init', 0o100755, b'#!/bin/sh\nexec /bin/sh\n', ino=3) + TRAILER)
put('cpio', 'uppercase-crc', entry(b'a', 0o100644, b'abcdef', upper=True, magic=b'070702')
    + entry(b'TRAILER!!!', 0, ino=0, upper=True) + b'\0' * 256)
put('cpio', 'two-archives', stub + stub)
put('cpio', 'bad-magic', b'070707' + stub[6:])
put('cpio', 'bad-hex', stub[:20] + b'g' + stub[21:])
put('cpio', 'name-no-nul', stub[:6 + 11 * 8] + b'00000006' + stub[6 + 12 * 8:])
put('cpio', 'huge-namesize', stub[:6 + 11 * 8] + b'ffffffff' + stub[6 + 12 * 8:])
put('cpio', 'data-past-end', stub[:120 + 6 + 6 * 8] + b'7fffffff' + stub[120 + 6 + 7 * 8:])
put('cpio', 'truncated-header', stub[:60])
put('cpio', 'truncated-data', stub[:120 + 128 + 4])
put('cpio', 'no-trailer', stub[:120 + 128 + 12])


# ---------------------------------------------------------------- PE
def pe(sections, length, soh=0x400, cert=(0, 0), ndirs=16, magic=0x20b, machine=0x8664, subsystem=10,
       image_size=0x10000):
    """e_lfanew 0x40, optional header at 0x58 (240 bytes), section table at 0x148."""
    b = bytearray(length)
    for i in range(soh, length):
        b[i] = (i * 7 + (i >> 8)) & 0xff
    b[0:2] = b'MZ'
    struct.pack_into('<I', b, 0x3c, 0x40)
    b[0x40:0x44] = b'PE\0\0'
    struct.pack_into('<HH', b, 0x44, machine, len(sections))
    struct.pack_into('<HH', b, 0x54, 240, 0x22e)
    o = 0x58
    struct.pack_into('<H', b, o, magic)
    struct.pack_into('<I', b, o + 16, 0x1000)
    struct.pack_into('<Q', b, o + 24, 0x140000000)
    struct.pack_into('<II', b, o + 32, 0x1000, 0x200)
    struct.pack_into('<III', b, o + 56, image_size, soh, 0x1234)
    struct.pack_into('<H', b, o + 68, subsystem)
    struct.pack_into('<I', b, o + 108, ndirs)
    struct.pack_into('<II', b, o + 144, *cert)
    for i, (name, vs, va, raw, ptr) in enumerate(sections):
        h = 0x148 + 40 * i
        b[h:h + len(name)] = name
        struct.pack_into('<IIII', b, h + 8, vs, va, raw, ptr)
        struct.pack_into('<I', b, h + 36, 0x40000040)
    return bytes(b)


TWO = [(b'.text', 0x300, 0x1000, 0x400, 0x400), (b'.data', 0x1800, 0x2000, 0x200, 0x800)]
good = pe(TWO, 0xa00)
put('pe', 'two-sections', good)
put('pe', 'out-of-order-trailing', pe([(b'.b', 0x200, 0x2000, 0x200, 0x800), (b'.bss', 0x1000, 0x3000, 0, 0),
                                      (b'.a', 0x400, 0x1000, 0x400, 0x400)], 0xb00))
put('pe', 'gap', pe([(b'.a', 0x200, 0x1000, 0x200, 0x400), (b'.b', 0x200, 0x2000, 0x200, 0x800)], 0xa00))
put('pe', 'cert-table', pe([(b'.a', 0x200, 0x1000, 0x200, 0x400)], 0x700, cert=(0x600, 0x100)))
put('pe', 'four-dirs', pe([(b'.a', 0x200, 0x1000, 0x200, 0x400)], 0x600, ndirs=4))
put('pe', 'small-headers-stub', pe([(b'.a', 0x1f0, 0x1000, 0x200, 0x200), (b'.b', 0x80, 0x2000, 0x200, 0x400)],
                                   0x600, soh=0x200, image_size=0x3000))
put('pe', 'uki-like', pe([(b'.text', 0x100, 0x1000, 0x200, 0x400), (b'.osrel', 9, 0x2000, 0x200, 0x600),
                          (b'.cmdline', 5, 0x3000, 0x200, 0x800), (b'.linux', 0x200, 0x4000, 0x200, 0xa00)], 0xc00))
put('pe', 'pe32', pe(TWO, 0xa00, magic=0x10b))
put('pe', 'arm64', pe(TWO, 0xa00, machine=0xaa64))
put('pe', 'truncated', good[:0x900])
put('pe', 'overlap-file', pe([(b'.a', 0x200, 0x1000, 0x400, 0x400), (b'.b', 0x200, 0x2000, 0x200, 0x500)], 0xa00))
put('pe', 'overlap-memory', pe([(b'.a', 0x2000, 0x1000, 0x200, 0x400), (b'.b', 0x200, 0x2000, 0x200, 0x600)], 0xa00))
put('pe', 'section-past-end', pe([(b'.a', 0x200, 0x1000, 0x200, 0xffffff00)], 0x600))
put('pe', 'cert-past-end', pe([(b'.a', 0x200, 0x1000, 0x200, 0x400)], 0x700, cert=(0x600, 0x1000)))
put('pe', 'bad-lfanew', good[:0x3c] + b'\xf0\xff\xff\xff' + good[0x40:])
put('pe', 'mz-only', b'MZ' + b'\0' * 62)

# ---------------------------------------------------------------- LZ4 legacy
def lz4l(data, level='-9'):
    return subprocess.run(['lz4', '-l', level, '-q', '-c'], input=data, stdout=subprocess.PIPE, check=True).stdout


text = b''.join(b'line %d of a compressible initramfs-like text\n' % i for i in range(600))
z = lz4l(text)
put('lz4legacy', 'text', z)
put('lz4legacy', 'text-fast', lz4l(text, '-1'))
put('lz4legacy', 'one-byte', lz4l(b'x'))
put('lz4legacy', 'zeros-64k', lz4l(b'\0' * 65536))
put('lz4legacy', 'concatenated', z + lz4l(b'second frame\n'))
put('lz4legacy', 'magic-only', struct.pack('<I', 0x184C2102))
put('lz4legacy', 'bad-magic', struct.pack('<I', 0x184D2204) + z[4:])
put('lz4legacy', 'truncated-block', z[:len(z) - 7])
put('lz4legacy', 'truncated-size', z[:6])
put('lz4legacy', 'zero-block', struct.pack('<II', 0x184C2102, 0))
put('lz4legacy', 'block-too-big', struct.pack('<II', 0x184C2102, 0x7fffffff) + b'\0' * 16)
put('lz4legacy', 'bad-offset', struct.pack('<II', 0x184C2102, 3) + b'\x0f\xff\xff')
put('lz4legacy', 'bomb', struct.pack('<II', 0x184C2102, 0x1000) + b'\x1f\x00' + b'\x01\x00' + b'\xff' * 0xffb + b'\x00')
