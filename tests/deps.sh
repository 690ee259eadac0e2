#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs what the tests need when it is missing: apt-get as root, else a
# clear list of what to install.  Called by `make test` before building.
set -u
pkgs=(libcriterion-dev pkg-config python3 util-linux gnuplot-nox)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
		|| missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "tests/deps.sh: missing packages: ${missing[*]}" >&2
	echo "tests/deps.sh: install them (sudo apt-get install ${missing[*]}) or run make test as root" >&2
	exit 1
fi
echo "tests/deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null || { echo "tests/deps.sh: apt-get update failed" >&2; exit 1; }
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
	|| { echo "tests/deps.sh: apt-get install ${missing[*]} failed" >&2; exit 1; }
