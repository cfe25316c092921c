//! Policy list entries as Python regular expressions (spec/policy.md §2.3 rule 4).
//!
//! privacyIDEA tests every entry `v` with `re.search("^" + v + "$", value)`.
//! Entries without regex metacharacters ("literals") are compared as strings
//! (plus Python's `$`-before-final-newline rule); the others are compiled once.

use crate::compare::python_anchor_end;
use regex::Regex;
use std::sync::OnceLock;

/// Characters that make an entry a regular expression for Python's `re`.
pub const METACHARS: &[char] = &[
    '.', '^', '$', '*', '+', '?', '{', '}', '[', ']', '\\', '|', '(', ')',
];

/// Whether the entry contains no regex metacharacter.
pub fn is_literal(entry: &str) -> bool {
    !entry.contains(METACHARS)
}

/// `re.search("^" + entry + "$", q)` for a literal entry.
pub fn literal_matches(entry: &str, q: &str) -> bool {
    q == entry || (q.len() == entry.len() + 1 && q.ends_with('\n') && q.starts_with(entry))
}

/// The Rust pattern equivalent to Python's `"^" + entry + "$"`.
pub fn entry_pattern(entry: &str) -> String {
    format!("^{}", python_anchor_end(entry, false))
}

/// Compile an entry; errors for entries Python's `re` rejects (as far as we
/// can tell: the regex crate's syntax errors, and inline global flags such as
/// `(?i)` that Python ≥ 3.11 refuses after the leading `^`). Python-only
/// syntax (look-around, back-references) is also reported as an error.
pub fn compile_entry(entry: &str) -> Result<Regex, String> {
    // After the leading `^` a quantifier has nothing to repeat in Python
    // (the regex crate accepts a repeated anchor).
    let b = entry.as_bytes();
    if matches!(b.first(), Some(b'*' | b'+' | b'?'))
        || (b.first() == Some(&b'{') && b.get(1).is_some_and(u8::is_ascii_digit))
    {
        return Err("nothing to repeat at position 1".into());
    }
    static FLAGS: OnceLock<Option<Regex>> = OnceLock::new();
    let flags = FLAGS.get_or_init(|| Regex::new(r"\(\?[aiLmsux]+\)").ok());
    if let Some(m) = flags.as_ref().and_then(|f| f.find(entry)) {
        let preceding = entry[..m.start()]
            .chars()
            .rev()
            .take_while(|c| *c == '\\')
            .count();
        if preceding % 2 == 0 {
            return Err(format!(
                "global flags not at the start of the expression at position {}",
                m.start() + 1
            ));
        }
    }
    Regex::new(&entry_pattern(entry)).map_err(|e| e.to_string())
}

/// Whether [`compile_entry`] accepts the entry, without compiling a literal
/// (a literal always compiles; building a regex costs far more than the
/// rest of validating a policy write).
pub fn entry_compiles(entry: &str) -> bool {
    is_literal(entry) || compile_entry(entry).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_compile_without_a_regex() {
        for e in ["alice", "max_token_per_user", "a b", "ünï", "x-y/z", ""] {
            assert!(entry_compiles(e), "{e}");
            assert!(compile_entry(e).is_ok(), "{e}");
        }
        assert!(entry_compiles("customer_.*"));
        assert!(!entry_compiles("*admin"));
        assert!(!entry_compiles("a(b"));
    }

    #[test]
    fn full_match_semantics() {
        let re = compile_entry("customer_.*").unwrap();
        assert!(re.is_match("customer_12"));
        assert!(!re.is_match("xcustomer_12"));
        assert!(compile_entry("*admin").is_err());
        assert!(compile_entry("(?i)alice").is_err());

        assert!(literal_matches("user1", "user1"));
        assert!(!literal_matches("user1", "user1234"));
        assert!(literal_matches("user1", "user1\n"));
        let re = compile_entry("a.b").unwrap();
        assert!(re.is_match("axb"));
        // `^a|b$`: Python's alternation is not grouped
        let re = compile_entry("a|b").unwrap();
        assert!(re.is_match("axxx") && re.is_match("xxb") && !re.is_match("xax"));
        assert!(is_literal("hans") && is_literal("!alice") && !is_literal("v.*"));
    }
}
