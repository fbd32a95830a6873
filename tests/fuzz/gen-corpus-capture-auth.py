#!/usr/bin/env python3
"""Writes the seed corpus of fuzz-capture-auth: a CVMKIT-MEASURED-BOOT line with
an "evidence" member and its CVMKIT-EVIDENCE lines (include/cvmkit/capture.h),
and named corruptions of the transport.  The evidence is synthetic (shaped like
az-snp-vtpm v2, never verifying).  Deterministic; run from the repository root."""
import base64, hashlib, json, os

out = "tests/fuzz/corpus/capture-auth"
os.makedirs(out, exist_ok=True)
nonce = "00" * 8
pcrs = [hashlib.sha256(bytes([i])).hexdigest() for i in range(24)]
hcl = b"HCLA" + bytes(2044)
evidence = {"version": 2, "tpm_quote": {"signature": "11" * 256, "message": "ff544347" + "00" * 117, "pcrs": pcrs},
            "hcl_report": base64.urlsafe_b64encode(hcl).decode(), "vcek": base64.urlsafe_b64encode(b"\x30\x03\x02\x01\x00").decode()}

def log(ev_obj=evidence, meta=None, chunk=96, edit=None, prefix="[    2.000000] init: phase measured-boot-report\r\n"):
    blob = json.dumps(ev_obj, separators=(",", ":")).encode()
    b = base64.b64encode(blob).decode()
    n = (len(b) + chunk - 1) // chunk
    m = {"format": "az-snp-vtpm", "nonce": nonce, "size": len(blob), "lines": n, "sha256": hashlib.sha256(blob).hexdigest()}
    m.update(meta or {})
    line = {"version": 1, "pcrs": {"sha256": {str(i): v for i, v in enumerate(pcrs)}},
            "platform": {"tee": "snp", "measurement": "22" * 48, "report_version": 3}, "evidence": m}
    lines = ["CVMKIT-EVIDENCE %d/%d %s" % (i + 1, n, b[i * chunk:(i + 1) * chunk]) for i in range(n)]
    if edit:
        lines = edit(lines)
    return (prefix + "CVMKIT-MEASURED-BOOT " + json.dumps(line, separators=(",", ":")) + "\r\n" +
            "\r\n".join(lines) + "\r\n").encode()

files = {
    "valid": log(),
    "valid-interleaved": log(edit=lambda l: l[:2] + ["[    2.5] random: crng init done"] + l[2:]),
    "valid-reordered": log(edit=lambda l: list(reversed(l))),
    "valid-text-before-prefix": log(edit=lambda l: ["garbage " + x for x in l]),
    "tdx-format": log(meta={"format": "az-tdx-vtpm"}),
    "missing-line": log(edit=lambda l: l[1:]),
    "duplicate-line": log(edit=lambda l: l + l[:1]),
    "index-zero": log(edit=lambda l: [l[0].replace(" 1/", " 0/", 1)] + l[1:]),
    "index-beyond": log(edit=lambda l: l[:-1] + [l[-1].replace(" %d/" % len(l), " %d/" % (len(l) + 1), 1)]),
    "count-mismatch": log(edit=lambda l: [l[0].replace("/%d " % len(l), "/%d " % (len(l) + 1), 1)] + l[1:]),
    "short-chunk": log(edit=lambda l: [l[0][:-5]] + l[1:]),
    "bad-base64": log(edit=lambda l: [l[0][:-4] + "!!!!"] + l[1:]),
    "sha-mismatch": log(meta={"sha256": "00" * 32}),
    "size-mismatch": log(meta={"size": 5}),
    "size-huge": log(meta={"size": 1 << 30}),
    "lines-huge": log(meta={"lines": 1 << 20}),
    "lines-zero": log(meta={"lines": 0}),
    "size-float-huge": log(meta={"size": 1e300}),
    "lines-fraction": log(meta={"lines": 2.5}),
    "nonce-short": log(meta={"nonce": "00"}),
    "format-unknown": log(meta={"format": "sev"}),
    "no-evidence-lines": log(edit=lambda l: []),
    "no-evidence-member": ("CVMKIT-MEASURED-BOOT " + json.dumps({"version": 1, "pcrs": {"sha256": {"0": pcrs[0]}}}) + "\n").encode(),
    "not-json-evidence": log(ev_obj="not evidence"),
}
for name, data in files.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
