//! The staff API on Lambda: callers are who API Gateway's JWT authorizer says they are.

use lambda_support::jwt::JwtClaims;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_support::init_tracing();
    let app = Arc::new(lambda_support::app_from_env().await?);
    let routes = shared::http::health().merge(shared::http::api::routes(app, Arc::new(JwtClaims)));
    lambda_http::run(routes).await
}
