#!/usr/bin/env bash
# Private apt setup for Debian trixie: its own sources list, lists and cache, so
# the host's apt configuration (bookworm) is never touched.  Sourced by other
# scripts; defines apt_private <apt-get|apt-cache> ARGS...
set -euo pipefail

CVMKIT_CACHE=${CVMKIT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/cvmkit}
APT_ROOT=$CVMKIT_CACHE/apt
APT_MIRROR=${CVMKIT_APT_MIRROR:-http://deb.debian.org/debian}

apt_private_init() {
	mkdir -p "$APT_ROOT"/lists/partial "$APT_ROOT"/archives/partial "$APT_ROOT"/etc/preferences.d
	cat >"$APT_ROOT/etc/sources.list" <<SRC
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $APT_MIRROR trixie main
deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $APT_MIRROR trixie main
SRC
	: >"$APT_ROOT/etc/apt.conf"
	cat >"$APT_ROOT/etc/apt.conf" <<CONF
Dir::Etc::SourceList "$APT_ROOT/etc/sources.list";
Dir::Etc::SourceParts "/nonexistent";
Dir::Etc::Preferences "$APT_ROOT/etc/preferences";
Dir::Etc::PreferencesParts "$APT_ROOT/etc/preferences.d";
Dir::State::Lists "$APT_ROOT/lists";
Dir::State::status "$APT_ROOT/status";
Dir::Cache "$APT_ROOT";
Dir::Cache::archives "$APT_ROOT/archives";
APT::Architecture "amd64";
APT::Sandbox::User "root";
Acquire::Languages "none";
CONF
	: >"$APT_ROOT/etc/preferences"
	[ -f "$APT_ROOT/status" ] || : >"$APT_ROOT/status"
}

apt_private() {
	local tool=$1; shift
	APT_CONFIG="$APT_ROOT/etc/apt.conf" "$tool" -o Debug::NoLocking=1 "$@"
}

# Refresh the private lists when they are missing or older than a day.
apt_private_update() {
	apt_private_init
	local stamp=$APT_ROOT/lists/.updated
	if [ -z "$(find "$stamp" -mmin -1440 2>/dev/null)" ]; then
		apt_private apt-get -qq update
		touch "$stamp"
	fi
}
