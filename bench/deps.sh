#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs gnuplot (Debian package gnuplot-nox) for `shmkit bench --plot`
# when it is missing: apt-get as root, else a clear note.  Called by
# `make bench`, which runs without the chart when this fails.
command -v gnuplot >/dev/null && exit 0
"$(dirname "$0")/../tools/need-debs.sh" bench/deps.sh gnuplot-nox ||
	{ echo "bench/deps.sh: the bench runs without the chart" >&2; exit 1; }
