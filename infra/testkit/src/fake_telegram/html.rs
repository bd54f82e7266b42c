//! Telegram's HTML subset, parsed the way the Bot API parses it.
//!
//! Why our own parser: a message Telegram refuses is a message the user never sees, and the
//! refusal only shows up in production logs. The fake must refuse the same markup, with reasons
//! close to Telegram's, and must measure length *after* parsing the way Telegram does (tags
//! removed, entities decoded, UTF-16 code units), because that is what the 4096/1024 limits apply
//! to.
//!
//! The tag grammar follows TDLib's `parse_html` (which is what the Bot API server runs), so tag
//! errors read like Telegram's (`Unsupported start tag "script" at byte offset 0`, `Can't find end
//! tag corresponding to start tag "b"`, …). In `strict` mode the parser additionally enforces the
//! rule Telegram *documents* but TDLib does not enforce: every `<`, `>` and `&` that is not part
//! of a tag or entity must be escaped, and only `&lt; &gt; &amp; &quot;` and numeric entities
//! exist. Real Telegram would show a stray `&` or `&nbsp;` literally, which is an escaping bug in
//! the bot all the same, so the fake reports it.

use serde_json::{Map, Value, json};

/// Text after Telegram's HTML parsing: what the recipient sees, and the formatting entities with
/// offsets and lengths in UTF-16 code units (the Bot API's unit).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Parsed {
    pub text: String,
    pub entities: Vec<Value>,
}

impl Parsed {
    /// Length as Telegram counts it for the text and caption limits.
    pub fn utf16_len(&self) -> usize {
        utf16_len(&self.text)
    }
}

/// Length in UTF-16 code units: the unit of Telegram's text limits and entity offsets.
pub fn utf16_len(text: &str) -> usize {
    text.encode_utf16().count()
}

const SUPPORTED_TAGS: &[&str] = &[
    "a",
    "b",
    "strong",
    "i",
    "em",
    "s",
    "strike",
    "del",
    "u",
    "ins",
    "tg-spoiler",
    "tg-emoji",
    "span",
    "pre",
    "code",
    "blockquote",
];

struct Open {
    tag: String,
    argument: String,
    expandable: bool,
    utf16_start: usize,
}

struct Entity {
    offset: usize,
    length: usize,
    kind: &'static str,
    url: Option<String>,
    language: Option<String>,
    custom_emoji_id: Option<String>,
}

impl Entity {
    fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("type".into(), json!(self.kind));
        m.insert("offset".into(), json!(self.offset));
        m.insert("length".into(), json!(self.length));
        if let Some(url) = &self.url {
            m.insert("url".into(), json!(url));
        }
        if self.kind == "pre"
            && let Some(language) = &self.language
        {
            m.insert("language".into(), json!(language));
        }
        if let Some(id) = &self.custom_emoji_id {
            m.insert("custom_emoji_id".into(), json!(id));
        }
        Value::Object(m)
    }
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n' | 0x0b | 0x0c)
}

/// Parses `input` as Telegram HTML. The error is the reason Telegram would put after
/// `Bad Request: can't parse entities: `.
pub fn parse_html(input: &str, strict: bool) -> Result<Parsed, String> {
    let bytes = input.as_bytes();
    let len = bytes.len();
    let at = |i: usize| bytes.get(i).copied().unwrap_or(0);
    // Every index used to slice `input` below sits on an ASCII byte or at the end, so slicing
    // stays on character boundaries.
    let slice = |from: usize, to: usize| input.get(from..to).unwrap_or("");

    let mut out = String::with_capacity(len);
    let mut utf16 = 0usize;
    let mut stack: Vec<Open> = Vec::new();
    let mut entities: Vec<Entity> = Vec::new();
    let mut i = 0usize;

    while i < len {
        let c = at(i);
        if c == b'&'
            && let Some((ch, next)) = decode_entity(input, i, strict)?
        {
            out.push(ch);
            utf16 += ch.len_utf16();
            i = next;
            continue;
        }
        if c == b'>' && strict {
            return Err(format!("Character '>' at byte offset {i} must be escaped as &gt;"));
        }
        if c != b'<' {
            let Some(ch) = input.get(i..).and_then(|s| s.chars().next()) else {
                break;
            };
            out.push(ch);
            utf16 += ch.len_utf16();
            i += ch.len_utf8();
            continue;
        }

        let begin = i;
        i += 1;
        if at(i) != b'/' {
            // A start tag.
            while i < len && !is_space(at(i)) && at(i) != b'>' {
                i += 1;
            }
            if i >= len {
                return Err(format!("Unclosed start tag at byte offset {begin}"));
            }
            let tag = slice(begin + 1, i).to_ascii_lowercase();
            if !SUPPORTED_TAGS.contains(&tag.as_str()) {
                return Err(format!("Unsupported start tag \"{tag}\" at byte offset {begin}"));
            }

            let mut argument = String::new();
            let mut expandable = false;
            while at(i) != b'>' {
                while i < len && is_space(at(i)) {
                    i += 1;
                }
                if i >= len {
                    return Err(format!("Unclosed start tag \"{tag}\" at byte offset {begin}"));
                }
                if at(i) == b'>' {
                    break;
                }
                let name_begin = i;
                while i < len && !is_space(at(i)) && at(i) != b'=' && at(i) != b'>' {
                    i += 1;
                }
                let name = slice(name_begin, i);
                if name.is_empty() {
                    return Err(format!("Empty attribute name in the tag \"{tag}\" at byte offset {begin}"));
                }
                while i < len && is_space(at(i)) {
                    i += 1;
                }
                if at(i) != b'=' {
                    if tag == "blockquote" && name == "expandable" {
                        expandable = true;
                        continue;
                    }
                    if i >= len {
                        return Err(format!("Unclosed start tag \"{tag}\" at byte offset {begin}"));
                    }
                    return Err(format!(
                        "Expected equal sign in declaration of an attribute of the tag \"{tag}\" at byte offset {begin}"
                    ));
                }
                i += 1;
                while i < len && is_space(at(i)) {
                    i += 1;
                }
                if i >= len {
                    return Err(format!("Unclosed start tag \"{tag}\" at byte offset {begin}"));
                }
                let quote = at(i);
                let value = if quote != b'\'' && quote != b'"' {
                    // An unquoted value must be an HTML 4 name token, as in TDLib.
                    let token_begin = i;
                    while at(i).is_ascii_alphanumeric() || matches!(at(i), b'.' | b'-' | b'_' | b':') {
                        i += 1;
                    }
                    if !is_space(at(i)) && at(i) != b'>' {
                        return Err(format!("Unexpected end of name token at byte offset {token_begin}"));
                    }
                    slice(token_begin, i).to_ascii_lowercase()
                } else {
                    i += 1;
                    let mut value = String::new();
                    while i < len && at(i) != quote {
                        // Inside attribute values Telegram decodes entities it knows and keeps
                        // everything else: `href="…?a=1&b=2"` is fine.
                        if at(i) == b'&'
                            && let Some((ch, next)) = decode_entity(input, i, false)?
                        {
                            value.push(ch);
                            i = next;
                            continue;
                        }
                        let Some(ch) = input.get(i..).and_then(|s| s.chars().next()) else {
                            break;
                        };
                        value.push(ch);
                        i += ch.len_utf8();
                    }
                    if i >= len {
                        return Err(format!("Unclosed start tag at byte offset {begin}"));
                    }
                    i += 1;
                    value
                };
                match (tag.as_str(), name) {
                    ("a", "href") | ("tg-emoji", "emoji-id") => argument = value,
                    ("code", "class") => {
                        if let Some(language) = value.strip_prefix("language-") {
                            argument = language.to_owned();
                        }
                    }
                    ("span", "class") => {
                        if let Some(rest) = value.strip_prefix("tg-") {
                            argument = rest.to_owned();
                        }
                    }
                    ("blockquote", "expandable") => expandable = true,
                    _ => {}
                }
            }
            i += 1; // the '>'

            if tag == "span" && argument != "spoiler" {
                return Err(format!("Tag \"span\" must have class \"tg-spoiler\" at byte offset {begin}"));
            }
            if tag == "tg-emoji" && argument.parse::<i64>().is_err() {
                return Err("Invalid custom emoji identifier specified".to_owned());
            }
            stack.push(Open { tag, argument, expandable, utf16_start: utf16 });
        } else {
            // An end tag.
            if stack.is_empty() {
                return Err(format!("Unexpected end tag at byte offset {begin}"));
            }
            i += 1; // the '/'
            let name_begin = i;
            while i < len && !is_space(at(i)) && at(i) != b'>' {
                i += 1;
            }
            let end_name = slice(name_begin, i);
            while i < len && is_space(at(i)) {
                i += 1;
            }
            if at(i) != b'>' {
                return Err(format!("Unclosed end tag at byte offset {begin}"));
            }
            i += 1;
            let Some(open) = stack.pop() else {
                return Err(format!("Unexpected end tag at byte offset {begin}"));
            };
            if !end_name.is_empty() && !end_name.eq_ignore_ascii_case(&open.tag) {
                return Err(format!(
                    "Unmatched end tag at byte offset {begin}, expected \"</{}>\", found \"</{end_name}>\"",
                    open.tag
                ));
            }
            close_entity(open, utf16, &mut entities);
        }
    }

    if let Some(open) = stack.last() {
        return Err(format!("Can't find end tag corresponding to start tag \"{}\"", open.tag));
    }

    entities.sort_by(|a, b| a.offset.cmp(&b.offset).then(b.length.cmp(&a.length)));
    Ok(Parsed { text: out, entities: entities.iter().map(Entity::to_json).collect() })
}

fn close_entity(open: Open, utf16_end: usize, entities: &mut Vec<Entity>) {
    let offset = open.utf16_start;
    let length = utf16_end - offset;
    let mut entity = Entity { offset, length, kind: "bold", url: None, language: None, custom_emoji_id: None };
    entity.kind = match open.tag.as_str() {
        "b" | "strong" => "bold",
        "i" | "em" => "italic",
        "u" | "ins" => "underline",
        "s" | "strike" | "del" => "strikethrough",
        "tg-spoiler" | "span" => "spoiler",
        "a" => {
            // Without href Telegram derives the link from the text, which needs no entity here.
            if open.argument.is_empty() {
                return;
            }
            entity.url = Some(open.argument);
            "text_link"
        }
        "code" => {
            entity.language = (!open.argument.is_empty()).then_some(open.argument);
            "code"
        }
        "pre" => {
            // `<pre><code class="language-x">…</code></pre>` is one pre entity with a language.
            if let Some(last) = entities.last()
                && last.kind == "code"
                && last.offset == offset
                && last.length == length
            {
                entity.language = entities.pop().and_then(|code| code.language);
            }
            "pre"
        }
        "blockquote" if open.expandable => "expandable_blockquote",
        "blockquote" => "blockquote",
        "tg-emoji" => {
            entity.custom_emoji_id = Some(open.argument);
            "custom_emoji"
        }
        _ => return,
    };
    if length > 0 {
        entities.push(entity);
    }
}

/// Decodes the entity starting with the `&` at `pos`. `Ok(None)` means "not an entity, keep the
/// `&` literally", which only the lenient mode answers.
fn decode_entity(input: &str, pos: usize, strict: bool) -> Result<Option<(char, usize)>, String> {
    let bytes = input.as_bytes();
    let at = |i: usize| bytes.get(i).copied().unwrap_or(0);
    let bare_ampersand = || {
        Err(format!("Character '&' at byte offset {pos} is not part of an HTML entity and must be escaped as &amp;"))
    };
    let mut end = pos + 1;
    if at(end) == b'#' {
        end += 1;
        let hex = matches!(at(end), b'x' | b'X');
        if hex {
            end += 1;
        }
        let digits_begin = end;
        let mut value: u32 = 0;
        loop {
            let digit = match at(end) {
                d @ b'0'..=b'9' => u32::from(d - b'0'),
                d @ b'a'..=b'f' if hex => u32::from(d - b'a' + 10),
                d @ b'A'..=b'F' if hex => u32::from(d - b'A' + 10),
                _ => break,
            };
            value = value.saturating_mul(if hex { 16 } else { 10 }).saturating_add(digit);
            end += 1;
        }
        let ch = (end > digits_begin).then(|| char::from_u32(value)).flatten().filter(|c| *c != '\0');
        let semicolon = at(end) == b';';
        if strict {
            if end == digits_begin {
                return bare_ampersand();
            }
            return match ch {
                Some(ch) if semicolon => Ok(Some((ch, end + 1))),
                _ => Err(format!(
                    "Invalid numeric HTML entity \"{}\" at byte offset {pos}",
                    input.get(pos..end + usize::from(semicolon)).unwrap_or("&")
                )),
            };
        }
        return Ok(ch.map(|ch| (ch, end + usize::from(semicolon))));
    }

    while at(end).is_ascii_alphabetic() {
        end += 1;
    }
    let name = input.get(pos + 1..end).unwrap_or("");
    let ch = match name {
        "lt" => Some('<'),
        "gt" => Some('>'),
        "amp" => Some('&'),
        "quot" => Some('"'),
        _ => None,
    };
    let semicolon = at(end) == b';';
    if !strict {
        return Ok(ch.map(|ch| (ch, end + usize::from(semicolon))));
    }
    if name.is_empty() || !semicolon {
        return bare_ampersand();
    }
    match ch {
        Some(ch) => Ok(Some((ch, end + 1))),
        None => Err(format!(
            "Unsupported HTML entity \"&{name};\" at byte offset {pos}: only &lt; &gt; &amp; &quot; and numeric entities are allowed"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> Parsed {
        match parse_html(s, true) {
            Ok(p) => p,
            Err(e) => panic!("{s:?} refused: {e}"),
        }
    }

    fn err(s: &str) -> String {
        match parse_html(s, true) {
            Ok(p) => panic!("{s:?} accepted as {p:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn decodes_entities_and_strips_tags() {
        let p = ok("<b>굵게</b> &lt;tag&gt; &amp; &quot; &#65;&#x1F600;");
        assert_eq!(p.text, "굵게 <tag> & \" A😀");
        assert_eq!(p.entities, vec![json!({"type":"bold","offset":0,"length":2})]);
        assert_eq!(p.utf16_len(), 2 + 1 + 5 + 1 + 1 + 1 + 1 + 1 + 1 + 2);
    }

    #[test]
    fn all_supported_tags() {
        let p = ok(concat!(
            "<strong>a</strong><i>b</i><em>c</em><u>d</u><ins>e</ins><s>f</s><strike>g</strike>",
            "<del>h</del><span class=\"tg-spoiler\">i</span><tg-spoiler>j</tg-spoiler>",
            "<a href=\"https://example.com/?a=1&b=2\">k</a><code>l</code>",
            "<pre><code class=\"language-rust\">m</code></pre><pre>n</pre>",
            "<blockquote>o</blockquote><blockquote expandable>p</blockquote>",
            "<tg-emoji emoji-id=\"5368324170671202286\">👍</tg-emoji>"
        ));
        assert_eq!(p.text, "abcdefghijklmnop👍");
        let kinds: Vec<&str> = p.entities.iter().map(|e| e["type"].as_str().unwrap()).collect();
        assert_eq!(
            kinds,
            [
                "bold",
                "italic",
                "italic",
                "underline",
                "underline",
                "strikethrough",
                "strikethrough",
                "strikethrough",
                "spoiler",
                "spoiler",
                "text_link",
                "code",
                "pre",
                "pre",
                "blockquote",
                "expandable_blockquote",
                "custom_emoji"
            ]
        );
        assert_eq!(p.entities[10]["url"], "https://example.com/?a=1&b=2");
        assert_eq!(p.entities[12]["language"], "rust");
        assert!(p.entities[13].get("language").is_none());
        assert_eq!(p.entities[16]["length"], 2);
    }

    #[test]
    fn nesting_and_case() {
        let p = ok("<B><i>x</i>y</B>");
        assert_eq!(p.text, "xy");
        assert_eq!(p.entities[0], json!({"type":"bold","offset":0,"length":2}));
        assert_eq!(p.entities[1], json!({"type":"italic","offset":0,"length":1}));
    }

    #[test]
    fn refusals_read_like_telegram() {
        assert_eq!(err("<b>unclosed"), "Can't find end tag corresponding to start tag \"b\"");
        assert_eq!(err("a < b"), "Unsupported start tag \"\" at byte offset 2");
        assert_eq!(err("<script>x</script>"), "Unsupported start tag \"script\" at byte offset 0");
        assert!(err("a&nbsp;b").starts_with("Unsupported HTML entity \"&nbsp;\""));
        assert!(err("a > b").starts_with("Character '>' at byte offset 2"));
        assert!(err("Q&A").starts_with("Character '&' at byte offset 1"));
        assert!(err("&lt no semicolon").starts_with("Character '&'"));
        assert!(err("&#xD800;").starts_with("Invalid numeric HTML entity"));
        assert_eq!(err("<b><i>x</b></i>"), "Unmatched end tag at byte offset 7, expected \"</i>\", found \"</b>\"");
        assert_eq!(err("x</b>"), "Unexpected end tag at byte offset 1");
        assert_eq!(err("<b"), "Unclosed start tag at byte offset 0");
        assert_eq!(err("<span>x</span>"), "Tag \"span\" must have class \"tg-spoiler\" at byte offset 0");
        assert_eq!(err("<a href=https://x>y</a>"), "Unexpected end of name token at byte offset 8");
        assert_eq!(err("<tg-emoji emoji-id=\"x\">y</tg-emoji>"), "Invalid custom emoji identifier specified");
        assert_eq!(err("<br>"), "Unsupported start tag \"br\" at byte offset 0");
    }

    #[test]
    fn lenient_mode_keeps_stray_characters_like_tdlib() {
        let p = parse_html("Q&A > &nbsp; &lt", false).unwrap();
        assert_eq!(p.text, "Q&A > &nbsp; <");
        assert!(parse_html("a < b", false).is_err());
    }

    #[test]
    fn utf16_counts_surrogate_pairs() {
        assert_eq!(utf16_len("😀"), 2);
        assert_eq!(utf16_len("가"), 1);
    }
}
