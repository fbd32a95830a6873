#!/usr/bin/env python3
"""Writes the seed corpora of fuzz-cose and fuzz-provenance: COSE_Sign1
messages as cvm-measure signs them (ES256/ES384, attached and detached) and
named corruptions, and in-toto statements.  Deterministic (fixed keys, RFC 6979
is not needed: signatures are fixed bytes here); run from the repository root."""
import cbor2, hashlib, json, os

def w(d, name, data):
    os.makedirs(d, exist_ok=True)
    open(os.path.join(d, name), "wb").write(data)

c = "tests/fuzz/corpus/cose"
kid = hashlib.sha256(b"kid").digest()
def msg(alg, ctype, payload, siglen, tag=True, unprot=None, extra=None):
    hdr = {1: alg, 3: ctype, 4: kid}
    if extra:
        hdr.update(extra)
    body = [cbor2.dumps(hdr), unprot or {}, payload, bytes(range(siglen))]
    return cbor2.dumps(cbor2.CBORTag(18, body) if tag else body)

w(c, "es256-attached", msg(-7, "application/rim+cbor", cbor2.dumps(cbor2.CBORTag(501, {0: "id"})), 64))
w(c, "es256-detached", msg(-7, "application/json", None, 64))
w(c, "es384-detached", msg(-35, "application/vnd.in-toto+json", None, 96))
w(c, "untagged", msg(-7, "text/plain", b"x", 64, tag=False))
w(c, "extra-label", msg(-7, "text/plain", b"x", 64, extra={33: b"chain"}))
w(c, "alg-eddsa", msg(-8, "text/plain", b"x", 64))
w(c, "sig-short", msg(-7, "text/plain", b"x", 63))
w(c, "unprotected", msg(-7, "text/plain", b"x", 64, unprot={4: b"k"}))
w(c, "text-label", cbor2.dumps(cbor2.CBORTag(18, [cbor2.dumps({"alg": -7}), {}, b"", bytes(64)])))
w(c, "mac0", cbor2.dumps(cbor2.CBORTag(17, [cbor2.dumps({1: 5}), {}, b"", bytes(32)])))
w(c, "truncated", msg(-7, "text/plain", b"payload", 64)[:-10])
w(c, "empty", b"")

p = "tests/fuzz/corpus/provenance"
st = {"_type": "https://in-toto.io/Statement/v1",
      "subject": [{"name": n, "digest": {"sha256": hashlib.sha256(n.encode()).hexdigest()}}
                  for n in ("measurements.json", "reference-values.json", "corim.cbor")],
      "predicateType": "https://slsa.dev/provenance/v1", "predicate": {}}
w(p, "statement", json.dumps(st, indent=1).encode())
bad = dict(st, subject=[{"name": "../etc/passwd", "digest": {"sha256": "00" * 32}}])
w(p, "traversal", json.dumps(bad).encode())
w(p, "old-type", json.dumps(dict(st, _type="https://in-toto.io/Statement/v0.1")).encode())
w(p, "many", json.dumps(dict(st, subject=st["subject"] * 7)).encode())
w(p, "not-json", b"{\"_type\":")
