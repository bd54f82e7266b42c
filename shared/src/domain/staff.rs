//! The advisory firm's staff and what each role may do.

use crate::domain::ids::{StaffId, TelegramUserId};
use crate::domain::text::Label;
use serde::{Deserialize, Serialize};

/// Roles, each including everything the ones before it may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads everything.
    Viewer,
    /// Also reminds clients and confirms their answers.
    Operator,
    /// Also manages advice and processes.
    Advisor,
    /// Also manages staff and clients.
    Admin,
}

impl Role {
    /// Whether this role includes `needed`.
    pub fn allows(self, needed: Role) -> bool {
        self >= needed
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Staff {
    pub id: StaffId,
    pub name: Label,
    pub role: Role,
    /// Set once the person has talked to the bot, so their messages in groups are recognised.
    pub telegram_user_id: Option<TelegramUserId>,
    pub active: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_by_what_they_allow() {
        assert!(Role::Admin.allows(Role::Advisor));
        assert!(Role::Advisor.allows(Role::Operator));
        assert!(Role::Operator.allows(Role::Viewer));
        assert!(Role::Operator.allows(Role::Operator));
        assert!(!Role::Viewer.allows(Role::Operator));
        assert!(!Role::Advisor.allows(Role::Admin));
        assert_eq!(serde_json::to_string(&Role::Admin).unwrap(), "\"admin\"");
    }
}
