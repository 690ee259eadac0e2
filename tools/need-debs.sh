#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# need-debs.sh WHO PKG...: installs the Debian packages among PKG that are
# not installed, with apt-get as root; otherwise lists them and exits 1.
# WHO names the caller in messages (tests/deps.sh, bench/deps.sh, ...).
set -u
who=$1
shift
missing=()
for p in "$@"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "$who: missing packages: ${missing[*]}" >&2
	echo "$who: install them (sudo apt-get install ${missing[*]}) or run as root" >&2
	exit 1
fi
echo "$who: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null || { echo "$who: apt-get update failed" >&2; exit 1; }
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
	{ echo "$who: apt-get install ${missing[*]} failed" >&2; exit 1; }
