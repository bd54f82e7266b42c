//! The whole system in one process on 127.0.0.1. So far: the embedded DynamoDB-compatible store on
//! a file, with the table created. The staff API, Telegram and the local scheduler arrive with their
//! issues.

use embedded_store::EmbeddedDynamo;
use shared::adapters::dynamodb::TABLE;
use std::path::PathBuf;
use std::process::ExitCode;

const TABLE_NAME: &str = "ipo-advisory";
const USAGE: &str = "usage: devserver [--data-dir DIR] [--store-port PORT]

  --data-dir DIR     where the embedded store keeps its file (default ./data)
  --store-port PORT  the loopback port of the store's DynamoDB API (default: any free port)";

struct Options {
    data_dir: PathBuf,
    store_port: u16,
}

fn parse_args() -> Result<Options, String> {
    let mut options = Options { data_dir: PathBuf::from("data"), store_port: 0 };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value\n\n{USAGE}"));
        match arg.as_str() {
            "--data-dir" => options.data_dir = PathBuf::from(value("--data-dir")?),
            "--store-port" => {
                let v = value("--store-port")?;
                options.store_port = v.parse().map_err(|_| format!("--store-port: {v:?} is not a port"))?;
            }
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument {other:?}\n\n{USAGE}")),
        }
    }
    Ok(options)
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let options = match parse_args() {
        Ok(o) => o,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    match run(options).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("devserver: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(options: Options) -> Result<(), String> {
    std::fs::create_dir_all(&options.data_dir).map_err(|e| format!("creating {}: {e}", options.data_dir.display()))?;
    let file = options.data_dir.join("ipo-advisory.sqlite");
    let store = EmbeddedDynamo::on_file(&file, options.store_port).await.map_err(|e| e.to_string())?;
    TABLE.create(&store.client(), TABLE_NAME).await.map_err(|e| e.to_string())?;
    println!("ipo-advisory devserver");
    println!("  store: {} (table {TABLE_NAME}) on {}", store.endpoint(), file.display());
    println!("  the staff API, Telegram and the scheduler are not built yet; Ctrl-C stops");
    tokio::signal::ctrl_c().await.map_err(|e| format!("waiting for Ctrl-C: {e}"))?;
    store.shutdown().await;
    println!("stopped");
    Ok(())
}
