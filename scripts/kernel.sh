#!/usr/bin/env bash
# Kernel inputs from the pinned Debian packages.
#
#   scripts/kernel.sh root              print the cached, depmod'ed root of the kernel package
#   scripts/kernel.sh vmlinuz           print the path of the kernel image
#   scripts/kernel.sh stub              print the path of systemd-boot's linuxx64.efi.stub
#   scripts/kernel.sh modules DEST MOD... install MODs and their dependency closure (dracut-install)
#                                       under DEST/lib/modules, write DEST/lib/modules/load.list
#                                       and DEST/lib/modules/load.alias
#   scripts/kernel.sh inputs MOD...     print, one per line: a cached, read-only DIR with what
#                                       `modules` installs, the kernel image, the stub, the release
#
# load.list has one line per module in load order: the module's path relative to
# /lib/modules, then the paths of the modules it depends on (transitively), so the
# init can skip a module whose dependency does not apply to the machine.
# load.alias has one line per module asked for: its path, then its device
# aliases (modalias patterns); the init loads it only when a device matches.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
CVMKIT_CACHE=${CVMKIT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cvmkit}
DRACUT_INSTALL=${DRACUT_INSTALL:-/usr/lib/dracut/dracut-install}

die() { echo "kernel: fatal: $*" >&2; exit 1; }

# extract PKG -> prints a cached extraction root (keyed by the package's sha256)
extract() {
	local deb sha root kind track pkg ver path size
	while read -r kind track pkg ver path sha size; do
		case $kind in '' | '#'*) ;; *) [ "$track" = "$1" ] || [ "$pkg" = "$1" ] && break ;; esac
		sha=""
	done <"$top/deps/lock"
	[ -n "$sha" ] || die "no input named '$1' in deps/lock"
	root=$CVMKIT_CACHE/extract/$1-${sha:0:16}
	# A finished extraction (keyed by the package's hash) is used as is; the
	# package itself is looked up, and so verified, only to extract it.
	if [ ! -f "$root/.done" ]; then
		deb=$("$top/scripts/deps.sh" path "$1")
		rm -rf "$root.tmp"
		mkdir -p "$root.tmp"
		dpkg-deb -x "$deb" "$root.tmp"
		# bookworm's depmod and dracut-install look under lib/, trixie ships usr/lib.
		[ -e "$root.tmp/lib" ] || ln -s usr/lib "$root.tmp/lib"
		touch "$root.tmp/.done"
		rm -rf "$root"
		mv "$root.tmp" "$root"
	fi
	echo "$root"
}

kernel_root() {
	local root kver
	root=$(extract linux-image-cloud-amd64)
	kver=$(kver_of "$root")
	if [ ! -f "$root/usr/lib/modules/$kver/modules.dep.bin" ]; then
		depmod -b "$root" "$kver" || die "unable to run depmod on $kver"
	fi
	echo "$root"
}

kver_of() { # the one directory under usr/lib/modules, without a process
	local d n=0 k=""
	for d in "$1"/usr/lib/modules/*/; do
		[ -d "$d" ] || continue
		d=${d%/}; k=${d##*/}; n=$((n + 1))
	done
	[ $n = 1 ] || die "expected one kernel release under $1/usr/lib/modules, found $n"
	echo "$k"
}

# chain NAME: the module's closure in load order (modprobe prints it, the module last)
chain() {
	modprobe -d "$root" -S "$kver" --show-depends "$1" | awk '$1 == "insmod" { print $2 }' | sed "s|^$mdir/||"
}

# add_module NAME: append NAME after its dependencies, each with its own
# transitive dependencies on its line.
add_module() {
	local c rel
	mapfile -t c < <(chain "$1")
	[ ${#c[@]} -gt 0 ] || die "unable to order module $1"
	rel=${c[-1]}
	grep -q "^$rel\( \|\$\)" "$list.tmp" && return 0
	local deps=("${c[@]:0:${#c[@]}-1}")
	for d in "${deps[@]}"; do
		add_module "$(basename "${d%%.ko*}")"
	done
	echo "$rel${deps[*]:+ ${deps[*]}}" >>"$list.tmp"
}

# modules_cache ROOT MOD...: prints the cached tree (DIR/lib/modules) of the
# closure, resolving it first if needed.  The closure depends only on the
# kernel package, the module names and this script: a rebuild that changes
# only the workload does not resolve it again.
modules_cache() {
	local root=$1; shift
	local key cache
	key=$( { echo "${root##*/}"; echo "$*"; cat "$0"; } | sha256sum)
	cache=$CVMKIT_CACHE/modules/${key:0:16}
	if [ ! -f "$cache/.done" ]; then
		# Per process, so concurrent builds never share a half-written tree.
		rm -rf "$cache.tmp$$"; mkdir -p "$cache.tmp$$"
		modules_resolve "$cache.tmp$$" "$@"
		touch "$cache.tmp$$/.done"
		rm -rf "$cache"; mv "$cache.tmp$$" "$cache"
	fi
	echo "$cache"
}

cmd_modules() {
	local dest=$1; shift
	local cache
	cache=$(modules_cache "$(kernel_root)" "$@")
	mkdir -p "$dest/lib"
	cp -r "$cache/lib/modules" "$dest/lib/"
}

# inputs MOD...: everything build.sh needs from the kernel packages in one
# process: the modules tree (read it, do not write: it is the cache), the
# kernel image, the stub and the kernel release, one per line.
cmd_inputs() {
	local root kver stub mods
	root=$(kernel_root)
	kver=$(kver_of "$root")
	mods=$(modules_cache "$root" "$@")
	stub=$(extract systemd-boot-efi)
	printf '%s\n' "$mods" "$root/boot/vmlinuz-$kver" "$stub/usr/lib/systemd/boot/efi/linuxx64.efi.stub" "$kver"
}

modules_resolve() {
	local dest=$1; shift
	local root kver mdir tmp list
	root=$(kernel_root); kver=$(kver_of "$root"); mdir=$root/lib/modules/$kver
	[ -x "$DRACUT_INSTALL" ] || die "unable to find dracut-install at $DRACUT_INSTALL (package dracut-core)"
	tmp=$(mktemp -d)
	"$DRACUT_INSTALL" -D "$tmp" --kerneldir "$mdir" -m "$@" ||
		die "unable to resolve the module closure of: $*"
	mkdir -p "$dest/lib/modules"
	# dracut-install copies to DEST/<kernel dir>; flatten that to /lib/modules.
	(cd "$tmp/usr/lib/modules/$kver" && find . -type f -name '*.ko*' | sort | while read -r f; do
		mkdir -p "$dest/lib/modules/$(dirname "$f")"
		cp "$f" "$dest/lib/modules/$f"
	done)
	rm -rf "$tmp"
	list=$dest/lib/modules/load.list
	: >"$list.tmp"
	for m in "$@"; do
		add_module "$m"
	done
	# Under TCG (and on small CVMs) in-kernel xz decompression dominates the
	# init's module phase; the initramfs is LZ4-compressed as a whole anyway,
	# so ship the modules uncompressed.
	find "$dest/lib/modules" -name '*.ko.xz' -exec xz -d {} +
	sed 's/\.ko\.xz/.ko/g' "$list.tmp" >"$list"
	rm -f "$list.tmp"
	# load.alias: each module asked for, then its device aliases from
	# modules.alias, so the init loads it only when such a device is present
	# (as udev would).  Aliases without a bus prefix (fs-, crypto-, char-major-)
	# and devname: ones name no device: a module with only those is always loaded.
	local m rel name
	for m in "$@"; do
		rel=$(chain "$m" | tail -1)
		rel=${rel%.xz}
		name=$(basename "${rel%.ko}" | tr - _)
		echo "$rel$(awk -v n="$name" '$1 == "alias" && $3 == n && $2 ~ /:/ && $2 !~ /^devname:/ { printf " %s", $2 }' \
			"$mdir/modules.alias")"
	done >"$dest/lib/modules/load.alias"
}

case ${1:-} in
root) kernel_root ;;
vmlinuz) r=$(kernel_root); echo "$r/boot/vmlinuz-$(kver_of "$r")" ;;
kver) kver_of "$(kernel_root)" ;;
stub) r=$(extract systemd-boot-efi); echo "$r/usr/lib/systemd/boot/efi/linuxx64.efi.stub" ;;
modules) [ $# -ge 3 ] || die "usage: kernel.sh modules DEST MODULE..."; shift; cmd_modules "$@" ;;
inputs) [ $# -ge 2 ] || die "usage: kernel.sh inputs MODULE..."; shift; cmd_inputs "$@" ;;
*) echo "usage: scripts/kernel.sh root|vmlinuz|kver|stub|modules DEST MODULE...|inputs MODULE..." >&2; exit 2 ;;
esac
