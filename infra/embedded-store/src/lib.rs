//! The embedded DynamoDB-compatible engine (dynoxide: SQLite underneath) served on a loopback port,
//! so the one DynamoDB adapter runs unchanged on a laptop, in tests and in AWS. Kept out of the
//! Lambda binaries: only the devserver and tests depend on this crate.

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use std::net::SocketAddr;
use std::path::Path;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

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
    task: Option<JoinHandle<()>>,
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
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let shutdown = async {
                let _ = stopped.await;
            };
            if let Err(e) = dynoxide::server::serve_with_shutdown(listener, db, shutdown).await {
                tracing::error!(error = %e, "embedded DynamoDB engine stopped");
            }
        });
        tracing::debug!(%addr, "embedded DynamoDB engine listening");
        Ok(EmbeddedDynamo { addr, stop: Some(stop), task: Some(task) })
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
        if let Some(task) = self.task.take() {
            let _ = task.await;
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
