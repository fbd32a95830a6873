"""az-tdx-vtpm evidence verification for the TEST KBS (tests/kbs/kbs.py).  Test code only.

Checks, in Trustee's order (../shared/notes/azure-vtpm-evidence.md section 8): the vTPM quote
(signature with HCLAkPub, nonce, PCR digest), then the TD quote as DCAP does offline: version 4
or 5 with a TDX body, ECDSA P-256 attestation key, signature over header and body, QE report
signed by the PCK leaf, QE report data = SHA-256(attestation key || QE auth data), QE identity
(Intel's TD QE MRSIGNER and ISVPRODID), PCK leaf -> platform CA -> root where the root is the
test root given in place of Intel's SGX Root CA; then SHA-256(runtime claims) = quote
REPORTDATA[0..32) and `user-data` (evidence v2).  Beyond Trustee, the TDREPORT the HCL report
carries must be the one the quote was made from (the quote body fields equal the report's): a
guest cannot pair its HCL report with another TD's quote.  TCB status needs Intel's collateral
(TCB info, QE identity, CRLs) and is not evaluated.
"""
import hashlib
import json
import re
import struct

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils

QE_MRSIGNER = bytes.fromhex("dc9e2a7c6f948f17474e34a7fc43ed030f7c1563f1babddf6340c82e0e54a8c5")
QE_ISVPRODID = 2
BODY_NAMES = (("tcb_svn", 16), ("mr_seam", 48), ("mrsigner_seam", 48), ("seam_attributes", 8),
              ("td_attributes", 8), ("xfam", 8), ("mr_td", 48), ("mr_config_id", 48), ("mr_owner", 48),
              ("mr_owner_config", 48), ("rtmr_0", 48), ("rtmr_1", 48), ("rtmr_2", 48), ("rtmr_3", 48),
              ("report_data", 64))


def b64any(s):
    import base64
    s = s.replace("+", "-").replace("/", "_").rstrip("=")
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def parse_quote(q):
    """TD quote v4/v5 -> dict; raises ValueError."""
    if len(q) < 48:
        raise ValueError("TD quote shorter than its header")
    version, key_type, tee_type = struct.unpack("<HHI", q[:8])
    if version not in (4, 5) or tee_type != 0x81:
        raise ValueError("not a TD quote v4/v5 (version %d, TEE type 0x%x)" % (version, tee_type))
    if key_type != 2:
        raise ValueError("attestation key type %d is not ECDSA P-256" % key_type)
    o, body_len = 48, 584
    if version == 5:
        btype, bsize = struct.unpack("<HI", q[48:54])
        if (btype, bsize) not in ((2, 584), (3, 648)):
            raise ValueError("quote v5 body type %d size %d" % (btype, bsize))
        o, body_len = 54, bsize
    body = q[o:o + body_len]
    if len(body) != body_len:
        raise ValueError("truncated TD quote body")
    out = {"header": q[:48], "signed": q[:o + body_len], "body": {}}
    p = 0
    for name, n in BODY_NAMES:
        out["body"][name] = body[p:p + n]
        p += n
    o += body_len
    (slen,) = struct.unpack("<I", q[o:o + 4])
    sig = q[o + 4:o + 4 + slen]
    if len(sig) != slen or slen < 134:
        raise ValueError("truncated signature data")
    out["signature"], out["attest_key"] = sig[:64], sig[64:128]
    ctype, clen = struct.unpack("<HI", sig[128:134])
    cert = sig[134:134 + clen]
    if ctype != 6 or len(cert) != clen or clen < 384 + 64 + 2:
        raise ValueError("certification data is not a QE report (type 6)")
    out["qe_report"], out["qe_sig"] = cert[:384], cert[384:448]
    (alen,) = struct.unpack("<H", cert[448:450])
    out["qe_auth"] = cert[450:450 + alen]
    o = 450 + alen
    itype, ilen = struct.unpack("<HI", cert[o:o + 6])
    chain = cert[o + 6:o + 6 + ilen]
    if itype != 5 or len(chain) != ilen:
        raise ValueError("inner certification data is not a PCK chain (type 5)")
    out["chain"] = chain
    return out


def ec_verify(pub, sig64, data):
    r, s = int.from_bytes(sig64[:32], "big"), int.from_bytes(sig64[32:], "big")
    pub.verify(utils.encode_dss_signature(r, s), data, ec.ECDSA(hashes.SHA256()))


def verify_pck_chain(chain_pem, root):
    """PCK leaf -> platform CA -> root, root byte-equal to the pinned one; returns the leaf."""
    # python3-cryptography 38 has no load_pem_x509_certificates.
    certs = [x509.load_pem_x509_certificate(m.group(0)) for m in
             re.finditer(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", chain_pem, re.S)]
    if len(certs) != 3:
        raise ValueError("PCK chain holds %d certificates, not 3" % len(certs))
    leaf, ca, top = certs
    der = lambda c: c.public_bytes(serialization.Encoding.DER)
    if der(top) != der(root):
        raise ValueError("PCK chain root is not the trusted root")
    for child, parent in ((top, top), (ca, top), (leaf, ca)):
        if child.issuer != parent.subject:
            raise ValueError("issuer of %s is not %s" % (child.subject.rfc4514_string(), parent.subject.rfc4514_string()))
        try:
            parent.public_key().verify(child.signature, child.tbs_certificate_bytes,
                                       ec.ECDSA(child.signature_hash_algorithm))
        except (InvalidSignature, TypeError, AttributeError):
            raise ValueError("signature on %s does not verify" % child.subject.rfc4514_string())
    return leaf


def verify(ev, report_data, intel_root, fail, parse_attest):
    """Claims dict for az-tdx-vtpm evidence EV bound to REPORT_DATA, or FAIL(reason) raises."""
    try:
        version = ev.get("version")
        if version not in (1, 2):
            fail("only evidence versions 1 and 2 are supported by the test KBS")
        q = ev["tpm_quote"]
        sig, msg = bytes.fromhex(q["signature"]), bytes.fromhex(q["message"])
        pcrs = [bytes.fromhex(p) for p in q["pcrs"]]
        hcl, tdq = b64any(ev["hcl_report"]), b64any(ev["td_quote"])
    except (KeyError, TypeError, ValueError, AttributeError):
        fail("malformed evidence")
    if len(pcrs) != 24 or any(len(p) != 32 for p in pcrs):
        fail("need 24 SHA-256 PCRs")
    if len(hcl) < 1236 or hcl[:4] != b"HCLA":
        fail("not an HCL report")
    rtype, htype, vsize = struct.unpack("<III", hcl[1224:1236])
    var = hcl[1236:1236 + vsize]
    if rtype != 4 or htype != 1 or len(var) != vsize:
        fail("HCL report is not a TDX report with SHA-256 runtime claims")
    try:
        claims = json.loads(var)
        ak = next(k for k in claims["keys"] if k.get("kid") == "HCLAkPub")
        akpub = rsa.RSAPublicNumbers(int.from_bytes(b64any(ak["e"]), "big"),
                                     int.from_bytes(b64any(ak["n"]), "big")).public_key()
    except (ValueError, KeyError, StopIteration, TypeError, AttributeError):
        fail("runtime claims without HCLAkPub")
    # 1-3. vTPM quote: signature by the AK of the runtime claims, nonce, PCR digest
    try:
        akpub.verify(sig, msg, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        fail("TPM quote signature does not verify with HCLAkPub")
    try:
        extra, digest = parse_attest(msg)
    except (ValueError, IndexError, struct.error) as e:
        fail(str(e))
    if extra != report_data:
        fail("quote nonce is not the runtime-data hash")
    if hashlib.sha256(b"".join(pcrs)).digest() != digest:
        fail("PCR digest mismatch")
    # 4. TD quote, DCAP-style, against the test root
    try:
        tq = parse_quote(tdq)
    except (ValueError, struct.error) as e:
        fail("td_quote: %s" % e)
    ak_pub = ec.EllipticCurvePublicNumbers(int.from_bytes(tq["attest_key"][:32], "big"),
                                           int.from_bytes(tq["attest_key"][32:], "big"), ec.SECP256R1())
    try:
        ec_verify(ak_pub.public_key(), tq["signature"], tq["signed"])
    except (InvalidSignature, ValueError):
        fail("td_quote signature does not verify with its attestation key")
    try:
        leaf = verify_pck_chain(tq["chain"], intel_root)
    except ValueError as e:
        fail("td_quote PCK chain: %s" % e)
    try:
        ec_verify(leaf.public_key(), tq["qe_sig"], tq["qe_report"])
    except (InvalidSignature, ValueError, AttributeError, TypeError):
        fail("td_quote QE report signature does not verify with the PCK certificate")
    qe = tq["qe_report"]
    if qe[320:352] != hashlib.sha256(tq["attest_key"] + tq["qe_auth"]).digest() or any(qe[352:384]):
        fail("td_quote QE report data does not bind the attestation key")
    if qe[128:160] != QE_MRSIGNER or struct.unpack("<H", qe[256:258])[0] != QE_ISVPRODID:
        fail("td_quote QE identity: not Intel's TD quoting enclave")
    body = tq["body"]
    # 5. runtime claims hash in the quote's REPORTDATA (Trustee's binding)
    if body["report_data"][:32] != hashlib.sha256(var).digest():
        fail("runtime-claims hash is not in the TD quote REPORTDATA")
    # 6. the HCL report's TDREPORT is the one that was quoted
    tdr = hcl[32:32 + 1024]
    tcb, td = tdr[256:495], tdr[512:1024]
    from_report = {"tcb_svn": tcb[8:24], "mr_seam": tcb[24:72], "mrsigner_seam": tcb[72:120],
                   "seam_attributes": tcb[120:128], "td_attributes": td[0:8], "xfam": td[8:16],
                   "mr_td": td[16:64], "mr_config_id": td[64:112], "mr_owner": td[112:160],
                   "mr_owner_config": td[160:208], "report_data": tdr[128:192]}
    for i in range(4):
        from_report["rtmr_%d" % i] = td[208 + 48 * i:256 + 48 * i]
    if tdr[0] != 0x81:
        fail("HCL report hardware report is not a TDREPORT (type 0x%02x)" % tdr[0])
    for name, value in from_report.items():
        if body[name] != value:
            fail("TD quote %s differs from the HCL report's TDREPORT" % name)
    # 7. user-data (v2)
    if version == 2:
        ud = bytes.fromhex(claims.get("user-data", ""))
        if ud[:48] != report_data:
            fail("HCL user-data is not the runtime-data hash")
    h = tq["header"]
    out = {"quote.header.version": h[0:2].hex(), "quote.header.att_key_type": h[2:4].hex(),
           "quote.header.tee_type": h[4:8].hex(), "quote.header.reserved": h[8:12].hex(),
           "quote.header.vendor_id": h[12:28].hex(), "quote.header.user_data": h[28:48].hex()}
    for name, _ in BODY_NAMES:
        out["quote.body." + name] = body[name].hex()
    attrs = int.from_bytes(body["td_attributes"], "little")
    for name, bit in (("debug", 0), ("key_locker", 31), ("perfmon", 63), ("protection_keys", 30),
                      ("septve_disable", 28)):
        out["td_attributes." + name] = bool(attrs >> bit & 1)
    for i, p in enumerate(pcrs):
        out["tpm.pcr%02d" % i] = p.hex()
    return out
