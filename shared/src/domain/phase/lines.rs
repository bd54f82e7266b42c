//! Per-fund lines, the shape of every phase's advice and answer: at least one line, each fund at
//! most once.

use crate::domain::ids::FundId;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A line about one of a client's funds.
pub trait FundLine {
    fn fund_id(&self) -> &FundId;
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinesError {
    #[error("at least one fund's line is needed")]
    Empty,
    #[error("fund {0} is named twice")]
    DuplicateFund(FundId),
}

/// One line per fund, never empty. In schemas: `#[schema(value_type = Vec<T>, min_items = 1)]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FundLines<T>(Vec<T>);

impl<T: FundLine> FundLines<T> {
    pub fn new(lines: Vec<T>) -> Result<Self, LinesError> {
        if lines.is_empty() {
            return Err(LinesError::Empty);
        }
        for (i, line) in lines.iter().enumerate() {
            if lines[..i].iter().any(|earlier| earlier.fund_id() == line.fund_id()) {
                return Err(LinesError::DuplicateFund(line.fund_id().clone()));
            }
        }
        Ok(FundLines(lines))
    }

    pub fn iter(&self) -> std::slice::Iter<'_, T> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The line about `fund`, if any.
    pub fn of(&self, fund: &FundId) -> Option<&T> {
        self.0.iter().find(|l| l.fund_id() == fund)
    }

    pub fn as_slice(&self) -> &[T] {
        &self.0
    }

    /// Each line turned into another line about the same fund (the caller keeps the fund), so the
    /// invariants hold without checking again.
    pub(super) fn map_same_funds<U: FundLine>(&self, f: impl Fn(&T) -> U) -> FundLines<U> {
        FundLines(self.0.iter().map(f).collect())
    }
}

impl<'a, T> IntoIterator for &'a FundLines<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl<T: Serialize> Serialize for FundLines<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de, T: DeserializeOwned + FundLine> Deserialize<'de> for FundLines<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let lines = Vec::<T>::deserialize(deserializer)?;
        FundLines::new(lines).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    struct L {
        fund_id: FundId,
    }

    impl FundLine for L {
        fn fund_id(&self) -> &FundId {
            &self.fund_id
        }
    }

    fn l(f: &str) -> L {
        L { fund_id: f.parse().unwrap() }
    }

    #[test]
    fn lines_are_non_empty_and_name_each_fund_once() {
        assert_eq!(FundLines::<L>::new(vec![]), Err(LinesError::Empty));
        assert_eq!(FundLines::new(vec![l("a"), l("b"), l("a")]), Err(LinesError::DuplicateFund("a".parse().unwrap())));
        let ok = FundLines::new(vec![l("a"), l("b")]).unwrap();
        assert_eq!(ok.of(&"b".parse().unwrap()), Some(&l("b")));
        let json = serde_json::to_value(&ok).unwrap();
        assert_eq!(json, serde_json::json!([{ "fund_id": "a" }, { "fund_id": "b" }]));
        assert_eq!(serde_json::from_value::<FundLines<L>>(json).unwrap(), ok);
        assert!(serde_json::from_value::<FundLines<L>>(serde_json::json!([])).is_err());
        assert!(
            serde_json::from_value::<FundLines<L>>(serde_json::json!([{ "fund_id": "a" }, { "fund_id": "a" }]))
                .is_err()
        );
    }
}
