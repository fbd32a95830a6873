#!/usr/bin/python3
"""A TEST stand-in for Intel's TD Quoting Enclave and PCK chain (helper of azure-vtpm-sim.sh and
tests/boot/imds.py).  Test code only: nothing here is Intel's, nothing here is secret.

  azure_tdx_qe.py chain --out DIR [--label TEXT]
      Writes a PCK-like chain, all ECDSA P-256 with SHA-256 like Intel's: DIR/root.pem (self-signed
      "root CA": what a verifier pins in place of Intel's SGX Root CA), DIR/pck-chain.pem (PCK leaf,
      platform CA, root: the certification data of type 5), DIR/pck.key (signs the QE report),
      DIR/attest.key (the QE's attestation key, signs quotes) and DIR/qe-auth.bin (QE auth data).

  quote(td_report, chain_dir) -> bytes   (imported by imds.py)
      A TD quote v4 (../shared/notes/azure-vtpm-evidence.md section 4) whose body is taken from the
      1024-byte TDREPORT as a real QE does: header (version 4, key type 2, TEE 0x81, Intel's QE
      vendor id), body (TEE_TCB_SVN, MRSEAM, MRSIGNERSEAM, SEAM attributes from TEE_TCB_INFO; TD
      attributes, XFAM, MRTD, MRCONFIGID, MROWNER, MROWNERCONFIG, RTMR0-3 from TDINFO; REPORTDATA),
      then the signature data: ECDSA signature over header+body with the attestation key, the
      attestation public key, certification data type 6 = QE report (384 bytes; its REPORTDATA is
      SHA-256(attestation key || QE auth data)) + its signature by the PCK key + QE auth data +
      certification data type 5 (the PEM chain, NUL-terminated as real quotes carry it).

TD report checks made before quoting (a real QE verifies the report's MAC with the CPU's key): the
REPORTTYPE is TDX (0x81), TEE_TCB_INFO_HASH = SHA-384(TEE_TCB_INFO), TEE_INFO_HASH = SHA-384(TDINFO)
and the MAC = HMAC-SHA-256(DIR/../td-mac.key, bytes 0..224) when that key file exists.
"""
import argparse
import datetime
import hashlib
import hmac
import os
import struct
import sys

INTEL_QE_VENDOR_ID = bytes.fromhex("939a7233f79c4ca9940a0db3957f0607")
# Intel's TD QE identity, as seen in real Azure quotes (vectors/trustee/az-tdx-vtpm/td-quote.bin):
# MRSIGNER and ISVPRODID 2.  The test KBS checks these as DCAP's QE identity collateral would.
QE_MRSIGNER = bytes.fromhex("dc9e2a7c6f948f17474e34a7fc43ed030f7c1563f1babddf6340c82e0e54a8c5")
QE_ISVPRODID = 2

# TDREPORT layout (1024 bytes): REPORTMACSTRUCT 0..256, TEE_TCB_INFO 256..495, TDINFO 512..1024.
TDR_TYPE, TDR_TCB_HASH, TDR_INFO_HASH, TDR_DATA, TDR_MAC = 0, 32, 80, 128, 224
TCB_INFO, TCB_INFO_LEN, TD_INFO, TD_INFO_LEN = 256, 239, 512, 512


class BadReport(ValueError):
    pass


def check_td_report(r, mac_key=None):
    if len(r) != 1024:
        raise BadReport("TDREPORT is %d bytes, not 1024" % len(r))
    if r[TDR_TYPE] != 0x81:
        raise BadReport("REPORTTYPE is 0x%02x, not TDX (0x81)" % r[TDR_TYPE])
    if r[TDR_TCB_HASH:TDR_TCB_HASH + 48] != hashlib.sha384(r[TCB_INFO:TCB_INFO + TCB_INFO_LEN]).digest():
        raise BadReport("TEE_TCB_INFO_HASH does not match TEE_TCB_INFO")
    if r[TDR_INFO_HASH:TDR_INFO_HASH + 48] != hashlib.sha384(r[TD_INFO:TD_INFO + TD_INFO_LEN]).digest():
        raise BadReport("TEE_INFO_HASH does not match TDINFO")
    if mac_key is not None and not hmac.compare_digest(r[TDR_MAC:TDR_MAC + 32], td_mac(mac_key, r)):
        raise BadReport("MAC does not verify")


def td_mac(key, r):
    return hmac.new(key, bytes(r[:TDR_MAC]), hashlib.sha256).digest()


def quote_body(r):
    tcb = r[TCB_INFO:TCB_INFO + TCB_INFO_LEN]
    td = r[TD_INFO:TD_INFO + TD_INFO_LEN]
    # TEE_TCB_INFO: VALID 8, TEE_TCB_SVN 16, MRSEAM 48, MRSIGNERSEAM 48, ATTRIBUTES 8.
    # TDINFO: ATTRIBUTES 8, XFAM 8, MRTD, MRCONFIGID, MROWNER, MROWNERCONFIG, RTMR0..3 (48 each).
    body = tcb[8:24] + tcb[24:72] + tcb[72:120] + tcb[120:128] + td[0:8] + td[8:16] + td[16:400] + \
        r[TDR_DATA:TDR_DATA + 64]
    assert len(body) == 584
    return body


def raw_sig(key, data):
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, utils
    r, s = utils.decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def load_key(path):
    from cryptography.hazmat.primitives import serialization
    return serialization.load_pem_private_key(open(path, "rb").read(), None)


def quote(td_report, chain_dir):
    mac_path = os.path.join(chain_dir, "..", "td-mac.key")
    check_td_report(td_report, open(mac_path, "rb").read() if os.path.exists(mac_path) else None)
    ak = load_key(os.path.join(chain_dir, "attest.key"))
    pck = load_key(os.path.join(chain_dir, "pck.key"))
    auth = open(os.path.join(chain_dir, "qe-auth.bin"), "rb").read()
    chain = open(os.path.join(chain_dir, "pck-chain.pem"), "rb").read() + b"\0"
    n = ak.public_key().public_numbers()
    ak_pub = n.x.to_bytes(32, "big") + n.y.to_bytes(32, "big")

    # Header user data: the QE id (16 bytes) and 4 zero bytes, as Intel's QE fills it.
    header = struct.pack("<HHI4s", 4, 2, 0x81, b"\0" * 4) + INTEL_QE_VENDOR_ID + \
        hashlib.sha256(chain_dir.encode()).digest()[:16] + b"\0" * 4
    signed = header + quote_body(td_report)

    # SGX REPORTBODY of the QE: CPUSVN 16, MISCSELECT 4, reserved 28, ATTRIBUTES 16, MRENCLAVE 32,
    # reserved 32, MRSIGNER 32, reserved 96, ISVPRODID 2, ISVSVN 2, reserved 60, REPORTDATA 64.
    qe = bytearray(384)
    qe[0:16] = td_report[16:32]
    qe[48:64] = bytes.fromhex("1500000000000000e700000000000000")
    qe[64:96] = hashlib.sha256(b"cvmkit test TD QE enclave").digest()
    qe[128:160] = QE_MRSIGNER
    struct.pack_into("<HH", qe, 256, QE_ISVPRODID, 5)
    qe[320:352] = hashlib.sha256(ak_pub + auth).digest()
    qe = bytes(qe)

    inner = struct.pack("<HI", 5, len(chain)) + chain
    cert6 = qe + raw_sig(pck, qe) + struct.pack("<H", len(auth)) + auth + inner
    sig_data = raw_sig(ak, signed) + ak_pub + struct.pack("<HI", 6, len(cert6)) + cert6
    return signed + struct.pack("<I", len(sig_data)) + sig_data


def make_chain(out, label):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    def name(cn):
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn),
                          x509.NameAttribute(NameOID.ORGANIZATION_NAME, "cvmkit test (not Intel)")])

    t0 = datetime.datetime(2024, 1, 1)
    t1 = datetime.datetime(2049, 12, 31)

    def cert(cn, key, issuer, issuer_key, ca, serial):
        b = (x509.CertificateBuilder().subject_name(name(cn)).issuer_name(issuer).public_key(key.public_key())
             .serial_number(serial).not_valid_before(t0).not_valid_after(t1)
             .add_extension(x509.BasicConstraints(ca=ca, path_length=None if not ca else 1), critical=True)
             .add_extension(x509.KeyUsage(not ca, False, False, False, False, ca, ca, False, False), critical=True))
        return b.sign(issuer_key, hashes.SHA256())

    keys = [ec.generate_private_key(ec.SECP256R1()) for _ in range(4)]
    root_k, ca_k, pck_k, ak = keys
    root = cert("%s SGX Root CA" % label, root_k, name("%s SGX Root CA" % label), root_k, True, 1)
    ca = cert("%s SGX PCK Platform CA" % label, ca_k, root.subject, root_k, True, 2)
    leaf = cert("%s SGX PCK Certificate" % label, pck_k, ca.subject, ca_k, False, 3)
    pem = lambda c: c.public_bytes(serialization.Encoding.PEM)
    priv = lambda k: k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption())
    os.makedirs(out, exist_ok=True)
    for fname, data in (("root.pem", pem(root)), ("pck-chain.pem", pem(leaf) + pem(ca) + pem(root)),
                        ("pck.key", priv(pck_k)), ("attest.key", priv(ak)), ("qe-auth.bin", bytes(range(32)))):
        with open(os.path.join(out, fname), "wb") as f:
            f.write(data)


def main():
    ap = argparse.ArgumentParser(description="TEST TD quoting enclave and PCK chain; test code only")
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("chain")
    c.add_argument("--out", required=True)
    c.add_argument("--label", default="cvmkit TEST")
    q = sub.add_parser("quote", help="TDREPORT file -> TD quote v4 file")
    q.add_argument("--chain", required=True)
    q.add_argument("--td-report", required=True)
    q.add_argument("--out", required=True)
    a = ap.parse_args()
    if a.cmd == "chain":
        make_chain(a.out, a.label)
    else:
        try:
            data = quote(open(a.td_report, "rb").read(), a.chain)
        except BadReport as e:
            sys.exit("azure_tdx_qe: fatal: unable to quote: %s" % e)
        open(a.out, "wb").write(data)


if __name__ == "__main__":
    main()
