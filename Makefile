# sesscache: `make` builds the library and the header; `make test` runs every check.
CARGO ?= cargo
CC ?= cc
CXX ?= c++
RELEASE := target/release
GENERATED_HEADER := $(RELEASE)/include/ssl.h
LOGS := tests-c/out/logs
# Test steps pipe through tee into $(LOGS); pipefail keeps their exit status.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c

# `make demo`: openssl s_server preloaded with sesscache, resumed connections, the stats
# page and the SESSCACHE_REPORT line (tools/demo.sh).
.PHONY: all lib header demo test clean-logs lint module-cycles fmt-check clippy check-header header-compile cargo-test fuzz-smoke scenarios modes python preload s-server nginx stats fleet tickets tsan openssl-suite clean

all: header

# The library (.so and .a); build.rs regenerates the header next to them.
lib:
	$(CARGO) build --release --locked

header: lib
	@cmp -s $(GENERATED_HEADER) include/ssl.h || { cp $(GENERATED_HEADER) include/ssl.h; echo "include/ssl.h regenerated"; }

demo: header
	tools/demo.sh

test: clean-logs lint check-header header-compile cargo-test fuzz-smoke bench-smoke scenarios modes python preload s-server nginx stats fleet tickets tsan openssl-suite
	@tests-c/summary.sh

clean-logs:
	@rm -rf $(LOGS)

# The code's shape: no import cycle between the top-level modules of src/, rustfmt's layout,
# and no clippy warning (including an unsafe block without its SAFETY comment).
lint: module-cycles fmt-check clippy

module-cycles:
	@mkdir -p $(LOGS)
	tools/check_module_cycles.py | tee $(LOGS)/module-cycles.log

fmt-check:
	$(CARGO) fmt --check

clippy:
	$(CARGO) clippy --release --locked --all-targets -- -D warnings

# The committed header must be what the code generates.
check-header: lib
	@cmp -s $(GENERATED_HEADER) include/ssl.h || { echo "include/ssl.h is stale: run make and commit it"; diff -u include/ssl.h $(GENERATED_HEADER) | head -40; exit 1; }
	@echo "header: up to date"

# The header must compile cleanly as C99 and as C++.
header-compile: check-header
	@printf '#include <openssl/ssl.h>\nint main(void) { return SSL_CTX_new(TLS_method()) == 0; }\n' > $(RELEASE)/header_check.c
	$(CC) -std=c99 -Wall -Wextra -Werror -pedantic -Iinclude -c $(RELEASE)/header_check.c -o $(RELEASE)/header_check_c.o
	$(CXX) -x c++ -std=c++11 -Wall -Wextra -Werror -pedantic -Iinclude -c $(RELEASE)/header_check.c -o $(RELEASE)/header_check_cxx.o

cargo-test:
	@mkdir -p $(LOGS)
	$(CARGO) test --release --locked 2>&1 | tee $(LOGS)/cargo-test.log
	# The criterion benchmarks only build here, so that `make bench` keeps working.
	$(CARGO) build --release --locked --benches 2>&1 | tail -1

# Each cargo-fuzz target (fuzz/) for ~25 s from its committed corpus (tools/fuzz-smoke.sh;
# FUZZ_SECONDS sets the time); cargo test already replays the corpora.
fuzz-smoke:
	@mkdir -p $(LOGS)
	tools/fuzz-smoke.sh | tee $(LOGS)/fuzz-smoke.log

# Differential transcripts: libssl vs sesscache natively vs sesscache preloaded into the
# libssl build, all under valgrind.
scenarios: lib
	@mkdir -p $(LOGS)
	tests-c/run-scenarios.sh | tee $(LOGS)/scenarios.log

# How the library picks native, preload or pass-through mode (needs the scenario binaries).
modes: scenarios
	tests-c/modes/run.sh | tee $(LOGS)/modes.log

# Python's ssl module, plain and preloaded.
python: lib
	@mkdir -p $(LOGS)
	tests-c/python/run.sh | tee $(LOGS)/python.log

# Preloaded real TLS beyond the pairs: TLS 1.3 (stateful, tickets), client caches, four
# threads on one context, and connections moved by SNI to another context; each plain,
# preloaded and preloaded with SESSCACHE_DISABLE=1.
preload: lib
	@mkdir -p $(LOGS)
	tests-c/preload/run.sh tls13 threads sni null_provider session_owner | tee $(LOGS)/preload.log
	tests-c/preload/fleet/run.sh | tee -a $(LOGS)/preload.log

# openssl s_server -www and s_client -reconnect, plain and preloaded.
s-server: lib
	@mkdir -p $(LOGS)
	tests-c/s_server.sh | tee $(LOGS)/s-server.log

# nginx (Debian's), preloaded: two vhosts chosen by SNI resume plain and preloaded, and the
# SESSCACHE_REPORT of a daemon with workers running as nobody adds up to what its clients did.
nginx: lib
	@mkdir -p $(LOGS)
	tests-c/nginx/run.sh | tee $(LOGS)/nginx.log

# Live statistics: the per-process stats sockets, `sesscache stat` and `sesscache metrics`
# against preloaded nginx workers and their SESSCACHE_REPORT, another user's socket, garbage
# requests, stale sockets, no thread without a run directory (tests-c/stats/run.sh).
stats: lib
	@mkdir -p $(LOGS)
	tests-c/stats/run.sh | tee $(LOGS)/stats.log

# The fleet's session ticket keys (issue 12): tickets across contexts and rotations, the
# application's own ticket keys and callbacks untouched, fleet off unchanged (tests-c/tickets).
tickets: lib
	@mkdir -p $(LOGS)
	tests-c/tickets/run.sh | tee $(LOGS)/tickets.log

# The fleet tier against a real redis-server started on free 127.0.0.1 ports: sessions made in
# one process resume in another (TLS 1.2 ids, TLS 1.3 stateful) but not under another sid_ctx,
# removed or expired nowhere; a 4-worker server's resumption rate without and with the fleet;
# Redis absent, killed, restarted, stopped and paused; planted garbage, tampered and
# foreign-key blobs; no master key in Redis; Redis Cluster; network namespaces
# (tests-c/fleet/run.sh).
fleet: lib
	@mkdir -p $(LOGS)
	tests-c/fleet/run.sh | tee $(LOGS)/fleet.log

# ThreadSanitizer on the thread tests (Rust and tests-c/preload/threads.c, plain and preloaded):
# tools/tsan.sh, cached under /var/cache/sesscache/tsan-target. Without a nightly toolchain with
# rust-src (which .ci/run installs) it says so and is skipped.
tsan: lib
	@mkdir -p $(LOGS)
	@tools/tsan.sh 2>&1 | tee $(LOGS)/tsan.log; rc=$${PIPESTATUS[0]}; \
	if [ $$rc = 2 ]; then echo "tsan: SKIPPED (no nightly toolchain with rust-src, or no clang)"; \
	elif [ $$rc != 0 ]; then exit 1; fi

# OpenSSL's own test/sslapitest and test/ssl_test, plain and preloaded, on OpenSSL's source build
# (linked -Bsymbolic; built once and cached under /var/cache/sesscache, about 10 minutes the
# first time) and on the system's libssl; then the preload programs against that build's libssl
# (not the scenarios: there the SSL_SESSION ex_data numbering differs, see the README).
SUITE_PRELOAD := tls13 threads null_provider session_owner pairs/handshake_external pairs/handshake_flush \
	pairs/handshake_reneg pairs/handshake_tls12
openssl-suite: lib
	@mkdir -p $(LOGS)
	tests-c/openssl/run.sh | tee $(LOGS)/openssl-suite.log
	LIBSSL_DIR=$$(tests-c/openssl/build.sh | tail -n 1)/tree OUT=tests-c/out/preload-bsymbolic \
		tests-c/preload/run.sh $(SUITE_PRELOAD) | tee $(LOGS)/preload-bsymbolic.log

clean:
	$(CARGO) clean
	rm -rf tests-c/out

# `make bench`: the C benchmarks each way (libssl, preloaded, native), one table, the chart,
# then the engine's criterion micro-benchmarks (bench/run.sh; results in BENCHMARKS.md), then the
# fleet's handshakes through a real Redis at 0 and 1 ms of delay (bench/fleet.sh).
# `make bench-smoke`: each C benchmark once at a tiny size, so that they keep building.
.PHONY: bench bench-smoke
bench: header
	bench/run.sh
	$(CARGO) bench --locked --bench engine -- --warm-up-time 1 --measurement-time 3 --noplot
	bench/fleet.sh
	TICKETS=1 bench/fleet.sh
	bench/tickets.sh

# The fleet's fan-out cost per process at scale (bench/fleet_scale.sh; BENCHMARKS.md, "Fleet: cost
# per process at scale"): needs redis-server.
bench: bench-fleet-scale
.PHONY: bench-fleet-scale
bench-fleet-scale: header
	bench/fleet_scale.sh

bench-smoke: header
	@mkdir -p $(LOGS)
	bench/run.sh --smoke | tee $(LOGS)/bench-smoke.log

# `make install PREFIX=/usr/local DESTDIR=...` and `make uninstall`: the shared library under its
# soname (libsesscache.so.0 -> libsesscache.so.$(SESSCACHE_VERSION), libsesscache.so for
# -lsesscache), the static library, the headers (sesscache/ssl.h, and sesscache/openssl/ssl.h
# for sources that include <openssl/ssl.h>), sesscache.pc, the command, the man pages and the
# example systemd drop-in. `make install-test` checks all of it in a temporary DESTDIR.
.PHONY: install uninstall install-test
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/sesscache
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
INSTALL ?= install
SESSCACHE_VERSION := $(shell sed -n 's/^version = "\(.*\)"$$/\1/p' Cargo.toml | head -n 1)
SESSCACHE_SONAME := libsesscache.so.0

install: header
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(PKGCONFIGDIR) \
		$(DESTDIR)$(INCLUDEDIR)/sesscache/openssl $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man7 \
		$(DESTDIR)$(DOCDIR)/systemd
	$(INSTALL) -m 755 $(RELEASE)/libsesscache.so $(DESTDIR)$(LIBDIR)/libsesscache.so.$(SESSCACHE_VERSION)
	ln -sfn libsesscache.so.$(SESSCACHE_VERSION) $(DESTDIR)$(LIBDIR)/$(SESSCACHE_SONAME)
	ln -sfn $(SESSCACHE_SONAME) $(DESTDIR)$(LIBDIR)/libsesscache.so
	$(INSTALL) -m 644 $(RELEASE)/libsesscache.a $(DESTDIR)$(LIBDIR)/libsesscache.a
	$(INSTALL) -m 644 include/ssl.h $(DESTDIR)$(INCLUDEDIR)/sesscache/ssl.h
	$(INSTALL) -m 644 include/openssl/ssl.h $(DESTDIR)$(INCLUDEDIR)/sesscache/openssl/ssl.h
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' \
		-e 's|@VERSION@|$(SESSCACHE_VERSION)|g' contrib/sesscache.pc.in >$(RELEASE)/sesscache.pc
	$(INSTALL) -m 644 $(RELEASE)/sesscache.pc $(DESTDIR)$(PKGCONFIGDIR)/sesscache.pc
	$(INSTALL) -m 755 $(RELEASE)/sesscache $(DESTDIR)$(BINDIR)/sesscache
	$(INSTALL) -m 644 man/sesscache.1 $(DESTDIR)$(MANDIR)/man1/sesscache.1
	$(INSTALL) -m 644 man/sesscache.7 $(DESTDIR)$(MANDIR)/man7/sesscache.7
	$(INSTALL) -m 644 contrib/systemd/sesscache.conf $(DESTDIR)$(DOCDIR)/systemd/sesscache.conf
	@# Into the live system: refresh the loader's cache, so that -lsesscache programs find it.
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ] && command -v ldconfig >/dev/null; then ldconfig; fi

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/libsesscache.so.$(SESSCACHE_VERSION) $(DESTDIR)$(LIBDIR)/$(SESSCACHE_SONAME) \
		$(DESTDIR)$(LIBDIR)/libsesscache.so $(DESTDIR)$(LIBDIR)/libsesscache.a \
		$(DESTDIR)$(INCLUDEDIR)/sesscache/ssl.h $(DESTDIR)$(INCLUDEDIR)/sesscache/openssl/ssl.h \
		$(DESTDIR)$(PKGCONFIGDIR)/sesscache.pc $(DESTDIR)$(BINDIR)/sesscache \
		$(DESTDIR)$(MANDIR)/man1/sesscache.1 $(DESTDIR)$(MANDIR)/man7/sesscache.7 \
		$(DESTDIR)$(DOCDIR)/systemd/sesscache.conf
	-rmdir $(DESTDIR)$(INCLUDEDIR)/sesscache/openssl $(DESTDIR)$(INCLUDEDIR)/sesscache \
		$(DESTDIR)$(DOCDIR)/systemd $(DESTDIR)$(DOCDIR) 2>/dev/null
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ] && command -v ldconfig >/dev/null; then ldconfig; fi

install-test: lib
	@mkdir -p $(LOGS)
	tests-c/install/run.sh | tee $(LOGS)/install.log

test: install-test
