#!/usr/bin/python3
"""Writes the seed corpora tests/fuzz/corpus/kbs and tests/fuzz/corpus/jose: a few valid inputs
(made here with python3-jwcrypto, not copied from the shared vectors) and named malformed ones.
Run with Debian's /usr/bin/python3 from the repository root."""
import base64
import json
import os

from jwcrypto import jwe, jwk, jws
from jwcrypto.common import json_encode


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def write(d, name, data):
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    assert len(data) < 64 << 10
    open(os.path.join(d, name), "wb").write(data)


K = "tests/fuzz/corpus/kbs"
E = "https://github.com/confidential-containers/kbs/errors/"
write(K, "challenge", '{"nonce":"%s","extra-params":""}' % base64.b64encode(bytes(range(32))).decode())
write(K, "challenge-se", '{"nonce":"AAAA","extra-params":{"selected-hash-algorithm":"sha512"}}')
write(K, "challenge-no-extra", '{"nonce":"%s"}' % base64.b64encode(bytes(32)).decode())
write(K, "token", '{"token":"eyJhbGciOiJFUzI1NiJ9.e30.c2ln"}')
write(K, "error-401", '!{"type":"%sPolicyDeny","detail":"denied\\n\\u0007"}' % E)
write(K, "error-body", '{"type":"%sAttestationError","detail":"RCAR handshake Attest failed"}' % E)
write(K, "cookie", "kbs-session-id=0123456789abcdef0123456789abcdef; Expires=Tue, 01 Jan 2030 00:00:00 GMT")
write(K, "path", "default/key/1")
write(K, "truncated", '{"nonce":"AAEC')
write(K, "deep", "[" * 2000)
write(K, "nul", b'{"token":"a\x00b"}')

J = "tests/fuzz/corpus/jose"
ec = jwk.JWK.generate(kty="EC", crv="P-256")
rsa = jwk.JWK.generate(kty="RSA", size=2048)
for name, key, alg in (("jwe-ec", ec, "ECDH-ES+A256KW"), ("jwe-rsa", rsa, "RSA-OAEP-256")):
    e = jwe.JWE(b"fuzz seed plaintext", json_encode({"alg": alg, "enc": "A256GCM"}))
    e.add_recipient(key)
    flat = json.loads(e.serialize())
    write(J, name, json.dumps(flat))
    general = dict(flat)
    r = {"encrypted_key": general.pop("encrypted_key")}
    if "header" in general:
        r["header"] = general.pop("header")
    general["recipients"] = [r]
    write(J, name + "-general", json.dumps(general))
    if "header" in flat:  # epk moved into the protected header, Trustee's layout (tag now wrong)
        hdr = json.loads(base64.urlsafe_b64decode(flat["protected"] + "=="))
        hdr.update(flat.pop("header"))
        flat["protected"] = b64u(json.dumps(hdr).encode())
        write(J, name + "-protected-epk", json.dumps(flat))
write(J, "jwe-dup-alg", '{"protected":"%s","header":{"alg":"RSA-OAEP-256"},"encrypted_key":"","iv":"","ciphertext":"","tag":""}'
      % b64u(b'{"alg":"ECDH-ES+A256KW","enc":"A256GCM"}'))
write(J, "jwe-zip", '{"protected":"%s","encrypted_key":"AA","iv":"AA","ciphertext":"","tag":"AA"}'
      % b64u(b'{"alg":"ECDH-ES+A256KW","enc":"A256GCM","zip":"DEF"}'))
s = jws.JWS(b'{"version":"0.1.0","type":"vault","name":"kbs:///a/b/c","provider":"kbs"}')
s.add_signature(ec, None, json_encode({"alg": "ES256", "kid": "kbs:///default/signing-key/k1"}))
compact = s.serialize(compact=True)
write(J, "jws", compact)
write(J, "sealed", "sealed." + compact)
write(J, "sealed-legacy", "sealed.fakejwsheader.%s.fakesignature" % b64u(b'{"version":"0.1.0","type":"vault"}'))
write(J, "jwk", ec.export_public())
write(J, "jws-none", b64u(b'{"alg":"none"}') + "." + b64u(b"{}") + ".")
write(J, "jws-padded", compact.split(".")[0] + "=." + compact.split(".", 1)[1])
write(J, "empty", "")
