//! moto's server, which speaks the EventBridge Scheduler API (it stores schedules and never fires
//! them) and SSM Parameter Store's, installed with pip into a virtual environment in the cache.

use crate::python;
use crate::server::Server;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const PACKAGE: &str = "moto[server]==5.2.5";

/// Installs moto into the cache's Python environment if needed, and returns `moto_server`'s path.
pub fn install() -> Result<PathBuf, String> {
    python::tool(PACKAGE, "moto_server")
}

/// Starts `moto_server` on a free loopback port.
pub fn start(server: &Path) -> Result<Server, String> {
    Server::start("moto", "moto.log", |port| {
        let mut cmd = Command::new(server);
        cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
        cmd
    })
}

/// Puts a SecureString parameter into moto's Parameter Store (region us-east-1, moto's default
/// account), as `cargo xtask bench lambda`'s functions will read it. Plain HTTP on 127.0.0.1: moto
/// takes the service from the credential scope and checks no signature.
pub fn put_secure_parameter(port: u16, name: &str, value: &str) -> Result<(), String> {
    let quote = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
    let body =
        format!(r#"{{"Name":"{}","Value":"{}","Type":"SecureString","Overwrite":true}}"#, quote(name), quote(value));
    let request = format!(
        "POST / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/x-amz-json-1.1\r\n\
         X-Amz-Target: AmazonSSM.PutParameter\r\n\
         Authorization: AWS4-HMAC-SHA256 Credential=bench/20260101/us-east-1/ssm/aws4_request, SignedHeaders=host, Signature=0\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut stream = TcpStream::connect((Ipv4Addr::LOCALHOST, port)).map_err(|e| format!("connecting to moto: {e}"))?;
    stream.set_read_timeout(Some(Duration::from_secs(30))).map_err(|e| e.to_string())?;
    stream.write_all(request.as_bytes()).map_err(|e| format!("putting {name}: {e}"))?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).map_err(|e| format!("putting {name}: {e}"))?;
    if answer.starts_with("HTTP/1.1 200") || answer.starts_with("HTTP/1.0 200") {
        Ok(())
    } else {
        Err(format!("moto refused the parameter {name}: {}", answer.lines().next().unwrap_or_default()))
    }
}
