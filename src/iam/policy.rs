//! The policy model and its parser. Every element keeps its byte span so
//! that errors and explanations can underline it.

use std::ops::Range;

use super::condition::{self, Clause};
use super::matching;
use super::variables::Template;
use super::PolicyType;
use crate::finding::Finding;
use crate::json::{self, Node, Value};
use crate::source::SourceText;

/// The policy language versions IAM accepts.
pub const VERSIONS: [&str; 2] = ["2012-10-17", "2008-10-17"];

/// The maximum length in bytes of a policy document, so that byte offsets
/// inside one policy fit in `u32`.
pub const MAX_POLICY_BYTES: usize = u32::MAX as usize;

const POLICY_KEYS: [&str; 3] = ["Version", "Id", "Statement"];
const STATEMENT_KEYS: [&str; 9] =
    ["Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Principal", "NotPrincipal", "Condition"];
const PRINCIPAL_KINDS: [&str; 4] = ["AWS", "Service", "Federated", "CanonicalUser"];

#[derive(Debug, Clone)]
pub struct Policy {
    pub name: String,
    pub source: SourceText,
    pub span: Range<usize>,
    pub version: Option<String>,
    pub statements: Vec<Statement>,
}

#[derive(Debug, Clone)]
pub struct Statement {
    /// Position in the `Statement` array, from 0.
    pub index: usize,
    pub sid: Option<Box<str>>,
    pub span: Range<usize>,
    pub effect: Effect,
    pub actions: Actions,
    pub resources: Resources,
    /// Boxed because identity policies, the most numerous, never name a principal.
    pub principals: Option<Box<Principals>>,
    pub conditions: Box<[Clause]>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Effect {
    Allow,
    Deny,
}

/// `Action` or, when `negated`, `NotAction`. Large policies list thousands
/// of entries, so an entry is a byte range into one shared text instead of
/// a string of its own.
#[derive(Debug, Clone)]
pub struct Actions {
    pub negated: bool,
    text: EntryText,
    /// The start and end offset of each entry in `text`.
    ranges: Box<[(u32, u32)]>,
    pub span: Range<usize>,
}

/// The text that the ranges of an entry list point into.
#[derive(Debug, Clone)]
enum EntryText {
    /// The policy's source, when every entry is written there without JSON
    /// escapes, so parsing copies no entry text.
    Source(SourceText),
    /// The decoded entries joined together, when some entry has an escape.
    Joined(Box<str>),
}

impl EntryText {
    fn as_str(&self) -> &str {
        match self {
            EntryText::Source(source) => source.text(),
            EntryText::Joined(text) => text,
        }
    }
}

impl Actions {
    /// Stores the entries as ranges into `source` when it contains them
    /// verbatim, and joins copies of them otherwise.
    fn new<'a>(negated: bool, entries: StringList<'a>, span: Range<usize>, source: &SourceText) -> Actions {
        let in_source: Option<Box<[(u32, u32)]>> = entries.nodes().map(|node| verbatim_range(node, source.text())).collect();
        match in_source {
            Some(ranges) => Actions { negated, text: EntryText::Source(source.clone()), ranges, span },
            None => Actions::joined(negated, entries.iter(), span),
        }
    }

    /// Stores copies of `entries` in one string. A policy is at most
    /// `MAX_POLICY_BYTES` long, so the offsets fit in `u32`.
    fn joined<'a>(negated: bool, entries: impl Iterator<Item = &'a str> + Clone, span: Range<usize>) -> Actions {
        let mut text = String::with_capacity(entries.clone().map(str::len).sum());
        let mut ranges = Vec::with_capacity(entries.clone().count());
        for entry in entries {
            let start = offset_u32(text.len());
            text.push_str(entry);
            ranges.push((start, offset_u32(text.len())));
        }
        Actions { negated, text: EntryText::Joined(text.into_boxed_str()), ranges: ranges.into_boxed_slice(), span }
    }

    /// Lists the entries as written in the policy.
    pub fn entries(&self) -> impl Iterator<Item = &str> + '_ {
        let text = self.text.as_str();
        self.ranges.iter().map(move |&(start, end)| text.get(start as usize..end as usize).unwrap_or_default())
    }

    /// Tells whether any entry matches `action`, before `NotAction` negation.
    pub fn lists(&self, action: &str) -> bool {
        self.entries().any(|entry| action_entry_matches(entry, action))
    }
}

/// Matches one `Action` entry such as `rekognition:Describe*` against an
/// action name, ignoring ASCII case as IAM does. Entries without wildcards,
/// or with a single trailing `*`, are compared directly; the rest go
/// through `matching::action_matches`.
pub fn action_entry_matches(pattern: &str, action: &str) -> bool {
    let Some(first_wildcard) = pattern.find(['*', '?']) else {
        return pattern.eq_ignore_ascii_case(action);
    };
    let prefix = &pattern[..first_wildcard];
    if !action.get(..prefix.len()).is_some_and(|head| head.eq_ignore_ascii_case(prefix)) {
        return false;
    }
    if first_wildcard + 1 == pattern.len() && pattern.ends_with('*') {
        return true;
    }
    matching::action_matches(pattern, action)
}

/// `Resource` or, when `negated`, `NotResource`.
#[derive(Debug, Clone)]
pub struct Resources {
    pub negated: bool,
    pub entries: OneOrMore<Template>,
    pub span: Range<usize>,
}

/// A non-empty list that stores its first item inline: most policy lists
/// have one entry, and large policies have thousands of lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OneOrMore<T> {
    first: T,
    rest: Box<[T]>,
}

impl<T> OneOrMore<T> {
    /// Collects `items`, or returns `None` when there are none.
    pub fn collect(items: impl IntoIterator<Item = T>) -> Option<OneOrMore<T>> {
        let mut items = items.into_iter();
        let first = items.next()?;
        Some(OneOrMore { first, rest: items.collect() })
    }

    pub fn first(&self) -> &T {
        &self.first
    }

    pub fn iter(&self) -> impl Iterator<Item = &T> + Clone {
        std::iter::once(&self.first).chain(self.rest.iter())
    }

    pub fn len(&self) -> usize {
        1 + self.rest.len()
    }

    /// Always false; present because `len` is.
    pub fn is_empty(&self) -> bool {
        false
    }
}

/// `Principal` or, when `negated`, `NotPrincipal`.
#[derive(Debug, Clone)]
pub struct Principals {
    pub negated: bool,
    pub entries: Vec<PrincipalEntry>,
    pub span: Range<usize>,
    /// The element's key, for labels.
    pub key_span: Range<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalEntry {
    /// `"*"`, or `{"AWS": "*"}`.
    Anyone,
    Aws(String),
    Service(String),
    Federated(String),
    CanonicalUser(String),
}

impl Policy {
    /// Tells whether `${…}` is a policy variable in this document.
    pub fn has_variables(&self) -> bool {
        self.version.as_deref() == Some("2012-10-17")
    }

    /// Checks the elements that depend on where the policy is attached:
    /// resource-based and resource control policies name a principal in
    /// every statement, the other types never do.
    pub fn check_for(&self, policy_type: PolicyType) -> Result<(), Finding> {
        let needs_principal = matches!(policy_type, PolicyType::ResourceBased | PolicyType::ResourceControlPolicy);
        for statement in &self.statements {
            match (&statement.principals, needs_principal) {
                (None, true) => {
                    return Err(invalid_element(
                        &self.source,
                        statement.span.clone(),
                        format!("statement {} of {policy_type} `{}` has no `Principal` or `NotPrincipal`", statement.index + 1, self.name),
                        "no principal",
                        r#"add "Principal" naming who the statement applies to, such as {"AWS": "arn:aws:iam::111122223333:root"}"#,
                    ));
                }
                (Some(principals), false) => {
                    return Err(invalid_element(
                        &self.source,
                        principals.key_span.clone(),
                        format!("{policy_type} `{}` must not name a principal", self.name),
                        "not allowed here",
                        "remove the element: the principal is whoever the policy is attached to",
                    ));
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// Builds a `policy::invalid` finding that underlines one element.
pub(crate) fn invalid_element(
    source: &SourceText,
    span: Range<usize>,
    message: impl Into<String>,
    label: impl Into<String>,
    help: impl Into<String>,
) -> Finding {
    Finding::error("policy::invalid", message).with_label_in(source, span, label).with_help(help)
}

/// Converts a JSON syntax error into a `policy::syntax` finding.
pub fn syntax_error(error: &json::JsonError, source: &SourceText) -> Finding {
    let mut finding = Finding::error("policy::syntax", format!("invalid JSON: {}", error.message))
        .with_label_in(source, error.span.clone(), error.message.clone());
    if let Some(previous) = &error.previous {
        finding = finding.with_label_in(source, previous.clone(), "first defined here");
    }
    finding.with_help(error.help.clone().unwrap_or_else(|| "fix the JSON syntax at the marked position".into()))
}

/// Parses a policy document that is a JSON value inside `source`.
///
/// Rejects what IAM rejects, plus a statement without `Resource` or
/// `NotResource` (role trust policies have none, but they are not input here).
/// Call [`Policy::check_for`] to check the elements that depend on the policy type.
pub fn parse_policy(name: &str, node: &Node, source: &SourceText) -> Result<Policy, Finding> {
    let Some(members) = node.as_object() else {
        return Err(invalid_element(
            source,
            node.span.clone(),
            format!("policy `{name}` must be a JSON object, found {}", node.type_name()),
            "not an object",
            r#"write the policy as {"Version": "2012-10-17", "Statement": [...]}"#,
        ));
    };
    check_keys(members, &POLICY_KEYS, "policy", source)?;
    if node.span.len() > MAX_POLICY_BYTES {
        return Err(invalid_element(
            source,
            node.span.start..node.span.start + 1,
            format!("policy `{name}` is {} bytes long, more than the {MAX_POLICY_BYTES} bytes this tool reads", node.span.len()),
            "policy starts here",
            "split the policy into several smaller ones",
        ));
    }

    let version = match node.member("Version") {
        None => None,
        Some(member) => {
            let text = expect_string(&member.value, "Version", source)?;
            if !VERSIONS.contains(&text) {
                return Err(invalid_element(
                    source,
                    member.value.span.clone(),
                    format!("unsupported policy version `{text}`"),
                    "not a policy language version",
                    "use \"2012-10-17\", the current version (\"2008-10-17\" is the only other one and has no policy variables)",
                ));
            }
            Some(text.to_string())
        }
    };
    if let Some(id) = node.get("Id") {
        expect_string(id, "Id", source)?;
    }

    let Some(statement_member) = node.member("Statement") else {
        return Err(invalid_element(
            source,
            node.span.clone(),
            format!("missing `Statement` in policy `{name}`"),
            "missing Statement",
            "add a \"Statement\" array with at least one statement",
        ));
    };
    let statement_nodes: Vec<&Node> = match &statement_member.value.value {
        Value::Object(_) => vec![&statement_member.value],
        Value::Array(items) => items.iter().collect(),
        _ => {
            return Err(invalid_element(
                source,
                statement_member.value.span.clone(),
                format!("`Statement` must be an object or an array of objects, found {}", statement_member.value.type_name()),
                "not a statement",
                r#"write statements as objects, as in [{"Effect": "Allow", "Action": "...", "Resource": "..."}]"#,
            ));
        }
    };

    let variables = version.as_deref() == Some("2012-10-17");
    // Sized up front: collecting results would grow the vector by doubling
    // and leave up to half of it unused for the life of the policy.
    let mut statements = Vec::with_capacity(statement_nodes.len());
    for (index, statement) in statement_nodes.into_iter().enumerate() {
        statements.push(parse_statement(index, statement, variables, source)?);
    }
    check_unique_sids(&statement_member.value, source)?;

    Ok(Policy { name: name.to_string(), source: source.clone(), span: node.span.clone(), version, statements })
}

/// Parses a policy document given as text, URL-encoded or not, as the IAM
/// API returns it. `source_name` names it in diagnostics, whose spans point
/// into the decoded text.
///
/// Text that starts with `{` is plain JSON even when it contains `%`, because
/// a URL-encoded document starts with `%7B`.
pub fn parse_policy_text(name: &str, text: &str, source_name: &str) -> Result<Policy, Finding> {
    let trimmed = text.trim_start();
    let decoded = if !trimmed.starts_with('{') && has_percent_escape(trimmed) {
        // RFC 3986 percent-encoding: `+` stays a plus sign.
        match percent_encoding::percent_decode_str(trimmed).decode_utf8() {
            Ok(decoded) => decoded.into_owned(),
            Err(_) => {
                let source = SourceText::new(source_name, text);
                return Err(Finding::error("policy::syntax", format!("policy `{name}` is URL-encoded text that does not decode to UTF-8"))
                    .with_label_in(&source, 0..text.len(), "invalid UTF-8 after URL decoding")
                    .with_help("give the policy as JSON text, or as the URL-encoded text that IAM returns"));
            }
        }
    } else {
        text.to_string()
    };

    let source = SourceText::new(source_name, decoded);
    let node = json::parse(source.text()).map_err(|error| syntax_error(&error, &source))?;
    parse_policy(name, &node, &source)
}

/// Rejects a Sid used by two statements, as IAM does. Policies hold tens of
/// statements, so comparing each pair costs less than building a set.
fn check_unique_sids(statements: &Node, source: &SourceText) -> Result<(), Finding> {
    let sids = statements.as_array().unwrap_or_default().iter().filter_map(|statement| statement.get("Sid"));
    for (position, sid) in sids.clone().enumerate() {
        let Some(text) = sid.as_str() else { continue };
        if let Some(first) = sids.clone().take(position).find(|earlier| earlier.as_str() == Some(text)) {
            return Err(Finding::error("policy::invalid", format!("duplicate Sid `{text}`"))
                .with_label_in(source, sid.span.clone(), "used again here")
                .with_label_in(source, first.span.clone(), "first used here")
                .with_help("give every statement of a policy its own Sid, or leave the Sid out"));
        }
    }
    Ok(())
}

fn has_percent_escape(text: &str) -> bool {
    text.as_bytes().windows(3).any(|window| window[0] == b'%' && window[1].is_ascii_hexdigit() && window[2].is_ascii_hexdigit())
}

fn parse_statement(index: usize, node: &Node, variables: bool, source: &SourceText) -> Result<Statement, Finding> {
    let Some(members) = node.as_object() else {
        return Err(invalid_element(
            source,
            node.span.clone(),
            format!("statement {} must be an object, found {}", index + 1, node.type_name()),
            "not a statement",
            r#"write the statement as {"Effect": "Allow", "Action": "...", "Resource": "..."}"#,
        ));
    };
    let elements = StatementElements::find(members, source)?;

    let sid = elements.sid.map(|sid| expect_string(&sid.value, "Sid", source).map(Box::from)).transpose()?;
    let effect = parse_effect(&elements, node, index, source)?;
    let actions = parse_actions(&elements, node, index, source)?;
    let resources = parse_resources(&elements, node, index, variables, source)?;
    let principals = parse_principals(&elements, source)?.map(Box::new);
    let conditions = match elements.condition {
        Some(block) => condition::parse_block(&block.value, variables, source)?.into_boxed_slice(),
        None => Box::default(),
    };

    Ok(Statement { index, sid, span: node.span.clone(), effect, actions, resources, principals, conditions })
}

/// The members of a statement object by element name, found in one pass.
#[derive(Default)]
struct StatementElements<'a> {
    sid: Option<&'a json::Member>,
    effect: Option<&'a json::Member>,
    action: Option<&'a json::Member>,
    not_action: Option<&'a json::Member>,
    resource: Option<&'a json::Member>,
    not_resource: Option<&'a json::Member>,
    principal: Option<&'a json::Member>,
    not_principal: Option<&'a json::Member>,
    condition: Option<&'a json::Member>,
}

impl<'a> StatementElements<'a> {
    /// Sorts the members into elements, rejecting unknown ones. The JSON
    /// parser has already rejected duplicate keys.
    fn find(members: &'a [json::Member], source: &SourceText) -> Result<StatementElements<'a>, Finding> {
        let mut elements = StatementElements::default();
        for member in members {
            let slot = match member.key.as_str() {
                "Sid" => &mut elements.sid,
                "Effect" => &mut elements.effect,
                "Action" => &mut elements.action,
                "NotAction" => &mut elements.not_action,
                "Resource" => &mut elements.resource,
                "NotResource" => &mut elements.not_resource,
                "Principal" => &mut elements.principal,
                "NotPrincipal" => &mut elements.not_principal,
                "Condition" => &mut elements.condition,
                _ => return Err(unknown_element(member, &STATEMENT_KEYS, "statement", source)),
            };
            *slot = Some(member);
        }
        Ok(elements)
    }
}

/// Rejects keys outside `allowed`, suggesting the closest allowed key.
fn check_keys(members: &[json::Member], allowed: &[&str], object_kind: &str, source: &SourceText) -> Result<(), Finding> {
    match members.iter().find(|member| !allowed.contains(&member.key.as_str())) {
        Some(unknown) => Err(unknown_element(unknown, allowed, object_kind, source)),
        None => Ok(()),
    }
}

fn unknown_element(unknown: &json::Member, allowed: &[&str], object_kind: &str, source: &SourceText) -> Finding {
    let closest = allowed
        .iter()
        .map(|key| (crate::suggest::edit_distance(&unknown.key.to_ascii_lowercase(), &key.to_ascii_lowercase()), *key))
        .min_by_key(|(distance, _)| *distance);
    let help = match closest {
        Some((distance, key)) if distance <= 2 => format!("did you mean `{key}`? Element names are case-sensitive"),
        _ => format!("a {object_kind} has only these elements: {}", allowed.join(", ")),
    };
    invalid_element(source, unknown.key_span.clone(), format!("unknown {object_kind} element `{}`", unknown.key), "unknown element", help)
}

fn expect_string<'a>(node: &'a Node, element: &str, source: &SourceText) -> Result<&'a str, Finding> {
    match node.as_str() {
        Some(text) => Ok(text),
        None => Err(not_a_string(node, element, source)),
    }
}

fn not_a_string(node: &Node, element: &str, source: &SourceText) -> Finding {
    invalid_element(
        source,
        node.span.clone(),
        format!("`{element}` must be a string, found {}", node.type_name()),
        "not a string",
        format!("write `{element}` as a double-quoted string"),
    )
}

/// Reads a string or a non-empty array of strings.
fn string_list<'a>(node: &'a Node, element: &str, source: &SourceText) -> Result<StringList<'a>, Finding> {
    let items = match &node.value {
        Value::String(_) => return Ok(StringList::One(node)),
        Value::Array(items) => items,
        _ => {
            return Err(invalid_element(
                source,
                node.span.clone(),
                format!("`{element}` must be a string or an array of strings, found {}", node.type_name()),
                "not a string or list",
                format!("write `{element}` as a string, or an array of strings"),
            ));
        }
    };
    if items.is_empty() {
        return Err(empty_list(node, element, source));
    }
    if let Some(item) = items.iter().find(|item| item.as_str().is_none()) {
        return Err(not_a_string(item, element, source));
    }
    Ok(StringList::Many(items))
}

fn empty_list(node: &Node, element: &str, source: &SourceText) -> Finding {
    invalid_element(
        source,
        node.span.clone(),
        format!("`{element}` must not be an empty list"),
        "empty list",
        format!("list at least one entry in `{element}`, or remove the statement"),
    )
}

/// A string element or an array whose items are all strings, checked by
/// `string_list`, read without copying.
#[derive(Clone, Copy)]
enum StringList<'a> {
    One(&'a Node),
    Many(&'a [Node]),
}

impl<'a> StringList<'a> {
    fn nodes(self) -> impl Iterator<Item = &'a Node> + Clone {
        let (one, many) = match self {
            StringList::One(node) => (Some(node), [].iter()),
            StringList::Many(items) => (None, items.iter()),
        };
        one.into_iter().chain(many)
    }

    fn iter(self) -> impl Iterator<Item = &'a str> + Clone {
        self.nodes().map(|node| node.as_str().unwrap_or_default())
    }
}

/// Returns the byte range of a string node's decoded text inside `text`,
/// which exists when the string literal there has no escapes.
fn verbatim_range(node: &Node, text: &str) -> Option<(u32, u32)> {
    let decoded = node.as_str()?;
    let start = node.span.start.checked_add(1)?;
    let end = start.checked_add(decoded.len())?;
    if text.get(start..end)? != decoded {
        return None;
    }
    Some((u32::try_from(start).ok()?, u32::try_from(end).ok()?))
}

/// Converts an offset inside one policy to `u32`. `parse_policy` rejects
/// policies longer than `MAX_POLICY_BYTES`, so the fallback is never taken.
fn offset_u32(offset: usize) -> u32 {
    u32::try_from(offset).unwrap_or(u32::MAX)
}

fn parse_effect(elements: &StatementElements<'_>, node: &Node, index: usize, source: &SourceText) -> Result<Effect, Finding> {
    let Some(effect) = elements.effect.map(|member| &member.value) else {
        return Err(invalid_element(
            source,
            node.span.clone(),
            format!("missing `Effect` in statement {}", index + 1),
            "missing Effect",
            "add \"Effect\": \"Allow\" or \"Effect\": \"Deny\"",
        ));
    };
    match expect_string(effect, "Effect", source)? {
        "Allow" => Ok(Effect::Allow),
        "Deny" => Ok(Effect::Deny),
        other => Err(invalid_element(
            source,
            effect.span.clone(),
            format!("invalid Effect `{other}`"),
            "not Allow or Deny",
            "`Effect` is \"Allow\" or \"Deny\", spelled with a capital first letter",
        )),
    }
}

/// Returns the one member present out of `positive` and `negative`, or an
/// error when both are.
fn pick_pair<'a>(
    pair: (Option<&'a json::Member>, Option<&'a json::Member>),
    positive: &str,
    negative: &str,
    source: &SourceText,
) -> Result<Option<(&'a json::Member, bool)>, Finding> {
    match pair {
        (Some(_), Some(second)) => Err(invalid_element(
            source,
            second.key_span.clone(),
            format!("a statement must not have both `{positive}` and `{negative}`"),
            format!("`{negative}` next to `{positive}`"),
            format!("keep either `{positive}` or `{negative}`; split the statement in two if you need both"),
        )),
        (Some(member), None) => Ok(Some((member, false))),
        (None, Some(member)) => Ok(Some((member, true))),
        (None, None) => Ok(None),
    }
}

fn parse_actions(elements: &StatementElements<'_>, node: &Node, index: usize, source: &SourceText) -> Result<Actions, Finding> {
    let Some((member, negated)) = pick_pair((elements.action, elements.not_action), "Action", "NotAction", source)? else {
        return Err(invalid_element(
            source,
            node.span.clone(),
            format!("missing `Action` or `NotAction` in statement {}", index + 1),
            "missing Action",
            "add \"Action\" with the actions the statement covers, such as \"rekognition:DistributeDatasetEntries\"",
        ));
    };
    let entries = string_list(&member.value, &member.key, source)?;
    Ok(Actions::new(negated, entries, member.value.span.clone(), source))
}

fn parse_resources(elements: &StatementElements<'_>, node: &Node, index: usize, variables: bool, source: &SourceText) -> Result<Resources, Finding> {
    let Some((member, negated)) = pick_pair((elements.resource, elements.not_resource), "Resource", "NotResource", source)? else {
        return Err(invalid_element(
            source,
            node.span.clone(),
            format!("missing `Resource` or `NotResource` in statement {}", index + 1),
            "missing Resource",
            "add \"Resource\" with the ARNs the statement covers, or \"*\"; Resource or NotResource is required",
        ));
    };
    let list = string_list(&member.value, &member.key, source)?;
    let Some(entries) = OneOrMore::collect(list.iter().map(|entry| Template::parse(entry, variables))) else {
        return Err(empty_list(&member.value, &member.key, source));
    };
    Ok(Resources { negated, entries, span: member.value.span.clone() })
}

fn parse_principals(elements: &StatementElements<'_>, source: &SourceText) -> Result<Option<Principals>, Finding> {
    let Some((member, negated)) = pick_pair((elements.principal, elements.not_principal), "Principal", "NotPrincipal", source)? else {
        return Ok(None);
    };
    let value = &member.value;
    let shape_error = || {
        invalid_element(
            source,
            value.span.clone(),
            format!("`{}` must be \"*\" or an object of AWS, Service, Federated or CanonicalUser entries", member.key),
            "invalid principal",
            r#"write, for example, {"AWS": "arn:aws:iam::111122223333:role/ml-pipeline"} or {"Service": "rekognition.amazonaws.com"}"#,
        )
    };

    let entries = match &value.value {
        Value::String(text) if text == "*" => vec![PrincipalEntry::Anyone],
        Value::Object(kinds) => {
            let mut entries = Vec::new();
            for kind in kinds {
                if !PRINCIPAL_KINDS.contains(&kind.key.as_str()) {
                    return Err(invalid_element(
                        source,
                        kind.key_span.clone(),
                        format!("unknown principal type `{}`", kind.key),
                        "not a principal type",
                        "use AWS, Service, Federated or CanonicalUser",
                    ));
                }
                for text in string_list(&kind.value, &kind.key, source)?.iter() {
                    entries.push(match kind.key.as_str() {
                        "AWS" if text == "*" => PrincipalEntry::Anyone,
                        "AWS" => PrincipalEntry::Aws(text.to_string()),
                        "Service" => PrincipalEntry::Service(text.to_string()),
                        "Federated" => PrincipalEntry::Federated(text.to_string()),
                        _ => PrincipalEntry::CanonicalUser(text.to_string()),
                    });
                }
            }
            if entries.is_empty() {
                return Err(shape_error());
            }
            entries
        }
        _ => return Err(shape_error()),
    };
    Ok(Some(Principals { negated, entries, span: value.span.clone(), key_span: member.key_span.clone() }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Policy, Finding> {
        parse_policy_text("test", text, "test.json")
    }

    #[test]
    fn single_statement_object_parses() {
        let policy = parse(r#"{"Version": "2012-10-17", "Statement": {"Sid": "A", "Effect": "Allow", "Action": "s3:*", "Resource": "*"}}"#).unwrap();
        assert_eq!(policy.statements.len(), 1);
        assert_eq!(policy.statements[0].sid.as_deref(), Some("A"));
        assert!(policy.has_variables());
    }

    #[test]
    fn action_patterns_match_like_iam() {
        let cases = [
            ("rekognition:DistributeDatasetEntries", "rekognition:distributedatasetentries", true),
            ("rekognition:*", "REKOGNITION:DistributeDatasetEntries", true),
            ("rekognition:*", "rekognitio:x", false),
            ("*", "s3:GetObject", true),
            ("rekognition:*Dataset*", "rekognition:DistributeDatasetEntries", true),
            ("rekognition:Describe?", "rekognition:DescribeX", true),
            ("rekognition:Describe?", "rekognition:Describe", false),
            ("s3:Get*Tagging", "s3:GetObjectTagging", true),
            ("s3:Get*Tagging", "s3:GetObject", false),
        ];
        for (pattern, action, expected) in cases {
            assert_eq!(action_entry_matches(pattern, action), expected, "{pattern} against {action}");
            assert_eq!(matching::action_matches(pattern, action), expected, "matching::action_matches({pattern}, {action})");
        }
    }

    #[test]
    fn action_entries_keep_order() {
        let actions = Actions::joined(false, ["s3:Get*", "", "rekognition:*"].into_iter(), 0..0);
        assert_eq!(actions.entries().collect::<Vec<_>>(), vec!["s3:Get*", "", "rekognition:*"]);
        assert!(actions.lists("rekognition:DistributeDatasetEntries"));
        assert!(!actions.lists("iam:PassRole"));
    }

    #[test]
    fn action_entries_with_escapes_decode() {
        let policy = parse(r#"{"Statement": {"Effect": "Allow", "Action": ["s3:Get\u002a", "rekognition:List*"], "Resource": "*"}}"#).unwrap();
        let actions = &policy.statements[0].actions;
        assert!(matches!(actions.text, EntryText::Joined(_)));
        assert_eq!(actions.entries().collect::<Vec<_>>(), vec!["s3:Get*", "rekognition:List*"]);
        assert!(actions.lists("s3:GetObject"));
    }

    #[test]
    fn action_entries_read_from_source() {
        let policy = parse(r#"{"Statement": {"Effect": "Allow", "Action": ["s3:Get*", "rekognition:List*"], "Resource": "*"}}"#).unwrap();
        let actions = &policy.statements[0].actions;
        assert!(matches!(actions.text, EntryText::Source(_)));
        assert_eq!(actions.entries().collect::<Vec<_>>(), vec!["s3:Get*", "rekognition:List*"]);
        let single = parse(r#"{"Statement": {"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}}"#).unwrap();
        assert_eq!(single.statements[0].actions.entries().collect::<Vec<_>>(), vec!["s3:Get*"]);
    }

    #[test]
    fn url_encoded_text_is_decoded() {
        let encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22s3%3AGet%2B%22%2C%22Resource%22%3A%22*%22%7D%5D%7D";
        let policy = parse(encoded).unwrap();
        assert!(policy.source.text().contains("s3:Get+"), "plus sign must stay: {}", policy.source.text());
    }

    #[test]
    fn plain_json_with_percent_stays() {
        let policy = parse(r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::a%41b/*"}}"#).unwrap();
        assert_eq!(policy.statements[0].resources.entries.first().static_text(), Some("arn:aws:s3:::a%41b/*"));
    }

    #[test]
    fn principal_in_identity_policy_rejected() {
        let policy = parse(r#"{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"}}"#).unwrap();
        assert!(policy.check_for(PolicyType::Identity).is_err());
        assert!(policy.check_for(PolicyType::ResourceBased).is_ok());
    }

    #[test]
    fn invalid_documents_are_rejected() {
        let cases = [
            (r#"{"Statement": {"Effect": "allow", "Action": "s3:*", "Resource": "*"}}"#, "invalid Effect"),
            (r#"{"Statement": {"Effect": "Allow", "Action": [], "Resource": "*"}}"#, "empty list"),
            (r#"{"Statement": {"Effect": "Allow", "Action": "s3:*"}}"#, "missing `Resource` or `NotResource`"),
            (r#"{"Statement": {"Effect": "Allow", "Action": 3, "Resource": "*"}}"#, "must be a string"),
            (r#"{"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*", "Extra": 1}}"#, "unknown statement element"),
            (r#"{"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*", "Principal": "arn:aws:iam::1:root"}}"#, "Principal"),
            (r#"{"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*", "Principal": {"Aws": "*"}}}"#, "unknown principal type"),
            (r#"{"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"Bool": {"k": {"a": 1}}}}}"#, "condition value"),
            (r#"{"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"NumericLessThan": {"k": "soon"}}}}"#, "not a number"),
            (r#"{"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"IpAddress": {"k": "1.2.3"}}}}"#, "IP address"),
            (r#"{"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}, "Extra": 1}"#, "unknown policy element"),
            (r#"["not a policy"]"#, "must be a JSON object"),
            (r#"{"Version": "2012-10-17"}"#, "missing `Statement`"),
            (r#"{"Statement": [1]}"#, "must be an object"),
            (r#"{"Statement": [{"Sid": "A", "Effect": "Allow", "Action": "*", "Resource": "*"}, {"Sid": "A", "Effect": "Deny", "Action": "*", "Resource": "*"}]}"#, "duplicate Sid `A`"),
        ];
        for (text, expected) in cases {
            match parse(text) {
                Ok(_) => panic!("{text} parsed"),
                Err(finding) => {
                    assert!(finding.message.contains(expected), "{text}: {}", finding.message);
                    assert!(!finding.labels.is_empty(), "{text}: no label");
                }
            }
        }
    }
}
