//! Text for Telegram's HTML parse mode: one escaping helper, and splitting of long texts into
//! messages that each fit Telegram's limit after parsing, without breaking a tag or an entity.

/// Telegram's limit on a message's text, after entity parsing, in UTF-16 code units.
pub const MESSAGE_LIMIT: usize = 4096;
/// Telegram's limit on a caption, likewise.
pub const CAPTION_LIMIT: usize = 1024;

/// Escapes text for HTML parse mode. Telegram accepts only `&lt; &gt; &amp; &quot;` as named
/// entities, so nothing else is produced.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

#[derive(Debug, Clone, PartialEq)]
enum Token<'a> {
    Open {
        name: &'a str,
        raw: &'a str,
    },
    Close {
        raw: &'a str,
    },
    /// A character or an entity, with its width in UTF-16 units after parsing.
    Visible {
        raw: &'a str,
        width: usize,
    },
}

/// Splits well-formed HTML (as this system writes it) into tokens. Stray `<` or `&` count as text.
fn tokens(html: &str) -> Vec<Token<'_>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < html.len() {
        let rest = &html[i..];
        let c = rest.chars().next().unwrap_or(' ');
        let taken = match c {
            '<' => rest.find('>').map(|end| {
                let raw = &rest[..=end];
                let token = if let Some(stripped) = raw.strip_prefix("</") {
                    let _ = stripped;
                    Token::Close { raw }
                } else {
                    let name_end =
                        raw[1..].find(|ch: char| ch.is_whitespace() || ch == '>').map_or(raw.len() - 1, |p| p + 1);
                    Token::Open { name: &raw[1..name_end], raw }
                };
                (token, raw.len())
            }),
            '&' => rest.find(';').filter(|&end| end <= 10).map(|end| {
                let raw = &rest[..=end];
                (Token::Visible { raw, width: entity_width(raw) }, raw.len())
            }),
            _ => None,
        };
        let (token, len) = taken.unwrap_or_else(|| {
            let raw = &rest[..c.len_utf8()];
            (Token::Visible { raw, width: c.len_utf16() }, raw.len())
        });
        out.push(token);
        i += len;
    }
    out
}

fn entity_width(raw: &str) -> usize {
    let body = &raw[1..raw.len() - 1];
    let code = if let Some(hex) = body.strip_prefix("#x").or_else(|| body.strip_prefix("#X")) {
        u32::from_str_radix(hex, 16).ok()
    } else if let Some(dec) = body.strip_prefix('#') {
        dec.parse().ok()
    } else {
        None
    };
    code.and_then(char::from_u32).map_or(1, char::len_utf16)
}

/// The length Telegram counts: the text after tags are removed and entities decoded, in UTF-16 units.
pub fn visible_len(html: &str) -> usize {
    tokens(html)
        .iter()
        .map(|t| match t {
            Token::Visible { width, .. } => *width,
            _ => 0,
        })
        .sum()
}

/// Where the current part could be cut: after its last line break.
struct LineBreak<'a> {
    /// Byte offset in the part.
    at: usize,
    /// Visible length up to it.
    len: usize,
    /// Tags open there.
    open: Vec<(&'a str, &'a str)>,
}

/// Splits `html` into parts of at most `limit` visible UTF-16 units. Tags open at a cut are closed
/// at the end of one part and reopened at the start of the next; a cut falls after a line break
/// when one lies in the second half of the part, else at the limit.
pub fn split(html: &str, limit: usize) -> Vec<String> {
    let limit = limit.max(1);
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut current_len = 0usize;
    let mut open: Vec<(&str, &str)> = Vec::new();
    let mut line_break: Option<LineBreak> = None;

    for token in tokens(html) {
        match token {
            Token::Open { name, raw } => {
                open.push((name, raw));
                current.push_str(raw);
            }
            Token::Close { raw } => {
                open.pop();
                current.push_str(raw);
            }
            Token::Visible { raw, width } => {
                if current_len + width > limit && current_len > 0 {
                    match line_break.take().filter(|b| b.len * 2 >= limit) {
                        Some(LineBreak { at, len, open: open_there }) => {
                            let rest = current.split_off(at);
                            parts.push(close_all(current, &open_there));
                            current = reopen(&open_there);
                            current.push_str(&rest);
                            current_len -= len;
                        }
                        None => {
                            parts.push(close_all(std::mem::take(&mut current), &open));
                            current = reopen(&open);
                            current_len = 0;
                        }
                    }
                }
                current.push_str(raw);
                current_len += width;
                if raw == "\n" {
                    line_break = Some(LineBreak { at: current.len(), len: current_len, open: open.clone() });
                }
            }
        }
    }
    if current_len > 0 {
        parts.push(close_all(current, &open));
    }
    // Telegram refuses a message of nothing but white space ("message text is empty").
    parts.retain(|p| tokens(p).iter().any(|t| matches!(t, Token::Visible { raw, .. } if !raw.trim().is_empty())));
    parts
}

fn close_all(mut part: String, open: &[(&str, &str)]) -> String {
    for (name, _) in open.iter().rev() {
        part.push_str("</");
        part.push_str(name);
        part.push('>');
    }
    part
}

fn reopen(open: &[(&str, &str)]) -> String {
    open.iter().map(|(_, raw)| *raw).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strip_tags(html: &str) -> String {
        tokens(html)
            .into_iter()
            .filter_map(|t| match t {
                Token::Visible { raw, .. } => Some(raw),
                _ => None,
            })
            .collect()
    }

    fn balanced(html: &str) -> bool {
        let mut stack = Vec::new();
        for t in tokens(html) {
            match t {
                Token::Open { name, .. } => stack.push(name.to_owned()),
                Token::Close { raw } => {
                    let name = raw.trim_start_matches("</").trim_end_matches('>');
                    if stack.pop().as_deref() != Some(name) {
                        return false;
                    }
                }
                Token::Visible { .. } => {}
            }
        }
        stack.is_empty()
    }

    #[test]
    fn escaping_uses_only_the_four_entities() {
        assert_eq!(escape(r#"<b> & "q" 'x'"#), "&lt;b&gt; &amp; &quot;q&quot; 'x'");
        assert_eq!(escape("17,000원"), "17,000원");
    }

    #[test]
    fn visible_length_ignores_tags_and_counts_entities_once() {
        assert_eq!(visible_len("<b>굵게</b> &lt;x&gt;"), 6);
        assert_eq!(visible_len("😀"), 2, "UTF-16 units");
        assert_eq!(visible_len("&#x1F600;&#65;"), 3);
        assert_eq!(visible_len("<a href=\"https://t.me/x\">링크</a>"), 2);
    }

    #[test]
    fn short_texts_are_one_part() {
        assert_eq!(split("<b>안녕</b>", 4096), vec!["<b>안녕</b>"]);
        assert_eq!(split("", 4096), Vec::<String>::new(), "nothing to send");
        assert_eq!(split(" \n <b> </b>", 4096), Vec::<String>::new());
    }

    #[test]
    fn long_texts_split_within_the_limit_without_breaking_tags_or_entities() {
        let line = format!("<b>{}</b> &amp; {}\n", "가".repeat(50), "나".repeat(30));
        let html = format!("<i>{}</i>", line.repeat(100));
        let parts = split(&html, MESSAGE_LIMIT);
        assert!(parts.len() > 1);
        for part in &parts {
            assert!(visible_len(part) <= MESSAGE_LIMIT, "{}", visible_len(part));
            assert!(balanced(part), "unbalanced part");
            assert!(!part.contains("&am") || part.contains("&amp;"));
        }
        assert_eq!(parts.iter().map(|p| strip_tags(p)).collect::<String>(), strip_tags(&html));
        assert!(parts[0].ends_with("\n</i>"), "cut after a line break when there is one");
        assert!(parts[1].starts_with("<i>"), "reopens the tags open at the cut");
    }

    #[test]
    fn texts_without_line_breaks_are_cut_at_the_limit() {
        let html = format!("<b>{}</b>", "가".repeat(10_000));
        let parts = split(&html, MESSAGE_LIMIT);
        let lens: Vec<usize> = parts.iter().map(|p| visible_len(p)).collect();
        assert_eq!(lens, vec![4096, 4096, 1808]);
        assert!(parts.iter().all(|p| p.starts_with("<b>") && p.ends_with("</b>")));
    }

    #[test]
    fn a_cut_before_trailing_white_space_sends_no_empty_part() {
        let html = format!("{}\n\n", "가".repeat(4096));
        let parts = split(&html, MESSAGE_LIMIT);
        assert_eq!(parts.len(), 1);
        assert_eq!(visible_len(&parts[0]), 4096);
    }

    #[test]
    fn captions_use_their_own_limit() {
        let parts = split(&"x".repeat(2_000), CAPTION_LIMIT);
        assert_eq!(parts.len(), 2);
        assert_eq!(visible_len(&parts[0]), 1024);
    }
}
