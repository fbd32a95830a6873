#!/usr/bin/env bash
# cvm-measure replay against the measured-boot vectors: JSON and text output
# carry the PCR values of the vectors' expected files; errors give the
# documented exit codes.  Needs build/bin/cvm-measure (make).
# Prints "N passed, M failed"; exits non-zero on any failure.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=$top/build/bin/cvm-measure
vec=${CVMKIT_VECTORS:-$(cd "$top/.." && pwd)/shared/vectors}/measured-boot
passed=0 failed=0

check() { # name, command...
	local name=$1; shift
	if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $name" >&2; fi
}

if [ ! -x "$bin" ]; then echo "test-measure-replay: fatal: unable to run: $bin not built" >&2; exit 1; fi
if [ ! -d "$vec" ]; then
	if [ "${CI:-}" = true ]; then echo "test-measure-replay: fatal: unable to find vectors at $vec" >&2; exit 1; fi
	echo "test-measure-replay: vectors absent, skipped"; echo "0 passed, 0 failed"; exit 0
fi

out=$("$bin" replay --json "$vec/tpm2-tools/event-sd-boot-fedora37.bin"); rc=$?
check "json exit 0" test "$rc" -eq 0
# PCR 7 and 12 from expected.json / EXPECTED-PCRS.txt of event-sd-boot-fedora37.
check "json pcr 7" grep -q '"7":[[:space:]]*"b5710bf57d25623e4019027da116821fa99f5c81e9e38b87671cc574f9281439"' <<<"$out"
check "json pcr 12" grep -q '"12":[[:space:]]*"73b2090e3e72430531e7bc7d63e88826891ef4e04d6c1e250dc5c52db24f2f48"' <<<"$out"
check "json events" grep -q '"type":[[:space:]]*"EV_EFI_ACTION"' <<<"$out"

# The rig capture (stub 257): PCR 4 as read from swtpm (pcrs-sha256-stub257-kernel6.12.txt).
want=$(awk '$1 == 4 { print $2 }' "$vec/ovmf-swtpm-capture/pcrs-sha256-stub257-kernel6.12.txt")
out=$("$bin" replay --bank sha256 --pcrs 4 "$vec/ovmf-swtpm-capture/eventlog-stub257-kernel6.12.bin")
check "text pcr 4" grep -q "^   4: $want\$" <<<"$out"
check "text filter" test "$(grep -c '^event ' <<<"$out")" -eq 4

# Legacy SHA-1 log: PCR 7 of the quote in windows_gcp_shielded_vm.json.
out=$("$bin" replay --json --bank sha1 "$vec/go-attestation/windows_gcp_shielded_vm.eventlog.bin")
check "legacy pcr 7" grep -q '"7":[[:space:]]*"859a5877266b5c909613468091a73380a5386786"' <<<"$out"

"$bin" replay /nonexistent/log 2>/dev/null; check "missing file exits 3" test $? -eq 3
"$bin" replay "$vec/SOURCES.md" 2>/dev/null; check "not a log exits 3" test $? -eq 3
"$bin" replay --bank sha512 "$vec/tpm2-tools/event-sd-boot-fedora37.bin" 2>/dev/null; check "absent bank exits 3" test $? -eq 3
"$bin" replay --pcrs 24 x 2>/dev/null; check "bad --pcrs exits 2" test $? -eq 2
"$bin" replay 2>/dev/null; check "no log exits 2" test $? -eq 2
"$bin" nosuchverb 2>/dev/null; check "unknown verb exits 2" test $? -eq 2
"$bin" --help >/dev/null; check "--help exits 0" test $? -eq 0
err=$("$bin" replay /nonexistent/log 2>&1 >/dev/null)
check "diagnostic form" grep -q '^cvm-measure: fatal: unable to read /nonexistent/log: ' <<<"$err"

# An event without a digest for every declared bank is refused, naming it: tpm2-tools'
# event-uefiaction.bin declares 4 banks (sha1, sha256, sha384, sha512) but its event 1
# (PCR 4, EV_EFI_ACTION, after the 32 + 45-byte header) carries 2 (its .yaml).
err=$("$bin" replay "$vec/tpm2-tools/event-uefiaction.bin" 2>&1 >/dev/null); rc=$?
check "incomplete event exits 3" test "$rc" -eq 3
check "incomplete event named" grep -qF 'event 1 (PCR 4, EV_EFI_ACTION) at offset 77 has no sha384,sha512 digest' <<<"$err"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
