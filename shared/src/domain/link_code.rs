//! One-time codes that link a client's Telegram group to the client: staff hand the code to the
//! client, who sends `/link CODE` in its group.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// No 0/O, 1/I/L: codes are read aloud and typed on phones.
const ALPHABET: &[u8; 31] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
const LEN: usize = 8;

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LinkCode(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a link code: 8 letters and digits, as staff gave it")]
pub struct LinkCodeError(pub String);

impl LinkCode {
    /// A code of 8 symbols from the system's random source (about 40 bits).
    pub fn generate() -> Result<LinkCode, getrandom::Error> {
        let mut code = String::with_capacity(LEN);
        while code.len() < LEN {
            let mut bytes = [0u8; 16];
            getrandom::fill(&mut bytes)?;
            // Rejection keeps every symbol equally likely: 248 = 8 × 31.
            for b in bytes.into_iter().filter(|b| *b < 248) {
                if code.len() < LEN {
                    code.push(char::from(ALPHABET[usize::from(b % 31)]));
                }
            }
        }
        Ok(LinkCode(code))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for LinkCode {
    type Err = LinkCodeError;

    /// Accepts what people type: any case, with spaces or hyphens.
    fn from_str(s: &str) -> Result<Self, LinkCodeError> {
        let code: String =
            s.chars().filter(|c| !c.is_whitespace() && *c != '-').map(|c| c.to_ascii_uppercase()).collect();
        if code.len() == LEN && code.bytes().all(|b| ALPHABET.contains(&b)) {
            Ok(LinkCode(code))
        } else {
            Err(LinkCodeError(s.to_owned()))
        }
    }
}

impl TryFrom<String> for LinkCode {
    type Error = LinkCodeError;
    fn try_from(s: String) -> Result<Self, LinkCodeError> {
        s.parse()
    }
}

impl From<LinkCode> for String {
    fn from(c: LinkCode) -> String {
        c.0
    }
}

impl fmt::Display for LinkCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_codes_parse_and_differ() {
        let a = LinkCode::generate().unwrap();
        assert_eq!(a.as_str().parse::<LinkCode>(), Ok(a.clone()));
        assert_ne!(a, LinkCode::generate().unwrap());
    }

    #[test]
    fn codes_are_read_forgivingly_but_strictly() {
        assert_eq!("abcd-efgh".parse::<LinkCode>().map(String::from), Ok("ABCDEFGH".to_owned()));
        assert_eq!(" AB CD EF GH ".parse::<LinkCode>().map(String::from), Ok("ABCDEFGH".to_owned()));
        for bad in ["", "ABCDEFG", "ABCDEFGHJ", "ABCDEFG0", "ABCDEFGI", "가나다라마바사아"] {
            assert!(bad.parse::<LinkCode>().is_err(), "{bad:?}");
        }
    }
}
