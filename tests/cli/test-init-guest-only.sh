#!/usr/bin/env bash
# The init links the guest collector (attest/, net/, common/) and never the
# host verifier (verify/: SNP/TDX chains, the pinned AMD and Intel roots,
# reference-value appraisal).  The shipped init is stripped, so the symbol
# check reads build/guest/init.syms, the same objects and flags linked
# without -s, after checking that its sections have exactly the shipped
# init's sizes; the root certificates are also looked for byte for byte in
# the shipped init itself.  The same checks run on cvm-attest, which links
# the verifier, and must find it there: a check that cannot fire is no check.
# Needs `make all tests`.  Prints "N passed, M failed"; exits non-zero on any failure.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
init=${CVMKIT_TEST_INIT:-$top/build/guest/init}
syms=${CVMKIT_TEST_INIT_SYMS:-$top/build/guest/init.syms}
verify_lib=$top/build/host/libcvm-verify.a
host_cli=$top/build/bin/cvm-attest
passed=0 failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

check() { # name, command...
	local name=$1; shift
	if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $name" >&2; fi
}

for f in "$init" "$syms" "$verify_lib" "$host_cli"; do
	[ -e "$f" ] || { echo "test-init-guest-only: fatal: unable to run: $f not built (make all tests)" >&2; exit 1; }
done
for t in nm size grep; do
	command -v "$t" >/dev/null || { echo "test-init-guest-only: fatal: unable to run: $t not installed" >&2; exit 1; }
done

# Every global symbol the verifier library defines.
nm --defined-only -g "$verify_lib" 2>/dev/null | awk 'NF == 3 { print $3 }' | sort -u >"$tmp/verifier"
check "verifier symbols listed" test "$(wc -l <"$tmp/verifier")" -ge 20
check "root symbols listed" grep -qx cvm_root_milan_pem "$tmp/verifier"
check "chain symbol listed" grep -qx cvm_amd_verify_vcek_chain "$tmp/verifier"

# The base64 lines of every pinned root certificate.
grep -hv -e '^-----' "$top"/verify/certs/*.pem | awk 'length($0) >= 40' | sort -u >"$tmp/roots"
check "root lines listed" test "$(wc -l <"$tmp/roots")" -ge 50

# init.syms must be the shipped init with its symbols, or nothing below holds.
sections() { size -A "$1" | awk '$1 ~ /^\./ && $1 !~ /^\.(symtab|strtab|comment|debug_.*)$/ { print $1, $2 }'; }
check "init.syms has the shipped init's sections" diff <(sections "$init") <(sections "$syms")

present() { # binary -> verifier symbols it defines
	nm --defined-only "$1" 2>/dev/null | awk 'NF == 3 { print $3 }' | sort -u | comm -12 - "$tmp/verifier"
}
has_roots() { grep -aqF -f "$tmp/roots" "$1"; }

nm --defined-only "$syms" | awk '{ print $3 }' >"$tmp/init-all"
check "init.syms has symbols" grep -qx cvm_snp_report_parse "$tmp/init-all"
present "$syms" >"$tmp/leaked"
if [ -s "$tmp/leaked" ]; then
	echo "test-init-guest-only: the init links verifier code: $(tr '\n' ' ' <"$tmp/leaked")" >&2
fi
check "init has no verifier symbol" test ! -s "$tmp/leaked"
check "init has no root certificate" eval '! has_roots "$init"'
check "init has no root symbol" eval '! grep -q "^cvm_root_" "$tmp/init-all"'

# The control: cvm-attest links the verifier, and both checks see it.
check "control: cvm-attest has verifier symbols" test -n "$(present "$host_cli")"
check "control: cvm-attest has the roots" has_roots "$host_cli"

# Host-only files of guest modules (the Makefile's HOST_ONLY_SRCS, such as the
# TPM response-code names): none of their symbols or names in the init.
host_only=$(sed -n 's/^HOST_ONLY_SRCS := //p' "$top/Makefile")
check "host-only sources listed" grep -q 'attest/tpm2rc\.c' <<<"$host_only"
: >"$tmp/host-only"
for src in $host_only; do
	obj=$top/build/host/${src%.c}.o
	[ -e "$obj" ] || { echo "test-init-guest-only: fatal: unable to run: $obj not built (make all tests)" >&2; exit 1; }
	nm --defined-only -g "$obj" | awk 'NF == 3 { print $3 }' >>"$tmp/host-only"
done
sort -u -o "$tmp/host-only" "$tmp/host-only"
check "host-only symbols listed" grep -qx cvm_tpm2_rc_describe "$tmp/host-only"
check "host-only ECDSA conversion listed" grep -qx cvm_ecdsa_rs_to_der "$tmp/host-only"
sort -u "$tmp/init-all" | comm -12 - "$tmp/host-only" >"$tmp/leaked-host"
if [ -s "$tmp/leaked-host" ]; then
	echo "test-init-guest-only: the init links host-only code: $(tr '\n' ' ' <"$tmp/leaked-host")" >&2
fi
check "init has no host-only symbol" test ! -s "$tmp/leaked-host"
check "init has no TPM response-code names" eval '! grep -aq TPM_RC_AUTH_FAIL "$init"'
check "control: cvm-attest has the TPM response-code names" grep -aq TPM_RC_AUTH_FAIL "$host_cli"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
