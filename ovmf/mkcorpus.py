#!/usr/bin/env python3
"""Writes the seed corpus of tests/fuzz/fuzz-ovmf.c: small synthetic OVMF
images (footer table, ASEV and TDVF metadata) and named corruptions of them.
Usage: ovmf/mkcorpus.py tests/fuzz/corpus/ovmf"""
import os
import struct
import sys
import uuid

FOOTER = "96b582de-1fb2-45f7-baea-a366c55a082d"
RESET = "00f771de-1a7e-4fcb-890e-68c77e2fb44e"
HASHT = "7255371f-3a3b-4b04-927b-1da6efa8d454"
SEVMETA = "dc886566-984a-4798-a75e-5585a7bf67cc"
TDXMETA = "e47a6535-984a-4798-865e-4685a7bf8ec2"


def g(s):
    return uuid.UUID(s).bytes_le


def entry(guid, data):
    return data + struct.pack("<H", len(data) + 18) + g(guid)


def image(size=8192, sev=None, tdvf=None, sev_off=0x400, tdvf_off=0x800,
          footer_len_delta=0, sev_version=1, tdvf_sig=b"TDVF", extra_entries=b""):
    img = bytearray(size)
    for i in range(0, size - 0x1000):
        img[i] = (i * 7) & 0xff  # some content for the MRTD extends
    entries = extra_entries
    entries += entry(RESET, struct.pack("<I", 0x80B004))
    entries += entry(HASHT, struct.pack("<II", 0x810C00, 0x400))
    if sev is not None:
        entries += entry(SEVMETA, struct.pack("<I", sev_off))
        hdr = b"ASEV" + struct.pack("<III", 16 + 12 * len(sev), sev_version, len(sev))
        blob = hdr + b"".join(struct.pack("<III", *s) for s in sev)
        if sev_off <= size:
            img[size - sev_off:size - sev_off + len(blob)] = blob
    if tdvf is not None:
        entries += entry(TDXMETA, struct.pack("<I", tdvf_off))
        hdr = tdvf_sig + struct.pack("<III", 16 + 32 * len(tdvf), 1, len(tdvf))
        blob = hdr + b"".join(struct.pack("<IIQQII", *s) for s in tdvf)
        img[size - tdvf_off:size - tdvf_off + len(blob)] = blob
    foot = struct.pack("<H", len(entries) + 18 + footer_len_delta) + g(FOOTER)
    tail = entries + foot
    img[size - 32 - len(tail):size - 32] = tail
    return bytes(img)


SEV_OK = [(0x800000, 0x9000, 1), (0x80A000, 0x3000, 1), (0x80D000, 0x1000, 2),
          (0x80E000, 0x1000, 3), (0x80F000, 0x1000, 4), (0x810000, 0x1000, 0x10),
          (0x811000, 0xF000, 1)]
TDVF_OK = [(0x1000, 0x1000, 0xFFFFE000, 0x1000, 0, 1), (0, 0x1000, 0xFFFFD000, 0x1000, 1, 0),
           (0, 0, 0x809000, 0x2000, 2, 0), (0, 0, 0x800000, 0x6000, 3, 0)]

CASES = {
    "ok-full.bin": image(sev=SEV_OK, tdvf=TDVF_OK),
    "ok-sev-only.bin": image(sev=SEV_OK[:5]),
    "ok-tdvf-only.bin": image(tdvf=TDVF_OK),
    "ok-no-footer.bin": bytes(4096),
    "ok-partial-raw.bin": image(tdvf=[(0x1000, 0x800, 0xFFFFE000, 0x2000, 0, 1)]),
    "bad-unknown-sev-type.bin": image(sev=SEV_OK[:2] + [(0x900000, 0x1000, 0x11)]),
    "bad-unknown-tdvf-type.bin": image(tdvf=[(0, 0, 0x800000, 0x1000, 9, 0)]),
    "bad-tdshim-type.bin": image(tdvf=[(0, 0, 0x800000, 0x1000, 4, 0)]),
    "bad-overlap-sev.bin": image(sev=[(0x800000, 0x9000, 1), (0x808000, 0x1000, 1)]),
    "bad-overlap-tdvf.bin": image(tdvf=[(0, 0, 0x800000, 0x2000, 3, 0), (0, 0, 0x801000, 0x1000, 3, 0)]),
    "bad-sev-version.bin": image(sev=SEV_OK, sev_version=2),
    "bad-sev-offset.bin": image(sev=SEV_OK, sev_off=0x10000),
    "bad-tdvf-sig.bin": image(tdvf=TDVF_OK, tdvf_sig=b"XDVF"),
    "bad-footer-len.bin": image(sev=SEV_OK, footer_len_delta=0x4000),
    "bad-footer-short.bin": image(sev=SEV_OK, footer_len_delta=-1),
    "bad-tdvf-data-beyond.bin": image(tdvf=[(0x1F000, 0x2000, 0xFFFFE000, 0x2000, 0, 1)]),
    "bad-misaligned.bin": image(sev=[(0x800800, 0x1000, 1)]),
    "bad-entry-len.bin": image(sev=SEV_OK, extra_entries=b"\x00" * 4 + struct.pack("<H", 3) + bytes(16)),
    "truncated.bin": image(sev=SEV_OK, tdvf=TDVF_OK)[-40:],
    "tiny.bin": b"\xde\x82",
}


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, data in sorted(CASES.items()):
        assert len(data) < 65536
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
