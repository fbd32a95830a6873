#!/usr/bin/env bash
# cvm-measure links the host verifier (verify/: mbedcrypto + mbedx509) for `capture --nonce`,
# never TLS (mbedtls' ssl library): no mbedtls_ssl_ symbol in the binary.  cvm-attest, which
# speaks TLS to a KBS, is the control that the symbol scan sees TLS where it is.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
pass=0 fail=0
check() { local d=$1; shift; if "$@"; then pass=$((pass + 1)); echo "  ok: $d"; else fail=$((fail + 1)); echo "  FAILED: $d"; fi; }
m=$top/build/bin/cvm-measure a=$top/build/bin/cvm-attest
for b in "$m" "$a"; do [ -x "$b" ] || { echo "test-measure-no-tls: fatal: unable to run: $b not built (make)" >&2; exit 1; }; done
command -v nm >/dev/null || { echo "test-measure-no-tls: fatal: unable to run: nm (binutils) not installed" >&2; exit 1; }
nm "$m" >"${TMPDIR:-/tmp}/no-tls.$$" 2>&1; syms=$(cat "${TMPDIR:-/tmp}/no-tls.$$"); rm -f "${TMPDIR:-/tmp}/no-tls.$$"
check "cvm-measure has symbols to scan" [ "$(grep -c . <<<"$syms")" -gt 1000 ]
check "cvm-measure has the verifier (cvm_verify_evidence)" grep -qw cvm_verify_evidence <<<"$syms"
check "cvm-measure has no mbedtls_ssl_ symbol" bash -c "! grep -q mbedtls_ssl_ <<<\"\$0\"" "$syms"
check "control: cvm-attest (TLS to the KBS) has mbedtls_ssl_ symbols" bash -c "nm '$a' | grep -q mbedtls_ssl_"
echo "test-measure-no-tls: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
