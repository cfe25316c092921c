//! The subset of Python's ConfigObj (5.0, `list_values=True`) that
//! privacyIDEA's policy files use: `[section]` headers (one level),
//! `key = value` lines, quoted and unquoted values, comma lists, triple-quoted
//! (multi-line) values and comments. The regular expressions are ConfigObj's
//! own, so a value reads here exactly as privacyIDEA reads it.
//!
//! Unlike ConfigObj, a value that does not parse is not fatal: the entry
//! keeps its raw text and the importer decides (privacyIDEA's own exports
//! contain such values, e.g. `action = {'enable': True, 'disable': True}`).

use regex::Regex;
use std::sync::OnceLock;

/// A parsed value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CoValue {
    /// A single (unquoted) string.
    Str(String),
    /// A comma list.
    List(Vec<String>),
}

/// One `key = value` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The unquoted key.
    pub key: String,
    /// The raw text after `=` (comment included, trailing whitespace removed).
    pub raw: String,
    /// ConfigObj's reading, `Err` where ConfigObj reports a parse error.
    pub value: Result<CoValue, String>,
    /// 1-based line number.
    pub line: usize,
}

/// One `[section]` with its entries in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// The unquoted section name.
    pub name: String,
    /// 1-based line number of the header.
    pub line: usize,
    /// Entries in file order.
    pub entries: Vec<Entry>,
}

impl Section {
    /// The entry for `key`.
    pub fn get(&self, key: &str) -> Option<&Entry> {
        self.entries.iter().find(|e| e.key == key)
    }
}

struct Regexes {
    section: Regex,
    keyword: Regex,
    value: Regex,
    list_item: Regex,
    single_line: [Regex; 2],
    multi_line: [Regex; 2],
}

fn regexes() -> Option<&'static Regexes> {
    static RE: OnceLock<Option<Regexes>> = OnceLock::new();
    RE.get_or_init(|| {
        let r = |s: &str| Regex::new(s).ok();
        Some(Regexes {
            section: r(
                r#"^(\s*)((?:\[\s*)+)((?:"\s*\S.*?\s*")|(?:'\s*\S.*?\s*')|(?:[^'"\s].*?))((?:\s*\])+)\s*(#.*)?$"#,
            )?,
            keyword: r(r#"^(\s*)((?:".*?")|(?:'.*?')|(?:[^'"=].*?))\s*=\s*(.*)$"#)?,
            // ConfigObj's `_valueexp`; its `(?<!,)` empty alternative becomes a
            // plain empty alternative (the capture differs only where
            // `_handle_value` discards it anyway).
            value: r(
                r#"^(?:(?:((?:(?:(?:".*?")|(?:'.*?')|(?:[^'",\#][^,\#]*?))\s*,\s*)*)((?:".*?")|(?:'.*?')|(?:[^'",\#\s][^,]*?)|(?:))?)|(,))\s*(\#.*)?$"#,
            )?,
            list_item: r(r#"((?:".*?")|(?:'.*?')|(?:[^'",\#]?.*?))\s*,\s*"#)?,
            single_line: [
                r(r#"^'''(.*?)'''\s*(#.*)?$"#)?,
                r(r#"^"""(.*?)"""\s*(#.*)?$"#)?,
            ],
            multi_line: [
                r(r#"^(.*?)'''\s*(#.*)?$"#)?,
                r(r#"^(.*?)"""\s*(#.*)?$"#)?,
            ],
        })
    })
    .as_ref()
}

/// ConfigObj's `_unquote` (`None` where it raises).
fn unquote(v: &str) -> Option<String> {
    let first = v.chars().next()?;
    let last = v.chars().next_back()?;
    if first == last && (first == '"' || first == '\'') {
        if v.len() == 1 {
            return Some(String::new());
        }
        return Some(v[1..v.len() - 1].to_string());
    }
    Some(v.to_string())
}

/// ConfigObj's `_handle_value` for a single-line value.
fn handle_value(re: &Regexes, value: &str) -> Result<CoValue, String> {
    let err = || "Parse error in value".to_string();
    let caps = re.value.captures(value).ok_or_else(err)?;
    let list_values = caps.get(1).map(|m| m.as_str());
    let single = caps.get(2).map(|m| m.as_str());
    if caps.get(3).is_some() {
        return Ok(CoValue::List(Vec::new()));
    }
    if list_values == Some("") && single.is_none() {
        return Err(err());
    }
    let single = match single {
        Some(s) if list_values.is_some_and(|l| !l.is_empty()) && s.is_empty() => None,
        Some(s) => Some(unquote(if s.is_empty() { "\"\"" } else { s }).ok_or_else(err)?),
        None => None,
    };
    let list_values = list_values.unwrap_or("");
    if list_values.is_empty() {
        return single.map(CoValue::Str).ok_or_else(err);
    }
    let mut list = Vec::new();
    for c in re.list_item.captures_iter(list_values) {
        let item = c.get(1).map(|m| m.as_str()).unwrap_or("");
        list.push(unquote(item).ok_or_else(err)?);
    }
    if let Some(s) = single {
        list.push(s);
    }
    Ok(CoValue::List(list))
}

/// Parse a file. `Err` is a ConfigObj-style message for what makes the
/// whole file unreadable (invalid lines, duplicates, nesting, broken
/// multi-line values, keys outside a section).
pub fn parse(text: &str) -> Result<Vec<Section>, String> {
    let Some(re) = regexes() else {
        return Err("internal error: the file parser is unavailable".into());
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let lines: Vec<&str> = text
        .split('\n')
        .map(|l| l.trim_end_matches(['\r', '\n']))
        .collect();
    let mut sections: Vec<Section> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let lineno = i + 1;
        i += 1;
        let sline = line.trim();
        if sline.is_empty() || sline.starts_with('#') {
            continue;
        }
        if let Some(c) = re.section.captures(line) {
            let open = c.get(2).map_or(0, |m| m.as_str().matches('[').count());
            let close = c.get(4).map_or(0, |m| m.as_str().matches(']').count());
            if open != close {
                return Err(format!(
                    "Cannot compute the section depth at line {lineno}."
                ));
            }
            if open != 1 {
                return Err(format!(
                    "Nested sections are not supported at line {lineno}."
                ));
            }
            let name = unquote(c.get(3).map_or("", |m| m.as_str()))
                .ok_or_else(|| format!("Invalid section name at line {lineno}."))?;
            if sections.iter().any(|s| s.name == name) {
                return Err(format!("Duplicate section name at line {lineno}."));
            }
            sections.push(Section {
                name,
                line: lineno,
                entries: Vec::new(),
            });
            continue;
        }
        let Some(c) = re.keyword.captures(line) else {
            return Err(format!(
                "Invalid line ({}) (matched as neither section nor keyword) at line {lineno}.",
                crate::pyrepr::repr_str(line)
            ));
        };
        let key_raw = c.get(2).map_or("", |m| m.as_str());
        let value = c.get(3).map_or("", |m| m.as_str());
        let key = unquote(key_raw).ok_or_else(|| format!("Invalid keyword at line {lineno}."))?;
        let (parsed, raw) = if value.starts_with("'''") || value.starts_with("\"\"\"") {
            let idx = usize::from(value.starts_with("\"\"\""));
            let quot = &value[..3];
            if let Some(m) = re.single_line[idx].captures(value) {
                let v = m.get(1).map_or("", |m| m.as_str()).to_string();
                (Ok(CoValue::Str(v)), value.to_string())
            } else if value[3..].contains(quot) {
                return Err(format!("Parse error in multiline value at line {lineno}."));
            } else {
                let mut newvalue = value[3..].to_string();
                let mut end = None;
                while i < lines.len() {
                    let l = lines[i];
                    i += 1;
                    newvalue.push('\n');
                    if l.contains(quot) {
                        end = Some(l);
                        break;
                    }
                    newvalue.push_str(l);
                }
                let m = end
                    .and_then(|l| re.multi_line[idx].captures(l))
                    .ok_or_else(|| format!("Parse error in multiline value at line {lineno}."))?;
                newvalue.push_str(m.get(1).map_or("", |m| m.as_str()));
                (Ok(CoValue::Str(newvalue)), value.to_string())
            }
        } else {
            (handle_value(re, value), value.trim_end().to_string())
        };
        let Some(section) = sections.last_mut() else {
            return Err(format!(
                "The line {lineno} (`{}`) is not inside a [section].",
                line.trim()
            ));
        };
        if section.entries.iter().any(|e| e.key == key) {
            return Err(format!("Duplicate keyword name at line {lineno}."));
        }
        section.entries.push(Entry {
            key,
            raw,
            value: parsed.map_err(|e| format!("{e} at line {lineno}.")),
            line: lineno,
        });
    }
    Ok(sections)
}

const WSPACE_PLUS: &[char] = &[' ', '\r', '\n', '\u{b}', '\t', '\'', '"'];

/// ConfigObj's `_quote` for a string value (`multiline=True`), except that
/// the empty string stays bare (ConfigObj reads an empty value as `""`
/// too) and `force` quotes a value that would read the same bare.
/// `None` if ConfigObj cannot represent the value.
pub fn quote(value: &str, force: bool) -> Option<String> {
    if value.is_empty() {
        return Some(if force { "\"\"".into() } else { String::new() });
    }
    let has_s = value.contains('\'');
    let has_d = value.contains('"');
    let need_triple = (has_s && has_d) || value.contains('\n');
    let single = |v: &str| -> Option<String> {
        match (v.contains('\''), v.contains('"')) {
            (true, true) => None,
            (_, true) => Some(format!("'{v}'")),
            _ => Some(format!("\"{v}\"")),
        }
    };
    if need_triple {
        return match (value.contains("\"\"\""), value.contains("'''")) {
            (true, true) => None,
            (false, _) => Some(format!("\"\"\"{value}\"\"\"")),
            (true, false) => Some(format!("'''{value}'''")),
        };
    }
    let first = value.chars().next().unwrap_or(' ');
    let last = value.chars().next_back().unwrap_or(' ');
    let bare = !WSPACE_PLUS.contains(&first)
        && !WSPACE_PLUS.contains(&last)
        && !value.contains(',')
        && !value.contains('#');
    if bare && !force {
        Some(value.to_string())
    } else {
        single(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn val(v: &str) -> Result<CoValue, String> {
        let sections = parse(&format!("[s]\nk = {v}\n")).unwrap();
        sections[0].entries[0].value.clone()
    }

    fn s(v: &str) -> Result<CoValue, String> {
        Ok(CoValue::Str(v.into()))
    }

    #[test]
    fn values_read_as_configobj_reads_them() {
        assert_eq!(val("plain text"), s("plain text"));
        assert_eq!(val(""), s(""));
        assert_eq!(val("{'otppin': 'none'}"), s("{'otppin': 'none'}"));
        assert_eq!(val("['realm1']"), s("['realm1']"));
        assert_eq!(val("a # comment"), s("a"));
        assert_eq!(val("\"a, b\""), s("a, b"));
        assert_eq!(val("'x \"y\", z'  # c"), s("x \"y\", z"));
        assert_eq!(
            val("a, b,c"),
            Ok(CoValue::List(vec!["a".into(), "b".into(), "c".into()]))
        );
        assert_eq!(val("a,"), Ok(CoValue::List(vec!["a".into()])));
        assert_eq!(val(","), Ok(CoValue::List(vec![])));
        assert_eq!(
            val("hi, there # x"),
            Ok(CoValue::List(vec!["hi".into(), "there".into()]))
        );
        // privacyIDEA's own export of two actions / two realms / a condition
        assert!(val("{'enable': True, 'disable': True}").is_err());
        assert!(val("['a', 'b']").is_err());
        assert!(val("[('userinfo', 'type', 'equals', 'x', True, 'raise_error')]").is_err());
        assert_eq!(val("\"\"\"a'b\"c\"\"\""), s("a'b\"c"));
    }

    #[test]
    fn file_structure() {
        let text = "# head\n[p1]\nname = p1\ntime = \n  scope=admin  \n\n[ \"p 2 \" ]\nd = '''line1\nline2'''\n";
        let secs = parse(text).unwrap();
        assert_eq!(secs.len(), 2);
        assert_eq!(secs[0].name, "p1");
        assert_eq!(secs[0].get("time").unwrap().value, s(""));
        assert_eq!(secs[0].get("scope").unwrap().value, s("admin"));
        assert_eq!(secs[1].name, "p 2 ");
        assert_eq!(secs[1].get("d").unwrap().value, s("line1\nline2"));
        assert!(parse("[a]\n[a]\n")
            .unwrap_err()
            .contains("Duplicate section"));
        assert!(parse("[a]\nk=1\nk=2\n")
            .unwrap_err()
            .contains("Duplicate keyword"));
        assert!(parse("[a]\njunk\n").unwrap_err().contains("Invalid line"));
        assert!(parse("k = v\n").unwrap_err().contains("not inside"));
        assert!(parse("[a]\n[[b]]\n").unwrap_err().contains("Nested"));
        assert!(parse("[a]\nk = '''x\n").unwrap_err().contains("multiline"));
        assert_eq!(parse("\n# only comments\n").unwrap(), vec![]);
    }

    #[test]
    fn quoting_round_trips() {
        for v in [
            "plain",
            "a, b",
            " lead",
            "trail ",
            "'q",
            "\"q",
            "x # y",
            "it's, \"quoted\"",
            "two\nlines",
            "ends 'with\"",
            "a'b\"\"\"c",
            "{'enable': True, 'disable': True}",
            "[('userinfo', 'type', 'equals', 'x', True, 'raise_error')]",
            "Mon-Fri: 9-18, Sat: 10-12",
            "",
        ] {
            let q = quote(v, false).unwrap();
            assert_eq!(val(&q), s(v), "{v:?} quoted as {q:?}");
            let q = quote(v, true).unwrap();
            assert_eq!(val(&q), s(v), "{v:?} force-quoted as {q:?}");
        }
        assert_eq!(quote("plain", false).unwrap(), "plain");
        assert_eq!(quote("a, b", false).unwrap(), "\"a, b\"");
        assert_eq!(quote("['a', 'b']", false).unwrap(), "\"['a', 'b']\"");
        assert_eq!(quote("None", true).unwrap(), "\"None\"");
        assert!(quote("a'''b\"\"\"", false).is_none());
    }
}
