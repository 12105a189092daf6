//! The request context: condition keys and their values.

use std::collections::HashMap;

/// Condition keys of one request. Key names are case-insensitive, as in IAM.
///
/// A key that is not set is either known to be absent (the default, which is
/// what `simulate` uses) or unknown, when [`Context::with_unknown_keys`]
/// marks it as a key the tool cannot know (such as `aws:SourceIp` offline).
#[derive(Debug, Clone, Default)]
pub struct Context {
    entries: HashMap<String, Entry>,
    unknown: Option<UnknownKeys>,
}

#[derive(Debug, Clone)]
struct Entry {
    key: String,
    values: Vec<String>,
}

/// Keys that are known to be absent when the context treats every other
/// missing key as unknown: exact lowercase names and lowercase prefixes.
#[derive(Debug, Clone, Default)]
pub struct UnknownKeys {
    pub absent_keys: Vec<String>,
    pub absent_prefixes: Vec<String>,
}

/// The context's content for one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup<'a> {
    Present(&'a [String]),
    Absent,
    Unknown,
}

impl Context {
    pub fn new() -> Self {
        Self::default()
    }

    /// Treats every missing key as unknown, except the listed ones.
    pub fn with_unknown_keys(mut self, except: UnknownKeys) -> Self {
        self.unknown = Some(except);
        self
    }

    /// Sets a single-valued key, replacing any earlier value.
    pub fn insert(&mut self, key: &str, value: impl Into<String>) {
        self.insert_values(key, vec![value.into()]);
    }

    /// Sets a multivalued key such as `aws:TagKeys`.
    pub fn insert_values(&mut self, key: &str, values: Vec<String>) {
        self.entries.insert(key.to_ascii_lowercase(), Entry { key: key.to_string(), values });
    }

    pub fn get(&self, key: &str) -> Lookup<'_> {
        let lowercase = key.to_ascii_lowercase();
        if let Some(entry) = self.entries.get(&lowercase) {
            return Lookup::Present(&entry.values);
        }
        match &self.unknown {
            None => Lookup::Absent,
            Some(except) => {
                let absent = except.absent_keys.iter().any(|absent| *absent == lowercase)
                    || except.absent_prefixes.iter().any(|prefix| lowercase.starts_with(prefix.as_str()));
                if absent { Lookup::Absent } else { Lookup::Unknown }
            }
        }
    }

    /// Lists the keys that are set, with the spelling they were set with.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.values().map(|entry| entry.key.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_names_ignore_case() {
        let mut context = Context::new();
        context.insert("aws:RequestedRegion", "us-east-1");
        assert_eq!(context.get("AWS:requestedregion"), Lookup::Present(&["us-east-1".to_string()]));
    }

    #[test]
    fn missing_key_absent_by_default() {
        assert_eq!(Context::new().get("aws:SourceIp"), Lookup::Absent);
    }

    #[test]
    fn unknown_mode_keeps_listed_absent() {
        let context = Context::new().with_unknown_keys(UnknownKeys {
            absent_keys: vec!["aws:tagkeys".into()],
            absent_prefixes: vec!["aws:requesttag/".into()],
        });
        assert_eq!(context.get("aws:SourceIp"), Lookup::Unknown);
        assert_eq!(context.get("aws:TagKeys"), Lookup::Absent);
        assert_eq!(context.get("aws:RequestTag/team"), Lookup::Absent);
    }
}
