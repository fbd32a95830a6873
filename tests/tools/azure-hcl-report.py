#!/usr/bin/env python3
"""Builds the HCL report of a simulated Azure vTPM (helper of azure-vtpm-sim.sh).

Writes, into --out:
  runtime-claims.json  var data: HCLAkPub (the AK's modulus as a JWK), vm-configuration, user-data
  snp-report.bin       a synthetic SEV-SNP ATTESTATION_REPORT (version 3, Milan CPUID) whose
                       REPORT_DATA is SHA-256(runtime claims) || 32 zero bytes, signed with the
                       test VCEK key (ECDSA P-384 over SHA-384 of bytes 0..0x2A0)
  hcl-report.bin       the HCL report ("HCLA" header, SNP report, IGVM request data, var data),
                       zero-padded to --nv-size bytes (the NV index size)
Layouts: ../shared/notes/azure-vtpm-evidence.md sections 3 and 4.  Standard library only; the
signature comes from `openssl dgst`.
"""
import argparse
import base64
import hashlib
import json
import struct
import subprocess
import sys


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def der_ecdsa_sig(der):
    """(r, s) from a DER ECDSA-Sig-Value (SEQUENCE of two INTEGERs)."""
    def length(buf, i):
        n = buf[i]
        if n < 0x80:
            return n, i + 1
        k = n & 0x7F
        return int.from_bytes(buf[i + 1:i + 1 + k], "big"), i + 1 + k

    if der[0] != 0x30:
        raise ValueError("not a DER sequence")
    _, i = length(der, 1)
    out = []
    for _ in range(2):
        if der[i] != 0x02:
            raise ValueError("not a DER integer")
        n, i = length(der, i + 1)
        out.append(int.from_bytes(der[i:i + n], "big"))
        i += n
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ak-modulus", required=True, help="AK RSA modulus, hex")
    ap.add_argument("--vcek-key", required=True, help="PEM private key of the test VCEK (P-384)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--user-data", default="", help="hex, at most 64 bytes (zero-padded to 64)")
    ap.add_argument("--chip-id", required=True, help="hex, 64 bytes")
    ap.add_argument("--tcb", required=True, help="bootloader,tee,snp,microcode (Milan layout)")
    ap.add_argument("--measurement", required=True, help="hex, 48 bytes")
    ap.add_argument("--vm-unique-id", default="C0FFEE00-0000-4000-8000-000000000001")
    ap.add_argument("--nv-size", type=int, default=2048)
    a = ap.parse_args()

    user_data = bytes.fromhex(a.user_data)
    if len(user_data) > 64:
        sys.exit("azure-hcl-report: fatal: unable to use --user-data: more than 64 bytes")
    user_data = user_data.ljust(64, b"\0")
    n = bytes.fromhex(a.ak_modulus)
    claims = {
        "keys": [{"kid": "HCLAkPub", "key_ops": ["sign"], "kty": "RSA", "e": "AQAB", "n": b64url(n)}],
        "vm-configuration": {"console-enabled": True, "secure-boot": False, "tpm-enabled": True,
                             "tpm-persisted": True, "vmUniqueId": a.vm_unique_id},
        # The paravisor prints user-data in uppercase hex.
        "user-data": user_data.hex().upper(),
    }
    var = json.dumps(claims, separators=(",", ":")).encode()

    bl, tee, snp, ucode = (int(x) for x in a.tcb.split(","))
    # Milan TCB_VERSION: [0] boot loader, [1] TEE, [2..5] reserved, [6] SNP, [7] microcode.
    tcb = bl | tee << 8 | snp << 48 | ucode << 56
    chip_id = bytes.fromhex(a.chip_id)
    measurement = bytes.fromhex(a.measurement)
    if len(chip_id) != 64 or len(measurement) != 48:
        sys.exit("azure-hcl-report: fatal: unable to build the report: chip id must be 64 bytes, measurement 48")

    rep = bytearray(1184)
    struct.pack_into("<IIQ", rep, 0, 3, 0, 0x1F | 1 << 16 | 1 << 17)  # version 3, ABI 0.31, SMT, reserved bit 17
    struct.pack_into("<II", rep, 0x30, 0, 1)                          # VMPL 0, ECDSA P-384/SHA-384
    struct.pack_into("<QQI", rep, 0x38, tcb, 1, 0)                    # current TCB, SMT enabled, VCEK
    rep[0x50:0x70] = hashlib.sha256(var).digest()                     # REPORT_DATA[0..32)
    rep[0x90:0xC0] = measurement
    rep[0x140:0x160] = hashlib.sha256(b"cvmkit azure-vtpm-sim report id").digest()
    struct.pack_into("<Q", rep, 0x180, tcb)                           # REPORTED_TCB
    rep[0x188:0x18B] = bytes([0x19, 0x01, 0x01])                      # Milan family/model/stepping
    rep[0x1A0:0x1E0] = chip_id
    struct.pack_into("<Q", rep, 0x1E0, tcb)                           # COMMITTED_TCB
    rep[0x1E8:0x1EB] = bytes([0x0A, 0x37, 0x01])                      # current build/minor/major
    rep[0x1EC:0x1EF] = bytes([0x0A, 0x37, 0x01])
    struct.pack_into("<Q", rep, 0x1F0, tcb)                           # LAUNCH_TCB
    sig = subprocess.run(["openssl", "dgst", "-sha384", "-sign", a.vcek_key], input=bytes(rep[:0x2A0]),
                         capture_output=True, check=True).stdout
    r, s = der_ecdsa_sig(sig)
    rep[0x2A0:0x2A0 + 72] = r.to_bytes(72, "little")
    rep[0x2A0 + 72:0x2A0 + 144] = s.to_bytes(72, "little")

    total = 1236 + len(var)
    if total > a.nv_size:
        sys.exit(f"azure-hcl-report: fatal: unable to fit the HCL report: {total} bytes > NV size {a.nv_size}")
    hcl = bytearray(a.nv_size)
    struct.pack_into("<5I", hcl, 0, 0x414C4348, 1, total, 2, 0)
    hcl[32:32 + 1184] = rep
    struct.pack_into("<5I", hcl, 1216, 20 + len(var), 1, 2, 1, len(var))  # SNP report, SHA-256 binding
    hcl[1236:total] = var

    for name, data in (("runtime-claims.json", var), ("snp-report.bin", rep), ("hcl-report.bin", hcl)):
        with open(f"{a.out}/{name}", "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
