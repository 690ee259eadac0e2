#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Description: the build contract: only shmkit_ symbols exported, each
# under a version node of src/shmkit.map, the SONAME libshmkit.so.1 (the
# Makefile's ABI), the public header alone compiles as C11 -pedantic and as
# C++, and an example builds against an installed copy through pkg-config.
set -u
B=${B:-build}
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

so=$B/libshmkit.so
[ -e "$so" ] || { echo "FAIL: $so missing"; exit 1; }
bad=$(nm -D --defined-only "$so" | awk '{print $3}' | grep -v '^shmkit_' | grep -v '^SHMKIT_' || true)
[ -z "$bad" ] || fail "exported symbols outside shmkit_: $bad"
nm -D --defined-only "$so" | grep -q ' shmkit_region_open' || fail "shmkit_region_open not exported"
unversioned=$(nm -D --defined-only "$so" | awk '$3 ~ /^shmkit_/ && $3 !~ /@@SHMKIT_[0-9.]+$/ {print $3}')
[ -z "$unversioned" ] || fail "exports without a SHMKIT_ version node: $unversioned"
# the ABI number (Makefile ABI), not the version: 0.2.0 broke 0.1's ABI
soname=libshmkit.so.1
readelf -d "$so" | grep -q "SONAME.*\[$soname\]" || fail "SONAME is not $soname"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '#include <shmkit.h>\nint main(void) { return shmkit_version() == 0; }\n' > "$tmp/h.c"
cc -std=c11 -pedantic -Wall -Wextra -Werror -Iinclude -c -o "$tmp/h.o" "$tmp/h.c" \
	|| fail "shmkit.h alone does not compile as C11 -pedantic"
if command -v g++ >/dev/null; then
	cp "$tmp/h.c" "$tmp/h.cc"
	g++ -std=c++11 -pedantic -Wall -Wextra -Werror -Iinclude -c -o "$tmp/hpp.o" "$tmp/h.cc" \
		|| fail "shmkit.h does not compile as C++"
else
	echo "note: g++ missing, C++ header check not run"
fi

# install into a staging root and build an example through pkg-config
make -s install B="$B" PREFIX=/usr DESTDIR="$tmp/root" >"$tmp/install.log" 2>&1 \
	|| { cat "$tmp/install.log"; fail "make install failed"; }
for f in usr/lib/libshmkit.a usr/lib/libshmkit.so usr/lib/$soname \
	 usr/include/shmkit.h usr/bin/shmkit usr/share/man/man1/shmkit.1 \
	 usr/lib/pkgconfig/shmkit.pc; do
	[ -e "$tmp/root/$f" ] || fail "install did not put $f"
done
export PKG_CONFIG_SYSROOT_DIR="$tmp/root" PKG_CONFIG_LIBDIR="$tmp/root/usr/lib/pkgconfig"
flags=$(pkg-config --cflags --libs shmkit) || fail "pkg-config does not know shmkit"
san=${SAN:+-fsanitize=$SAN}  # a sanitized library needs its runtime linked first
cc -std=c11 $san -o "$tmp/anon_fork" examples/anon_fork.c $flags || fail "example does not build via pkg-config"
out=$(LD_LIBRARY_PATH="$tmp/root/usr/lib" "$tmp/anon_fork") || fail "installed example failed"
ldd_out=$(LD_LIBRARY_PATH="$tmp/root/usr/lib" ldd "$tmp/anon_fork")
echo "$ldd_out" | grep -q "$soname => $tmp/root/usr/lib" \
	|| fail "example is not linked to the installed $soname"
echo "$out" | grep -q 'anonymous after child: 42' || fail "installed example output: $out"
[ $fails -eq 0 ]
