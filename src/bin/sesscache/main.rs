//! `sesscache`: the operator's command, installed beside the library.
//!
//! - `run`: a program with the library preloaded, its signals and exit status passed through;
//! - `keygen`: a fresh fleet key file;
//! - `check`: whether the library can be preloaded into a program, and a key file's shape;
//! - `stat`: every process using the library, live, from their stats sockets (`procs`);
//! - `metrics`: the same for Prometheus.
//!
//! It knows the library only from outside (its file, its soname, its environment variables,
//! its stats sockets), as an operator does.

mod args;
mod check;
mod elf;
mod keyfile;
mod locate;
mod metrics;
mod procs;
mod run;
mod stat;

use args::{Command, Topic};

const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Exit statuses of keygen, check and usage errors.
const OK: i32 = 0;
const FAILED: i32 = 1;
const USAGE: i32 = 2;

const HELP: &str = "\
usage: sesscache COMMAND [ARGS]

OpenSSL's TLS session cache as a preloadable library: the operator's command.

commands:
  run [--report FILE] [--disable] [--lib PATH] [--] PROGRAM [ARGS...]
                   run PROGRAM with libsesscache preloaded
  keygen FILE      write a fresh fleet key to FILE (mode 0600, never overwrites)
  check [--key FILE] [PROGRAM]
                   can libsesscache be preloaded into PROGRAM (default: openssl)?
  stat [--once] [--json] [--interval S] [--count N] [--run-dir DIR]
                   every process using libsesscache, live
  metrics [--listen ADDR] [--run-dir DIR]
                   a Prometheus endpoint for every process (default 127.0.0.1:9464)
  help [COMMAND]   this text, or one command's
  --version        the version

See sesscache(1) for the command and sesscache(7) for the library's settings.
";

const HELP_RUN: &str = "\
usage: sesscache run [--report FILE] [--disable] [--lib PATH] [--] PROGRAM [ARGS...]

Runs PROGRAM with libsesscache added to LD_PRELOAD (after whatever LD_PRELOAD holds), so that
a program built for the system's libssl 3 uses sesscache as every SSL_CTX's session cache.
SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 are passed on to PROGRAM; the exit
status is PROGRAM's, or 128 + the signal that killed it.

options:
  --report FILE   SESSCACHE_REPORT=FILE: one JSON line per SSL_CTX appended at exit
  --disable       SESSCACHE_DISABLE=1: preloaded, but every call passes through to libssl
  --lib PATH      preload PATH instead of the library beside the command (also SESSCACHE_LIB)

The library: --lib, else $SESSCACHE_LIB, else PREFIX/lib/libsesscache.so.0 beside
PREFIX/bin/sesscache, else libsesscache.so in the command's own directory (a build tree),
else libsesscache.so.0 wherever the dynamic loader finds it.

exit status: PROGRAM's; 125 when sesscache itself fails (no library), 126 when PROGRAM
cannot be executed, 127 when it is not found, 2 for a usage error.
";

const HELP_KEYGEN: &str = "\
usage: sesscache keygen FILE

Writes one fresh random key (32 bytes from getrandom, as 64 hex digits and a newline) to FILE,
created with mode 0600. An existing FILE (or a symlink there) is never overwritten. The format
is SESSCACHE_FLEET_KEY_FILE's: one key a line; the first line seals, every line opens, so a
rotation puts a new key on the first line and keeps the old ones below it for a while.

exit status: 0 written, 1 not written, 2 usage error.
";

const HELP_CHECK: &str = "\
usage: sesscache check [--key FILE] [PROGRAM]

Says whether libsesscache can be preloaded into PROGRAM (a path, or a name looked up in PATH;
a script is judged by its interpreter; default: the openssl command, or the system's libssl on
its own when there is none):
  - whether PROGRAM loads libssl.so.3 (OpenSSL 3) dynamically, and which file the dynamic
    loader resolves it to; a statically linked OpenSSL cannot be replaced;
  - whether that libssl was linked with -Bsymbolic (DT_SYMBOLIC, DF_SYMBOLIC) and whether
    its own calls to SSL_CTX_flush_sessions can be interposed;
  - whether the library `sesscache run` would preload is found and loads;
  - with --key FILE (or SESSCACHE_FLEET_KEY_FILE): that every line is a 64-hex-digit key,
    with a warning when group or others may read or write it.

Each line starts with ok, note or FAIL. exit status: 0 no FAIL, 1 a FAIL, 2 usage error.
";

const HELP_STAT: &str = "\
usage: sesscache stat [--once] [--json] [--interval SECONDS] [--count N] [--run-dir DIR]

Shows every process on this host that uses libsesscache and has a stats socket in the run
directory (DIR, else $SESSCACHE_RUN_DIR, else $XDG_RUNTIME_DIR/sesscache, else /run/sesscache):
pid, program, mode, contexts, sessions cached, accepts, hits, misses, timeouts, cache_full and
hit ratio (hits / (hits + misses)), with the host's totals on top. The counts are each
process's own: a forked worker counts from the fork. Sockets of processes that are gone are
removed; other users' sockets cannot be read (mode 0600) and are counted as such.

options:
  --once          one screen, no refresh
  --json          one JSON document (processes, totals); with --count, one a refresh
  --interval S    seconds between refreshes (default 1)
  --count N       stop after N refreshes
  --run-dir DIR   the run directory to read

Live, q or Ctrl-C quits. exit status: 0, or 1 when there is no run directory.
";

const HELP_METRICS: &str = "\
usage: sesscache metrics [--listen ADDR] [--run-dir DIR]

Serves GET /metrics on ADDR (default 127.0.0.1:9464) for Prometheus: at each scrape, every
process's stats socket is read (as `sesscache stat` does), and its counters are exported in
the OpenMetrics text format with the labels pid, program and mode (sesscache_accept_total,
sesscache_hits_total, ..., the gauges sesscache_sessions and sesscache_contexts), with the
host's totals as sesscache_host_*. One request at a time, each read for at most 5 s and 8 KiB.

exit status: 1 when ADDR cannot be bound; otherwise it runs until killed.
";

fn help(topic: Option<Topic>) -> &'static str {
    match topic {
        None => HELP,
        Some(Topic::Run) => HELP_RUN,
        Some(Topic::Keygen) => HELP_KEYGEN,
        Some(Topic::Check) => HELP_CHECK,
        Some(Topic::Stat) => HELP_STAT,
        Some(Topic::Metrics) => HELP_METRICS,
    }
}

fn main() {
    let words: Vec<_> = std::env::args_os().skip(1).collect();
    let status = match args::parse(&words) {
        Err(e) => {
            eprintln!("sesscache: {e}");
            eprintln!("Try 'sesscache --help'.");
            USAGE
        }
        Ok(Command::Help(topic)) => {
            print!("{}", help(topic));
            OK
        }
        Ok(Command::Version) => {
            println!("sesscache {VERSION}");
            OK
        }
        Ok(Command::Run(opts)) => run::run(&opts),
        Ok(Command::Keygen { file }) => match keyfile::generate(&file) {
            Ok(()) => {
                eprintln!("sesscache keygen: wrote a new key to {} (mode 0600)", file.display());
                OK
            }
            Err(e) => {
                eprintln!("sesscache keygen: {e}");
                FAILED
            }
        },
        Ok(Command::Check { program, key }) => check::check(program.as_deref(), key.as_deref()),
        Ok(Command::Stat(opts)) => stat::stat(&opts),
        Ok(Command::Metrics { listen, run_dir }) => metrics::serve(&listen, run_dir.as_deref()),
    };
    std::process::exit(status);
}
