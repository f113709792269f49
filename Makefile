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
.PHONY: all lib header demo test clean-logs check-header header-compile cargo-test scenarios modes python preload s-server openssl-suite clean

all: header

# The library (.so and .a); build.rs regenerates the header next to them.
lib:
	$(CARGO) build --release --locked

header: lib
	@cmp -s $(GENERATED_HEADER) include/ssl.h || { cp $(GENERATED_HEADER) include/ssl.h; echo "include/ssl.h regenerated"; }

demo: header
	tools/demo.sh

test: clean-logs check-header header-compile cargo-test bench-smoke scenarios modes python preload s-server openssl-suite
	@tests-c/summary.sh

clean-logs:
	@rm -rf $(LOGS)

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

# Preloaded real TLS beyond the pairs: TLS 1.3 (stateful, tickets), client caches, and four
# threads on one context; each plain, preloaded and preloaded with SESSCACHE_DISABLE=1.
preload: lib
	@mkdir -p $(LOGS)
	tests-c/preload/run.sh tls13 threads null_provider session_owner | tee $(LOGS)/preload.log

# openssl s_server -www and s_client -reconnect, plain and preloaded.
s-server: lib
	@mkdir -p $(LOGS)
	tests-c/s_server.sh | tee $(LOGS)/s-server.log

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
# then the engine's criterion micro-benchmarks (bench/run.sh; results in BENCHMARKS.md).
# `make bench-smoke`: each C benchmark once at a tiny size, so that they keep building.
.PHONY: bench bench-smoke
bench: header
	bench/run.sh
	$(CARGO) bench --locked --bench engine -- --warm-up-time 1 --measurement-time 3 --noplot

bench-smoke: header
	@mkdir -p $(LOGS)
	bench/run.sh --smoke | tee $(LOGS)/bench-smoke.log
