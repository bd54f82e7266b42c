//! The KRX markets an offering lists on; the tax and some rules differ between them.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum Market {
    Kospi,
    Kosdaq,
}

impl fmt::Display for Market {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Market::Kospi => "KOSPI",
            Market::Kosdaq => "KOSDAQ",
        })
    }
}
