//! `cargo xtask bench lambda`: builds the Lambda functions as they are deployed (cargo lambda,
//! release), runs each bootstrap against cargo lambda's Runtime API emulator on 127.0.0.1, and prints
//! per function its size, its time from process start to ready and to the first answer, and its
//! peak memory. Nothing leaves the machine: AWS and Telegram endpoints point at a closed loopback
//! port, and every payload is answered without the table (GET /healthz, a webhook call with a wrong
//! secret, a scheduler input that is dropped before any job runs). The functions that send read
//! their secrets from SSM Parameter Store at cold start, as in AWS: here from moto's server on
//! 127.0.0.1 (the parameters put there first), and the bench prints what that read took.

use crate::server::Server;
use crate::{cache, moto, python};
use std::fs::File;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// cargo lambda, pinned; the wheel ships the binary, and zig (the cross linker) comes with it.
const CARGO_LAMBDA: &str = "cargo-lambda==1.9.2";
/// zig from PyPI, pinned, installed first so that cargo lambda's dependency is this version.
const ZIGLANG: &str = "ziglang==0.17.1";
/// The functions' binaries: each is `target/lambda/<name>/bootstrap` after `cargo lambda build`.
const FUNCTIONS: [&str; 4] = ["api", "scheduler", "telegram-webhook", "web"];
const ARM64_TARGET: &str = "aarch64-unknown-linux-gnu";
/// A loopback port nothing listens on (discard): AWS and Telegram calls fail at once, locally.
const NOWHERE: &str = "http://127.0.0.1:9";
/// As in template.yaml.
const MEMORY_SIZE_MB: &str = "256";
const WEBHOOK_SECRET: &str = "bench-webhook-secret-0123456789";
/// The parameters the functions are told to read, as `template.yaml` names them for stack `bench`.
const BOT_TOKEN_PARAMETER: &str = "/bench/telegram/bot-token";
const WEBHOOK_SECRET_PARAMETER: &str = "/bench/telegram/webhook-secret";
const WEBHOOK_SECRET_PREVIOUS_PARAMETER: &str = "/bench/telegram/webhook-secret-previous";
/// The line a function logs after reading Parameter Store (lambda_support::secrets), with `elapsed_ms`.
const SSM_READ_LOG: &str = "secrets read from Parameter Store";
const RUN_TIMEOUT: Duration = Duration::from_secs(60);

pub const USAGE: &str = "cargo xtask bench lambda [--arch arm64|x86_64] [--runs N]";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Arch {
    Arm64,
    X86_64,
}

impl Arch {
    fn host() -> Option<Arch> {
        match std::env::consts::ARCH {
            "aarch64" => Some(Arch::Arm64),
            "x86_64" => Some(Arch::X86_64),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Arch::Arm64 => "arm64",
            Arch::X86_64 => "x86_64",
        }
    }

    fn cargo_lambda_flag(self) -> &'static str {
        match self {
            Arch::Arm64 => "--arm64",
            Arch::X86_64 => "--x86-64",
        }
    }

    /// From an ELF header's `e_machine`.
    fn of_binary(path: &Path) -> Result<Arch, String> {
        let mut header = [0u8; 20];
        File::open(path)
            .and_then(|mut f| f.read_exact(&mut header))
            .map_err(|e| format!("reading {}: {e}", path.display()))?;
        if &header[..4] != b"\x7fELF" {
            return Err(format!("{} is not an ELF binary", path.display()));
        }
        match u16::from_le_bytes([header[18], header[19]]) {
            0xB7 => Ok(Arch::Arm64),
            0x3E => Ok(Arch::X86_64),
            other => Err(format!("{} is for machine {other:#x}, neither arm64 nor x86_64", path.display())),
        }
    }
}

struct Options {
    arch: Option<Arch>,
    runs: usize,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut options = Options { arch: None, runs: 5 };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--arch" => {
                options.arch = Some(match args.next().map(String::as_str) {
                    Some("arm64" | "aarch64") => Arch::Arm64,
                    Some("x86_64" | "x86-64" | "amd64") => Arch::X86_64,
                    _ => return Err(format!("usage: {USAGE}")),
                });
            }
            "--runs" => {
                options.runs = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .filter(|n| *n > 0)
                    .ok_or_else(|| format!("usage: {USAGE}"))?;
            }
            _ => return Err(format!("usage: {USAGE}")),
        }
    }
    Ok(options)
}

pub fn bench(args: &[String]) -> Result<(), String> {
    let options = parse(args)?;
    let host = Arch::host();
    let asked = match (options.arch, host) {
        (Some(arch), _) => arch,
        (None, Some(arch)) => arch,
        (None, None) => return Err(format!("this machine is {}; say --arch arm64 or x86_64", std::env::consts::ARCH)),
    };
    let (arch, why) = choose_arch(asked, options.arch.is_some(), host, ensure_arm64_target);
    println!("lambda arch={}: {why}", arch.name());

    let cargo_lambda = install()?;
    build(&cargo_lambda, arch)?;

    let lambda_dir = cache::target_dir()?.join("lambda");
    let mut built = Vec::new();
    for name in FUNCTIONS {
        let bootstrap = lambda_dir.join(name).join("bootstrap");
        let bytes = std::fs::metadata(&bootstrap).map_err(|e| format!("{}: {e}", bootstrap.display()))?.len();
        let binary_arch = Arch::of_binary(&bootstrap)?;
        if binary_arch != arch {
            return Err(format!("{} is {}, not {}", bootstrap.display(), binary_arch.name(), arch.name()));
        }
        built.push((name, bootstrap, bytes));
    }

    if host != Some(arch) {
        for (name, _, bytes) in &built {
            println!("lambda {name} arch={} {} not run", arch.name(), size_figures(*bytes));
        }
        println!(
            "lambda: {} bootstraps cannot run on this {} machine: sizes only",
            arch.name(),
            std::env::consts::ARCH
        );
        return Ok(());
    }

    // Parameter Store for the cold starts: moto on a free loopback port, stopped by its drop guard.
    let moto = moto::start(&moto::install()?)?;
    for (name, value) in [
        (BOT_TOKEN_PARAMETER, "123:bench-token"),
        (WEBHOOK_SECRET_PARAMETER, WEBHOOK_SECRET),
        (WEBHOOK_SECRET_PREVIOUS_PARAMETER, "bench-previous-secret-0123456789"),
    ] {
        moto::put_secure_parameter(moto.port, name, value)?;
    }
    for case in cases() {
        let Some((_, bootstrap, bytes)) = built.iter().find(|(name, _, _)| *name == case.function) else {
            return Err(format!("no bootstrap for {}", case.function));
        };
        let figures = measure(&case, bootstrap, &cargo_lambda, &moto.endpoint(), options.runs)?;
        let ssm = figures.ssm_read.map_or("-".to_owned(), |d| format!("{:.1}", millis(d)));
        println!(
            "lambda {} arch={} {} ready_ms={:.1} first_invoke_ms={:.1} ssm_read_ms={ssm} peak_rss_kib={} runs={} reply={}",
            case.label,
            arch.name(),
            size_figures(*bytes),
            millis(figures.ready),
            millis(figures.first_invoke),
            figures.peak_rss_kib,
            options.runs,
            figures.reply,
        );
    }
    Ok(())
}

fn size_figures(bytes: u64) -> String {
    let mib = bytes as f64 / (1024.0 * 1024.0);
    format!("bootstrap_bytes={bytes} bootstrap_mib={mib:.2}")
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The arch to build, and why. The bench runs each bootstrap, so by default it builds for this
/// machine; arm64 (what template.yaml deploys) when asked, or when this machine is arm64, if the
/// Rust target can be installed, and x86_64 otherwise.
fn choose_arch(
    asked: Arch,
    explicit: bool,
    host: Option<Arch>,
    arm64_target: impl FnOnce() -> Result<(), String>,
) -> (Arch, String) {
    let how = if explicit { "asked with --arch" } else { "this machine's own, so the bootstraps can run here" };
    match asked {
        Arch::X86_64 if host == Some(Arch::X86_64) && !explicit => (
            Arch::X86_64,
            format!(
                "{how}; the deployed arch is arm64 (template.yaml), which cannot run on this x86_64 machine \
                 (`--arch arm64` builds it and reports its sizes)"
            ),
        ),
        Arch::X86_64 => (Arch::X86_64, how.to_owned()),
        Arch::Arm64 => match arm64_target() {
            Ok(()) => (Arch::Arm64, format!("{how}; the deployed arch (template.yaml)")),
            Err(e) => (
                Arch::X86_64,
                format!("arm64 was wanted, but its Rust target cannot be installed here ({e}); built x86_64 instead"),
            ),
        },
    }
}

/// Whether the toolchain has the arm64 Linux target, adding it with rustup when it has not.
fn ensure_arm64_target() -> Result<(), String> {
    let sysroot = Command::new("rustc")
        .args(["--print", "sysroot"])
        .current_dir(cache::workspace_root())
        .output()
        .map_err(|e| format!("rustc --print sysroot: {e}"))?;
    let sysroot = PathBuf::from(String::from_utf8_lossy(&sysroot.stdout).trim());
    if sysroot.join("lib").join("rustlib").join(ARM64_TARGET).is_dir() {
        return Ok(());
    }
    if !cache::have("rustup") {
        return Err(format!("no rustup to add {ARM64_TARGET}"));
    }
    eprintln!("xtask: rustup target add {ARM64_TARGET}");
    let output = Command::new("rustup")
        .args(["target", "add", ARM64_TARGET])
        .current_dir(cache::workspace_root())
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("rustup target add {ARM64_TARGET}: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let last = stderr.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("no message");
        Err(format!("rustup target add {ARM64_TARGET} failed: {}", last.trim()))
    }
}

/// cargo lambda (and zig) in the cache's Python environment; returns cargo lambda's binary.
fn install() -> Result<PathBuf, String> {
    python::tool(ZIGLANG, "python-zig")?;
    python::tool(CARGO_LAMBDA, "cargo-lambda")
}

/// cargo lambda's command, with the virtual environment first on PATH: cargo lambda finds zig as
/// `python3 -m ziglang`, so `python3` must be the environment's.
fn cargo_lambda(binary: &Path) -> Result<Command, String> {
    let venv_bin = binary.parent().ok_or("cargo-lambda has no folder")?;
    let mut path = vec![venv_bin.to_path_buf()];
    path.extend(std::env::var_os("PATH").map(|p| std::env::split_paths(&p).collect::<Vec<_>>()).unwrap_or_default());
    let path = std::env::join_paths(path).map_err(|e| format!("PATH: {e}"))?;
    let mut cmd = Command::new(binary);
    cmd.arg("lambda").env("PATH", path).current_dir(cache::workspace_root());
    Ok(cmd)
}

fn build(binary: &Path, arch: Arch) -> Result<(), String> {
    let mut cmd = cargo_lambda(binary)?;
    cmd.args(["build", "--release", arch.cargo_lambda_flag()]).stdin(Stdio::null());
    for name in FUNCTIONS {
        cmd.args(["--bin", name]);
    }
    eprintln!(
        "xtask: cargo lambda build --release {} --bin {} (fat LTO: minutes on 2 cores)",
        arch.cargo_lambda_flag(),
        FUNCTIONS.join(" --bin ")
    );
    cache::run(&mut cmd)
}

/// A bootstrap under measurement, stopped by its id when dropped (quietly: there are many).
struct Process {
    child: Child,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `cargo lambda watch --only-lambda-apis` on a free loopback port: the Runtime API (under
/// `/.rt/<function>`) and the invoke API, without starting any function itself.
fn start_emulator(binary: &Path) -> Result<Server, String> {
    let mut watch = cargo_lambda(binary)?;
    Server::start("the cargo lambda emulator", "lambda-emulator.log", |port| {
        watch.args([
            "watch",
            "--only-lambda-apis",
            "--invoke-address",
            "127.0.0.1",
            "--invoke-port",
            &port.to_string(),
        ]);
        watch
    })
}

/// One line of the bench: a function, the environment it starts with, and a first event it answers
/// without the table.
struct Case {
    label: String,
    function: &'static str,
    env: Vec<(&'static str, String)>,
    payload: String,
    /// The API Gateway status the reply must carry, if it is an HTTP function.
    expect_status: Option<u16>,
}

fn cases() -> Vec<Case> {
    let api = |family: &str| Case {
        label: format!("api({family})"),
        function: "api",
        env: vec![("API_FAMILY", family.to_owned())],
        payload: http_event("GET", "/healthz", "", ""),
        expect_status: Some(200),
    };
    vec![
        api("journal"),
        api("processes"),
        Case {
            label: "scheduler".into(),
            function: "scheduler",
            env: Vec::new(),
            // EventBridge Scheduler's input with its time not substituted: read, logged and dropped
            // (answered without error) before any job or table call.
            payload: r#"{
                "name": "kickoff-bench",
                "scheduled_time": "<aws.scheduler.scheduled-time>",
                "payload": {"job": "kickoff", "process_id": "bench"}
            }"#
            .into(),
            expect_status: None,
        },
        Case {
            label: "telegram-webhook".into(),
            function: "telegram-webhook",
            env: vec![
                ("TELEGRAM_WEBHOOK_SECRET_PARAMETER", WEBHOOK_SECRET_PARAMETER.into()),
                ("TELEGRAM_WEBHOOK_SECRET_PREVIOUS_PARAMETER", WEBHOOK_SECRET_PREVIOUS_PARAMETER.into()),
            ],
            payload: http_event(
                "POST",
                "/telegram/webhook",
                r#""x-telegram-bot-api-secret-token": "not-the-secret", "#,
                r#"{\"update_id\":1}"#,
            ),
            expect_status: Some(401),
        },
        Case {
            label: "web".into(),
            function: "web",
            // The sign-in settings template.yaml gives it (nothing here reaches Cognito).
            env: vec![
                ("DASHBOARD_AUTH_DOMAIN", "https://bench.auth.us-east-1.amazoncognito.com".into()),
                ("DASHBOARD_CLIENT_ID", "benchclient".into()),
                ("DASHBOARD_CALLBACK_URL", "https://bench.example/login".into()),
                ("DASHBOARD_LOGOUT_URL", "https://bench.example/login".into()),
            ],
            // The public login page: rendered without the table.
            payload: http_event("GET", "/login", "", ""),
            expect_status: Some(200),
        },
    ]
}

/// An API Gateway v2 (HTTP API) request event, as API Gateway hands it to the function.
fn http_event(method: &str, path: &str, extra_headers: &str, body: &str) -> String {
    const HOST: &str = "bench.execute-api.us-east-1.amazonaws.com";
    format!(
        r#"{{
            "version": "2.0",
            "routeKey": "$default",
            "rawPath": "{path}",
            "rawQueryString": "",
            "headers": {{{extra_headers}"content-type": "application/json", "host": "{HOST}"}},
            "requestContext": {{
                "accountId": "000000000000",
                "apiId": "bench",
                "domainName": "{HOST}",
                "domainPrefix": "bench",
                "http": {{
                    "method": "{method}",
                    "path": "{path}",
                    "protocol": "HTTP/1.1",
                    "sourceIp": "127.0.0.1",
                    "userAgent": "xtask"
                }},
                "requestId": "bench",
                "routeKey": "$default",
                "stage": "$default",
                "time": "01/Jan/2026:00:00:00 +0000",
                "timeEpoch": 1767225600000
            }},
            "body": "{body}",
            "isBase64Encoded": false
        }}"#
    )
}

/// What the function is given at start, besides the case's own variables: Lambda's, and every
/// setting `lambda_support::app_from_env` reads, with AWS and Telegram pointed at a closed port but
/// Parameter Store at moto (`ssm`).
fn environment(function: &str, port: u16, ssm: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_LAMBDA_RUNTIME_API", format!("http://127.0.0.1:{port}/.rt/{function}")),
        ("AWS_LAMBDA_FUNCTION_NAME", function.to_owned()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "1".into()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", MEMORY_SIZE_MB.into()),
        ("AWS_LAMBDA_LOG_FORMAT", "JSON".into()),
        ("AWS_REGION", "us-east-1".into()),
        ("AWS_DEFAULT_REGION", "us-east-1".into()),
        ("AWS_ACCESS_KEY_ID", "bench".into()),
        ("AWS_SECRET_ACCESS_KEY", "bench".into()),
        ("AWS_ENDPOINT_URL", NOWHERE.into()),
        ("AWS_ENDPOINT_URL_SSM", ssm.to_owned()),
        ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ("TABLE_NAME", "ipo-advisory-bench".into()),
        ("TELEGRAM_BOT_TOKEN_PARAMETER", BOT_TOKEN_PARAMETER.into()),
        ("TELEGRAM_API_BASE", NOWHERE.into()),
        ("SCHEDULE_GROUP", "ipo-advisory-bench".into()),
        ("SCHEDULER_FUNCTION_ARN", "arn:aws:lambda:us-east-1:000000000000:function:scheduler".into()),
        ("SCHEDULER_ROLE_ARN", "arn:aws:iam::000000000000:role/scheduler".into()),
    ]
}

struct Figures {
    ready: Duration,
    first_invoke: Duration,
    /// How long the cold start's read of Parameter Store took, as the function logged it.
    ssm_read: Option<Duration>,
    peak_rss_kib: u64,
    reply: String,
}

/// Runs the bootstrap `runs` times; the medians of the times, the highest peak memory.
fn measure(case: &Case, bootstrap: &Path, cargo_lambda: &Path, ssm: &str, runs: usize) -> Result<Figures, String> {
    let log_path = cache::dir()?.join(format!("lambda-bench-{}.log", case.label.replace(['(', ')'], "-")));
    let log = File::create(&log_path).map_err(|e| format!("creating {}: {e}", log_path.display()))?;
    let mut ready = Vec::new();
    let mut first_invoke = Vec::new();
    let mut ssm_read = Vec::new();
    let mut peak_rss_kib = 0;
    let mut reply = String::new();
    for _ in 0..runs {
        // An emulator per run: a killed bootstrap's pending `GET /next` can linger in it and take
        // the next run's event. Stopped by its drop guard whatever happens.
        let emulator = start_emulator(cargo_lambda)?;
        let logged_before = std::fs::metadata(&log_path).map(|m| m.len()).unwrap_or(0);
        let run = run_once(case, bootstrap, emulator.port, ssm, &log)
            .map_err(|e| format!("{}: {e} (its log: {})", case.label, log_path.display()))?;
        ssm_read.extend(logged_ssm_read(&log_path, logged_before));
        ready.push(run.ready);
        first_invoke.push(run.first_invoke);
        peak_rss_kib = peak_rss_kib.max(run.peak_rss_kib);
        reply = run.reply;
    }
    let ssm_read = (!ssm_read.is_empty()).then(|| median(ssm_read));
    Ok(Figures { ready: median(ready), first_invoke: median(first_invoke), ssm_read, peak_rss_kib, reply })
}

/// The `elapsed_ms` of the Parameter Store read a run logged (its JSON line), after `from` bytes.
fn logged_ssm_read(log: &Path, from: u64) -> Option<Duration> {
    let text = std::fs::read(log).ok()?;
    let text = String::from_utf8_lossy(text.get(usize::try_from(from).ok()?..)?);
    let line = text.lines().find(|l| l.contains(SSM_READ_LOG))?;
    let value = line.split("\"elapsed_ms\":").nth(1)?;
    let number: String = value.chars().take_while(|c| c.is_ascii_digit() || *c == '.').collect();
    number.parse::<f64>().ok().map(|ms| Duration::from_secs_f64(ms / 1000.0))
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values.get(values.len() / 2).copied().unwrap_or_default()
}

/// One cold start: the first event is queued at the emulator, then the bootstrap is started (the
/// clock starts at spawn). Ready is when it first connects to the Runtime API (its first
/// `GET /next`, accepted by a relay in front of the emulator); first invoke is when the emulator
/// hands back its answer; peak memory is VmHWM just after, before the process is killed by its id.
fn run_once(case: &Case, bootstrap: &Path, port: u16, ssm: &str, log: &File) -> Result<Figures, String> {
    let path = format!("/2015-03-31/functions/{}/invocations", case.function);
    let payload = case.payload.clone();
    let invocation = std::thread::spawn(move || {
        let reply = post(port, &path, &payload);
        (reply, Instant::now())
    });
    // Let the emulator queue the event, so the first `GET /next` finds it, as on Lambda.
    std::thread::sleep(Duration::from_millis(50));
    if invocation.is_finished() {
        let (reply, _) = invocation.join().map_err(|_| "the invoke request panicked")?;
        return Err(format!("the emulator answered before the function started: {reply:?}"));
    }

    let relay = Relay::start(port)?;
    let mut cmd = Command::new(bootstrap);
    cmd.env_clear()
        .envs(environment(case.function, relay.port, ssm))
        .envs(case.env.iter().cloned())
        .stdin(Stdio::null())
        .stdout(log.try_clone().map_err(|e| e.to_string())?)
        .stderr(log.try_clone().map_err(|e| e.to_string())?);
    let start = Instant::now();
    let child = cmd.spawn().map_err(|e| format!("starting {}: {e}", bootstrap.display()))?;
    let mut process = Process { child };
    let pid = process.child.id();

    while !invocation.is_finished() {
        if let Ok(Some(status)) = process.child.try_wait() {
            return Err(format!("the bootstrap exited ({status}) before answering"));
        }
        if start.elapsed() > RUN_TIMEOUT {
            return Err(format!("no answer within {} s", RUN_TIMEOUT.as_secs()));
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let peak_rss_kib = peak_rss_kib(pid)?;
    drop(process);
    let (reply, answered_at) = invocation.join().map_err(|_| "the invoke request panicked")?;
    let (status, body) = reply?;
    let ready = relay.first_connection().ok_or("answered without connecting to the Runtime API")?;
    drop(relay);
    Ok(Figures {
        ready: ready.duration_since(start),
        first_invoke: answered_at.duration_since(start),
        ssm_read: None,
        peak_rss_kib,
        reply: describe_reply(case, status, &body)?,
    })
}

/// A TCP relay on 127.0.0.1 in front of the emulator that notes when it is first connected to.
struct Relay {
    port: u16,
    first: Arc<OnceLock<Instant>>,
    stop: Arc<AtomicBool>,
    accepting: Option<JoinHandle<()>>,
}

impl Relay {
    fn start(upstream: u16) -> Result<Relay, String> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(|e| format!("starting a relay: {e}"))?;
        let port = listener.local_addr().map_err(|e| e.to_string())?.port();
        let first = Arc::new(OnceLock::new());
        let stop = Arc::new(AtomicBool::new(false));
        let (first_set, stopped) = (first.clone(), stop.clone());
        let accepting = std::thread::spawn(move || {
            for client in listener.incoming() {
                let at = Instant::now();
                if stopped.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(client) = client else { continue };
                let _ = first_set.set(at);
                let Ok(server) = TcpStream::connect((Ipv4Addr::LOCALHOST, upstream)) else { continue };
                let _ = (client.set_nodelay(true), server.set_nodelay(true));
                if let (Ok(client_in), Ok(server_in)) = (client.try_clone(), server.try_clone()) {
                    std::thread::spawn(move || pipe(client_in, server));
                    std::thread::spawn(move || pipe(server_in, client));
                }
            }
        });
        Ok(Relay { port, first, stop, accepting: Some(accepting) })
    }

    fn first_connection(&self) -> Option<Instant> {
        self.first.get().copied()
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accepting thread, which then sees the flag.
        let _ = TcpStream::connect((Ipv4Addr::LOCALHOST, self.port));
        if let Some(accepting) = self.accepting.take() {
            let _ = accepting.join();
        }
    }
}

/// Copies one direction of a relayed connection until either side closes it.
fn pipe(mut from: TcpStream, mut to: TcpStream) {
    let _ = std::io::copy(&mut from, &mut to);
    let _ = to.shutdown(Shutdown::Both);
    let _ = from.shutdown(Shutdown::Both);
}

/// The reply as printed: the API Gateway status for HTTP functions, checked against the expected
/// one; for the scheduler, whether Lambda got a result or an error.
fn describe_reply(case: &Case, status: u16, body: &str) -> Result<String, String> {
    match case.expect_status {
        Some(expected) => {
            let got = body
                .split("\"statusCode\":")
                .nth(1)
                .and_then(|rest| rest.trim_start().split(|c: char| !c.is_ascii_digit()).next())
                .and_then(|digits| digits.parse::<u16>().ok());
            match got {
                Some(code) if code == expected && status == 200 => Ok(code.to_string()),
                _ => Err(format!("expected an HTTP {expected} reply, the emulator answered {status}: {body}")),
            }
        }
        None if status == 200 => Ok("ok".into()),
        None => Ok(format!("error({status})")),
    }
}

/// The resident set's high-water mark (VmHWM) of a live process, in KiB.
fn peak_rss_kib(pid: u32) -> Result<u64, String> {
    let status =
        std::fs::read_to_string(format!("/proc/{pid}/status")).map_err(|e| format!("/proc/{pid}/status: {e}"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| format!("no VmHWM in /proc/{pid}/status"))
}

/// A plain HTTP/1.1 POST to the emulator on 127.0.0.1: (status, body).
fn post(port: u16, path: &str, body: &str) -> Result<(u16, String), String> {
    let mut stream = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).map_err(|e| format!("connecting: {e}"))?;
    stream.set_read_timeout(Some(RUN_TIMEOUT)).map_err(|e| e.to_string())?;
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).map_err(|e| format!("sending the event: {e}"))?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).map_err(|e| format!("reading the answer: {e}"))?;
    let response = String::from_utf8_lossy(&response);
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("not an HTTP answer: {response}"))?;
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    Ok((status, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_this_machines_arch_by_default_and_says_why() {
        let (arch, why) = choose_arch(Arch::X86_64, false, Some(Arch::X86_64), || unreachable!());
        assert_eq!(arch, Arch::X86_64);
        assert!(why.contains("cannot run on this x86_64 machine"), "{why}");
        let (arch, _) = choose_arch(Arch::Arm64, false, Some(Arch::Arm64), || Ok(()));
        assert_eq!(arch, Arch::Arm64);
    }

    #[test]
    fn falls_back_to_x86_64_when_the_arm64_target_cannot_be_installed() {
        let (arch, why) = choose_arch(Arch::Arm64, true, Some(Arch::X86_64), || Err("rustup: no network".into()));
        assert_eq!(arch, Arch::X86_64);
        assert!(why.contains("rustup: no network") && why.contains("built x86_64 instead"), "{why}");
        let (arch, _) = choose_arch(Arch::Arm64, true, Some(Arch::X86_64), || Ok(()));
        assert_eq!(arch, Arch::Arm64);
    }

    #[test]
    fn reads_its_options() {
        let args = |a: &[&str]| a.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let options = parse(&args(&["--arch", "arm64", "--runs", "3"])).unwrap();
        assert_eq!((options.arch, options.runs), (Some(Arch::Arm64), 3));
        let options = parse(&[]).unwrap();
        assert_eq!((options.arch, options.runs), (None, 5));
        assert!(parse(&args(&["--runs", "0"])).is_err());
        assert!(parse(&args(&["--arch", "mips"])).is_err());
    }

    #[test]
    fn checks_the_reply_of_http_functions() {
        let case = |expect_status| Case {
            label: "x".into(),
            function: "x",
            env: Vec::new(),
            payload: String::new(),
            expect_status,
        };
        let body = r#"{"statusCode":401,"headers":{},"body":"unauthorized"}"#;
        assert_eq!(describe_reply(&case(Some(401)), 200, body).unwrap(), "401");
        assert!(describe_reply(&case(Some(200)), 200, body).is_err());
        assert_eq!(describe_reply(&case(None), 200, "null").unwrap(), "ok");
        assert_eq!(describe_reply(&case(None), 500, "{}").unwrap(), "error(500)");
    }

    #[test]
    fn reads_the_arch_of_a_binary() {
        let exe = std::env::current_exe().unwrap();
        assert_eq!(Arch::of_binary(&exe).ok(), Arch::host());
    }
}
