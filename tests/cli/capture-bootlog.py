#!/usr/bin/python3
"""Test helper of test-deploy.sh's fake az: the serial log a VM on the simulated Azure SNP
vTPM would show, for the nonce `cvm-deploy up` put into the --user-data file the fake az
recorded.  The evidence is collected by `cvm-attest collect` (evidence v1) from the simulator
served over TCP; the CVMKIT-MEASURED-BOOT line and the CVMKIT-EVIDENCE lines are composed
here from the layout documented in include/cvmkit/capture.h, independently of the init.

Environment: FAKE_AZ_LOG (the recorded calls), CVM_ATTEST (the binary), SIM_DIR (the
simulator's --out directory), SIM_TPM (tcp:127.0.0.1:PORT), EVIDENCE_OUT (where the evidence
JSON is kept for the test's own expectations)."""
import base64, hashlib, json, os, re, shlex, subprocess, sys

calls = open(os.environ["FAKE_AZ_LOG"]).read().splitlines()
create = [shlex.split(c) for c in calls if " vm create " in c][-1]
ud = create[create.index("--user-data") + 1]
nonce = re.search(r'^"cvmkit\.report_nonce" = "([0-9a-f]+)"$', open(ud).read(), re.M).group(1)
rd = hashlib.sha384(b"cvmkit-capture-v1" + bytes.fromhex(nonce)).hexdigest()
out = os.environ["EVIDENCE_OUT"]
subprocess.run([os.environ["CVM_ATTEST"], "collect", "--tpm", os.environ["SIM_TPM"], "--report-data", rd,
                "--vcek", os.environ["SIM_DIR"] + "/thim-certification.json", "--evidence-version", "1",
                "--settle-ms", "0", "--out", out], check=True, stdout=subprocess.DEVNULL)
blob = open(out, "rb").read().rstrip(b"\n")
ev = json.loads(blob)
hcl = base64.urlsafe_b64decode(ev["hcl_report"] + "=" * (-len(ev["hcl_report"]) % 4))
b = base64.b64encode(blob).decode()
n = (len(b) + 95) // 96
line = {"version": 1, "pcrs": {"sha256": {str(i): v for i, v in enumerate(ev["tpm_quote"]["pcrs"])}},
        "platform": {"tee": "snp", "measurement": hcl[32 + 0x90:32 + 0xC0].hex(), "report_version": 3},
        "evidence": {"format": "az-snp-vtpm", "nonce": nonce, "size": len(blob), "lines": n,
                     "sha256": hashlib.sha256(blob).hexdigest()}}
w = sys.stdout.write
w("[    2.000000] init: phase measured-boot-report\r\n")
w("CVMKIT-MEASURED-BOOT " + json.dumps(line, separators=(",", ":")) + "\r\n")
for i in range(n):
    w("CVMKIT-EVIDENCE %d/%d %s\r\n" % (i + 1, n, b[i * 96:(i + 1) * 96]))
w("[    3.000000] init: phase workload\r\n")
