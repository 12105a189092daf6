//! The awsQuery protocol that STS and IAM speak: a form-encoded
//! `Action=…&Version=…` request body and an XML response.
//!
//! A result is wrapped as `<{Action}Response><{Action}Result>…</{Action}Result>
//! <ResponseMetadata><RequestId>…</RequestId></ResponseMetadata></{Action}Response>`
//! and an error as `<ErrorResponse><Error><Type/><Code/><Message/></Error>
//! <RequestId/></ErrorResponse>`, which is what the AWS SDK for Rust reads.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

/// The `Version` parameter that STS requests carry.
pub const STS_VERSION: &str = "2011-06-15";

/// Characters that IAM percent-encodes in a policy document: everything but
/// the RFC 3986 unreserved characters.
const DOCUMENT_ENCODE_SET: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// An awsQuery error response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError {
    pub code: &'static str,
    pub message: String,
    pub status: u16,
}

impl QueryError {
    pub fn not_found(message: impl Into<String>) -> QueryError {
        QueryError { code: "NoSuchEntity", message: message.into(), status: 404 }
    }

    pub fn invalid(code: &'static str, message: impl Into<String>) -> QueryError {
        QueryError { code, message: message.into(), status: 400 }
    }
}

/// Decodes an `application/x-www-form-urlencoded` body into its pairs, in order.
pub fn parse_form(body: &[u8]) -> Vec<(String, String)> {
    String::from_utf8_lossy(body)
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode_form_text(key), decode_form_text(value))
        })
        .collect()
}

fn decode_form_text(text: &str) -> String {
    // `+` is a space in form encoding, so a literal plus arrives as %2B.
    percent_decode_str(&text.replace('+', " ")).decode_utf8_lossy().into_owned()
}

/// Percent-encodes a policy document as IAM returns it.
pub fn encode_document(document: &str) -> String {
    utf8_percent_encode(document, DOCUMENT_ENCODE_SET).to_string()
}

/// Returns the XML namespace of the service that `version` belongs to.
fn namespace(version: &str) -> &'static str {
    if version == STS_VERSION { "https://sts.amazonaws.com/doc/2011-06-15/" } else { "https://iam.amazonaws.com/doc/2010-05-08/" }
}

/// Wraps the elements of a result in the response envelope of `action`.
pub fn response_body(action: &str, version: &str, result: &str, request_id: &str) -> String {
    let mut xml = Xml::default();
    xml.text.push_str(&format!("<{action}Response xmlns=\"{}\">", namespace(version)));
    xml.open(&format!("{action}Result"));
    xml.text.push_str(result);
    xml.close(&format!("{action}Result"));
    xml.open("ResponseMetadata");
    xml.leaf("RequestId", request_id);
    xml.close("ResponseMetadata");
    xml.close(&format!("{action}Response"));
    xml.text
}

pub fn error_body(error: &QueryError, version: &str, request_id: &str) -> String {
    let kind = if error.status >= 500 { "Receiver" } else { "Sender" };
    let mut xml = Xml::default();
    xml.text.push_str(&format!("<ErrorResponse xmlns=\"{}\">", namespace(version)));
    xml.open("Error");
    xml.leaf("Type", kind);
    xml.leaf("Code", error.code);
    xml.leaf("Message", &error.message);
    xml.close("Error");
    xml.leaf("RequestId", request_id);
    xml.close("ErrorResponse");
    xml.text
}

/// An XML text under construction. Element names come from this crate and
/// are not escaped; text content is.
#[derive(Debug, Default)]
pub struct Xml {
    pub text: String,
}

impl Xml {
    pub fn open(&mut self, name: &str) {
        self.text.push('<');
        self.text.push_str(name);
        self.text.push('>');
    }

    pub fn close(&mut self, name: &str) {
        self.text.push_str("</");
        self.text.push_str(name);
        self.text.push('>');
    }

    /// Writes `<name>value</name>` with `value` escaped.
    pub fn leaf(&mut self, name: &str, value: &str) {
        self.open(name);
        for character in value.chars() {
            match character {
                '&' => self.text.push_str("&amp;"),
                '<' => self.text.push_str("&lt;"),
                '>' => self.text.push_str("&gt;"),
                '"' => self.text.push_str("&quot;"),
                '\'' => self.text.push_str("&apos;"),
                '\r' => self.text.push_str("&#13;"),
                other => self.text.push(other),
            }
        }
        self.close(name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_body_decodes_escapes() {
        let pairs = parse_form(b"Action=GetRole&RoleName=a%2Bb+c&Version=2010-05-08&Empty=");

        assert_eq!(pairs[0], ("Action".to_string(), "GetRole".to_string()));
        assert_eq!(pairs[1], ("RoleName".to_string(), "a+b c".to_string()));
        assert_eq!(pairs[3], ("Empty".to_string(), String::new()));
    }

    #[test]
    fn leaf_text_is_escaped() {
        let mut xml = Xml::default();
        xml.leaf("Message", "a<b & \"c\"");

        assert_eq!(xml.text, "<Message>a&lt;b &amp; &quot;c&quot;</Message>");
    }

    #[test]
    fn document_encoding_round_trips() {
        let document = r#"{"Statement":[{"Action":"s3:*","Resource":"arn:aws:s3:::a b/*"}]}"#;
        let encoded = encode_document(document);

        assert!(!encoded.contains('{'), "{encoded}");
        assert_eq!(percent_decode_str(&encoded).decode_utf8_lossy(), document);
    }
}
