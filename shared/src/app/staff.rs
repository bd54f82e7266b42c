//! Writing a staff member's record. Role checks read the staff through the memo, so a write
//! forgets it at once: a new member, a role changed or a member deactivated counts on the next
//! request, whichever door (API or dashboard) made it.

use crate::app::App;
use crate::domain::staff::Staff;
use crate::ports::store::{StoreError, Versioned};

impl App {
    /// Adds a staff member.
    pub async fn create_staff(&self, staff: &Staff) -> Result<Versioned<Staff>, StoreError> {
        let created = self.store.create_staff(staff).await?;
        self.memo.forget_staff();
        Ok(created)
    }

    /// Replaces a staff member's record; `version` must be the one read.
    pub async fn update_staff(&self, staff: &Staff, version: u64) -> Result<Versioned<Staff>, StoreError> {
        let updated = self.store.update_staff(staff, version).await?;
        self.memo.forget_staff();
        Ok(updated)
    }
}
