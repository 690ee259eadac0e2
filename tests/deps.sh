#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs what the tests need when it is missing: apt-get as root, else a
# clear list of what to install.  Called by `make test` before building.
exec "$(dirname "$0")/../tools/need-debs.sh" tests/deps.sh \
	libcriterion-dev pkg-config python3 util-linux gnuplot-nox valgrind spin \
	libuv1-dev
