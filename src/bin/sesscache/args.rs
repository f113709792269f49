//! The command line: what each subcommand was asked to do, or why the words make no sense.

use std::ffi::{OsStr, OsString};
use std::path::PathBuf;

#[derive(Debug, PartialEq)]
pub enum Command {
    /// `sesscache --help`, `sesscache help [TOPIC]`, `sesscache TOPIC --help`.
    Help(Option<Topic>),
    Version,
    Run(RunOptions),
    Keygen {
        file: PathBuf,
    },
    Check {
        program: Option<OsString>,
        key: Option<PathBuf>,
    },
    Stat(StatOptions),
    Metrics {
        listen: String,
        run_dir: Option<PathBuf>,
    },
}

#[derive(Debug, PartialEq)]
pub struct StatOptions {
    /// The run directory instead of the default rule's.
    pub run_dir: Option<PathBuf>,
    /// Seconds between refreshes.
    pub interval: f64,
    /// At most this many screens.
    pub count: Option<u64>,
    pub once: bool,
    pub json: bool,
}

impl Default for StatOptions {
    fn default() -> Self {
        StatOptions { run_dir: None, interval: 1.0, count: None, once: false, json: false }
    }
}

#[derive(Debug, PartialEq, Clone, Copy)]
pub enum Topic {
    Run,
    Keygen,
    Check,
    Stat,
    Metrics,
}

#[derive(Debug, PartialEq, Default)]
pub struct RunOptions {
    /// SESSCACHE_REPORT for the program.
    pub report: Option<PathBuf>,
    /// SESSCACHE_DISABLE=1: preloaded, but every call passes through to libssl.
    pub disable: bool,
    /// The library to preload instead of the one beside the command.
    pub lib: Option<PathBuf>,
    pub program: OsString,
    pub args: Vec<OsString>,
}

/// A command line that cannot be carried out as written (exit status 2).
#[derive(Debug, PartialEq)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn usage(msg: impl Into<String>) -> UsageError {
    UsageError(msg.into())
}

/// The arguments after the command's own name.
pub fn parse(args: &[OsString]) -> Result<Command, UsageError> {
    let Some(first) = args.first() else { return Err(usage("no command given")) };
    let rest = &args[1..];
    match first.to_str() {
        Some("-h" | "--help") => Ok(Command::Help(None)),
        Some("-V" | "--version") => Ok(Command::Version),
        Some("help") => match rest {
            [] => Ok(Command::Help(None)),
            [topic] => topic_of(topic).map(|t| Command::Help(Some(t))),
            _ => Err(usage("help takes at most one command name")),
        },
        Some("run") => parse_run(rest),
        Some("keygen") => parse_keygen(rest),
        Some("check") => parse_check(rest),
        Some("stat") => parse_stat(rest),
        Some("metrics") => parse_metrics(rest),
        _ => Err(usage(format!("unknown command '{}'", first.to_string_lossy()))),
    }
}

fn topic_of(word: &OsStr) -> Result<Topic, UsageError> {
    match word.to_str() {
        Some("run") => Ok(Topic::Run),
        Some("keygen") => Ok(Topic::Keygen),
        Some("check") => Ok(Topic::Check),
        Some("stat") => Ok(Topic::Stat),
        Some("metrics") => Ok(Topic::Metrics),
        _ => Err(usage(format!("no help on '{}'", word.to_string_lossy()))),
    }
}

/// One option of a subcommand as the user wrote it: `--name`, `--name VALUE` or `--name=VALUE`.
struct Options<'a> {
    args: &'a [OsString],
    at: usize,
}

enum Item<'a> {
    /// An option's name (without any `=VALUE`), and its inline value if it had one.
    Option(&'a str, Option<&'a OsStr>),
    /// The operands start at this index (past a `--` that ended the options).
    Operands { at: usize },
}

impl<'a> Options<'a> {
    fn new(args: &'a [OsString]) -> Self {
        Options { args, at: 0 }
    }

    fn next(&mut self) -> Result<Item<'a>, UsageError> {
        let Some(arg) = self.args.get(self.at) else { return Ok(Item::Operands { at: self.at }) };
        let bytes = std::os::unix::ffi::OsStrExt::as_bytes(arg.as_os_str());
        if bytes == b"--" {
            return Ok(Item::Operands { at: self.at + 1 });
        }
        if bytes.len() < 2 || bytes[0] != b'-' {
            return Ok(Item::Operands { at: self.at });
        }
        self.at += 1;
        let (name, value) = match bytes.iter().position(|&b| b == b'=') {
            Some(eq) if bytes.starts_with(b"--") => {
                let value: &OsStr = std::os::unix::ffi::OsStrExt::from_bytes(&bytes[eq + 1..]);
                (&bytes[..eq], Some(value))
            }
            _ => (bytes, None),
        };
        let name =
            std::str::from_utf8(name).map_err(|_| usage(format!("unknown option '{}'", arg.to_string_lossy())))?;
        Ok(Item::Option(name, value))
    }

    /// The value of the option just read: inline, or the next argument.
    fn value(&mut self, name: &str, inline: Option<&'a OsStr>) -> Result<&'a OsStr, UsageError> {
        if let Some(v) = inline {
            return Ok(v);
        }
        let v = self.args.get(self.at).ok_or_else(|| usage(format!("{name} needs a value")))?;
        self.at += 1;
        Ok(v)
    }
}

fn no_inline(name: &str, inline: Option<&OsStr>) -> Result<(), UsageError> {
    match inline {
        Some(_) => Err(usage(format!("{name} takes no value"))),
        None => Ok(()),
    }
}

fn non_empty_path(name: &str, value: &OsStr) -> Result<PathBuf, UsageError> {
    if value.is_empty() {
        return Err(usage(format!("{name} needs a non-empty value")));
    }
    Ok(PathBuf::from(value))
}

fn parse_run(args: &[OsString]) -> Result<Command, UsageError> {
    let mut opts = RunOptions::default();
    let mut it = Options::new(args);
    let first_operand = loop {
        match it.next()? {
            Item::Option("-h" | "--help", _) => return Ok(Command::Help(Some(Topic::Run))),
            Item::Option(name @ "--report", inline) => {
                opts.report = Some(non_empty_path(name, it.value(name, inline)?)?)
            }
            Item::Option(name @ "--lib", inline) => opts.lib = Some(non_empty_path(name, it.value(name, inline)?)?),
            Item::Option(name @ "--disable", inline) => {
                no_inline(name, inline)?;
                opts.disable = true;
            }
            Item::Option(name, _) => return Err(usage(format!("run: unknown option '{name}'"))),
            Item::Operands { at } => break at,
        }
    };
    let Some(program) = args.get(first_operand) else { return Err(usage("run: no PROGRAM given")) };
    if program.is_empty() {
        return Err(usage("run: PROGRAM is empty"));
    }
    opts.program = program.clone();
    opts.args = args[first_operand + 1..].to_vec();
    Ok(Command::Run(opts))
}

fn parse_keygen(args: &[OsString]) -> Result<Command, UsageError> {
    let first_operand = match Options::new(args).next()? {
        Item::Option("-h" | "--help", _) => return Ok(Command::Help(Some(Topic::Keygen))),
        Item::Option(name, _) => return Err(usage(format!("keygen: unknown option '{name}'"))),
        Item::Operands { at } => at,
    };
    match &args[first_operand..] {
        [file] => Ok(Command::Keygen { file: non_empty_path("keygen: FILE", file)? }),
        [] => Err(usage("keygen: no FILE given")),
        _ => Err(usage("keygen: takes one FILE")),
    }
}

fn parse_check(args: &[OsString]) -> Result<Command, UsageError> {
    let mut key = None;
    let mut it = Options::new(args);
    let first_operand = loop {
        match it.next()? {
            Item::Option("-h" | "--help", _) => return Ok(Command::Help(Some(Topic::Check))),
            Item::Option(name @ "--key", inline) => key = Some(non_empty_path(name, it.value(name, inline)?)?),
            Item::Option(name, _) => return Err(usage(format!("check: unknown option '{name}'"))),
            Item::Operands { at } => break at,
        }
    };
    match &args[first_operand..] {
        [] => Ok(Command::Check { program: None, key }),
        [program] if !program.is_empty() => Ok(Command::Check { program: Some(program.clone()), key }),
        [_] => Err(usage("check: PROGRAM is empty")),
        _ => Err(usage("check: takes at most one PROGRAM")),
    }
}

fn parse_stat(args: &[OsString]) -> Result<Command, UsageError> {
    let mut opts = StatOptions::default();
    let mut it = Options::new(args);
    let first_operand = loop {
        match it.next()? {
            Item::Option("-h" | "--help", _) => return Ok(Command::Help(Some(Topic::Stat))),
            Item::Option(name @ "--run-dir", inline) => {
                opts.run_dir = Some(non_empty_path(name, it.value(name, inline)?)?)
            }
            Item::Option(name @ "--interval", inline) => {
                let v = it.value(name, inline)?.to_string_lossy();
                opts.interval = v
                    .parse::<f64>()
                    .ok()
                    .filter(|s| s.is_finite() && *s >= 0.1 && *s <= 3600.0)
                    .ok_or_else(|| usage(format!("{name}: '{v}' is not a number of seconds from 0.1 to 3600")))?;
            }
            Item::Option(name @ "--count", inline) => {
                let v = it.value(name, inline)?.to_string_lossy();
                opts.count = Some(
                    v.parse::<u64>()
                        .ok()
                        .filter(|&n| n > 0)
                        .ok_or_else(|| usage(format!("{name}: '{v}' is not a positive number")))?,
                );
            }
            Item::Option(name @ "--once", inline) => {
                no_inline(name, inline)?;
                opts.once = true;
            }
            Item::Option(name @ "--json", inline) => {
                no_inline(name, inline)?;
                opts.json = true;
            }
            Item::Option(name, _) => return Err(usage(format!("stat: unknown option '{name}'"))),
            Item::Operands { at } => break at,
        }
    };
    if first_operand < args.len() {
        return Err(usage("stat: takes no operands"));
    }
    Ok(Command::Stat(opts))
}

fn parse_metrics(args: &[OsString]) -> Result<Command, UsageError> {
    let (mut listen, mut run_dir) = (None, None);
    let mut it = Options::new(args);
    let first_operand = loop {
        match it.next()? {
            Item::Option("-h" | "--help", _) => return Ok(Command::Help(Some(Topic::Metrics))),
            Item::Option(name @ "--listen", inline) => {
                listen = Some(it.value(name, inline)?.to_string_lossy().into_owned())
            }
            Item::Option(name @ "--run-dir", inline) => run_dir = Some(non_empty_path(name, it.value(name, inline)?)?),
            Item::Option(name, _) => return Err(usage(format!("metrics: unknown option '{name}'"))),
            Item::Operands { at } => break at,
        }
    };
    if first_operand < args.len() {
        return Err(usage("metrics: takes no operands"));
    }
    let listen = listen.unwrap_or_else(|| "127.0.0.1:9464".to_string());
    Ok(Command::Metrics { listen, run_dir })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &[&str]) -> Vec<OsString> {
        s.iter().map(OsString::from).collect()
    }

    fn parsed(s: &[&str]) -> Result<Command, UsageError> {
        parse(&words(s))
    }

    fn run_of(s: &[&str]) -> RunOptions {
        match parsed(s) {
            Ok(Command::Run(o)) => o,
            other => panic!("{s:?} gave {other:?}"),
        }
    }

    #[test]
    fn help_and_version() {
        assert_eq!(parsed(&["--help"]), Ok(Command::Help(None)));
        assert_eq!(parsed(&["-h"]), Ok(Command::Help(None)));
        assert_eq!(parsed(&["help"]), Ok(Command::Help(None)));
        assert_eq!(parsed(&["help", "check"]), Ok(Command::Help(Some(Topic::Check))));
        assert_eq!(parsed(&["run", "--help"]), Ok(Command::Help(Some(Topic::Run))));
        assert_eq!(parsed(&["keygen", "-h"]), Ok(Command::Help(Some(Topic::Keygen))));
        assert_eq!(parsed(&["--version"]), Ok(Command::Version));
        assert_eq!(parsed(&["-V"]), Ok(Command::Version));
        assert!(parsed(&["help", "frob"]).is_err());
        assert!(parsed(&[]).is_err());
        assert!(parsed(&["frobnicate"]).is_err());
    }

    #[test]
    fn run_takes_options_then_the_program_and_its_arguments() {
        let o = run_of(&["run", "--report", "/tmp/r.json", "--", "openssl", "s_server", "-www"]);
        assert_eq!(o.report, Some(PathBuf::from("/tmp/r.json")));
        assert!(!o.disable);
        assert_eq!(o.program, "openssl");
        assert_eq!(o.args, words(&["s_server", "-www"]));

        let o = run_of(&["run", "--report=r.json", "--disable", "--lib=/x/libsesscache.so", "prog"]);
        assert_eq!(o.report, Some(PathBuf::from("r.json")));
        assert!(o.disable);
        assert_eq!(o.lib, Some(PathBuf::from("/x/libsesscache.so")));
        assert_eq!(o.program, "prog");
        assert!(o.args.is_empty());
    }

    #[test]
    fn run_leaves_the_programs_own_options_alone() {
        // After `--`, or after the program's name, nothing is ours, not even `--help` or `--`.
        let o = run_of(&["run", "--", "--report", "x"]);
        assert_eq!(o.program, "--report");
        let o = run_of(&["run", "prog", "--help", "--", "--report", "x"]);
        assert_eq!(o.program, "prog");
        assert_eq!(o.args, words(&["--help", "--", "--report", "x"]));
        // A lone "-" is an operand, as for most commands.
        assert_eq!(run_of(&["run", "-"]).program, "-");
    }

    #[test]
    fn run_errors() {
        for bad in [
            &["run"][..],
            &["run", "--"],
            &["run", "--report"],
            &["run", "--report", "", "p"],
            &["run", "--report="],
            &["run", "--disable=1", "p"],
            &["run", "--fleet", "redis://x", "p"],
            &["run", "-x", "p"],
            &["run", "--", ""],
        ] {
            assert!(parsed(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn keygen_takes_one_file() {
        assert_eq!(parsed(&["keygen", "k"]), Ok(Command::Keygen { file: PathBuf::from("k") }));
        assert_eq!(parsed(&["keygen", "--", "-k"]), Ok(Command::Keygen { file: PathBuf::from("-k") }));
        assert!(parsed(&["keygen"]).is_err());
        assert!(parsed(&["keygen", "a", "b"]).is_err());
        assert!(parsed(&["keygen", "--force", "a"]).is_err());
        assert!(parsed(&["keygen", ""]).is_err());
    }

    #[test]
    fn check_takes_a_key_and_at_most_one_program() {
        assert_eq!(parsed(&["check"]), Ok(Command::Check { program: None, key: None }));
        assert_eq!(
            parsed(&["check", "--key", "k", "/usr/sbin/nginx"]),
            Ok(Command::Check { program: Some("/usr/sbin/nginx".into()), key: Some(PathBuf::from("k")) })
        );
        assert_eq!(parsed(&["check", "--key=k"]), Ok(Command::Check { program: None, key: Some(PathBuf::from("k")) }));
        assert!(parsed(&["check", "a", "b"]).is_err());
        assert!(parsed(&["check", "--key"]).is_err());
        assert!(parsed(&["check", "--fleet", "x"]).is_err());
    }

    #[test]
    fn arguments_need_not_be_utf8() {
        use std::os::unix::ffi::OsStringExt;
        let odd = OsString::from_vec(vec![b'p', 0xff]);
        let o = match parse(&[OsString::from("run"), odd.clone(), odd.clone()]) {
            Ok(Command::Run(o)) => o,
            other => panic!("{other:?}"),
        };
        assert_eq!(o.program, odd);
        assert_eq!(o.args, vec![odd.clone()]);
        assert!(parse(&[OsString::from("run"), OsString::from_vec(vec![b'-', b'-', 0xff]), odd]).is_err());
    }

    #[test]
    fn stat_and_metrics() {
        assert_eq!(parsed(&["stat"]), Ok(Command::Stat(StatOptions::default())));
        assert_eq!(
            parsed(&["stat", "--once", "--json", "--run-dir=/d", "--interval", "2.5", "--count", "3"]),
            Ok(Command::Stat(StatOptions {
                run_dir: Some(PathBuf::from("/d")),
                interval: 2.5,
                count: Some(3),
                once: true,
                json: true
            }))
        );
        assert!(parsed(&["stat", "--interval", "0"]).is_err());
        assert!(parsed(&["stat", "--interval", "nan"]).is_err());
        assert!(parsed(&["stat", "--count", "0"]).is_err());
        assert!(parsed(&["stat", "x"]).is_err());
        assert_eq!(parsed(&["stat", "--help"]), Ok(Command::Help(Some(Topic::Stat))));
        assert_eq!(parsed(&["metrics"]), Ok(Command::Metrics { listen: "127.0.0.1:9464".into(), run_dir: None }));
        assert_eq!(
            parsed(&["metrics", "--listen", "127.0.0.1:1", "--run-dir", "/r"]),
            Ok(Command::Metrics { listen: "127.0.0.1:1".into(), run_dir: Some(PathBuf::from("/r")) })
        );
        assert!(parsed(&["metrics", "--bogus"]).is_err());
    }
}
