#!/usr/bin/env bash
# Dependencies point one way (HACKING.md): each module's library and CLI may
# use only the modules listed for it below.  Read from the built objects, not
# the includes: every symbol a module's objects leave undefined that another
# module's library defines must come from an allowed module.  Also: no symbol
# is defined by two module libraries (a second copy of a public function).
# The init's side (never verify/) is tests/cli/test-init-guest-only.sh.
# Needs `make all`.  Prints "N passed, M failed"; exits non-zero on any failure.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
b=$top/build/host
passed=0 failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

check() { # name, command...
	local name=$1; shift
	if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAIL: $name" >&2; fi
}

modules="common net attest verify image measure ovmf"
declare -A allowed=(
	[common]="common"
	[net]="net common"
	[attest]="attest net common"
	[verify]="verify attest net common"
	[image]="image common"
	[measure]="measure image verify attest common"
	[ovmf]="ovmf common"
)
# A CLI (MODULE/main.c, MODULE/cli/*.c) may use more than its library:
# cvm-attest verifies what it collects.
declare -A cli_allowed=(
	[attest]="verify attest net common"
)
for t in nm comm; do
	command -v "$t" >/dev/null || { echo "test-deps: fatal: unable to run: $t not installed" >&2; exit 1; }
done
for m in $modules; do
	[ -e "$b/libcvm-$m.a" ] || { echo "test-deps: fatal: unable to run: $b/libcvm-$m.a not built (make all)" >&2; exit 1; }
	nm --defined-only -g "$b/libcvm-$m.a" 2>/dev/null | awk 'NF == 3 && $2 ~ /[TDRB]/ { print $3 }' | sort -u >"$tmp/def-$m"
done
sort -m "$tmp"/def-* | sort -u >"$tmp/project"

# lib|cli module allowed-modules... -> the project symbols the module's
# library (lib) or CLI objects (cli) use from modules not allowed to it
violations() {
	local kind=$1 m=$2 objs=() o a; shift 2
	if [ "$kind" = lib ]; then
		objs=("$b/libcvm-$m.a")
	else
		for o in "$b/$m/main.o" "$b/$m"/cli/*.o; do [ -e "$o" ] && objs+=("$o"); done
		[ ${#objs[@]} -gt 0 ] || return 0
	fi
	nm -u "${objs[@]}" 2>/dev/null | awk '$1 == "U" { print $2 }' | sort -u | comm -12 - "$tmp/project" >"$tmp/used"
	: >"$tmp/ok"
	for a in "$@"; do cat "$tmp/def-$a" >>"$tmp/ok"; done
	# cvm-image parses init.conf with the init's own parser (init/config.c).
	[ "$kind$m" = cliimage ] && nm --defined-only -g "$b/init/config.o" | awk 'NF == 3 { print $3 }' >>"$tmp/ok"
	sort -u -o "$tmp/ok" "$tmp/ok"
	comm -23 "$tmp/used" "$tmp/ok"
}

report() { # what, symbols
	[ -n "$2" ] && echo "test-deps: $1 uses $(for s in $2; do for o in $modules; do grep -qx "$s" "$tmp/def-$o" && echo "$o:$s"; done; done | tr '\n' ' ')" >&2
	test -z "$2"
}
for m in $modules; do
	# shellcheck disable=SC2086
	check "$m library uses only: ${allowed[$m]}" report "$m library" "$(violations lib "$m" ${allowed[$m]})"
	# shellcheck disable=SC2086
	[ -e "$top/$m/main.c" ] && check "$m CLI uses only: ${cli_allowed[$m]:-${allowed[$m]}}" \
		report "$m CLI" "$(violations cli "$m" ${cli_allowed[$m]:-${allowed[$m]}})"
done

# No public symbol defined twice.
sort "$tmp"/def-* | uniq -d >"$tmp/twice"
[ -s "$tmp/twice" ] && echo "test-deps: defined in two modules: $(tr '\n' ' ' <"$tmp/twice")" >&2
check "no symbol defined by two modules" test ! -s "$tmp/twice"

# Controls: checks that cannot fire are no checks.  verify uses attest, and
# measure's COSE code the host-only ECDSA conversion in common/.
check "control: verify without attest is caught" test -n "$(violations lib verify verify net common)"
check "control: measure without common is caught" test -n "$(violations lib measure measure image)"
check "control: cvm-attest without verify is caught" test -n "$(violations cli attest attest net common)"
check "control: cvm-ovmf without common is caught" test -n "$(violations cli ovmf ovmf)"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
