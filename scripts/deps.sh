#!/usr/bin/env bash
# Fetch, verify and build cvmkit's pinned inputs (deps/lock).
#
#   scripts/deps.sh fetch            download every locked input into the cache, verify sha256
#   scripts/deps.sh libs             build the libraries for the host (gcc) and the init (musl-gcc)
#   scripts/deps.sh ready            fetch and libs, skipped whole while nothing they read changed
#   scripts/deps.sh path NAME        print the verified cache path of one locked input
#   scripts/deps.sh refresh-lock     re-resolve every input against Debian trixie, rewrite deps/lock
#
# An input is verified (sha256) once, then trusted while its stamp holds: path,
# size, mtime and inode as verified, in build/deps-verified; any change, a
# clean build (no build/) and CI (CI=true) verify the hash again.  Builds are cached under
# $CVMKIT_CACHE/deps keyed by the lock line and the compiler, so a second run
# rebuilds nothing.  Writes build/deps.mk for the Makefile.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/apt-private.sh"
set -euo pipefail

LOCK=$top/deps/lock
DL=$CVMKIT_CACHE/downloads
BUILT=$CVMKIT_CACHE/deps

die() { echo "deps: fatal: $*" >&2; exit 1; }
say() { echo "deps: $*" >&2; }

lock_lines() { grep -vE '^\s*(#|$)' "$LOCK"; }

lock_get() { # NAME -> "kind track pkg version path sha size"
	local l
	l=$(lock_lines | awk -v n="$1" '$2 == n || $3 == n { print; exit }')
	[ -n "$l" ] || die "no input named '$1' in deps/lock"
	echo "$l"
}

sha_of() { sha256sum "$1" | cut -d' ' -f1; }

STAMP=$top/build/deps-verified
# stamp_of FILE: what must not change after the file's hash was verified
stamp_of() { stat -c '%n %s %.9Y %i' "$1"; }
# stamped FILE SHA: verified before, and unchanged since (never under CI)
stamped() {
	[ "${CI:-}" != true ] && [ -f "$STAMP" ] || return 1
	local want; want="$(stamp_of "$1") $2"
	grep -qxF -- "$want" "$STAMP"
}
# stamp FILE SHA: remember a verification (replacing the file's older stamp)
stamp() {
	local tmp line; line="$(stamp_of "$1") $2"
	mkdir -p "$top/build"
	tmp=$(mktemp "$STAMP.XXXXXX")
	{ [ ! -f "$STAMP" ] || grep -vF -- "$1 " "$STAMP" || true; echo "$line"; } >"$tmp"
	mv -f "$tmp" "$STAMP"
}

# fetch_one LOCKLINE -> prints the verified file path
fetch_one() {
	local kind track pkg ver path sha size f tmp
	read -r kind track pkg ver path sha size <<<"$1"
	f=$DL/$(basename "$path")
	# build.sh verifies every input once per run (deps.sh fetch) and then sets
	# CVMKIT_DEPS_VERIFIED for the helpers it calls, so one build hashes each
	# download once, not once per lookup.
	if [ -f "$f" ]; then
		if [ "${CVMKIT_DEPS_VERIFIED:-}" = "$(sha256sum <"$LOCK" | cut -c1-16)" ] || stamped "$f" "$sha"; then
			echo "$f"; return 0
		fi
		if [ "$(sha_of "$f")" = "$sha" ]; then
			stamp "$f" "$sha"
			echo "$f"; return 0
		fi
	fi
	mkdir -p "$DL"
	tmp=$(mktemp "$f.XXXXXX")
	if ! curl -sSfL --retry 3 -o "$tmp" "$APT_MIRROR/$path" 2>"$tmp.err"; then
		rm -f "$tmp"
		die "unable to fetch $pkg $ver ($kind): the archive no longer serves $path ($(tr -d '\n' <"$tmp.err"; rm -f "$tmp.err")); run 'scripts/deps.sh refresh-lock' to pin the current version"
	fi
	rm -f "$tmp.err"
	local got; got=$(sha_of "$tmp")
	if [ "$got" != "$sha" ]; then
		rm -f "$tmp"
		die "unable to verify $pkg $ver: sha256 $got, deps/lock pins $sha"
	fi
	mv -f "$tmp" "$f"
	stamp "$f" "$sha"
	echo "$f"
}

cmd_fetch() {
	local l
	while read -r l; do
		fetch_one "$l" >/dev/null
	done < <(lock_lines)
	say "all $(lock_lines | wc -l) locked inputs present and verified"
}

cmd_path() { fetch_one "$(lock_get "$1")"; }

# Hardened, reproducible flags shared by both targets.
LIB_CFLAGS="-O2 -fPIC -fstack-protector-strong -D_FORTIFY_SOURCE=2 -ffunction-sections -fdata-sections"

# build_lib NAME TARGET(host|musl) -> prints the install prefix
build_lib() {
	local name=$1 target=$2 line cc key prefix src tarball work
	line=$(lock_get "$name")
	case $target in
	host) cc=gcc ;;
	musl) cc=musl-gcc ;;
	*) die "unknown target $target" ;;
	esac
	command -v "$cc" >/dev/null || die "unable to build $name: $cc not installed (run build.sh as root to install it)"
	# The init's mbedtls drops what a TLS client and the JOSE code never use
	# (deps/mbedtls-guest.h) and is optimised for size: it dominates the init.
	local cflags=$LIB_CFLAGS guestcfg=""
	if [ "$target" = musl ]; then
		cflags=${cflags/-O2/-Os}
		[ "$name" = mbedtls ] && guestcfg=$top/deps/mbedtls-guest.h
	fi
	# Keyed by the recipe (this function), not the whole script: editing how
	# inputs are fetched or verified must not rebuild every library.
	key=$( (echo "$line"; echo "$cflags"; "$cc" --version 2>&1 | head -1; declare -f build_lib; [ -z "$guestcfg" ] || sha_of "$guestcfg") |
		sha256sum | cut -c1-16)
	prefix=$BUILT/$name-$target-$key
	if [ -f "$prefix/.done" ]; then
		echo "$prefix"; return 0
	fi
	tarball=$(fetch_one "$line")
	work=$(mktemp -d "$CVMKIT_CACHE/build.XXXXXX")
	tar -xf "$tarball" -C "$work"
	src=$(find "$work" -mindepth 1 -maxdepth 1 -type d | head -1)
	rm -rf "$prefix.tmp"; mkdir -p "$prefix.tmp/include" "$prefix.tmp/lib"
	local t0=$SECONDS
	case $name in
	mbedtls)
		if [ -n "$guestcfg" ]; then
			cp "$guestcfg" "$src/include/mbedtls-guest.h"
			cflags="$cflags -DMBEDTLS_USER_CONFIG_FILE='\"mbedtls-guest.h\"'"
		fi
		make -s -C "$src/library" CC="$cc" AR=ar CFLAGS="$cflags -I../include" \
			-j"$(nproc)" libmbedcrypto.a libmbedx509.a libmbedtls.a >"$work/log" 2>&1 ||
			{ tail -20 "$work/log" >&2; die "unable to build mbedtls for $target"; }
		cp "$src"/library/libmbed*.a "$prefix.tmp/lib/"
		cp -r "$src/include/mbedtls" "$src/include/psa" "$prefix.tmp/include/"
		[ -z "$guestcfg" ] || cp "$guestcfg" "$prefix.tmp/include/mbedtls-guest.h"
		;;
	lz4)
		make -s -C "$src/lib" CC="$cc" CFLAGS="$cflags" -j"$(nproc)" liblz4.a >"$work/log" 2>&1 ||
			{ tail -20 "$work/log" >&2; die "unable to build lz4 for $target"; }
		cp "$src/lib/liblz4.a" "$prefix.tmp/lib/"
		cp "$src"/lib/lz4.h "$src"/lib/lz4hc.h "$src"/lib/lz4frame.h "$prefix.tmp/include/"
		;;
	cjson)
		(cd "$src" && $cc $cflags -std=c89 -c cJSON.c -o cJSON.o && ar rcsD libcjson.a cJSON.o) >"$work/log" 2>&1 ||
			{ tail -20 "$work/log" >&2; die "unable to build cjson for $target"; }
		cp "$src/libcjson.a" "$prefix.tmp/lib/"
		mkdir -p "$prefix.tmp/include/cjson"
		cp "$src/cJSON.h" "$prefix.tmp/include/cjson/"
		;;
	zlib)
		# Only the static library: the guest inflates peer-pod initdata, the
		# host tools gzip it.  configure picks up CC and CFLAGS.
		# In the init the CRC and fixed-Huffman tables are computed at first
		# use (bss) instead of shipped (rodata): a smaller binary, one thread.
		local zcflags=$cflags
		[ "$target" = musl ] && zcflags="$cflags -DDYNAMIC_CRC_TABLE -DBUILDFIXED"
		(cd "$src" && CC="$cc" CFLAGS="$zcflags" ./configure --static &&
			make -j"$(nproc)" libz.a) >"$work/log" 2>&1 ||
			{ tail -20 "$work/log" >&2; die "unable to build zlib for $target"; }
		cp "$src/libz.a" "$prefix.tmp/lib/"
		cp "$src/zlib.h" "$src/zconf.h" "$prefix.tmp/include/"
		;;
	libcbor)
		command -v cmake >/dev/null || die "unable to build libcbor: cmake not installed"
		(cd "$src" && cmake -S . -B b -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE=Release \
			-DCMAKE_C_FLAGS="$cflags" -DBUILD_SHARED_LIBS=OFF -DWITH_TESTS=OFF -DWITH_EXAMPLES=OFF \
			-DSANITIZE=OFF -DCMAKE_INSTALL_PREFIX="$prefix.tmp" -DCMAKE_INSTALL_LIBDIR=lib &&
			cmake --build b -j"$(nproc)" && cmake --install b) >"$work/log" 2>&1 ||
			{ tail -20 "$work/log" >&2; die "unable to build libcbor for $target"; }
		rm -rf "$prefix.tmp/lib/pkgconfig" "$prefix.tmp/lib/cmake"
		;;
	*) die "no build recipe for $name" ;;
	esac
	# Archive members carry no timestamps (ar D), so identical inputs give identical bytes.
	for a in "$prefix.tmp"/lib/*.a; do
		ar -t "$a" >/dev/null
	done
	touch "$prefix.tmp/.done"
	rm -rf "$prefix"; mv "$prefix.tmp" "$prefix"
	rm -rf "$work"
	say "built $name for $target in $((SECONDS - t0)) s"
	echo "$prefix"
}

cmd_libs() {
	local out=$top/build/deps.mk tmp inc_host="" lib_host="" inc_musl="" lib_musl="" p key
	# Everything the eight library builds depend on, hashed in one pipeline:
	# when deps.mk was written for the same and its libraries are still
	# there, a rebuild resolves nothing (eight keys cost ~40 processes).
	key=$( (lock_lines; echo "$LIB_CFLAGS"; gcc --version 2>&1 | head -1; musl-gcc --version 2>&1 | head -1
		declare -f build_lib; cat "$top/deps/mbedtls-guest.h") | sha256sum | cut -c1-16)
	if [ -f "$out" ] && grep -qx "# key $key" "$out"; then
		local ok=1 w
		for w in $(grep '^DEPS_.*_LDFLAGS' "$out"); do
			case $w in -L*) [ -f "${w#-L}/../.done" ] || ok=0 ;; esac
		done
		[ $ok = 0 ] || return 0
	fi
	for name in mbedtls lz4 cjson libcbor zlib; do
		p=$(build_lib "$name" host); inc_host+=" -isystem $p/include"; lib_host+=" -L$p/lib"
		p=$(build_lib "$name" musl); inc_musl+=" -isystem $p/include"; lib_musl+=" -L$p/lib"
	done
	mkdir -p "$top/build"
	tmp=$(mktemp "$out.XXXXXX")
	cat >"$tmp" <<MK
# generated by scripts/deps.sh libs; do not edit
# key $key
DEPS_HOST_CPPFLAGS :=$inc_host
DEPS_HOST_LDFLAGS  :=$lib_host
DEPS_MUSL_CPPFLAGS :=$inc_musl -DMBEDTLS_USER_CONFIG_FILE='"mbedtls-guest.h"'
DEPS_MUSL_LDFLAGS  :=$lib_musl
MK
	# Objects depend on deps.mk: replace it only when it changes, so an
	# unchanged configuration rebuilds nothing.
	if cmp -s "$tmp" "$out"; then
		rm -f "$tmp"
	else
		mv -f "$tmp" "$out"
	fi
}

# ready_key: what fetch and libs depend on, hashed in one pipeline: the lock,
# this script (the recipes), the guest's mbedtls configuration, and the stat
# of every download, of dpkg's status file and of the compilers (an upgrade
# of gcc or musl rewrites dpkg's status; a compiler elsewhere on PATH is
# another path).
ready_key() {
	local kind track pkg ver path sha size files=()
	while read -r kind track pkg ver path sha size; do
		case $kind in '' | '#'*) continue ;; esac
		files+=("$DL/${path##*/}")
	done <"$LOCK"
	local key
	key=$({
		stat -L -c '%n %s %.9Y %i' /var/lib/dpkg/status "$(type -P gcc)" "$(type -P musl-gcc)" "${files[@]}" 2>&1
		cat "$LOCK" "$0" "$top/deps/mbedtls-guest.h"
	} | sha256sum)
	echo "${key%% *}"
}

# ready: fetch, then libs; nothing at all when ready_key is the one recorded
# after the last successful run and deps.mk's libraries are still there.
# CI and a clean build (no build/) always run both.
cmd_ready() {
	local stamp=$top/build/deps-ready key w ok=1
	if [ "${CI:-}" != true ] && [ -f "$stamp" ] && [ -f "$top/build/deps.mk" ]; then
		key=$(ready_key)
		if [ "$(<"$stamp")" = "$key" ]; then
			while read -r w; do
				for w in $w; do
					case $w in -L*) [ -f "${w#-L}/../.done" ] || ok=0 ;; esac
				done
			done <"$top/build/deps.mk"
			[ $ok = 0 ] || return 0
		fi
	fi
	cmd_fetch
	cmd_libs
	key=$(ready_key)
	mkdir -p "$top/build"
	echo "$key" >"$stamp.tmp$$" && mv -f "$stamp.tmp$$" "$stamp"
}

cmd_refresh_lock() {
	apt_private_update
	local tmp kind track pkg ver path sha size newpkg line
	tmp=$(mktemp "$LOCK.XXXXXX")
	grep -E '^\s*(#|$)' "$LOCK" >"$tmp"
	while read -r kind track pkg ver path sha size; do
		case $kind in
		deb)
			# A metapackage (track) names the concrete package it depends on.
			newpkg=$(apt_private apt-cache depends "$track" 2>/dev/null |
				awk '/Depends:/ && $2 ~ /^linux-image-/ { print $2; exit }')
			[ -n "$newpkg" ] || newpkg=$track
			line=$(apt_private apt-cache show "$newpkg" | awk '
				/^Version:/ { v=$2 } /^Filename:/ { f=$2 } /^SHA256:/ { s=$2 } /^Size:/ { z=$2 }
				/^$/ { if (v) exit } END { print v, f, s, z }')
			read -r ver path sha size <<<"$line"
			pkg=$newpkg
			;;
		src)
			line=$(apt_private apt-cache showsrc "$track" | awk '
				/^Version:/ { v=$2 } /^Directory:/ { d=$2 }
				/^Checksums-Sha256:/ { c=1; next } /^[^ ]/ { c=0 }
				c && $3 ~ /\.orig\.tar\./ { s=$1; z=$2; n=$3 }
				/^$/ { if (v) exit } END { print v, d "/" n, s, z }')
			read -r ver path sha size <<<"$line"
			;;
		esac
		[ -n "$sha" ] || die "unable to resolve $track in Debian trixie"
		printf '%-7s %-26s %-37s %-21s %-94s %s %s\n' "$kind" "$track" "$pkg" "$ver" "$path" "$sha" "$size" >>"$tmp"
	done < <(lock_lines)
	mv -f "$tmp" "$LOCK"
	say "deps/lock refreshed; diff it, then rebuild and run tests/run"
}

case ${1:-} in
fetch) cmd_fetch ;;
ready) cmd_ready ;;
libs) cmd_libs ;;
path) [ $# -eq 2 ] || die "usage: deps.sh path NAME"; cmd_path "$2" ;;
refresh-lock) cmd_refresh_lock ;;
*) echo "usage: scripts/deps.sh fetch|libs|path NAME|refresh-lock" >&2; exit 2 ;;
esac
