//! A strict JSON parser that keeps the byte span of every value and key.
//!
//! serde_json drops positions, but diagnostics must underline the policy
//! statement or snapshot field they talk about. The grammar is RFC 8259 with
//! no extensions: no comments, no trailing commas, no single quotes. Duplicate
//! object keys are rejected because IAM and the AWS CLI never produce them and
//! a reader cannot tell which copy a tool would use.

use std::fmt;
use std::ops::Range;

/// Maximum nesting of arrays and objects. Deeper input is rejected instead of
/// exhausting the stack; real policies and snapshots nest fewer than 20 levels.
pub const MAX_DEPTH: usize = 128;

/// A parsed JSON value with the byte range it occupies in the source text.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    pub span: Range<usize>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    /// The number as written, so that `1.0` and `1` stay distinguishable.
    Number(String),
    String(String),
    Array(Vec<Node>),
    Object(Vec<Member>),
}

/// One `"key": value` pair of an object, in source order.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub key: String,
    pub key_span: Range<usize>,
    pub value: Node,
}

/// A syntax error with the byte range of the offending text.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonError {
    pub message: String,
    pub span: Range<usize>,
    pub help: Option<String>,
    /// The first occurrence, for a duplicate key.
    pub previous: Option<Range<usize>>,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for JsonError {}

impl Node {
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::String(text) => Some(text),
            _ => None,
        }
    }

    pub fn as_object(&self) -> Option<&[Member]> {
        match &self.value {
            Value::Object(members) => Some(members),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Array(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self.value {
            Value::Bool(flag) => Some(flag),
            _ => None,
        }
    }

    /// Parses a number value as `f64`.
    pub fn as_f64(&self) -> Option<f64> {
        match &self.value {
            Value::Number(raw) => raw.parse().ok(),
            _ => None,
        }
    }

    /// Looks up a member of an object by exact key.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.member(key).map(|member| &member.value)
    }

    pub fn member(&self, key: &str) -> Option<&Member> {
        self.as_object()?.iter().find(|member| member.key == key)
    }

    /// Names the JSON type, for messages such as "expected an object, found a string".
    pub fn type_name(&self) -> &'static str {
        self.value.type_name()
    }

    /// Converts to a `serde_json::Value`, dropping spans.
    pub fn to_serde(&self) -> serde_json::Value {
        match &self.value {
            Value::Null => serde_json::Value::Null,
            Value::Bool(flag) => serde_json::Value::Bool(*flag),
            Value::Number(raw) => serde_json::from_str(raw).unwrap_or(serde_json::Value::Null),
            Value::String(text) => serde_json::Value::String(text.clone()),
            Value::Array(items) => items.iter().map(Node::to_serde).collect(),
            Value::Object(members) => serde_json::Value::Object(
                members.iter().map(|member| (member.key.clone(), member.value.to_serde())).collect(),
            ),
        }
    }
}

impl Value {
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::Array(_) => "an array",
            Value::Object(_) => "an object",
        }
    }
}

/// Parses a whole document. Spans are byte offsets into `text` plus `offset`,
/// so a document embedded in a larger file can report positions in that file.
pub fn parse(text: &str) -> Result<Node, JsonError> {
    parse_at(text, 0)
}

pub fn parse_at(text: &str, offset: usize) -> Result<Node, JsonError> {
    let mut parser = Parser { bytes: text.as_bytes(), text, pos: 0, offset, depth: 0 };
    parser.skip_whitespace();
    let node = parser.value()?;
    parser.end_of_document()?;
    Ok(node)
}

/// Parses a document whose top level is an array, one element at a time.
///
/// Each element's tree is built only when the iterator reaches it, so a
/// caller that drops it before taking the next one never keeps the tree of
/// the whole file. Spans are byte offsets into `text`. The iterator yields
/// at most one error, the first one, and then ends. The document is checked
/// up to its end, so `[1] x` yields `1` and then an error.
pub fn array_items(text: &str) -> ArrayItems<'_> {
    ArrayItems { parser: Parser { bytes: text.as_bytes(), text, pos: 0, offset: 0, depth: 0 }, state: ArrayState::Start }
}

/// The iterator that [`array_items`] returns.
pub struct ArrayItems<'a> {
    parser: Parser<'a>,
    state: ArrayState,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ArrayState {
    /// Before the opening `[`.
    Start,
    /// After an element, before its `,` or the closing `]`.
    AfterElement,
    Done,
}

impl Iterator for ArrayItems<'_> {
    type Item = Result<Node, JsonError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.step() {
            Ok(Some(node)) => Some(Ok(node)),
            Ok(None) => {
                self.state = ArrayState::Done;
                None
            }
            Err(error) => {
                self.state = ArrayState::Done;
                Some(Err(error))
            }
        }
    }
}

impl ArrayItems<'_> {
    /// Parses the next element, or checks the end of the document after the last one.
    fn step(&mut self) -> Result<Option<Node>, JsonError> {
        let parser = &mut self.parser;
        let more = match self.state {
            ArrayState::Done => return Ok(None),
            ArrayState::Start => {
                parser.skip_whitespace();
                if parser.peek() != Some(b'[') {
                    return Err(parser.error_char("expected a JSON array"));
                }
                parser.enter()?;
                parser.pos += 1;
                !parser.close_empty(b']')
            }
            ArrayState::AfterElement => parser.after_element(b']')?,
        };
        if !more {
            parser.end_of_document()?;
            return Ok(None);
        }

        parser.skip_whitespace();
        let node = parser.value()?;
        self.state = ArrayState::AfterElement;
        Ok(Some(node))
    }
}

struct Parser<'a> {
    bytes: &'a [u8],
    text: &'a str,
    pos: usize,
    offset: usize,
    depth: usize,
}

impl Parser<'_> {
    fn value(&mut self) -> Result<Node, JsonError> {
        let start = self.pos;
        let value = match self.peek() {
            None => return Err(self.error_here("unexpected end of input, expected a JSON value", None)),
            Some(b'{') => self.object()?,
            Some(b'[') => self.array()?,
            Some(b'"') => Value::String(self.string()?),
            Some(b't') => self.keyword("true", Value::Bool(true))?,
            Some(b'f') => self.keyword("false", Value::Bool(false))?,
            Some(b'n') => self.keyword("null", Value::Null)?,
            Some(b'-' | b'0'..=b'9') => self.number()?,
            Some(b'\'') => {
                return Err(self.error_here(
                    "strings must use double quotes",
                    Some("replace the single quotes with double quotes"),
                ));
            }
            Some(_) => return Err(self.error_char("unexpected character, expected a JSON value")),
        };
        Ok(Node { value, span: self.span(start, self.pos) })
    }

    fn object(&mut self) -> Result<Value, JsonError> {
        self.enter()?;
        self.pos += 1;
        let mut members: Vec<Member> = Vec::new();
        if self.close_empty(b'}') {
            return Ok(Value::Object(members));
        }
        loop {
            self.skip_whitespace();
            if self.peek() != Some(b'"') {
                return Err(self.error_char("expected a double-quoted object key"));
            }
            let key_start = self.pos;
            let key = self.string()?;
            let key_span = self.span(key_start, self.pos);
            if let Some(first) = members.iter().find(|member| member.key == key) {
                return Err(JsonError {
                    message: format!("duplicate key `{key}`"),
                    span: key_span,
                    help: Some("remove one of the two; tools disagree on which copy wins".into()),
                    previous: Some(first.key_span.clone()),
                });
            }

            self.skip_whitespace();
            if self.peek() != Some(b':') {
                return Err(self.error_char("expected `:` after the object key"));
            }
            self.pos += 1;
            self.skip_whitespace();
            let value = self.value()?;
            members.push(Member { key, key_span, value });

            if !self.after_element(b'}')? {
                return Ok(Value::Object(members));
            }
        }
    }

    fn array(&mut self) -> Result<Value, JsonError> {
        self.enter()?;
        self.pos += 1;
        let mut items = Vec::new();
        if self.close_empty(b']') {
            return Ok(Value::Array(items));
        }
        loop {
            self.skip_whitespace();
            items.push(self.value()?);
            if !self.after_element(b']')? {
                return Ok(Value::Array(items));
            }
        }
    }

    /// Consumes `close` if it directly follows the opening bracket, leaving
    /// the nesting level, and returns whether it did.
    fn close_empty(&mut self, close: u8) -> bool {
        self.skip_whitespace();
        if self.peek() != Some(close) {
            return false;
        }
        self.pos += 1;
        self.depth -= 1;
        true
    }

    /// Consumes the `,` or the closing `close` bracket after an array element
    /// or object member, and returns whether another one follows.
    fn after_element(&mut self, close: u8) -> Result<bool, JsonError> {
        let (end_message, found_message) = match close {
            b'}' => ("unexpected end of input, expected `,` or `}`", "expected `,` or `}` after the object member"),
            _ => ("unexpected end of input, expected `,` or `]`", "expected `,` or `]` after the array element"),
        };
        self.skip_whitespace();
        match self.peek() {
            Some(b',') => {
                let comma = self.pos;
                self.pos += 1;
                self.skip_whitespace();
                if self.peek() == Some(close) {
                    return Err(self.trailing_comma(comma));
                }
                Ok(true)
            }
            Some(byte) if byte == close => {
                self.pos += 1;
                self.depth -= 1;
                Ok(false)
            }
            None => Err(self.error_here(end_message, None)),
            Some(_) => Err(self.error_char(found_message)),
        }
    }

    /// Rejects anything but whitespace after the top-level value.
    fn end_of_document(&mut self) -> Result<(), JsonError> {
        self.skip_whitespace();
        if self.pos < self.bytes.len() {
            return Err(self.error_here("unexpected text after the end of the JSON value", None));
        }
        Ok(())
    }

    fn string(&mut self) -> Result<String, JsonError> {
        let start = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            let run_start = self.pos;
            while let Some(byte) = self.peek() {
                if byte == b'"' || byte == b'\\' || byte < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            out.push_str(&self.text[run_start..self.pos]);
            match self.peek() {
                None => {
                    return Err(JsonError {
                        message: "unterminated string: the input ends inside it".into(),
                        span: self.span(start, start + 1),
                        help: Some("add the closing double quote, or check whether the file was cut short".into()),
                        previous: None,
                    });
                }
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => out.push(self.escape()?),
                Some(_) => {
                    return Err(self.error_char("control characters must be escaped inside strings"));
                }
            }
        }
    }

    fn escape(&mut self) -> Result<char, JsonError> {
        let start = self.pos;
        self.pos += 1;
        let Some(kind) = self.peek() else {
            return Err(self.error_here("unexpected end of input inside an escape", None));
        };
        self.pos += 1;
        let decoded = match kind {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => return self.unicode_escape(start),
            _ => {
                return Err(JsonError {
                    message: "invalid escape sequence".into(),
                    span: self.span(start, self.pos),
                    help: Some(r#"valid escapes are \" \\ \/ \b \f \n \r \t and \uXXXX"#.into()),
                    previous: None,
                });
            }
        };
        Ok(decoded)
    }

    fn unicode_escape(&mut self, start: usize) -> Result<char, JsonError> {
        let high = self.hex4(start)?;
        if !(0xD800..0xDC00).contains(&high) {
            return char::from_u32(high).ok_or_else(|| self.bad_surrogate(start));
        }
        if self.bytes.get(self.pos..self.pos + 2) != Some(b"\\u") {
            return Err(self.bad_surrogate(start));
        }
        self.pos += 2;
        let low = self.hex4(start)?;
        if !(0xDC00..0xE000).contains(&low) {
            return Err(self.bad_surrogate(start));
        }
        let code = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
        char::from_u32(code).ok_or_else(|| self.bad_surrogate(start))
    }

    fn hex4(&mut self, start: usize) -> Result<u32, JsonError> {
        let digits = self.bytes.get(self.pos..self.pos + 4).filter(|digits| digits.iter().all(u8::is_ascii_hexdigit));
        let Some(digits) = digits else {
            return Err(JsonError {
                message: r"`\u` must be followed by four hexadecimal digits".into(),
                span: self.span(start, (self.pos + 4).min(self.bytes.len())),
                help: None,
                previous: None,
            });
        };
        let value = digits.iter().fold(0u32, |acc, digit| acc * 16 + (*digit as char).to_digit(16).unwrap_or(0));
        self.pos += 4;
        Ok(value)
    }

    fn bad_surrogate(&self, start: usize) -> JsonError {
        JsonError {
            message: "invalid UTF-16 surrogate pair in a `\\u` escape".into(),
            span: self.span(start, self.pos),
            help: None,
            previous: None,
        }
    }

    fn number(&mut self) -> Result<Value, JsonError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => {
                self.pos += 1;
                if matches!(self.peek(), Some(b'0'..=b'9')) {
                    return Err(self.number_error(start, "numbers must not have leading zeros"));
                }
            }
            Some(b'1'..=b'9') => self.digits(),
            _ => return Err(self.number_error(start, "expected a digit")),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.number_error(start, "expected a digit after the decimal point"));
            }
            self.digits();
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(self.number_error(start, "expected a digit in the exponent"));
            }
            self.digits();
        }
        Ok(Value::Number(self.text[start..self.pos].to_string()))
    }

    fn digits(&mut self) {
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
    }

    fn number_error(&self, start: usize, message: &str) -> JsonError {
        JsonError {
            message: format!("invalid number: {message}"),
            span: self.span(start, (self.pos + 1).min(self.bytes.len())),
            help: None,
            previous: None,
        }
    }

    fn keyword(&mut self, word: &str, value: Value) -> Result<Value, JsonError> {
        if self.bytes[self.pos..].starts_with(word.as_bytes()) {
            self.pos += word.len();
            return Ok(value);
        }
        let end = self.bytes[self.pos..]
            .iter()
            .position(|byte| !byte.is_ascii_alphanumeric())
            .map_or(self.bytes.len(), |length| self.pos + length.max(1));
        Err(JsonError {
            message: format!("unexpected `{}`, expected a JSON value", &self.text[self.pos..self.char_boundary(end)]),
            span: self.span(self.pos, self.char_boundary(end)),
            help: Some("JSON literals are lowercase `true`, `false` and `null`; text needs double quotes".into()),
            previous: None,
        })
    }

    fn enter(&mut self) -> Result<(), JsonError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error_here(&format!("nesting deeper than {MAX_DEPTH} levels"), None));
        }
        Ok(())
    }

    fn trailing_comma(&self, comma: usize) -> JsonError {
        JsonError {
            message: "trailing comma".into(),
            span: self.span(comma, comma + 1),
            help: Some("JSON allows no comma after the last element; remove it".into()),
            previous: None,
        }
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn span(&self, start: usize, end: usize) -> Range<usize> {
        self.offset + start..self.offset + end
    }

    fn char_boundary(&self, mut index: usize) -> usize {
        index = index.min(self.text.len());
        while !self.text.is_char_boundary(index) {
            index += 1;
        }
        index
    }

    fn error_here(&self, message: &str, help: Option<&str>) -> JsonError {
        // At the end of the input there is no character to underline, so the
        // last one is, which lets the diagnostic show where the text stops.
        let start = if self.pos >= self.text.len() {
            self.text.char_indices().next_back().map_or(0, |(index, _)| index)
        } else {
            self.pos
        };
        let end = self.char_boundary(start + 1);
        JsonError { message: message.to_string(), span: self.span(start, end), help: help.map(str::to_string), previous: None }
    }

    /// Reports the character at the current position, quoted.
    fn error_char(&self, message: &str) -> JsonError {
        match self.text[self.pos..].chars().next() {
            Some(found) => {
                let end = self.char_boundary(self.pos + 1);
                JsonError { message: format!("{message}, found `{}`", found.escape_debug()), span: self.span(self.pos, end), help: None, previous: None }
            }
            None => self.error_here(&format!("{message}, found the end of input"), None),
        }
    }
}

/// Converts a byte offset into a 1-based line and column (in characters).
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |index| index + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_cover_values_and_keys() {
        let text = r#"{"a": [1, "x"], "b": null}"#;
        let node = parse(text).unwrap();
        let a = node.member("a").unwrap();
        assert_eq!(&text[a.key_span.clone()], r#""a""#);
        assert_eq!(&text[a.value.span.clone()], r#"[1, "x"]"#);
        assert_eq!(&text[node.get("b").unwrap().span.clone()], "null");
    }

    #[test]
    fn trailing_comma_is_rejected() {
        let error = parse(r#"{"a": 1,}"#).unwrap_err();
        assert_eq!(error.message, "trailing comma");
        assert_eq!(error.span, 7..8);
    }

    #[test]
    fn duplicate_key_names_both() {
        let error = parse(r#"{"a": 1, "a": 2}"#).unwrap_err();
        assert_eq!(error.message, "duplicate key `a`");
        assert_eq!(error.span, 9..12);
        assert_eq!(error.previous, Some(1..4));
    }

    #[test]
    fn escapes_decode_to_text() {
        let node = parse(r#""a\"b\u00e9\ud83d\ude00\n""#).unwrap();
        assert_eq!(node.as_str(), Some("a\"bé😀\n"));
    }

    #[test]
    fn deep_nesting_is_rejected() {
        let text = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        assert!(parse(&text).unwrap_err().message.contains("nesting"));
    }

    #[test]
    fn truncated_input_is_rejected() {
        for text in ["", "{", r#"{"a""#, r#"{"a":"#, "[1,", r#""abc"#, "tru", "-", "1.", "1e"] {
            assert!(parse(text).is_err(), "{text:?} parsed");
        }
    }

    #[test]
    fn array_items_match_whole_parse() {
        let text = " [ {\"a\": [1, 2]}, \"x\" ,null,[] ] ";
        let whole = parse(text).unwrap();
        let items: Vec<Node> = array_items(text).collect::<Result<_, _>>().unwrap();
        assert_eq!(Some(items.as_slice()), whole.as_array());
    }

    #[test]
    fn array_items_of_empty_array() {
        assert_eq!(array_items(" [ ] ").count(), 0);
    }

    #[test]
    fn array_items_errors_match_whole_parse() {
        let cases = ["[", "[1", "[1,", "[1,]", "[1 2]", "[1] x", "[] ]", r#"[{"a": 1, "a": 2}]"#, "[tru]"];
        for text in cases {
            let expected = parse(text).unwrap_err();
            let results: Vec<Result<Node, JsonError>> = array_items(text).collect();
            let Some(Err(error)) = results.last() else {
                panic!("{text:?}: no error from array_items: {results:?}");
            };
            assert_eq!(results.iter().filter(|result| result.is_err()).count(), 1, "{text:?}");
            assert_eq!(error, &expected, "{text:?}");
        }
    }

    #[test]
    fn array_items_reject_non_array() {
        let error = array_items(r#"{"a": 1}"#).next().unwrap().unwrap_err();
        assert_eq!(error.message, "expected a JSON array, found `{`");
        assert_eq!(error.span, 0..1);
        let error = array_items("").next().unwrap().unwrap_err();
        assert_eq!(error.message, "expected a JSON array, found the end of input");
    }

    #[test]
    fn line_column_counts_characters() {
        assert_eq!(line_column("ab\ncé d", 7), (2, 4));
    }
}
