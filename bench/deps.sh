#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs gnuplot (Debian package gnuplot-nox) for `shmkit bench --plot`
# when it is missing: apt-get as root, else a clear note.  Called by
# `make bench`; a bench without a chart still runs.
set -u
command -v gnuplot >/dev/null && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "bench/deps.sh: gnuplot is missing: install gnuplot-nox (sudo apt-get install gnuplot-nox) for the chart; the bench runs without it" >&2
	exit 1
fi
echo "bench/deps.sh: installing gnuplot-nox"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null &&
	apt-get install -y -qq --no-install-recommends gnuplot-nox >/dev/null ||
	{ echo "bench/deps.sh: apt-get install gnuplot-nox failed" >&2; exit 1; }
