#!/usr/bin/env bash
# scripts/cvm-deploy: the dry run prints exactly the az calls a deploy and a delete make
# (recorded by a fake az that answers like Azure), bad inputs fail before any az call,
# and every generated command is accepted by Debian's real azure-cli argument parser
# (which then stops only for lack of a login).
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
deploy=$top/scripts/cvm-deploy
work=$(mktemp -d "${TMPDIR:-/tmp}/test-deploy.XXXXXX")
pidfile=$work/swtpm.pid
trap '[ -s "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null; rm -rf "$work"' EXIT

pass=0 fail=0
ok() { pass=$((pass + 1)); echo "  ok: $*"; }
not_ok() { fail=$((fail + 1)); echo "  FAILED: $*"; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else not_ok "$d"; fi; }

# A fixed VHD written here from the VHD spec (not by cvm-image): SIZE bytes of data + footer.
mkvhd() { # mkvhd FILE SIZE [DISKTYPE]
	truncate -s "$2" "$1"
	/usr/bin/python3 - "$1" "$2" "${3:-2}" <<'EOF'
import struct, sys
path, size, dtype = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
f = bytearray(512)
f[0:8] = b"conectix"; f[8:12] = struct.pack(">I", 2); f[12:16] = struct.pack(">I", 0x10000)
f[16:24] = b"\xff" * 8; f[28:32] = b"test"
f[40:48] = struct.pack(">Q", size); f[48:56] = struct.pack(">Q", size); f[60:64] = struct.pack(">I", dtype)
f[64:68] = struct.pack(">I", ~sum(f) & 0xFFFFFFFF)
open(path, "ab").write(f)
EOF
}
mkdir -p "$work/out" "$work/small" "$work/odd" "$work/dyn" "$work/bin"
mkvhd "$work/out/disk.vhd" $((20 * 1048576))
mkvhd "$work/small/disk.vhd" $((15 * 1048576))
mkvhd "$work/odd/disk.vhd" $((20 * 1048576 + 4096))
mkvhd "$work/dyn/disk.vhd" $((20 * 1048576)) 3

# The fake az: records each call (shell-quoted, as the dry run prints it) and answers
# like Azure.  FAKE_AZ_* variables choose the answers.
cat >"$work/bin/az" <<'EOF'
#!/usr/bin/env bash
{ printf '%q' az; printf ' %q' "$@"; printf '\n'; } >>"$FAKE_AZ_LOG"
case "$1 $2" in
"account show") [ "${FAKE_AZ_LOGGED_IN:-1}" = 1 ] || { echo "ERROR: Please run 'az login' to setup account." >&2; exit 1; }
	echo "${FAKE_AZ_SUB:-11111111-2222-3333-4444-555555555555}" ;;
"vm list-skus") [ "${FAKE_AZ_NO_SIZE:-0}" = 1 ] || echo "Standard_DC2as_v5" ;;
"group exists") echo "${FAKE_AZ_GROUP_EXISTS:-false}" ;;
"storage account") [ "$3" = keys ] && echo "c2VjcmV0LWtleQ==" ;;
"vm boot-diagnostics") if [ -n "${FAKE_AZ_SIM:-}" ]; then "$FAKE_AZ_SIM"; else cat "$FAKE_AZ_BOOTLOG"; fi ;;
esac
exit 0
EOF
chmod +x "$work/bin/az"
# A boot log as the init prints it (platform PCRs 0-3 known to the test).
p0=$(printf 'pcr0' | sha256sum | cut -c1-64)
{
	echo "[    2.000000] init: phase measured-boot-report"
	printf 'CVMKIT-MEASURED-BOOT {"version":1,"pcrs":{"sha256":{"0":"%s","1":"%s","2":"%s","3":"%s","6":"%s"}}}\r\n' \
		"$p0" "$p0" "$p0" "$p0" "$p0"
	echo "[    3.000000] init: phase workload"
} >"$work/bootlog"
export FAKE_AZ_LOG=$work/calls FAKE_AZ_BOOTLOG=$work/bootlog
# The deploy's own boot log: the simulated Azure SNP vTPM served over TCP, evidence for the
# nonce up wrote (tests/cli/capture-bootlog.py).
sim_ok=0
if command -v swtpm >/dev/null && [ -x build/bin/cvm-attest ] &&
	tests/tools/azure-vtpm-sim.sh provision --state "$work/tpm-state" --out "$work/sim" >"$work/provision.log" 2>&1; then
	tport=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	tests/tools/azure-vtpm-sim.sh serve --state "$work/tpm-state" --port "$tport" --pidfile "$pidfile" && sim_ok=1
	export CVM_ATTEST=$top/build/bin/cvm-attest SIM_DIR=$work/sim SIM_TPM=tcp:127.0.0.1:$tport EVIDENCE_OUT=$work/evidence.json
fi
sub=11111111-2222-3333-4444-555555555555
common=(--name demo --location westeurope --subscription "$sub")

echo "== dry run equals the recorded call sequence"
"$deploy" up "${common[@]}" --out "$work/out" --dry-run --amd-root "$work/sim/amd-root.pem" >"$work/dry-up" 2>"$work/dry-up.err"
check "dry run of up exits 0" [ $? -eq 0 ]
check "dry run of up prints commands ($(wc -l <"$work/dry-up") lines)" [ "$(wc -l <"$work/dry-up")" -ge 12 ]
: >"$work/calls"
FAKE_AZ_SIM=$top/tests/cli/capture-bootlog.py PATH=$work/bin:$PATH "$deploy" up "${common[@]}" --out "$work/out" \
	--amd-root "$work/sim/amd-root.pem" >"$work/up.out" 2>"$work/up.err"
rc=$?; check "up with the fake az exits 0" [ $rc -eq 0 ]; [ $rc -eq 0 ] || cat "$work/up.err"
check "up's recorded az calls equal the dry run's commands" diff -u "$work/dry-up" "$work/calls"
check "up prints the measured-boot line" grep -q '^CVMKIT-MEASURED-BOOT {"version":1' "$work/up.out"
check "up reports per-step timings" grep -qE '  done in [0-9]+ ms' "$work/up.err"
check "up uploads as a page blob" grep -q 'storage blob upload .*--type page' "$work/calls"
check "the storage key never appears on a command line" bash -c "! grep -q c2VjcmV0LWtleQ== '$work/calls'"
check "the VM is a CVM with VMGuestStateOnly and a vTPM" \
	grep -q 'vm create .*--security-type ConfidentialVM --os-disk-security-encryption-type VMGuestStateOnly --enable-vtpm true' "$work/calls"
check "the image definition is ConfidentialVmSupported, V2, x64, Linux" \
	grep -q 'image-definition create .*--os-type Linux .*--hyper-v-generation V2 --architecture x64 --features SecurityType=ConfidentialVmSupported' "$work/calls"
pv=$work/out/azure-demo.platform-values.json
ud=$work/out/azure-demo.initdata.toml
nonce=$(sed -n 's/^"cvmkit.report_nonce" = "\([0-9a-f]*\)"$/\1/p' "$ud" 2>/dev/null)
check "up wrote the initdata userData with a fresh 32-byte nonce" [ "${#nonce}" -eq 64 ]
check "vm create passes that document as --user-data" grep -q "vm create .*--user-data $ud" "$work/calls"
check "the state file records the nonce for wait" grep -qx "capture_nonce=$nonce" "$work/out/azure-demo.state"
if [ -x build/bin/cvm-measure ] && [ "$sim_ok" = 1 ]; then
	check "up ran capture --nonce and the evidence verified" grep -q 'az-snp-vtpm evidence verified' "$work/up.err"
	check "platform values captured" [ -s "$pv" ]
	# RVPS "sample" message: the reference values are the base64 JSON payload.
	/usr/bin/python3 -c 'import base64,json,sys; print(json.dumps(json.loads(base64.b64decode(json.load(open(sys.argv[1]))["payload"]))))' \
		"$pv" >"$work/pv-payload" 2>&1
	p0=$(jq -r '.tpm_quote.pcrs[0]' "$work/evidence.json")
	check "captured snp_pcr00 is the quoted PCR 0" grep -q "\"snp_pcr00\": \[\"$p0\"\]" "$work/pv-payload"
	check "captured snp_pcr03 present" grep -q '"snp_pcr03"' "$work/pv-payload"
	want=$(/usr/bin/python3 -c 'import base64, sys; print(base64.b64encode(open(sys.argv[1], "rb").read()[0x90:0xC0]).decode())' "$work/sim/snp-report.bin")
	check "captured measurement is the simulator's SNP MEASUREMENT" grep -q "\"measurement\": \[\"$want\"\]" "$work/pv-payload"
	check "PCR 6 (per VM) is never captured" bash -c "! grep -q 'pcr06' '$work/pv-payload'"
	check "not labelled unauthenticated" bash -c "! grep -q cvmkit_capture '$work/pv-payload'"
else
	not_ok "build/bin/cvm-measure, build/bin/cvm-attest and swtpm for the simulated boot log (make; setup-host.sh test)"
fi
check "the state file records the created resource group" grep -qx 'rg_created=1' "$work/out/azure-demo.state"

"$deploy" delete --name demo --subscription "$sub" --out "$work/out" --dry-run >"$work/dry-del" 2>/dev/null
: >"$work/calls"
PATH=$work/bin:$PATH "$deploy" delete --name demo --out "$work/out" --yes >/dev/null 2>"$work/del.err"
check "delete with the fake az exits 0" [ $? -eq 0 ]
check "delete's recorded az calls equal the dry run's commands" diff -u "$work/dry-del" "$work/calls"
check "delete removes the state file" [ ! -e "$work/out/azure-demo.state" ]

echo "== an existing resource group: delete removes only what up created, newest first"
: >"$work/calls"
FAKE_AZ_GROUP_EXISTS=true PATH=$work/bin:$PATH "$deploy" up "${common[@]}" --out "$work/out" --no-wait \
	--tee tdx --os-state generalized --resource-group shared-rg >/dev/null 2>&1
check "up into an existing group creates no group" bash -c "! grep -q 'group create' '$work/calls'"
check "tdx picks a TDX size" grep -q 'vm create .*--size Standard_DC2es_v6' "$work/calls"
check "generalized gives the CLI an (unused) admin user" grep -q 'vm create .*--admin-username cvmkit' "$work/calls"
check "generalized tells Azure no agent will report" grep -q 'vm create .*--enable-agent false' "$work/calls"
: >"$work/calls"
PATH=$work/bin:$PATH "$deploy" delete --name demo --out "$work/out" --yes >/dev/null 2>&1
cut -d' ' -f2-4 "$work/calls" >"$work/del-order"
printf '%s\n' 'vm delete -g' 'sig image-version delete' 'sig image-definition delete' 'sig delete -g' 'storage account delete' >"$work/del-expect"
check "delete order: VM, image version, definition, gallery, storage account" diff -u "$work/del-expect" "$work/del-order"

echo "== a user's initdata gets the nonce added; a cloud-config is passed as is"
printf 'version = "0.1.0"\nalgorithm = "sha256"\n\n[data]\n"cdh.toml" = """\nsocket = "unix:///run/cdh.sock"\n"""' >"$work/user.toml"
PATH=$work/bin:$PATH "$deploy" up --name merged --location westeurope --subscription "$sub" --out "$work/out" --no-wait \
	--user-data "$work/user.toml" >/dev/null 2>&1
m=$work/out/azure-merged.initdata.toml
check "merged document starts with the user's bytes" cmp -s -n "$(stat -c %s "$work/user.toml")" "$work/user.toml" "$m"
check "merged document ends with the nonce in [data]" bash -c "tail -1 '$m' | grep -qE '^\"cvmkit.report_nonce\" = \"[0-9a-f]{64}\"\$'"
check "merged document parses as initdata with both keys (cvm-measure initdata)" \
	bash -c "build/bin/cvm-measure initdata '$m' --json | jq -e '.data | has(\"cdh.toml\") and has(\"cvmkit.report_nonce\")' >/dev/null"
printf '#cloud-config\nwrite_files: []\n' >"$work/cc.yaml"
: >"$work/calls"
PATH=$work/bin:$PATH "$deploy" up --name cc --location westeurope --subscription "$sub" --out "$work/out" --no-wait \
	--user-data "$work/cc.yaml" >/dev/null 2>"$work/cc.err"
check "a cloud-config is passed as is, saying there is no nonce" \
	bash -c "grep -q 'vm create .*--user-data $work/cc.yaml' '$work/calls' && grep -q 'no capture nonce' '$work/cc.err'"

echo "== bad input fails before any az call, with one clear line"
expect_fail() { # expect_fail CODE PATTERN DESCRIPTION -- command...
	local code=$1 pat=$2 d=$3 rc; shift 4
	: >"$work/calls"
	"$@" >/dev/null 2>"$work/err"; rc=$?
	if [ "$rc" = "$code" ] && grep -q -- "$pat" "$work/err"; then ok "$d"; else not_ok "$d (exit $rc: $(head -2 "$work/err"))"; fi
}
fake=(env PATH="$work/bin:$PATH")
expect_fail 3 "under Azure's 20 MiB minimum" "VHD under Azure's floor" -- "${fake[@]}" "$deploy" up "${common[@]}" --out "$work/small"
check "  ... and no az call was made" [ ! -s "$work/calls" ]
expect_fail 3 "not a whole number of MiB" "VHD size not a whole MiB" -- "${fake[@]}" "$deploy" up "${common[@]}" --out "$work/odd"
expect_fail 3 "not a fixed VHD" "dynamic VHD" -- "${fake[@]}" "$deploy" up "${common[@]}" --out "$work/dyn"
expect_fail 3 "no such file" "no VHD at all" -- "${fake[@]}" "$deploy" up "${common[@]}" --out "$work/none"
# A PATH with every tool of /usr/bin and /bin except az.
mkdir -p "$work/noaz"
for f in /usr/bin/* /bin/*; do [ "$(basename "$f")" = az ] || ln -sf "$f" "$work/noaz/" 2>/dev/null; done
expect_fail 3 "'az' is not on PATH" "no az on PATH" -- env PATH="$work/noaz" "$deploy" up "${common[@]}" --out "$work/out"
expect_fail 3 "not logged in" "not logged in" -- env FAKE_AZ_LOGGED_IN=0 PATH="$work/bin:$PATH" "$deploy" up --name demo --location westeurope --out "$work/out"
expect_fail 3 "does not offer Standard_DC2as_v5" "region without the size" -- env FAKE_AZ_NO_SIZE=1 PATH="$work/bin:$PATH" "$deploy" up "${common[@]}" --out "$work/out"
expect_fail 2 "--location is required" "missing --location" -- "$deploy" up --name demo --out "$work/out"
expect_fail 2 "unknown option '--bogus'" "unknown option" -- "$deploy" up "${common[@]}" --bogus 1
expect_fail 2 "lowercase letters" "invalid --name" -- "$deploy" up --name Demo_1 --location westeurope
expect_fail 2 "snp or tdx" "invalid --tee" -- "$deploy" up "${common[@]}" --tee sgx
expect_fail 3 "no state file" "delete without state" -- "${fake[@]}" "$deploy" delete --name other --out "$work/out" --yes
rm -f "$work/out/azure-demo.state"
fatal_log=$work/bootlog-fatal
printf '[    3.0] init: fatal: unable to attest: KBS refused\r\n' >"$fatal_log"
expect_fail 4 "fatal error" "init fatal line in the serial log ends the wait" -- \
	env FAKE_AZ_BOOTLOG="$fatal_log" PATH="$work/bin:$PATH" "$deploy" wait --name demo --out "$work/out" --subscription "$sub"

echo "== every generated command against Debian's azure-cli, without credentials"
if ! command -v az >/dev/null; then
	if [ "${CI:-}" = true ]; then not_ok "azure-cli installed (scripts/setup-host.sh test)"; else echo "  SKIP: azure-cli not installed"; fi
else
	"$deploy" up "${common[@]}" --out "$work/out" --dry-run --os-state generalized --user-data "$work/bootlog" \
		>"$work/real-cmds" 2>/dev/null
	grep 'vm create' "$work/dry-up" >>"$work/real-cmds"
	printf '%s\n' 'az group delete -n cvmkit-demo --yes' \
		"az vm delete -g shared-rg -n demo --yes --subscription $sub" \
		"az sig image-version delete -g shared-rg -r cvmkit_gallery -i demo -e 1.0.0 --subscription $sub" \
		"az sig image-definition delete -g shared-rg -r cvmkit_gallery -i demo --subscription $sub" \
		"az sig delete -g shared-rg -r cvmkit_gallery --subscription $sub" \
		"az storage account delete -g shared-rg -n cvmddfcded47b44 --yes --subscription $sub" >>"$work/real-cmds"
	export AZURE_CONFIG_DIR=$work/azconfig AZURE_CORE_COLLECT_TELEMETRY=no
	mkdir -p "$AZURE_CONFIG_DIR"
	n=0
	while IFS= read -r cmd; do
		n=$((n + 1))
		# The dry run's lines are shell-quoted argv: eval gives back exactly that argv.
		out=$(cd "$work" && eval "timeout 300 $cmd" 2>&1 </dev/null)
		short=$(echo "$cmd" | cut -d' ' -f2-4)
		if echo "$out" | grep -qiE "unrecognized arguments|the following arguments are required|invalid choice|is not a valid value|not recognized as|usage error"; then
			not_ok "az $short: argument error: $(echo "$out" | grep -iE 'unrecognized|required|invalid|usage' | head -1)"
		elif echo "$out" | grep -qE "az login|az account set|No subscription found"; then
			ok "az $short: arguments accepted, stops for lack of login"
		elif [[ $short == "storage blob upload" ]] && echo "$out" | grep -q "Failed to establish a new connection"; then
			# Without a key or login the data-plane upload goes straight to the
			# (unreachable) blob endpoint: its arguments were parsed.
			ok "az $short: arguments accepted, stops at the unreachable storage endpoint (no credentials)"
		elif echo "$out" | grep -q "No module named 'azure.mgmt.compute.v2022_11_01'"; then
			# Debian's azure-cli 2.45 lacks this SDK API version, so it cannot even load the
			# command's arguments; its syntax is checked against the documented one instead
			# (az vm delete --resource-group --name --yes).
			check "az $short: Debian's CLI cannot load it; documented syntax used" \
				grep -qE '^az vm delete -g [^ ]+ -n [^ ]+ --yes( |$)' <<<"$cmd"
		else
			not_ok "az $short: unexpected answer: $(echo "$out" | tail -1)"
		fi
	done <"$work/real-cmds"
	check "real azure-cli ran every generated command ($n)" [ "$n" -ge 20 ]
fi

echo "$(basename "$0"): ${pass} passed, ${fail} failed"
[ "$fail" -eq 0 ]
