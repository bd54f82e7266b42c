//! The embedded DynamoDB-compatible engine (dynoxide: SQLite underneath) served on a loopback port,
//! so the one DynamoDB adapter runs unchanged on a laptop, in tests and in AWS. Kept out of the
//! Lambda binaries: only the devserver and tests depend on this crate.
//!
//! The engine runs on a thread of its own: SQLite works synchronously, and on the application's
//! runtime a long read (a process's 300 trackers) would stall the webhook's other tasks and make
//! their sends late.

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use std::net::SocketAddr;
use std::path::Path;
use tokio::sync::oneshot;

#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    #[error("opening the embedded store at {path}: {reason}")]
    Open { path: String, reason: String },
    #[error("listening on 127.0.0.1: {0}")]
    Listen(#[from] std::io::Error),
}

/// A running embedded engine. Stop it with [`EmbeddedDynamo::shutdown`]; dropping it stops it too,
/// without waiting for requests in flight.
#[derive(Debug)]
pub struct EmbeddedDynamo {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    stopped: Option<oneshot::Receiver<()>>,
}

impl EmbeddedDynamo {
    /// An engine whose data lives in memory and dies with it (tests).
    pub async fn in_memory() -> Result<Self, EmbeddedError> {
        let db = dynoxide::Database::memory()
            .map_err(|e| EmbeddedError::Open { path: ":memory:".into(), reason: e.to_string() })?;
        Self::serve(db, 0).await
    }

    /// An engine on a SQLite file that survives restarts (the devserver). `port` 0 picks a free one.
    pub async fn on_file(path: &Path, port: u16) -> Result<Self, EmbeddedError> {
        let shown = path.display().to_string();
        let db = dynoxide::Database::new(&shown)
            .map_err(|e| EmbeddedError::Open { path: shown.clone(), reason: e.to_string() })?;
        Self::serve(db, port).await
    }

    async fn serve(db: dynoxide::Database, port: u16) -> Result<Self, EmbeddedError> {
        let listener = std::net::TcpListener::bind(("127.0.0.1", port))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let (stop, stop_requested) = oneshot::channel::<()>();
        let (done, stopped) = oneshot::channel::<()>();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        std::thread::Builder::new().name("embedded-dynamodb".into()).spawn(move || {
            runtime.block_on(async move {
                let shutdown = async {
                    let _ = stop_requested.await;
                };
                let served = match tokio::net::TcpListener::from_std(listener) {
                    Ok(listener) => dynoxide::server::serve_with_shutdown(listener, db, shutdown).await,
                    Err(e) => Err(e.to_string()),
                };
                if let Err(e) = served {
                    tracing::error!(error = %e, "embedded DynamoDB engine stopped");
                }
            });
            let _ = done.send(());
        })?;
        tracing::debug!(%addr, "embedded DynamoDB engine listening");
        Ok(EmbeddedDynamo { addr, stop: Some(stop), stopped: Some(stopped) })
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A DynamoDB client for this engine.
    pub fn client(&self) -> aws_sdk_dynamodb::Client {
        local_client(&self.endpoint())
    }

    /// Stops accepting requests, lets those in flight finish, and closes the database.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(stopped) = self.stopped.take() {
            let _ = stopped.await;
        }
    }
}

impl Drop for EmbeddedDynamo {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// A DynamoDB client for an engine on this machine (embedded or DynamoDB Local): fixed dummy
/// credentials (the engines check that requests are signed, not by whom) and a fixed region.
pub fn local_client(endpoint: &str) -> aws_sdk_dynamodb::Client {
    let config = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new("local", "local", None, None, "local-engine"))
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}
