//! Rows posted to the staff API as JSON:
//! `[{"client": "...", "fund": "...", "price": "17,500", "quantity": "300000", "lockup": "1개월",
//! "comment": "...", "send": true}]`.

use super::{ImportError, MAX_ROWS, RawRow, RowKind, RowSource};
use serde_json::Value;

const FIELDS: [&str; 7] = ["client", "fund", "price", "quantity", "lockup", "comment", "send"];
/// A sell plan's row: `limit_price` is the 지정가 column, `order` 시가, 시장가 or 지정가.
pub const SELL_FIELDS: [&str; 8] =
    ["client", "fund", "quantity", "order", "limit_price", "condition", "comment", "send"];

/// The fields a row of `kind` may have.
pub fn fields(kind: RowKind) -> &'static [&'static str] {
    match kind {
        RowKind::Bid => &FIELDS,
        RowKind::Sell => &SELL_FIELDS,
    }
}

/// Reads an array of row objects. Values may be strings, numbers (`17500`), booleans (for `send`)
/// or null; an unknown field is refused, so that a misspelt `qty` is not silently dropped. Rows are
/// numbered from 1 in array order, under the source `json`.
pub fn rows_from_json(value: &Value) -> Result<Vec<RawRow>, ImportError> {
    rows_from_json_of(value, RowKind::Bid)
}

/// [`rows_from_json`] for rows of `kind`.
pub fn rows_from_json_of(value: &Value, kind: RowKind) -> Result<Vec<RawRow>, ImportError> {
    let known = fields(kind);
    let invalid = |reason: String| ImportError::InvalidJson { reason };
    let items = value.as_array().ok_or_else(|| invalid("expected an array of rows".into()))?;
    if items.len() > MAX_ROWS {
        return Err(ImportError::TooManyRows { limit: MAX_ROWS });
    }
    let mut rows = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let source = RowSource::new("json", u32::try_from(i + 1).unwrap_or(u32::MAX));
        let object = item.as_object().ok_or_else(|| invalid(format!("{source}: expected an object")))?;
        if let Some(unknown) = object.keys().find(|k| !known.contains(&k.as_str())) {
            return Err(invalid(format!("{source}: unknown field {unknown:?} (fields: {})", known.join(", "))));
        }
        let field = |name: &str| -> Result<Option<String>, ImportError> {
            let text = match object.get(name) {
                None | Some(Value::Null) => return Ok(None),
                Some(Value::String(s)) => s.trim().to_owned(),
                Some(Value::Number(n)) => n.to_string(),
                Some(Value::Bool(b)) => if *b { "TRUE" } else { "FALSE" }.to_owned(),
                Some(_) => return Err(invalid(format!("{source}: {name:?} must be text, a number or a boolean"))),
            };
            Ok(Some(text).filter(|t| !t.is_empty()))
        };
        rows.push(RawRow {
            client: field("client")?.unwrap_or_default(),
            fund: field("fund")?,
            price: field(if kind == RowKind::Sell { "limit_price" } else { "price" })?,
            quantity: field("quantity")?,
            lockup: field("lockup")?,
            comment: field("comment")?.unwrap_or_default(),
            send: field("send")?,
            order: field("order")?,
            condition: field("condition")?,
            source,
        });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_staff_api_shape_reads() {
        let rows = rows_from_json(&json!([
            {"client": "(가상)새벽자산운용", "fund": "하이일드", "price": "17,500", "quantity": 300000,
             "lockup": "1개월", "comment": " 밴드 상단 초과 ", "send": true},
            {"client": "(가상)바른투자일임", "price": null, "send": false}
        ]))
        .unwrap();
        assert_eq!(rows[0].source, RowSource::new("json", 1));
        assert_eq!(rows[0].quantity.as_deref(), Some("300000"));
        assert_eq!(rows[0].comment, "밴드 상단 초과");
        assert_eq!(rows[0].send.as_deref(), Some("TRUE"));
        assert_eq!(rows[1].price, None);
        assert_eq!(rows[1].fund, None);
        assert_eq!(rows[1].send.as_deref(), Some("FALSE"));
    }

    #[test]
    fn sell_rows_have_their_own_fields() {
        let rows = rows_from_json_of(
            &json!([{"client": "(가상)새벽자산운용", "fund": "하이일드", "quantity": "50%", "order": "지정가",
                     "limit_price": 34000, "condition": "시가 +30% 이상"}]),
            RowKind::Sell,
        )
        .unwrap();
        assert_eq!((rows[0].price.as_deref(), rows[0].order.as_deref()), (Some("34000"), Some("지정가")));
        let err = rows_from_json_of(&json!([{"client": "x", "lockup": "1개월"}]), RowKind::Sell).unwrap_err();
        assert!(err.to_string().contains("unknown field \"lockup\""), "{err}");
    }

    #[test]
    fn malformed_rows_are_refused_with_the_row_named() {
        let err = |v: Value| rows_from_json(&v).unwrap_err().to_string();
        assert_eq!(err(json!({"client": "x"})), "the JSON rows are not valid: expected an array of rows");
        assert!(err(json!([{"client": "x"}, 3])).contains("json row 2: expected an object"));
        assert!(err(json!([{"client": "x", "qty": "1"}])).contains("unknown field \"qty\""));
        assert!(err(json!([{"client": "x", "price": [1]}])).contains("\"price\" must be text"));
        let many = Value::Array(vec![json!({"client": "x"}); MAX_ROWS + 1]);
        assert_eq!(rows_from_json(&many), Err(ImportError::TooManyRows { limit: MAX_ROWS }));
    }
}
