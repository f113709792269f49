#!/usr/bin/env bash
# Builds OpenSSL 3.0.x from Debian's source package the upstream way (./Configure shared), just
# enough to run test/sslapitest and test/ssl_test as their recipes do, cached outside the clone:
# $CACHE/openssl-VERSION/ (default CACHE=/var/cache/sesscache). A second run finds the stamp and
# only prints the directory. About 8-10 minutes on 2 cores the first time.
#
# usage: tests-c/openssl/build.sh        prints the build directory on its last line of stdout
# env:   SESSCACHE_CACHE (default /var/cache/sesscache)
set -euo pipefail
CACHE=${SESSCACHE_CACHE:-/var/cache/sesscache}
say() { echo "openssl-build: $*" >&2; }

# A finished build: nothing to do (no network, no apt).
for stamp in "$CACHE"/openssl-*/.sesscache-built; do
    if [ -f "$stamp" ]; then
        dirname "$stamp"
        exit 0
    fi
done

export DEBIAN_FRONTEND=noninteractive
# The machine's sources carry only `deb` lines: add the matching `deb-src` ones.
if ! grep -rqsE '^(deb-src|Types:.*deb-src)' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    src=/etc/apt/sources.list.d/debian.sources
    [ -f "$src" ] || { say "no $src to derive deb-src lines from"; exit 1; }
    say "adding deb-src sources (/etc/apt/sources.list.d/sesscache-deb-src.sources)"
    sed -E 's/^Types:.*/Types: deb-src/' "$src" >/etc/apt/sources.list.d/sesscache-deb-src.sources
fi
need=()
command -v dpkg-source >/dev/null || need+=(dpkg-dev)
command -v perl >/dev/null || need+=(perl)
command -v make >/dev/null || need+=(make)
command -v cc >/dev/null || need+=(gcc)
apt-get update -qq
[ ${#need[@]} -eq 0 ] || apt-get install -y -qq "${need[@]}" >&2
dpkg -s dpkg-dev >/dev/null 2>&1 || apt-get install -y -qq dpkg-dev >&2

# The newest source version the mirror actually serves (an index may name one not yet there).
dir=
for version in $(apt-cache showsrc openssl | sed -n 's/^Version: //p' | sort -rV); do
    d="$CACHE/openssl-$version"
    if [ -f "$d/.sesscache-fetched" ]; then dir=$d; break; fi
    rm -rf "$d/src" && mkdir -p "$d/src"
    say "apt-get source openssl=$version into $d/src (without Debian's patches)"
    # Upstream's tree as released: Debian's patches are left out (one of them, no-symbolic.patch,
    # removes the -Bsymbolic link flag this build is for).
    if (cd "$d/src" && apt-get source --download-only -qq "openssl=$version" >&2 &&
        dpkg-source --skip-patches -x ./*.dsc >&2); then
        touch "$d/.sesscache-fetched"
        dir=$d
        break
    fi
    rm -rf "$d"
done
[ -n "$dir" ] || { say "apt-get source openssl: no version could be fetched"; exit 1; }
top=$(find "$dir/src" -mindepth 1 -maxdepth 1 -type d -name 'openssl-*' | head -n 1)
[ -n "$top" ] || { say "no source tree under $dir/src"; exit 1; }
ln -sfn "$top" "$dir/tree"
cd "$top"

# Upstream's own configuration: the shared libraries with upstream's link flags (on Linux
# `-Wl,-Bsymbolic`: libssl's calls to its own functions never leave it).
if [ ! -f Makefile ]; then
    say "./Configure shared"
    nice -n 10 ./Configure shared >"$dir/configure.log" 2>&1 || { tail -20 "$dir/configure.log" >&2; exit 1; }
fi
say "building libraries, providers and the two test programs (make -j2, log $dir/build.log)"
nice -n 10 make -j2 build_generated >"$dir/build.log" 2>&1 &&
    nice -n 10 make -j2 libcrypto.so libssl.so test/sslapitest test/ssl_test >>"$dir/build.log" 2>&1 &&
    nice -n 10 make -j2 build_modules >>"$dir/build.log" 2>&1 ||
    { tail -30 "$dir/build.log" >&2; exit 1; }

# test/recipes/80-test_ssl_new.t generates each ssl-tests/*.cnf from its .cnf.in at test time,
# once per provider setting it runs ("none": the default library context; "default": a library
# context of its own); do it once here. No fips module is built, so not for "fips".
rm -rf "$dir/ssl-tests" && mkdir -p "$dir/ssl-tests"
for in in test/ssl-tests/*.cnf.in; do
    for provider in none default; do
        out="$dir/ssl-tests/$(basename "$in" .in).$provider"
        (cd "$dir/ssl-tests" && SRCTOP="$top" BLDTOP="$top" perl -I"$top/util/perl" \
            "$top/test/generate_ssl_tests.pl" "$top/$in" "$provider" >"$out.tmp" 2>>"$dir/build.log") &&
            grep -q '^num_tests' "$out.tmp" && mv "$out.tmp" "$out" ||
            { say "generate_ssl_tests.pl $in $provider failed (see $dir/build.log)"; exit 1; }
    done
done

# Whether this libssl is linked -Bsymbolic (DT_SYMBOLIC, or FLAGS SYMBOLIC).
if readelf -d libssl.so.3 | grep -qE 'SYMBOLIC'; then symbolic=yes; else symbolic=no; fi
echo "$symbolic" >"$dir/libssl-symbolic"
say "libssl.so.3 linked -Bsymbolic: $symbolic"
touch "$dir/.sesscache-built"
echo "$dir"
