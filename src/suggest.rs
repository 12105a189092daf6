//! "Did you mean" suggestions for misspelled names.

/// Maximum number of edits between a misspelling and a suggestion.
pub const MAX_EDITS: usize = 3;

/// Returns the Levenshtein distance between two strings, counted in characters.
pub fn edit_distance(left: &str, right: &str) -> usize {
    let right: Vec<char> = right.chars().collect();
    let mut previous: Vec<usize> = (0..=right.len()).collect();
    for (i, left_char) in left.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, right_char) in right.iter().enumerate() {
            let substitution = previous[j] + usize::from(left_char != *right_char);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[right.len()]
}

/// Finds the candidate closest to `name`, ignoring ASCII case, if it is at
/// most [`MAX_EDITS`] edits away.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let name = name.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|candidate| (edit_distance(&name, &candidate.to_ascii_lowercase()), candidate))
        .min_by_key(|(distance, _)| *distance)
        .filter(|(distance, _)| *distance <= MAX_EDITS)
        .map(|(_, candidate)| candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_edits() {
        assert_eq!(edit_distance("stringequalz", "stringequals"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn closest_ignores_case_and_distance() {
        assert_eq!(closest("test-datset-empty", ["same-project", "test-dataset-empty"]), Some("test-dataset-empty"));
        assert_eq!(closest("Effect", ["effect"]), Some("effect"));
        assert_eq!(closest("completely-different", ["same-project"]), None);
    }
}
