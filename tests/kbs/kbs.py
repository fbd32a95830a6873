#!/usr/bin/python3
"""A TEST Key Broker Service speaking KBS protocol 0.4.0 (Trustee's RCAR).

Test code only: an independent implementation used to exercise cvmkit's client.
Never deploy it.  See tests/kbs/README.md.

  kbs.py --state DIR [--amd-root PEM] [--intel-root PEM] --reference-values FILE --resources DIR
         [--port N] [--fault down|slow|reset|bad-json|oversized|wrong-nonce|wrong-jwe-key]
         [--slow-seconds S] [--jwe-library trustee|jwcrypto]

Writes DIR/ca.pem (the test CA, SAN of the server certificate: 127.0.0.1,
10.0.2.2, 169.254.0.2, localhost; kept when DIR already has one) and DIR/port,
then serves HTTPS on 127.0.0.1.  It verifies az-snp-vtpm evidence when
given --amd-root, az-tdx-vtpm evidence (tests/kbs/tdx.py) when given
--intel-root.
Run it with Debian's /usr/bin/python3 (python3-cryptography, python3-jwcrypto).
"""
import argparse
import base64
import datetime
import hashlib
import http.server
import ipaddress
import json
import os
import re
import secrets
import socket
import socketserver
import ssl
import struct
import sys
import threading
import time
import tomllib
import uuid

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import aes_key_wrap
from cryptography.x509.oid import NameOID

import tdx

ERR = "https://github.com/confidential-containers/kbs/errors/"
SEGMENT = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]*$")
TEE_NAMES = {"az-snp-vtpm": "az-snp-vtpm", "azsnpvtpm": "az-snp-vtpm",
             "az-tdx-vtpm": "az-tdx-vtpm", "aztdxvtpm": "az-tdx-vtpm"}
SESSION_MINUTES = 5


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def b64url_dec(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


class Refused(Exception):
    """Evidence or request rejected: (status, variant, detail)."""

    def __init__(self, status, variant, detail):
        super().__init__(detail)
        self.status, self.variant, self.detail = status, variant, detail


# ---------------------------------------------------------------- evidence verification (Trustee's order)

def verify_chain(vcek, amd_root):
    """VCEK <- ASK <- ARK (self-signed), whatever signature scheme each declares."""
    ask, ark = amd_root

    def check(child, parent):
        pub = parent.public_key()
        oid = child.signature_algorithm_oid.dotted_string
        if oid == "1.2.840.113549.1.1.10":  # RSASSA-PSS, as AMD signs
            pub.verify(child.signature, child.tbs_certificate_bytes,
                       padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=48), hashes.SHA384())
        elif isinstance(pub, rsa.RSAPublicKey):
            pub.verify(child.signature, child.tbs_certificate_bytes, padding.PKCS1v15(),
                       child.signature_hash_algorithm)
        else:
            pub.verify(child.signature, child.tbs_certificate_bytes, ec.ECDSA(child.signature_hash_algorithm))
        if child.issuer != parent.subject:
            raise InvalidSignature("issuer name")

    try:
        check(ark, ark)
        check(ask, ark)
        check(vcek, ask)
    except (InvalidSignature, ValueError, TypeError) as e:
        raise Refused(401, "AttestationError", "RCAR handshake Attest failed: VCEK chain to the test root: %s" % e)


def parse_attest(m):
    """TPMS_ATTEST (big-endian) -> extraData, pcrDigest."""
    if len(m) < 10 or m[:4] != b"\xff\x54\x43\x47" or m[4:6] != b"\x80\x18":
        raise ValueError("not a TPMS_ATTEST quote")
    o = 6
    n = struct.unpack(">H", m[o:o + 2])[0]
    o += 2 + n
    n = struct.unpack(">H", m[o:o + 2])[0]
    extra = m[o + 2:o + 2 + n]
    o += 2 + n + 17 + 8
    count = struct.unpack(">I", m[o:o + 4])[0]
    o += 4
    for _ in range(count):
        size = m[o + 2]
        o += 3 + size
    n = struct.unpack(">H", m[o:o + 2])[0]
    digest = m[o + 2:o + 2 + n]
    if len(digest) != n or o + 2 + n != len(m):
        raise ValueError("truncated TPMS_ATTEST")
    return extra, digest


def verify_snp_vtpm(ev, report_data, amd_root):
    def fail(why):
        raise Refused(401, "AttestationError", "RCAR handshake Attest failed: " + why)

    try:
        version = ev.get("version")
        if version not in (1, 2):
            fail("only evidence versions 1 and 2 are supported by the test KBS")
        q = ev["tpm_quote"]
        sig, msg = bytes.fromhex(q["signature"]), bytes.fromhex(q["message"])
        pcrs = [bytes.fromhex(p) for p in q["pcrs"]]
        hcl, vcek_der = b64url_dec(ev["hcl_report"]), b64url_dec(ev["vcek"])
    except (KeyError, TypeError, ValueError, AttributeError):
        fail("malformed evidence")
    if len(pcrs) != 24 or any(len(p) != 32 for p in pcrs):
        fail("need 24 SHA-256 PCRs")
    if len(hcl) < 1236 or hcl[:4] != b"HCLA":
        fail("not an HCL report")
    rtype, htype, vsize = struct.unpack("<III", hcl[1224:1236])
    var = hcl[1236:1236 + vsize]
    if rtype != 2 or htype != 1 or len(var) != vsize:
        fail("HCL report is not an SNP report with SHA-256 runtime claims")
    try:
        claims = json.loads(var)
        ak = next(k for k in claims["keys"] if k.get("kid") == "HCLAkPub")
        akpub = rsa.RSAPublicNumbers(int.from_bytes(b64url_dec(ak["e"]), "big"),
                                     int.from_bytes(b64url_dec(ak["n"]), "big")).public_key()
    except (ValueError, KeyError, StopIteration, TypeError):
        fail("runtime claims without HCLAkPub")
    # 1. quote signature by the AK of the runtime claims
    try:
        akpub.verify(sig, msg, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        fail("TPM quote signature does not verify with HCLAkPub")
    # 2. nonce binding
    try:
        extra, digest = parse_attest(msg)
    except (ValueError, IndexError, struct.error) as e:
        fail(str(e))
    if extra != report_data:
        fail("quote nonce is not the runtime-data hash")
    # 3. PCR digest
    if hashlib.sha256(b"".join(pcrs)).digest() != digest:
        fail("PCR digest mismatch")
    # 4. runtime claims hash in the SNP report
    rep = hcl[32:32 + 1184]
    if rep[0x50:0x70] != hashlib.sha256(var).digest():
        fail("runtime-claims hash is not in REPORT_DATA")
    # 5. user-data (v2)
    if version == 2:
        ud = bytes.fromhex(claims.get("user-data", ""))
        if ud[:48] != report_data:
            fail("HCL user-data is not the runtime-data hash")
    # 6-8. chain, report signature, VMPL
    try:
        vcek = x509.load_der_x509_certificate(vcek_der)
    except ValueError:
        fail("VCEK does not parse")
    verify_chain(vcek, amd_root)
    r = int.from_bytes(rep[0x2A0:0x2A0 + 72], "little")
    s = int.from_bytes(rep[0x2E8:0x2E8 + 72], "little")
    try:
        vcek.public_key().verify(utils.encode_dss_signature(r, s), rep[:0x2A0], ec.ECDSA(hashes.SHA384()))
    except (InvalidSignature, AttributeError, TypeError):
        fail("SNP report signature does not verify with the VCEK")
    if struct.unpack("<I", rep[0x30:0x34])[0] != 0:
        fail("VMPL is not 0")
    policy = struct.unpack("<Q", rep[8:16])[0]
    tcb = rep[0x180:0x188]
    info = struct.unpack("<Q", rep[0x40:0x48])[0]
    tf = lambda b: "true" if b else "false"
    out = {"measurement": base64.b64encode(rep[0x90:0xC0]).decode(),
           "policy_abi_major": str((policy >> 8) & 0xff), "policy_abi_minor": str(policy & 0xff),
           "policy_smt_allowed": tf(policy >> 16 & 1), "policy_migrate_ma": tf(policy >> 18 & 1),
           "policy_debug_allowed": tf(policy >> 19 & 1), "policy_single_socket": tf(policy >> 20 & 1),
           "reported_tcb_bootloader": str(tcb[0]), "reported_tcb_tee": str(tcb[1]),
           "reported_tcb_snp": str(tcb[6]), "reported_tcb_microcode": str(tcb[7]),
           "platform_smt_enabled": tf(info & 1), "platform_tsme_enabled": tf(info >> 1 & 1)}
    for i, p in enumerate(pcrs):
        out["tpm.pcr%02d" % i] = p.hex()
    return out


# ---------------------------------------------------------------- reference values (RVPS sample message)

RV_CLAIM = {"measurement": "measurement", "tcb_bootloader": "reported_tcb_bootloader", "tcb_tee": "reported_tcb_tee",
            "tcb_snp": "reported_tcb_snp", "tcb_microcode": "reported_tcb_microcode",
            "smt_enabled": "platform_smt_enabled", "tsme_enabled": "platform_tsme_enabled",
            "abi_major": "policy_abi_major", "abi_minor": "policy_abi_minor",
            "single_socket": "policy_single_socket", "smt_allowed": "policy_smt_allowed"}


def load_rvs(path):
    doc = json.load(open(path))
    if isinstance(doc, dict) and doc.get("type") == "sample" and "payload" in doc:
        if doc.get("version", "0.1.0") != "0.1.0":
            raise SystemExit("kbs.py: fatal: unable to load reference values: version is not 0.1.0")
        doc = json.loads(base64.b64decode(doc["payload"]))
    if not isinstance(doc, dict):
        raise SystemExit("kbs.py: fatal: unable to load reference values: not an RVPS sample message")
    return doc


def appraise(tee, claims, rvs):
    """Every reference value that applies to TEE must affirm; at least one PCR must be covered."""
    prefix = "snp_pcr" if tee == "az-snp-vtpm" else "tdx_pcr"
    failures, pcr_seen = [], False
    for name, value in sorted(rvs.items()):
        m = re.fullmatch(r"(snp|tdx)_pcr(\d\d)", name)
        if m:
            if not name.startswith(prefix):
                continue
            claim, pcr_seen = "tpm.pcr" + m.group(2), True
        elif name in RV_CLAIM and tee == "az-snp-vtpm":
            claim = RV_CLAIM[name]
        else:
            continue  # other TEEs' or unknown names do not bind this TEE
        found = claims.get(claim)
        ok = found in value if isinstance(value, list) else found == value
        if not ok:
            failures.append("%s (%s = %s)" % (name, claim, found))
    if not pcr_seen:
        failures.append("no %sNN reference value" % prefix)
    return failures


# ---------------------------------------------------------------- init-data (Trustee's parse_init_data + verify_init_data)

def check_init_data(init_data, claims):
    """The attest request's init-data against PCR 8, as Trustee checks it for az-*-vtpm
    (../shared/notes/initdata.md §6): PCR8 == SHA-256(0^32 || algorithm(body)).  Returns the
    init_data_claims (the data table) or None when no init-data was sent."""
    if init_data is None:
        return None
    if not isinstance(init_data, dict) or init_data.get("format") != "toml":
        raise Refused(401, "AttestationError", "Unsupported initdata format")
    body = init_data.get("body")
    try:
        doc = tomllib.loads(body)
        alg, data = doc["algorithm"], doc["data"]
        if alg not in ("sha256", "sha384", "sha512") or not isinstance(doc["version"], str) or \
                not all(isinstance(v, str) for v in data.values()):
            raise ValueError("not an initdata document")
    except (tomllib.TOMLDecodeError, KeyError, TypeError, ValueError, AttributeError) as e:
        raise Refused(401, "AttestationError", "RCAR handshake Attest failed: init-data: %s" % e)
    digest = hashlib.new(alg, body.encode()).digest()
    if len(digest) != 32:  # Trustee copies it into a 32-byte slot (a panic there; refused here)
        raise Refused(401, "AttestationError", "RCAR handshake Attest failed: init-data digest is not 32 bytes")
    if hashlib.sha256(bytes(32) + digest).hexdigest() != claims.get("tpm.pcr08"):
        raise Refused(401, "AttestationError", "RCAR handshake Attest failed: Expected init_data digest is "
                      "different from the content of PCR8")
    return data


# ---------------------------------------------------------------- JWE to the TEE key

def jwe_encrypt(jwk, plaintext, library):
    if jwk.get("kty") == "RSA" or library == "jwcrypto":
        from jwcrypto import jwe as jjwe, jwk as jjwk
        from jwcrypto.common import json_encode
        key = jjwk.JWK(**jwk)
        e = jjwe.JWE(plaintext, json_encode({"alg": jwk["alg"], "enc": "A256GCM"}))
        e.add_recipient(key)
        return e.serialize().encode()
    # Trustee's layout: epk inside the protected header, members in this order.
    peer = ec.EllipticCurvePublicNumbers(int.from_bytes(b64url_dec(jwk["x"]), "big"),
                                         int.from_bytes(b64url_dec(jwk["y"]), "big"), ec.SECP256R1()).public_key()
    eph = ec.generate_private_key(ec.SECP256R1())
    z = eph.exchange(ec.ECDH(), peer)
    alg = b"ECDH-ES+A256KW"
    kek = hashlib.sha256(struct.pack(">I", 1) + z + struct.pack(">I", len(alg)) + alg +
                         struct.pack(">III", 0, 0, 256)).digest()
    cek, iv = os.urandom(32), os.urandom(12)
    n = eph.public_key().public_numbers()
    prot = b64url(json.dumps({"alg": "ECDH-ES+A256KW", "enc": "A256GCM",
                              "epk": {"crv": "P-256", "kty": "EC", "x": b64url(n.x.to_bytes(32, "big")),
                                      "y": b64url(n.y.to_bytes(32, "big"))}}, separators=(",", ":")).encode())
    ct = AESGCM(cek).encrypt(iv, plaintext, prot.encode())
    return json.dumps({"protected": prot, "encrypted_key": b64url(aes_key_wrap(kek, cek)), "iv": b64url(iv),
                       "ciphertext": b64url(ct[:-16]), "tag": b64url(ct[-16:])}, separators=(",", ":")).encode()


# ---------------------------------------------------------------- HTTP

class KBS:
    def __init__(self, args):
        self.args = args
        self.sessions = {}
        self.lock = threading.Lock()
        self.amd_root = self.intel_root = None
        if args.amd_root:
            self.amd_root = self._load_pems(args.amd_root)
            if len(self.amd_root) < 2:
                raise SystemExit("kbs.py: fatal: unable to load --amd-root: need the ASK then the ARK")
            self.amd_root = self.amd_root[:2]
        if args.intel_root:
            roots = self._load_pems(args.intel_root)
            if len(roots) != 1:
                raise SystemExit("kbs.py: fatal: unable to load --intel-root: need exactly one certificate")
            self.intel_root = roots[0]
        self.rvs = load_rvs(args.reference_values)
        self.token_key = ec.generate_private_key(ec.SECP256R1())

    @staticmethod
    def _load_pems(path):
        text = open(path, "rb").read()
        return [x509.load_pem_x509_certificate(m.group(0)) for m in
                re.finditer(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", text, re.S)]

    def token(self, claims, status):
        hdr = b64url(json.dumps({"alg": "ES256", "typ": "JWT"}).encode())
        now = int(time.time())
        body = b64url(json.dumps({"eat_profile": "tag:github.com,2024:confidential-containers/Trustee",
                                  "iat": now, "exp": now + 300, "iss": "CoCo-Attestation-Service",
                                  "submods": {"cpu0": {"ear.status": status,
                                                       "ear.veraison.annotated-evidence": claims}}}).encode())
        der = self.token_key.sign((hdr + "." + body).encode(), ec.ECDSA(hashes.SHA256()))
        r, s = utils.decode_dss_signature(der)
        return "%s.%s.%s" % (hdr, body, b64url(r.to_bytes(32, "big") + s.to_bytes(32, "big")))


def make_handler(kbs):
    fault = kbs.args.fault

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body are separate writes
        server_version = "cvmkit-test-kbs"

        def log_message(self, fmt, *a):
            sys.stderr.write("kbs.py: %s\n" % (fmt % a))

        def send(self, status, body, cookie=None, ctype="application/json"):
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            if cookie:
                exp = (datetime.datetime.utcnow() + datetime.timedelta(minutes=SESSION_MINUTES)).strftime(
                    "%a, %d %b %Y %H:%M:%S GMT")
                self.send_header("Set-Cookie", "kbs-session-id=%s; Expires=%s" % (cookie, exp))
            self.end_headers()
            self.wfile.write(body)

        def error(self, status, variant, detail):
            self.send(status, json.dumps({"type": ERR + variant, "detail": detail}).encode())

        def session(self):
            m = re.search(r"kbs-session-id=([0-9a-f]{32})", self.headers.get("Cookie", ""))
            with kbs.lock:
                s = kbs.sessions.get(m.group(1)) if m else None
            if s and s["expires"] < time.time():
                s = None
            return (m.group(1), s) if s else (None, None)

        def body_json(self):
            n = int(self.headers.get("Content-Length", "0"))
            if n > (1 << 20):
                raise Refused(401, "SerdeError", "request body too large")
            try:
                return json.loads(self.rfile.read(n))
            except ValueError as e:
                raise Refused(401, "SerdeError", "malformed JSON body: %s" % e)

        def do_POST(self):
            try:
                if self.path == "/kbs/v0/auth":
                    return self.auth()
                if self.path == "/kbs/v0/attest":
                    return self.attest()
                raise Refused(404, "InvalidRequestPath", "invalid request path %s" % self.path)
            except Refused as e:
                self.error(e.status, e.variant, e.detail)

        def auth(self):
            req = self.body_json()
            if fault == "slow":
                time.sleep(kbs.args.slow_seconds)
            if fault == "reset":
                # Half a response, then an abortive close (RST).
                self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"no")
                self.wfile.flush()
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.close_connection = True
                raise ConnectionAbortedError
            if fault == "bad-json":
                return self.send(200, b'{"nonce": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", "extra-par',
                                 cookie=uuid.uuid4().hex)
            if fault == "oversized":
                size = 8 << 20
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(size))
                self.end_headers()
                chunk = b" " * 65536
                try:
                    for _ in range(size // len(chunk)):
                        self.wfile.write(chunk)
                except OSError:
                    pass
                self.close_connection = True
                return
            if not isinstance(req, dict) or not {"version", "tee", "extra-params"} <= req.keys():
                raise Refused(401, "SerdeError", "missing field in auth request")
            if req["version"] != "0.4.0":
                raise Refused(401, "AttestationError", "KBS Client Protocol Version Mismatch: expect =0.4.0 "
                              "while the request is %s" % req["version"])
            tee = TEE_NAMES.get(req["tee"])
            if {"az-snp-vtpm": kbs.amd_root, "az-tdx-vtpm": kbs.intel_root}.get(tee) is None:
                raise Refused(401, "AttestationError", "the test KBS has no root to verify %s evidence" % req["tee"])
            sid, nonce = uuid.uuid4().hex, base64.b64encode(secrets.token_bytes(32)).decode()
            with kbs.lock:
                kbs.sessions[sid] = {"tee": tee, "nonce": nonce, "expires": time.time() + 60 * SESSION_MINUTES,
                                     "status": None}
            sent = nonce
            if fault == "wrong-nonce":
                sent = base64.b64encode(secrets.token_bytes(32)).decode()  # not the session's nonce
            self.send(200, json.dumps({"nonce": sent, "extra-params": ""}).encode(), cookie=sid)

        def attest(self):
            sid, s = self.session()
            if not s:
                raise Refused(401, "TokenNotFound", "no valid kbs-session-id cookie")
            req = self.body_json()
            try:
                rd, ev = req["runtime-data"], req["tee-evidence"]
                key = rd["tee-pubkey"]
                add = ev["additional_evidence"]
                prim = ev["primary_evidence"]
                if key.get("kty") == "EC":
                    key = {k: key[k] for k in ("kty", "crv", "alg", "x", "y")}
                    if key["alg"] != "ECDH-ES+A256KW" or key["crv"] != "P-256":
                        raise KeyError("alg")
                else:
                    key = {k: key[k] for k in ("kty", "alg", "n", "e")}
            except (KeyError, TypeError, AttributeError) as e:
                raise Refused(401, "SerdeError", "malformed attestation request: %s" % e)
            if rd.get("nonce") != s["nonce"]:
                raise Refused(401, "AttestationError", "RCAR handshake Attest failed: nonce is not the challenge")
            canon = json.dumps({"additional-evidence": add, "nonce": rd["nonce"], "tee-pubkey": key},
                               sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
            report_data = hashlib.sha384(canon).digest()
            if s["tee"] == "az-tdx-vtpm":
                def fail(why):
                    raise Refused(401, "AttestationError", "RCAR handshake Attest failed: " + why)
                claims = tdx.verify(prim, report_data, kbs.intel_root, fail, parse_attest)
            else:
                claims = verify_snp_vtpm(prim, report_data, kbs.amd_root)
            init_data_claims = check_init_data(req.get("init-data"), claims)
            if init_data_claims is not None:
                sys.stderr.write("kbs.py: init-data matches PCR 8 (keys: %s)\n" % ", ".join(sorted(init_data_claims)))
            failures = appraise(s["tee"], claims, kbs.rvs)
            status = "affirming" if not failures else "contraindicated"
            pol = {s["tee"]: claims, "report_data": report_data.hex(), "runtime_data_claims": rd,
                   "init_data": claims.get("tpm.pcr08"), "init_data_claims": init_data_claims}
            with kbs.lock:
                s.update(status=status, failures=failures, key=key)
            self.send(200, json.dumps({"token": kbs.token(pol, status)}).encode(), cookie=sid)

        def do_GET(self):
            try:
                parts = self.path.split("?")[0].split("/")
                if len(parts) != 7 or parts[:4] != ["", "kbs", "v0", "resource"] or \
                        not all(SEGMENT.match(p) for p in parts[4:]):
                    raise Refused(404, "InvalidRequestPath", "invalid request path %s" % self.path)
                sid, s = self.session()
                if not s or not s.get("status"):
                    raise Refused(401, "TokenNotFound", "no attested session")
                if s["status"] != "affirming":
                    raise Refused(401, "PolicyDeny", "resource policy denied: reference values not affirming: " +
                                  "; ".join(s["failures"]))
                path = os.path.join(kbs.args.resources, *parts[4:])
                try:
                    data = open(path, "rb").read()
                except OSError:
                    raise Refused(401, "PluginInternalError", "resource %s not found" % "/".join(parts[4:]))
                key = s["key"]
                if fault == "wrong-jwe-key":
                    other = ec.generate_private_key(ec.SECP256R1()).public_key().public_numbers()
                    key = {"kty": "EC", "crv": "P-256", "alg": "ECDH-ES+A256KW",
                           "x": b64url(other.x.to_bytes(32, "big")), "y": b64url(other.y.to_bytes(32, "big"))}
                self.send(200, jwe_encrypt(key, data, kbs.args.jwe_library))
            except Refused as e:
                self.error(e.status, e.variant, e.detail)

    return Handler


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def make_certs(state):
    now = datetime.datetime.utcnow() - datetime.timedelta(days=1)
    later = now + datetime.timedelta(days=30)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "cvmkit TEST KBS CA (do not trust)")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(later)
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    san = [x509.IPAddress(ipaddress.ip_address(a)) for a in ("127.0.0.1", "10.0.2.2", "169.254.0.2")]
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "cvmkit test KBS")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(later)
            .add_extension(x509.SubjectAlternativeName(san + [x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = lambda c: c.public_bytes(serialization.Encoding.PEM)
    open(os.path.join(state, "ca.pem"), "wb").write(pem(ca))
    open(os.path.join(state, "server.pem"), "wb").write(pem(cert) + pem(ca))
    with open(os.open(os.path.join(state, "server.key"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))


def main():
    ap = argparse.ArgumentParser(description="TEST Key Broker Service (KBS protocol 0.4.0); test code only")
    ap.add_argument("--state", required=True, help="directory for ca.pem, the server key and the port file")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--amd-root", help="PEM bundle: test ASK then test ARK (az-snp-vtpm)")
    ap.add_argument("--intel-root", help="PEM: the test root pinned in place of Intel's SGX Root CA (az-tdx-vtpm)")
    ap.add_argument("--reference-values", required=True, help="RVPS sample message (cvm-measure reference-values)")
    ap.add_argument("--resources", required=True, help="directory of <repo>/<type>/<tag> files")
    ap.add_argument("--fault", choices=["down", "slow", "reset", "bad-json", "oversized", "wrong-nonce",
                                        "wrong-jwe-key"])
    ap.add_argument("--slow-seconds", type=float, default=30.0)
    ap.add_argument("--jwe-library", choices=["trustee", "jwcrypto"], default="trustee",
                    help="trustee: epk in the protected header (Trustee's layout); jwcrypto: the library's own")
    args = ap.parse_args()
    if not args.amd_root and not args.intel_root:
        ap.error("--amd-root or --intel-root is required")
    os.makedirs(args.state, exist_ok=True)
    kbs = KBS(args)
    # An existing CA is kept: an image embeds (and measures) it, so restarting
    # the KBS on the same state (e.g. with a --fault) must not change it.
    if not all(os.path.exists(os.path.join(args.state, f)) for f in ("ca.pem", "server.pem", "server.key")):
        make_certs(args.state)
    if args.fault == "down":
        # A port nobody listens on: the client must fail fast with "connection refused".
        s = socket.socket()
        # The port was just served by the previous KBS: its connections may
        # linger in TIME_WAIT, which makes a plain bind fail.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", args.port))
        port = s.getsockname()[1]
        s.close()
        open(os.path.join(args.state, "port"), "w").write("%d\n" % port)
        return 0
    srv = Server(("127.0.0.1", args.port), make_handler(kbs))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(os.path.join(args.state, "server.pem"), os.path.join(args.state, "server.key"))
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    tmp = os.path.join(args.state, "port.tmp")
    open(tmp, "w").write("%d\n" % srv.server_address[1])
    os.rename(tmp, os.path.join(args.state, "port"))
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
