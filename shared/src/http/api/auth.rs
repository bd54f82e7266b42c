//! Who is calling. In AWS, API Gateway's JWT authorizer has already checked the token and the roles
//! come from its claims; locally (the devserver, tests) bearer tokens are looked up in a table.

use super::ApiState;
use crate::domain::staff::Role;
use crate::http::problem::Problem;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use std::fmt;
use std::marker::PhantomData;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub name: String,
    pub role: Role,
    /// The staff record acting, for what is recorded in their name (confirmations).
    pub staff_id: Option<crate::domain::ids::StaffId>,
}

impl Principal {
    /// Refuses with 403 unless the caller's role includes `needed`.
    pub fn require(&self, needed: Role) -> Result<(), Problem> {
        if self.role.allows(needed) { Ok(()) } else { Err(Problem::forbidden(&format!("{needed:?}").to_lowercase())) }
    }
}

pub trait Authenticator: Send + Sync {
    /// The caller, or `None` when the request carries no valid credentials.
    fn authenticate(&self, parts: &Parts) -> Option<Principal>;

    /// Whether a caller must also be on an active staff record, whose role caps the token's: true
    /// where tokens are issued by another system (Cognito), which does not see a record
    /// deactivated or a role lowered here.
    fn checks_staff_records(&self) -> bool {
        false
    }
}

/// Bearer tokens, each for one principal.
#[derive(Clone, Default)]
pub struct StaticTokens {
    tokens: Vec<(String, Principal)>,
}

impl fmt::Debug for StaticTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaticTokens")
            .field("principals", &self.tokens.iter().map(|(_, p)| p).collect::<Vec<_>>())
            .finish()
    }
}

impl StaticTokens {
    pub fn with(mut self, token: impl Into<String>, principal: Principal) -> Self {
        self.tokens.push((token.into(), principal));
        self
    }
}

impl Authenticator for StaticTokens {
    fn authenticate(&self, parts: &Parts) -> Option<Principal> {
        let header = parts.headers.get(axum::http::header::AUTHORIZATION)?.to_str().ok()?;
        let given = header.strip_prefix("Bearer ")?.trim().as_bytes();
        // Every token is compared in full, so timing says nothing about which one nearly matched.
        let mut found = None;
        for (token, principal) in &self.tokens {
            if crate::http::constant_time_eq(token.as_bytes(), given) {
                found = Some(principal.clone());
            }
        }
        found
    }
}

/// The role a route needs, as a type, so the check runs as an extractor: before the body is read,
/// so that a caller without the role learns nothing from validation errors.
pub trait Needs {
    const ROLE: Role;
}

pub struct Viewer;
pub struct Operator;
pub struct Advisor;
pub struct Admin;

impl Needs for Viewer {
    const ROLE: Role = Role::Viewer;
}
impl Needs for Operator {
    const ROLE: Role = Role::Operator;
}
impl Needs for Advisor {
    const ROLE: Role = Role::Advisor;
}
impl Needs for Admin {
    const ROLE: Role = Role::Admin;
}

/// An authenticated caller with role `R` or above: 401 problem+json without valid credentials,
/// 403 with a lower role.
pub struct Authorized<R>(pub Principal, pub PhantomData<R>);

impl<R: Needs + Send + Sync> FromRequestParts<ApiState> for Authorized<R> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, Problem> {
        if !parts.headers.contains_key(axum::http::header::AUTHORIZATION) {
            return Err(Problem::missing_token());
        }
        let mut caller = state.auth.authenticate(parts).ok_or_else(Problem::invalid_token)?;
        if state.auth.checks_staff_records() {
            caller = on_record(caller, state).await?;
        }
        caller.require(R::ROLE)?;
        Ok(Authorized(caller, PhantomData))
    }
}

/// The caller as their staff record stands (the staff list is read at most once a minute): 403 for
/// a token whose staff record is unknown or inactive, and the lower of the token's role and the
/// record's.
async fn on_record(caller: Principal, state: &ApiState) -> Result<Principal, Problem> {
    let staff = state.app.active_staff().await.map_err(|e| {
        tracing::error!(error = %e, "the staff list could not be read");
        Problem::unavailable()
    })?;
    let Some(member) = caller.staff_id.as_ref().and_then(|id| staff.by_id.get(id)) else {
        tracing::warn!(staff_id = ?caller.staff_id.as_ref().map(|s| s.as_str()), "a valid token without an active staff record");
        return Err(Problem::no_staff_record());
    };
    Ok(Principal { role: caller.role.min(member.role), name: member.name.clone(), ..caller })
}
