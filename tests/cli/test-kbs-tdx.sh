#!/usr/bin/env bash
# The test KBS's az-tdx-vtpm verifier (tests/kbs/tdx.py) must refuse what Trustee refuses: one
# well-formed piece of evidence is built here from scratch (an RSA AK, runtime claims, an HCL
# report of type 4 with a TDREPORT binding them, a TPMS_ATTEST over 24 PCRs signed by the AK, a
# TD quote v4 from the test quoting enclave tests/tools/azure_tdx_qe.py with a fresh test PCK
# chain) and accepted; then each check is broken by one named corruption and must be the one
# that fails.  The layouts are written here independently of the verifier under test
# (azure-vtpm-evidence.md §3-5).  The product's own verifier, `cvm-attest verify --intel-root`,
# must agree on the well-formed evidence and on the untrusted chain.  Needs build/bin/cvm-attest
# and /usr/bin/python3 with python3-cryptography.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
py=/usr/bin/python3
$py -c 'import cryptography' 2>/dev/null || { echo "test-kbs-tdx: fatal: unable to run: python3-cryptography missing" >&2; exit 1; }
[ -x "$top/build/bin/cvm-attest" ] || { echo "test-kbs-tdx: fatal: unable to run: build/bin/cvm-attest not built" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

$py - "$top" "$tmp" <<'EOF'
import base64, hashlib, json, os, struct, subprocess, sys
top, tmp = sys.argv[1], sys.argv[2]
sys.path[:0] = [top + "/tests/kbs", top + "/tests/tools"]
import azure_tdx_qe, kbs, tdx
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

b64u = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
passed = failed = 0


def check(name, ok):
    global passed, failed
    if ok:
        passed += 1
        print("  ok: " + name)
    else:
        failed += 1
        print("  FAILED: " + name)


for label in ("trusted", "untrusted"):
    azure_tdx_qe.make_chain(os.path.join(tmp, label), "cvmkit TEST " + label)
root = x509.load_pem_x509_certificate(open(os.path.join(tmp, "trusted", "root.pem"), "rb").read())
ak = rsa.generate_private_key(public_exponent=65537, key_size=2048)
n = ak.public_key().public_numbers().n
var = json.dumps({"keys": [{"kid": "HCLAkPub", "key_ops": ["sign"], "kty": "RSA", "e": "AQAB",
                            "n": b64u(n.to_bytes(256, "big"))}], "user-data": "00" * 64},
                 separators=(",", ":")).encode()


def td_report(var, mrtd=b"\x11" * 48):
    r = bytearray(1024)
    r[0] = 0x81
    r[128:160] = hashlib.sha256(var).digest()
    r[264:280] = bytes.fromhex("02010600000000000000000000000000")
    r[512 + 8:512 + 16] = bytes.fromhex("e718060000000000")
    r[512 + 16:512 + 64] = mrtd
    r[720:768] = b"\x22" * 48
    r[32:80] = hashlib.sha384(bytes(r[256:495])).digest()
    r[80:128] = hashlib.sha384(bytes(r[512:1024])).digest()
    return bytes(r)


def hcl(tdr, var, rtype=4):
    h = bytearray(2048)
    struct.pack_into("<5I", h, 0, 0x414C4348, 1, 1236 + len(var), 2, 0)
    h[32:32 + 1024] = tdr
    struct.pack_into("<5I", h, 1216, 20 + len(var), 1, rtype, 1, len(var))
    h[1236:1236 + len(var)] = var
    return bytes(h)


pcrs = [hashlib.sha256(b"pcr%d" % i).digest() for i in range(24)]
nonce = hashlib.sha384(b"runtime data").digest()


def attest(extra, pcrs):
    name = b"\x00\x0b" + hashlib.sha256(b"ak name").digest()
    return (b"\xff\x54\x43\x47" + b"\x80\x18" + struct.pack(">H", len(name)) + name +
            struct.pack(">H", len(extra)) + extra + b"\0" * 17 + bytes.fromhex("2020031200120003") +
            struct.pack(">I", 1) + b"\x00\x0b\x03\xff\xff\xff" +
            struct.pack(">H", 32) + hashlib.sha256(b"".join(pcrs)).digest())


def evidence(msg=None, tdr=None, h=None, chain="trusted", quote=None, version=1):
    tdr = tdr or td_report(var)
    msg = msg or attest(nonce, pcrs)
    q = quote if quote is not None else azure_tdx_qe.quote(tdr, os.path.join(tmp, chain))
    return {"version": version,
            "tpm_quote": {"signature": ak.sign(msg, padding.PKCS1v15(), hashes.SHA256()).hex(), "message": msg.hex(),
                          "pcrs": [p.hex() for p in pcrs]},
            "hcl_report": b64u(h or hcl(tdr, var)), "td_quote": b64u(q)}


def run(ev):
    def fail(why):
        raise kbs.Refused(401, "AttestationError", why)
    try:
        return tdx.verify(ev, nonce, root, fail, kbs.parse_attest), None
    except kbs.Refused as e:
        return None, e.detail


claims, why = run(evidence())
check("well-formed evidence accepted (%s)" % why, claims is not None)
if claims:
    check("claims: quote.body.mr_td is the TDREPORT's MRTD", claims["quote.body.mr_td"] == "11" * 48)
    check("claims: quote.header.tee_type 81000000, version 0400",
          claims["quote.header.tee_type"] == "81000000" and claims["quote.header.version"] == "0400")
    check("claims: tpm.pcr23", claims["tpm.pcr23"] == pcrs[23].hex())
    check("claims: td_attributes.debug false", claims["td_attributes.debug"] is False)



def c_verify(ev, name):
    """cvm-attest verify on EV: (exit status, stderr)."""
    path = os.path.join(tmp, name + ".json")
    json.dump(ev, open(path, "w"))
    p = subprocess.run([top + "/build/bin/cvm-attest", "verify", "--tee", "az-tdx-vtpm", "--evidence", path,
                        "--report-data", nonce.hex(), "--intel-root", os.path.join(tmp, "trusted", "root.pem")],
                       capture_output=True, text=True)
    return p.returncode, p.stderr.strip()


rc, err = c_verify(evidence(), "good")
check("cvm-attest verify --intel-root accepts it too (exit %d %s)" % (rc, err), rc == 0)
rc, err = c_verify(evidence(chain="untrusted"), "untrusted")
check("cvm-attest verify refuses the untrusted chain (exit %d: %s)" % (rc, err), rc == 1 and "pck" in err.lower())

good_q = azure_tdx_qe.quote(td_report(var), os.path.join(tmp, "trusted"))
sig_off = 48 + 584 + 4


def flip(b, off):
    b = bytearray(b)
    b[off] ^= 1
    return bytes(b)


intel_qe = azure_tdx_qe.QE_MRSIGNER
azure_tdx_qe.QE_MRSIGNER = b"\x44" * 32  # a QE that is not Intel's, correctly signed by the PCK key
foreign_qe_q = azure_tdx_qe.quote(td_report(var), os.path.join(tmp, "trusted"))
azure_tdx_qe.QE_MRSIGNER = intel_qe
other_var = var.replace(b"00" * 64, b"11" * 64)
bad = [
    ("AK signature", "TPM quote signature", dict(msg=None), lambda e: e["tpm_quote"].update(signature="00" * 256)),
    ("nonce", "quote nonce", dict(msg=attest(b"\x01" * 48, pcrs)), None),
    ("PCR digest", "PCR digest", {}, lambda e: e["tpm_quote"]["pcrs"].__setitem__(8, "00" * 32)),
    ("HCL report of type SNP", "not a TDX report", dict(h=hcl(td_report(var), var, rtype=2)), None),
    ("SGX quote v3", "not a TD quote", dict(quote=b"\x03" + good_q[1:]), None),
    ("quote body changed after signing", "td_quote signature", dict(quote=flip(good_q, 48 + 136)), None),
    ("QE report changed", "QE report signature", dict(quote=flip(good_q, sig_off + 134 + 10)), None),
    ("QE not Intel's TD QE", "QE identity", dict(quote=foreign_qe_q), None),
    ("untrusted PCK chain", "PCK chain root is not the trusted root", dict(chain="untrusted"), None),
    ("runtime claims not in the quote", "runtime-claims hash", dict(tdr=td_report(other_var),
                                                                   h=hcl(td_report(other_var), var)), None),
    ("HCL TDREPORT other than the quoted one", "differs from the HCL report's TDREPORT",
     dict(h=hcl(td_report(var, mrtd=b"\x33" * 48), var)), None),
    ("user-data (v2) not the nonce", "user-data", dict(version=2), None),
]
for name, text, kw, mutate in bad:
    ev = evidence(**kw)
    if mutate:
        mutate(ev)
    claims, why = run(ev)
    check("refused: %s -> '%s' (%s)" % (name, text, why), claims is None and why and text in why)

print("test-kbs-tdx: %d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
EOF
