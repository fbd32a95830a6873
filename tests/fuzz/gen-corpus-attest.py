#!/usr/bin/env python3
"""Writes the seed corpora of the attest/ fuzz harnesses (snp, hcl, tdquote,
tpmquote, runtime-claims, evidence) into tests/fuzz/corpus/.  Everything is
synthesised here with freshly generated keys: a few well-formed inputs that
reach deep (valid lengths, signatures that verify, bindings that hold) and a
few malformed ones.  Nothing is taken from ../shared/vectors.
Usage: tests/fuzz/gen-corpus-attest.py  (needs python3-cryptography)"""
import base64, datetime, hashlib, json, os, struct
from cryptography import x509
from cryptography.x509.oid import NameOID
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa, padding, utils

TOP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def put(name, fname, data):
    d = os.path.join(TOP, name)
    os.makedirs(d, exist_ok=True)
    assert len(data) < 64 * 1024
    with open(os.path.join(d, fname), "wb") as f:
        f.write(data)


def b64u(b):
    return base64.urlsafe_b64encode(b).decode()


def cert(cn, key, issuer_cn=None, issuer_key=None, ca=False):
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    iss = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_cn or cn)])
    t = datetime.datetime(2024, 1, 1)
    b = (x509.CertificateBuilder().subject_name(name).issuer_name(iss).public_key(key.public_key())
         .serial_number(1).not_valid_before(t).not_valid_after(t + datetime.timedelta(days=3650))
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    return b.sign(issuer_key or key, hashes.SHA256() if isinstance(issuer_key or key, ec.EllipticCurvePrivateKey) and (issuer_key or key).curve.name == "secp256r1" else hashes.SHA384())


# ---- SNP report signed by a P-384 "VCEK"
vcek_key = ec.generate_private_key(ec.SECP384R1())
vcek_der = cert("SEV-VCEK", vcek_key).public_bytes(serialization.Encoding.DER)


def snp_report(report_data, version=3, vmpl=0):
    r = bytearray(1184)
    struct.pack_into("<IIQ", r, 0, version, 7, 0x3001F)
    struct.pack_into("<II", r, 0x30, vmpl, 1)
    struct.pack_into("<QQ", r, 0x38, 0xDB18000000000004, 0x25)
    r[0x50:0x90] = report_data.ljust(64, b"\0")
    r[0x90:0xC0] = hashlib.sha384(b"measurement").digest()
    struct.pack_into("<Q", r, 0x180, 0xDB18000000000004)
    r[0x188:0x18B] = bytes([0x19, 0x01, 0x01])
    r[0x1A0:0x1E0] = hashlib.sha512(b"chip").digest()
    der = vcek_key.sign(bytes(r[:0x2A0]), ec.ECDSA(hashes.SHA384()))
    rr, ss = utils.decode_dss_signature(der)
    r[0x2A0:0x2A0 + 72] = rr.to_bytes(72, "little")
    r[0x2E8:0x2E8 + 72] = ss.to_bytes(72, "little")
    return bytes(r)


rep = snp_report(b"\x11" * 32)
put("snp", "signed-v3", rep + vcek_der)
put("snp", "report-only-v2", snp_report(b"", version=2))
put("snp", "short", rep[:600])
put("snp", "version1", b"\x01" + rep[1:])
put("snp", "vcek-garbage", rep + b"\x30\x82\xff\xff" + b"\0" * 40)

# ---- runtime claims with an RSA AK
ak = rsa.generate_private_key(public_exponent=65537, key_size=2048)
pn = ak.public_key().public_numbers()


def claims(user_data=b"\0" * 64, old=False):
    keys = [{"kid": "HCLAkPub", "key_ops": ["encrypt" if old else "sign"], "kty": "RSA",
             "e": b64u(pn.e.to_bytes(3, "big")).rstrip("="), "n": b64u(pn.n.to_bytes(256, "big")).rstrip("=")}]
    o = {"keys": keys, "vm-configuration": {"console-enabled": True, "secure-boot": True, "tpm-enabled": True,
                                           "vmUniqueId": "00000000-0000-0000-0000-000000000000"}}
    if not old:
        o["user-data"] = user_data.hex().upper()
    return json.dumps(o, separators=(",", ":")).encode()


put("runtime-claims", "current", claims())
put("runtime-claims", "old-host", claims(old=True))
put("runtime-claims", "no-ak", b'{"keys":[{"kid":"HCLEkPub","kty":"RSA","n":"AQAB","e":"AQAB"}]}')
put("runtime-claims", "bad-user-data", b'{"keys":[{"kid":"HCLAkPub","kty":"RSA","n":"AQAB","e":"AQAB"}],"user-data":"zz"}')
put("runtime-claims", "truncated", claims()[:100])


# ---- HCL reports
def hcl(hw, var, rtype, size=2600):
    h = bytearray(size)
    struct.pack_into("<IIIII", h, 0, 0x414C4348, 2, 1236 + len(var) - 0, 2, 0)
    h[32:32 + len(hw)] = hw
    struct.pack_into("<IIIII", h, 1216, 20 + len(var), 1, rtype, 1, len(var))
    h[1236:1236 + len(var)] = var
    return bytes(h)


nonce = hashlib.sha384(b"nonce").digest()
var_snp = claims(nonce + b"\0" * 16)
snp_in_hcl = snp_report(hashlib.sha256(var_snp).digest())
hcl_snp = hcl(snp_in_hcl, var_snp, 2)
put("hcl", "snp", hcl_snp)
put("hcl", "bad-magic", b"XCLA" + hcl_snp[4:])
put("hcl", "var-too-long", hcl_snp[:1232] + struct.pack("<I", 100000) + hcl_snp[1236:])
put("hcl", "short", hcl_snp[:1000])

# ---- TD quote v4 with a generated PCK chain and QE
root_k = ec.generate_private_key(ec.SECP256R1())
ca_k = ec.generate_private_key(ec.SECP256R1())
pck_k = ec.generate_private_key(ec.SECP256R1())
root_c = cert("Test Root CA", root_k, ca=True)
ca_c = cert("Test PCK CA", ca_k, "Test Root CA", root_k, ca=True)
pck_c = cert("Test PCK", pck_k, "Test PCK CA", ca_k)
chain = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in (pck_c, ca_c, root_c)) + b"\0"
att_k = ec.generate_private_key(ec.SECP256R1())


def rs(key, msg):
    r, s = utils.decode_dss_signature(key.sign(msg, ec.ECDSA(hashes.SHA256())))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def td_quote(report_data, version=4):
    hdr = struct.pack("<HHI", version, 2, 0x81) + b"\0" * 4 + bytes.fromhex("939a7233f79c4ca9940a0db3957f0607") + b"\0" * 20
    body = bytearray(584)
    body[128:136] = bytes.fromhex("e718060000000000")
    body[136:184] = hashlib.sha384(b"mrtd").digest()
    body[520:584] = report_data.ljust(64, b"\0")
    signed = hdr + (struct.pack("<HI", 2, 584) if version == 5 else b"") + bytes(body)
    pub = att_k.public_key().public_numbers()
    akey = pub.x.to_bytes(32, "big") + pub.y.to_bytes(32, "big")
    auth = bytes(range(32))
    qe = bytearray(384)
    qe[320:352] = hashlib.sha256(akey + auth).digest()
    cert_data = bytes(qe) + rs(pck_k, bytes(qe)) + struct.pack("<H", len(auth)) + auth + struct.pack("<HI", 5, len(chain)) + chain
    sig = rs(att_k, signed) + akey + struct.pack("<HI", 6, len(cert_data)) + cert_data
    return signed + struct.pack("<I", len(sig)) + sig


var_tdx = claims(nonce + b"\0" * 16)
tdq = td_quote(hashlib.sha256(var_tdx).digest())
put("tdquote", "v4", tdq)
put("tdquote", "v5", td_quote(b"\x22" * 64, version=5))
put("tdquote", "padded", tdq + b"\0" * 70)
put("tdquote", "truncated", tdq[:2000])
put("tdquote", "sgx-v3", b"\x03" + tdq[1:])

tdreport = bytearray(1184)
tdreport[0:4] = bytes([0x81, 0, 0, 0])
tdreport[128:160] = hashlib.sha256(var_tdx).digest()
hcl_tdx = hcl(bytes(tdreport), var_tdx, 4)
put("hcl", "tdx", hcl_tdx)
put("hcl", "tdx-slot-not-tdreport", hcl_tdx[:32] + b"\x02" + hcl_tdx[33:])
put("hcl", "tdx-short-slot", hcl_tdx[:1236])

# ---- TPM quote signed by the AK over 24 PCRs
pcrs = [bytes(32)] * 17 + [b"\xff" * 32] * 6 + [bytes(32)]
pcrs[11] = hashlib.sha256(b"uki").digest()


def attest(nonce_):
    digest = hashlib.sha256(b"".join(pcrs)).digest()
    return (struct.pack(">IH", 0xFF544347, 0x8018) + struct.pack(">H", 34) + b"\x00\x0b" + b"\x33" * 32 +
            struct.pack(">H", len(nonce_)) + nonce_ + struct.pack(">QIIB", 1000, 1, 0, 1) +
            struct.pack(">Q", 0x2020031200120003) + struct.pack(">IHB", 1, 0x000B, 3) + b"\xff\xff\xff" +
            struct.pack(">H", 32) + digest)


msg = attest(nonce)
sig = ak.sign(msg, padding.PKCS1v15(), hashes.SHA256())
put("tpmquote", "nonce48", msg)
put("tpmquote", "challenge", attest(b"challenge"))
put("tpmquote", "trailing", msg + b"\0")
put("tpmquote", "wrong-magic", b"\0" + msg[1:])
put("tpmquote", "short", msg[:40])

# ---- evidence (first byte: 0 = az-snp-vtpm, 1 = az-tdx-vtpm)
tq = {"signature": sig.hex(), "message": msg.hex(), "pcrs": [p.hex() for p in pcrs]}
ev_snp = {"version": 2, "tpm_quote": tq, "hcl_report": b64u(hcl_snp), "vcek": b64u(vcek_der)}
ev_tdx = {"version": 2, "tpm_quote": tq, "hcl_report": b64u(hcl_tdx), "td_quote": b64u(tdq)}
put("evidence", "snp-v2", b"\0" + json.dumps(ev_snp).encode())
put("evidence", "tdx-v2", b"\1" + json.dumps(ev_tdx).encode())
ev_v0 = {"quote": {"signature": list(sig), "message": list(msg), "pcrs": [list(p) for p in pcrs]},
         "report": list(hcl_snp[:1600]), "vcek": cert("SEV-VCEK", vcek_key).public_bytes(serialization.Encoding.PEM).decode()}
put("evidence", "snp-v0", b"\0" + json.dumps(ev_v0, separators=(",", ":")).encode())
put("evidence", "bad-version", b"\0" + json.dumps(dict(ev_snp, version=3)).encode())
put("evidence", "rv-sample", b"\0" + json.dumps({"measurement": ["x"], "snp_pcr11": ["00"]}).encode())
