#!/usr/bin/env python3
"""Builds the HCL report of a simulated Azure vTPM (helper of azure-vtpm-sim.sh).

Writes, into --out:
  runtime-claims.json  var data: HCLAkPub (the AK's modulus as a JWK), vm-configuration, user-data
  snp-report.bin       a synthetic SEV-SNP ATTESTATION_REPORT (version 3, Milan CPUID) whose
                       REPORT_DATA is SHA-256(runtime claims) || 32 zero bytes, signed with the
                       test VCEK key (ECDSA P-384 over SHA-384 of bytes 0..0x2A0)
  hcl-report.bin       the HCL report ("HCLA" header, SNP report, IGVM request data, var data),
                       zero-padded to --nv-size bytes (the NV index size)
With --tee tdx (an Azure TDX CVM) instead of snp-report.bin:
  td-report.bin        a synthetic 1024-byte TDREPORT (REPORTTYPE 0x81, TEE_TCB_INFO and TDINFO
                       with their SHA-384 hashes, REPORTDATA = SHA-256(runtime claims) || 32 zero
                       bytes, MAC = HMAC-SHA-256(--mac-key, bytes 0..224): the stand-in for the
                       CPU's MAC that the test QE, tests/tools/azure_tdx_qe.py, verifies)
  and the HCL report has type 4 (TDX) with the TDREPORT in the first 1024 bytes of its
  1184-byte hardware-report slot.
Layouts: ../shared/notes/azure-vtpm-evidence.md sections 3 and 4.  Standard library only; the
signature comes from `openssl dgst`.
"""
import argparse
import base64
import hashlib
import hmac
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
    ap.add_argument("--tee", choices=["snp", "tdx"], default="snp")
    ap.add_argument("--vcek-key", help="PEM private key of the test VCEK (P-384); snp only")
    ap.add_argument("--mac-key", help="file holding the TD report MAC key; tdx only")
    ap.add_argument("--out", required=True)
    ap.add_argument("--user-data", default="", help="hex, at most 64 bytes (zero-padded to 64)")
    ap.add_argument("--chip-id", help="hex, 64 bytes; snp only")
    ap.add_argument("--tcb", help="bootloader,tee,snp,microcode (Milan layout); snp only")
    ap.add_argument("--measurement", required=True, help="hex, 48 bytes: SNP MEASUREMENT or TD MRTD")
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
    if a.tee == "tdx":
        rep, name, rtype = td_report(a, var), "td-report.bin", 4
    else:
        rep, name, rtype = snp_report(a, var), "snp-report.bin", 2

    total = 1236 + len(var)
    if total > a.nv_size:
        sys.exit(f"azure-hcl-report: fatal: unable to fit the HCL report: {total} bytes > NV size {a.nv_size}")
    hcl = bytearray(a.nv_size)
    struct.pack_into("<5I", hcl, 0, 0x414C4348, 1, total, 2, 0)
    hcl[32:32 + len(rep)] = rep
    struct.pack_into("<5I", hcl, 1216, 20 + len(var), 1, rtype, 1, len(var))  # SHA-256 binding
    hcl[1236:total] = var

    for fname, data in (("runtime-claims.json", var), (name, rep), ("hcl-report.bin", hcl)):
        with open(f"{a.out}/{fname}", "wb") as f:
            f.write(data)


def td_report(a, var):
    """TDREPORT (TDX module ABI): REPORTMACSTRUCT 0..256, TEE_TCB_INFO 256..495, TDINFO 512..1024."""
    if not a.mac_key:
        sys.exit("azure-hcl-report: fatal: unable to build the TD report: --mac-key is required")
    measurement = bytes.fromhex(a.measurement)
    if len(measurement) != 48:
        sys.exit("azure-hcl-report: fatal: unable to build the TD report: MRTD must be 48 bytes")
    h = lambda s: hashlib.sha384(s.encode()).digest()
    r = bytearray(1024)
    r[0:4] = bytes([0x81, 0, 0, 0])                                   # REPORTTYPE: TDX, subtype 0, version 0
    r[16:32] = bytes.fromhex("0606131503ff00030000000000000000")       # CPUSVN
    r[128:160] = hashlib.sha256(var).digest()                         # REPORTDATA[0..32)
    tcb = 256
    r[tcb:tcb + 8] = bytes.fromhex("ff01030000000000")                 # VALID
    r[tcb + 8:tcb + 24] = bytes.fromhex("02010600000000000000000000000000")  # TEE_TCB_SVN
    r[tcb + 24:tcb + 72] = h("cvmkit azure-vtpm-sim TDX module")     # MRSEAM (MRSIGNERSEAM zero: Intel's module)
    td = 512
    r[td + 8:td + 16] = bytes.fromhex("e718060000000000")             # XFAM (TD ATTRIBUTES 0: not debug)
    r[td + 16:td + 64] = measurement                                  # MRTD
    for i in range(4):                                                # RTMR0..3
        r[td + 208 + 48 * i:td + 256 + 48 * i] = h("cvmkit azure-vtpm-sim rtmr%d" % i)
    r[32:80] = hashlib.sha384(bytes(r[256:495])).digest()             # TEE_TCB_INFO_HASH
    r[80:128] = hashlib.sha384(bytes(r[512:1024])).digest()           # TEE_INFO_HASH
    key = open(a.mac_key, "rb").read()
    r[224:256] = hmac.new(key, bytes(r[:224]), hashlib.sha256).digest()
    return bytes(r)


def snp_report(a, var):
    if not (a.vcek_key and a.chip_id and a.tcb):
        sys.exit("azure-hcl-report: fatal: unable to build the SNP report: --vcek-key, --chip-id and --tcb are required")
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
    return bytes(rep)


if __name__ == "__main__":
    main()
