//! OpenAPI schemas for the domain's validated scalars, written by hand because each one parses a
//! string or number its own way: the schema states the same rule the type's `TryFrom` enforces.
//! Structs and enums of the domain derive theirs.

use crate::domain::ids::{ClientId, FundId, ProcessId, StaffId, StockId, TelegramUserId};
use crate::domain::lockup::LockUp;
use crate::domain::money::{Price, Quantity, Won};
use crate::domain::process::Minutes;
use crate::domain::stock::StockCode;
use crate::domain::text::{Label, MAX_LABEL_CHARS, VISIBLE_CHAR_PATTERN};
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::{KnownFormat, RefOr, SchemaFormat};
use utoipa::{PartialSchema, ToSchema};

/// Ids: see `domain::ids`.
pub const ID_PATTERN: &str = "^[A-Za-z0-9_-]{1,56}$";

fn string(pattern: Option<&str>, description: &str) -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String).pattern(pattern).description(Some(description))
}

fn positive_integer(description: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
        .minimum(Some(1))
        .description(Some(description))
}

macro_rules! schema {
    ($($ty:ty => $body:expr;)*) => {$(
        impl PartialSchema for $ty {
            fn schema() -> RefOr<Schema> {
                $body.into()
            }
        }
        impl ToSchema for $ty {}
    )*};
}

schema! {
    StaffId => string(Some(ID_PATTERN), "A staff member's id.");
    ClientId => string(Some(ID_PATTERN), "A client's id.");
    FundId => string(Some(ID_PATTERN), "A fund account's id, unique within its client.");
    StockId => string(Some(ID_PATTERN), "A stock's id.");
    ProcessId => string(Some(ID_PATTERN), "A process's id.");
    Label => string(Some(VISIBLE_CHAR_PATTERN), "A name: trimmed, 1 to 200 characters.").max_length(Some(MAX_LABEL_CHARS));
    StockCode => string(Some("^[0-9A-Z]{6}$"), "A KRX short code, such as 005930.");
    Price => positive_integer("A price per share in won.");
    Quantity => positive_integer("A number of shares.");
    LockUp => ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(LockUp::ALL.iter().map(|l| l.korean())))
        .description(Some("A lock-up commitment (의무보유확약), counted from the listing date."));
    Won => ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
        .minimum(Some(0))
        .description(Some("An amount in won."));
    Minutes => ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int32)))
        .minimum(Some(1))
        .maximum(Some(u32::MAX))
        .description(Some("A number of minutes."));
    TelegramUserId => ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
        .description(Some("A Telegram user id."));
}
