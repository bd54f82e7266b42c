//! The staff API on Lambda: one family of routes per function (`API_FAMILY`), so that each has
//! only the permissions its routes need. Callers are who API Gateway's JWT authorizer says they are.

use lambda_support::Reach;
use lambda_support::jwt::JwtClaims;
use shared::config::{ConfigError, required};
use shared::http::api::Family;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_support::init_tracing();
    let family: Family = required("API_FAMILY")?.parse().map_err(|e: shared::http::api::UnknownFamily| {
        ConfigError::Invalid { name: "API_FAMILY", reason: e.to_string() }
    })?;
    let reach = if family.reaches_out() { Reach::Everything } else { Reach::TableOnly };
    let app = Arc::new(lambda_support::app_from_env(reach).await?);
    tracing::info!(%family, "serving");
    let routes = shared::http::health().merge(shared::http::api::serve(&[family], app, Arc::new(JwtClaims)));
    lambda_http::run(routes).await
}
