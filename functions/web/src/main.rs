//! The staff dashboard on Lambda: the same pages as the devserver's (`shared::web`). API Gateway
//! serves the shells, `/login` and `/static` without an authorizer (they hold no data) and every
//! fragment under `/ui` behind the JWT authorizer the API uses; the fragments check the caller's
//! role again with the API's own extractors, from the authorizer's claims. Staff sign in with the
//! stack's Cognito Hosted UI (authorization code with PKCE, `auth-cognito.js`).
//!
//! The dashboard acts as staff do through the API (reminds, confirms, starts, stops the bot), so
//! the function reaches Telegram and the scheduler like the processes API function.

use lambda_support::Reach;
use lambda_support::jwt::JwtClaims;
use shared::web::SignIn;
use shared::web::cognito::CognitoSignIn;
use std::sync::Arc;

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    lambda_support::init_tracing();
    let signin = SignIn::Cognito(CognitoSignIn::from_env()?);
    let app = Arc::new(lambda_support::app_from_env(Reach::Everything).await?);
    tracing::info!("serving the dashboard");
    let routes = shared::web::routes(app, Arc::new(JwtClaims), signin);
    lambda_http::run(routes).await
}
