//! `sesscache run`: PROGRAM as a child with libsesscache preloaded; the signals an operator or
//! a service manager sends go on to it, and its exit status comes back as ours.

use std::ffi::{c_int, c_void};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::Command;
use std::sync::atomic::{AtomicI32, Ordering};

use crate::args::RunOptions;
use crate::locate;

/// The signals passed on to the child.
pub const FORWARDED: [c_int; 6] =
    [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT, libc::SIGUSR1, libc::SIGUSR2];

/// Exit statuses of our own failures, as env(1), nice(1) and timeout(1) have them.
pub const FAILED: i32 = 125;
pub const NOT_EXECUTABLE: i32 = 126;
pub const NOT_FOUND: i32 = 127;

/// si_code of a signal the kernel sent (a terminal's ^C, ^\ or hangup).
const SI_KERNEL: c_int = 0x80;

/// The child's pid once it runs; 0 before.
static CHILD: AtomicI32 = AtomicI32::new(0);

extern "C" fn forward(signal: c_int, info: *mut libc::siginfo_t, _context: *mut c_void) {
    // SAFETY: the kernel passes a valid siginfo to an SA_SIGINFO handler.
    if !info.is_null() && unsafe { (*info).si_code } == SI_KERNEL {
        // The terminal signals its whole foreground process group, the child included: passing
        // it on would deliver it twice.
        return;
    }
    let pid = CHILD.load(Ordering::SeqCst);
    if pid > 0 {
        // SAFETY: kill is async-signal-safe; errno is put back for the code we interrupted.
        unsafe {
            let saved = *libc::__errno_location();
            libc::kill(pid, signal);
            *libc::__errno_location() = saved;
        }
    }
}

/// The status a shell would give for the child's end: its exit code, or 128 + the signal that
/// killed it.
pub fn status_of(status: std::process::ExitStatus) -> i32 {
    match (status.code(), status.signal()) {
        (Some(code), _) => code,
        (None, Some(signal)) => 128 + signal,
        (None, None) => FAILED,
    }
}

pub fn run(opts: &RunOptions) -> i32 {
    let lib = match locate::library(opts.lib.as_deref()).and_then(|l| locate::preloadable(&l.path).map(|()| l)) {
        Ok(lib) => lib,
        Err(e) => {
            eprintln!("sesscache run: {e}");
            return FAILED;
        }
    };
    let mut command = Command::new(&opts.program);
    command.args(&opts.args);
    command.env("LD_PRELOAD", locate::preload_list(std::env::var_os("LD_PRELOAD").as_deref(), &lib.path));
    if let Some(report) = &opts.report {
        // Absolute: the library opens it later, after the program may have changed directory.
        match std::path::absolute(report) {
            Ok(path) => command.env("SESSCACHE_REPORT", path),
            Err(e) => {
                eprintln!("sesscache run: --report {}: {e}", report.display());
                return FAILED;
            }
        };
    }
    if opts.disable {
        command.env("SESSCACHE_DISABLE", "1");
    }
    // Until the child's pid is known, the signals wait (blocked). The child starts with the
    // signal mask we were given and the dispositions we were given (ignored stays ignored, so
    // nohup still works; the rest default), both put back between fork and exec.
    let Some(given_mask) = block_forwarded() else {
        eprintln!("sesscache run: cannot block signals: {}", std::io::Error::last_os_error());
        return FAILED;
    };
    let handled = install_handlers();
    let ignored = handled.ignored;
    // SAFETY: getpid has no preconditions.
    let parent = unsafe { libc::getpid() };
    // SAFETY: runs in the child between fork and exec, calling only async-signal-safe functions.
    unsafe {
        command.pre_exec(move || {
            for (i, &signal) in FORWARDED.iter().enumerate() {
                let mut given: libc::sigaction = std::mem::zeroed();
                given.sa_sigaction = if ignored[i] { libc::SIG_IGN } else { libc::SIG_DFL };
                if libc::sigaction(signal, &given, std::ptr::null_mut()) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            if libc::pthread_sigmask(libc::SIG_SETMASK, &given_mask, std::ptr::null_mut()) != 0 {
                return Err(std::io::Error::other("cannot restore the signal mask"));
            }
            // If we are killed outright, the child is told to stop rather than left running.
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM as libc::c_ulong) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            if libc::getppid() != parent {
                return Err(std::io::Error::other("sesscache run exited before the program started"));
            }
            Ok(())
        });
    }
    let spawned = command.spawn();
    if let Ok(child) = &spawned {
        CHILD.store(child.id() as i32, Ordering::SeqCst);
    }
    restore_mask(&given_mask);
    let mut child = match spawned {
        Ok(child) => child,
        Err(e) => {
            let program = opts.program.to_string_lossy();
            eprintln!("sesscache run: {program}: {e}");
            return match e.kind() {
                std::io::ErrorKind::NotFound => NOT_FOUND,
                std::io::ErrorKind::PermissionDenied => NOT_EXECUTABLE,
                _ if e.raw_os_error() == Some(libc::ENOEXEC) => NOT_EXECUTABLE,
                _ => FAILED,
            };
        }
    };
    let status = child.wait();
    CHILD.store(0, Ordering::SeqCst);
    drop(handled);
    match status {
        Ok(status) => status_of(status),
        Err(e) => {
            eprintln!("sesscache run: waiting for {}: {e}", opts.program.to_string_lossy());
            FAILED
        }
    }
}

fn forwarded_set() -> libc::sigset_t {
    // SAFETY: sigemptyset/sigaddset initialise and fill a sigset_t we own.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for s in FORWARDED {
            libc::sigaddset(&mut set, s);
        }
        set
    }
}

/// Blocks the forwarded signals; returns the mask to restore.
fn block_forwarded() -> Option<libc::sigset_t> {
    let set = forwarded_set();
    // SAFETY: valid sigset pointers.
    unsafe {
        let mut old: libc::sigset_t = std::mem::zeroed();
        (libc::pthread_sigmask(libc::SIG_BLOCK, &set, &mut old) == 0).then_some(old)
    }
}

fn restore_mask(old: &libc::sigset_t) {
    // SAFETY: a mask pthread_sigmask gave us.
    unsafe { libc::pthread_sigmask(libc::SIG_SETMASK, old, std::ptr::null_mut()) };
}

/// The dispositions replaced by `forward`, put back when dropped, and which of the forwarded
/// signals were ignored when we started.
struct Handlers {
    replaced: Vec<(c_int, libc::sigaction)>,
    ignored: [bool; FORWARDED.len()],
}

impl Drop for Handlers {
    fn drop(&mut self) {
        for (signal, old) in &self.replaced {
            // SAFETY: restores a disposition sigaction gave us.
            unsafe { libc::sigaction(*signal, old, std::ptr::null_mut()) };
        }
    }
}

/// `forward` for every forwarded signal, ignored ones included: a signal sent to us goes on to
/// the child, whose own disposition (inherited or set by the program) then decides, as if it
/// had been sent to the program directly.
fn install_handlers() -> Handlers {
    let mut handlers = Handlers { replaced: Vec::new(), ignored: [false; FORWARDED.len()] };
    for (i, &signal) in FORWARDED.iter().enumerate() {
        // SAFETY: sigaction with valid pointers; `forward` is async-signal-safe.
        unsafe {
            let mut old: libc::sigaction = std::mem::zeroed();
            if libc::sigaction(signal, std::ptr::null(), &mut old) != 0 {
                continue;
            }
            handlers.ignored[i] = old.sa_sigaction == libc::SIG_IGN;
            let mut new: libc::sigaction = std::mem::zeroed();
            new.sa_sigaction = forward as extern "C" fn(c_int, *mut libc::siginfo_t, *mut c_void) as usize;
            new.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART;
            libc::sigfillset(&mut new.sa_mask);
            if libc::sigaction(signal, &new, std::ptr::null_mut()) == 0 {
                handlers.replaced.push((signal, old));
            }
        }
    }
    handlers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_a_shells() {
        assert_eq!(status_of(std::process::ExitStatus::from_raw(0)), 0);
        assert_eq!(status_of(std::process::ExitStatus::from_raw(7 << 8)), 7);
        assert_eq!(status_of(std::process::ExitStatus::from_raw(libc::SIGTERM)), 128 + 15);
        // Killed with a core dump: still 128 + the signal.
        assert_eq!(status_of(std::process::ExitStatus::from_raw(libc::SIGQUIT | 0x80)), 128 + 3);
    }
}
