//! The passwd-file resolver (`passwdresolver`).
//!
//! Behaviour follows privacyIDEA 3.14's `PasswdIdResolver`; deviations are
//! listed on [`PasswdResolver`].

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, Weak};
use std::time::SystemTime;

use serde_json::Value;
use subtle::ConstantTimeEq;

use crate::config::ResolverConfig;
use crate::resolver::BuildError;
use crate::resolver::{AttrValue, ConnectionTest, Resolver, ResolverError, SearchFilter, UserInfo};

/// The file used when `fileName` is empty or missing.
pub const DEFAULT_FILE: &str = "/etc/passwd";

/// Message of the error for shadowed (`x`/`*`) password fields.
pub const SHADOW_PASSWORDS: &str = "no support for shadow passwords";

const USERNAME: usize = 0;
const CRYPTPASS: usize = 1;
const USERID: usize = 2;
const GECOS: usize = 4;

/// Resolver over a passwd-format file
/// (`username:cryptpass:uid:gid:gecos:home:shell`, UTF-8).
///
/// The file is parsed once and kept in a process-wide cache keyed by path,
/// shared by every resolver instance naming the same path. Each operation
/// checks the file's metadata (modification time, length, inode) with one
/// `stat` call and re-parses only when it changed.
///
/// Deviations from privacyIDEA (which fails the whole resolver on them):
/// lines with fewer than 3 fields are skipped with a warning, and a missing
/// gecos field counts as empty. An unrecognised password hash (e.g. `!`)
/// gives `Ok(false)` instead of an internal error. A malformed `userid`
/// search pattern is [`ResolverError::InvalidSearch`] instead of an
/// internal error.
#[derive(Debug, Clone)]
pub struct PasswdResolver {
    file: Arc<FileSlot>,
}

impl PasswdResolver {
    /// A resolver over `path` (an empty path means [`DEFAULT_FILE`]). Does
    /// not touch the file.
    pub fn new(path: impl AsRef<Path>) -> Self {
        let path = path.as_ref();
        let path = if path.as_os_str().is_empty() {
            Path::new(DEFAULT_FILE)
        } else {
            path
        };
        Self {
            file: FileSlot::shared(path),
        }
    }

    /// Builds the resolver from its configuration: key `fileName`, else
    /// `filename`; empty or missing means [`DEFAULT_FILE`].
    pub fn from_config(config: &ResolverConfig) -> Result<Self, BuildError> {
        let (key, value) = match config.get("fileName") {
            Some(v) => ("fileName", Some(v)),
            None => ("filename", config.get("filename")),
        };
        let path = match value {
            None | Some(Value::Null) => "",
            Some(Value::String(s)) => s.as_str(),
            Some(other) => {
                return Err(BuildError::InvalidConfig {
                    key: key.to_owned(),
                    reason: format!("expected a file name, got `{other}`"),
                })
            }
        };
        Ok(Self::new(path))
    }

    /// The file this resolver reads (privacyIDEA's `getResolverId`).
    pub fn file_name(&self) -> &Path {
        &self.file.path
    }

    fn data(&self) -> Result<Arc<PasswdData>, ResolverError> {
        self.file.data()
    }
}

impl Resolver for PasswdResolver {
    fn rtype(&self) -> &'static str {
        "passwdresolver"
    }

    fn user_id(&self, login: &str) -> Result<String, ResolverError> {
        let data = self.data()?;
        match data.by_name.get(login) {
            Some(uid) if !uid.is_empty() => Ok(uid.clone()),
            _ => Err(ResolverError::NotFound(login.to_owned())),
        }
    }

    fn username(&self, uid: &str) -> Result<String, ResolverError> {
        let data = self.data()?;
        data.entry(uid)
            .map(|e| e.field(USERNAME))
            .filter(|name| !name.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| ResolverError::NotFound(uid.to_owned()))
    }

    fn user_info(&self, uid: &str) -> Result<UserInfo, ResolverError> {
        let data = self.data()?;
        data.entry(uid)
            .map(|e| e.info(true))
            .ok_or_else(|| ResolverError::NotFound(uid.to_owned()))
    }

    fn check_password(&self, uid: &str, password: &str) -> Result<bool, ResolverError> {
        let data = self.data()?;
        let entry = data
            .entry(uid)
            .ok_or_else(|| ResolverError::NotFound(uid.to_owned()))?;
        let crypted = entry.field(CRYPTPASS);
        match crypted {
            "" => Ok(false),
            "x" | "*" => Err(ResolverError::NotImplemented(SHADOW_PASSWORDS.to_owned())),
            hash => Ok(verify_crypt(password, hash)),
        }
    }

    fn user_list(&self, filter: &SearchFilter) -> Result<Vec<UserInfo>, ResolverError> {
        let matchers = filter
            .iter()
            .map(|(k, v)| Matcher::new(k, v))
            .collect::<Result<Vec<_>, _>>()?;
        let data = self.data()?;
        Ok(data
            .entries
            .iter()
            .filter(|e| matchers.iter().all(|m| m.matches(e)))
            .map(|e| e.info(false))
            .collect())
    }

    /// privacyIDEA's passwd resolver has no connection test: `false` /
    /// `"Not implemented"`.
    fn test_connection(&self) -> Result<ConnectionTest, ResolverError> {
        Ok(ConnectionTest {
            success: false,
            description: "Not implemented".to_owned(),
            count: None,
        })
    }
}

/// Verifies `password` against a crypt(3)-style hash: `$6$` (sha512_crypt),
/// `$5$` (sha256_crypt), `$2a$`/`$2b$`/`$2y$` (bcrypt). Anything else is
/// logged and answers `false`.
pub fn verify_crypt(password: &str, hash: &str) -> bool {
    let result = if let Some(rest) = hash.strip_prefix("$6$") {
        sha_crypt_check(password, rest, |pw, salt, rounds| {
            let params = sha_crypt::Sha512Params::new(rounds)?;
            sha_crypt::sha512_crypt_b64(pw, salt, &params)
        })
    } else if let Some(rest) = hash.strip_prefix("$5$") {
        sha_crypt_check(password, rest, |pw, salt, rounds| {
            let params = sha_crypt::Sha256Params::new(rounds)?;
            sha_crypt::sha256_crypt_b64(pw, salt, &params)
        })
    } else if ["$2a$", "$2b$", "$2y$"].iter().any(|p| hash.starts_with(p)) {
        bcrypt::verify(password, hash).map_err(|e| e.to_string())
    } else {
        Err("unknown hash scheme".to_owned())
    };
    result.unwrap_or_else(|e| {
        log::warn!("cannot verify password hash from passwd file: {e}");
        false
    })
}

/// Checks `[rounds=N$]salt$checksum` (the part after `$5$`/`$6$`).
pub(crate) fn sha_crypt_check(
    password: &str,
    rest: &str,
    crypt: impl Fn(&[u8], &[u8], usize) -> Result<String, sha_crypt::CryptError>,
) -> Result<bool, String> {
    let (rounds, rest) = match rest.strip_prefix("rounds=") {
        Some(r) => {
            let (n, rest) = r.split_once('$').ok_or("missing salt")?;
            (n.parse::<usize>().map_err(|_| "bad rounds")?, rest)
        }
        None => (sha_crypt::ROUNDS_DEFAULT, rest),
    };
    let (salt, checksum) = rest.split_once('$').ok_or("missing checksum")?;
    if checksum.contains('$') {
        return Err("trailing data after checksum".to_owned());
    }
    let computed =
        crypt(password.as_bytes(), salt.as_bytes(), rounds).map_err(|e| format!("{e:?}"))?;
    Ok(computed.as_bytes().ct_eq(checksum.as_bytes()).into())
}

// ---------------------------------------------------------------------------
// Parsed file

#[derive(Debug)]
struct Entry {
    fields: Vec<String>,
    givenname: String,
    surname: String,
    phone: String,
    mobile: String,
    email: String,
}

impl Entry {
    fn parse(line: &str) -> Option<Self> {
        let fields: Vec<String> = line.splitn(8, ':').map(str::to_owned).collect();
        if fields.len() <= USERID {
            return None;
        }
        let gecos = fields.get(GECOS).map_or("", String::as_str);
        let parts: Vec<&str> = gecos.split(',').collect();
        let full_name = parts.first().copied().unwrap_or("");
        let (givenname, surname) = full_name.split_once(' ').unwrap_or((full_name, ""));
        let (mobile, phone) = if parts.len() >= 4 {
            (parts[2], parts[3])
        } else {
            ("", "")
        };
        let email = parts
            .iter()
            .skip(4)
            .rev()
            .find(|p| looks_like_email(p))
            .copied()
            .unwrap_or("");
        Some(Self {
            givenname: givenname.to_owned(),
            surname: surname.to_owned(),
            mobile: mobile.to_owned(),
            phone: phone.to_owned(),
            email: email.to_owned(),
            fields,
        })
    }

    fn field(&self, i: usize) -> &str {
        self.fields.get(i).map_or("", String::as_str)
    }

    fn info(&self, with_password: bool) -> UserInfo {
        let mut info = UserInfo::new();
        let mut put = |k: &str, v: &str| {
            info.insert(k.to_owned(), AttrValue::from(v));
        };
        put("username", self.field(USERNAME));
        if with_password {
            put("cryptpass", self.field(CRYPTPASS));
        }
        put("userid", self.field(USERID));
        if self.fields.len() > GECOS {
            put("description", self.field(GECOS));
        }
        put("givenname", &self.givenname);
        put("surname", &self.surname);
        put("phone", &self.phone);
        put("mobile", &self.mobile);
        put("email", &self.email);
        info
    }
}

/// privacyIDEA's "very basic e-mail regex" `.+@.+\..+` (searched, not
/// anchored): an `@` after at least one character, then at least one
/// character, a `.`, and at least one more character.
fn looks_like_email(s: &str) -> bool {
    let chars: Vec<char> = s.chars().collect();
    let Some(at) = chars.iter().skip(1).position(|&c| c == '@').map(|p| p + 1) else {
        return false;
    };
    let end = chars.len().saturating_sub(1);
    at + 2 < end && chars[at + 2..end].contains(&'.')
}

#[derive(Debug, Default)]
struct PasswdData {
    /// login → uid (the last line with that login wins).
    by_name: HashMap<String, String>,
    /// uid → index into `entries`.
    by_uid: HashMap<String, usize>,
    /// One entry per uid, in order of first appearance, holding the last
    /// line with that uid (as privacyIDEA's dicts do).
    entries: Vec<Entry>,
}

impl PasswdData {
    fn parse(text: &str, path: &Path) -> Self {
        let mut data = Self::default();
        for (no, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let Some(entry) = Entry::parse(line) else {
                log::warn!(
                    "{}: line {} has too few fields, skipped",
                    path.display(),
                    no + 1
                );
                continue;
            };
            let uid = entry.field(USERID).to_owned();
            data.by_name
                .insert(entry.field(USERNAME).to_owned(), uid.clone());
            match data.by_uid.get(&uid) {
                Some(&i) => data.entries[i] = entry,
                None => {
                    data.by_uid.insert(uid, data.entries.len());
                    data.entries.push(entry);
                }
            }
        }
        data
    }

    fn entry(&self, uid: &str) -> Option<&Entry> {
        self.by_uid.get(uid).map(|&i| &self.entries[i])
    }
}

// ---------------------------------------------------------------------------
// Search

#[derive(Debug)]
enum Matcher {
    Text { field: usize, pattern: String },
    Uid(UidPattern),
}

#[derive(Debug)]
enum UidPattern {
    /// Bounds that did not parse as integers match nothing (privacyIDEA).
    Between(Option<(i128, i128)>),
    Cmp(&'static str, Option<i128>),
}

impl Matcher {
    fn new(key: &str, pattern: &str) -> Result<Self, ResolverError> {
        Ok(match key {
            "username" => Matcher::Text {
                field: USERNAME,
                pattern: pattern.to_lowercase(),
            },
            // privacyIDEA matches `email` against the whole gecos field.
            "description" | "email" => Matcher::Text {
                field: GECOS,
                pattern: pattern.to_lowercase(),
            },
            "userid" => Matcher::Uid(UidPattern::parse(pattern)?),
            other => {
                return Err(ResolverError::InvalidSearch(format!(
                    "search parameter `{other}` not available in search fields"
                )))
            }
        })
    }

    fn matches(&self, entry: &Entry) -> bool {
        match self {
            Matcher::Text { field, pattern } => string_match(entry.field(*field), pattern),
            Matcher::Uid(p) => match entry.field(USERID).trim().parse::<i128>() {
                Ok(uid) => p.matches(uid),
                Err(_) => false,
            },
        }
    }
}

impl UidPattern {
    fn parse(pattern: &str) -> Result<Self, ResolverError> {
        let st = pattern.trim();
        let op = [">=", "<=", ">", "<", "=", "between"]
            .into_iter()
            .find(|op| st.starts_with(op))
            .ok_or_else(|| {
                ResolverError::InvalidSearch(format!(
                    "userid pattern `{pattern}` must start with =, >, >=, <, <= or between"
                ))
            })?;
        let val = st[op.len()..].trim();
        let int = |s: &str| s.trim().parse::<i128>().ok();
        if op == "between" {
            let parts: Vec<&str> = val.split(',').collect();
            let [lo, hi] = parts[..] else {
                return Err(ResolverError::InvalidSearch(format!(
                    "userid pattern `{pattern}` needs `between A,B`"
                )));
            };
            let bounds = int(lo).zip(int(hi)).map(|(a, b)| (a.min(b), a.max(b)));
            Ok(UidPattern::Between(bounds))
        } else {
            Ok(UidPattern::Cmp(op, int(val)))
        }
    }

    fn matches(&self, uid: i128) -> bool {
        match *self {
            UidPattern::Between(Some((lo, hi))) => lo <= uid && uid <= hi,
            UidPattern::Between(None) | UidPattern::Cmp(_, None) => false,
            UidPattern::Cmp(op, Some(v)) => match op {
                "=" => uid == v,
                ">" => uid > v,
                ">=" => uid >= v,
                "<" => uid < v,
                "<=" => uid <= v,
                _ => false,
            },
        }
    }
}

/// Case-insensitive match with `*` as prefix and/or suffix wildcard;
/// `pattern` must already be lower-case.
fn string_match(value: &str, pattern: &str) -> bool {
    let value = value.to_lowercase();
    let (ends, p) = match pattern.strip_prefix('*') {
        Some(rest) => (true, rest),
        None => (false, pattern),
    };
    let (starts, p) = match p.strip_suffix('*') {
        Some(rest) => (true, rest),
        None => (false, p),
    };
    (ends && starts && value.contains(p))
        || (ends && value.ends_with(p))
        || (starts && value.starts_with(p))
        || value == p
}

// ---------------------------------------------------------------------------
// Shared, change-aware file cache

#[derive(Debug, Clone, PartialEq, Eq)]
struct Stamp {
    modified: Option<SystemTime>,
    len: u64,
    inode: u64,
}

impl Stamp {
    fn of(meta: &fs::Metadata) -> Self {
        #[cfg(unix)]
        let inode = std::os::unix::fs::MetadataExt::ino(meta);
        #[cfg(not(unix))]
        let inode = 0;
        Self {
            modified: meta.modified().ok(),
            len: meta.len(),
            inode,
        }
    }
}

#[derive(Debug)]
struct FileSlot {
    path: PathBuf,
    state: Mutex<Option<(Stamp, Arc<PasswdData>)>>,
    loads: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl FileSlot {
    /// The slot for `path`, shared with every live resolver on that path.
    fn shared(path: &Path) -> Arc<Self> {
        static CACHE: OnceLock<Mutex<HashMap<PathBuf, Weak<FileSlot>>>> = OnceLock::new();
        let mut cache = lock(CACHE.get_or_init(Default::default));
        if let Some(slot) = cache.get(path).and_then(Weak::upgrade) {
            return slot;
        }
        cache.retain(|_, w| w.strong_count() > 0);
        let slot = Arc::new(Self {
            path: path.to_owned(),
            state: Mutex::new(None),
            loads: AtomicU64::new(0),
        });
        cache.insert(path.to_owned(), Arc::downgrade(&slot));
        slot
    }

    fn data(&self) -> Result<Arc<PasswdData>, ResolverError> {
        let backend = |e: std::io::Error| {
            ResolverError::Backend(format!("cannot read `{}`: {e}", self.path.display()))
        };
        let stamp = Stamp::of(&fs::metadata(&self.path).map_err(backend)?);
        let mut state = lock(&self.state);
        if let Some((loaded, data)) = state.as_ref() {
            if *loaded == stamp {
                return Ok(Arc::clone(data));
            }
        }
        let bytes = fs::read(&self.path).map_err(backend)?;
        let text = String::from_utf8(bytes).map_err(|e| {
            ResolverError::Backend(format!("`{}` is not utf-8: {e}", self.path.display()))
        })?;
        let data = Arc::new(PasswdData::parse(&text, &self.path));
        self.loads.fetch_add(1, Ordering::Relaxed);
        log::info!(
            "loaded {} users from {}",
            data.entries.len(),
            self.path.display()
        );
        *state = Some((stamp, Arc::clone(&data)));
        Ok(data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fixture() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/passwd")
    }

    fn expected() -> Value {
        let text = fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/passwd.expected.json"),
        )
        .unwrap();
        serde_json::from_str(&text).unwrap()
    }

    fn to_json(info: &UserInfo) -> Value {
        serde_json::to_value(info).unwrap()
    }

    fn filter(pairs: &[(&str, &str)]) -> SearchFilter {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn user_list_matches_privacyidea() {
        let r = PasswdResolver::new(fixture());
        let list: Vec<Value> = r
            .user_list(&SearchFilter::new())
            .unwrap()
            .iter()
            .map(to_json)
            .collect();
        assert_eq!(Value::Array(list), expected()["list"]);
    }

    #[test]
    fn user_info_matches_privacyidea() {
        let r = PasswdResolver::new(fixture());
        let exp = expected();
        for (login, info) in exp["info"].as_object().unwrap() {
            let uid = r.user_id(login).unwrap();
            assert_eq!(to_json(&r.user_info(&uid).unwrap()), *info, "{login}");
        }
    }

    #[test]
    fn lookups_match_privacyidea() {
        let r = PasswdResolver::new(fixture());
        let exp = expected();
        for (login, uid) in exp["uid"].as_object().unwrap() {
            let got = r.user_id(login).unwrap_or_default();
            assert_eq!(got, uid.as_str().unwrap(), "{login}");
        }
        for (uid, name) in exp["username"].as_object().unwrap() {
            let got = r.username(uid).unwrap_or_default();
            assert_eq!(got, name.as_str().unwrap(), "{uid}");
        }
        assert_eq!(
            r.user_id("nobody"),
            Err(ResolverError::NotFound("nobody".into()))
        );
        assert!(r.username("4711").unwrap_err().is_not_found());
        assert!(r.user_info("4711").unwrap_err().is_not_found());
        assert!(r.check_password("4711", "x").unwrap_err().is_not_found());
    }

    #[test]
    fn searches_match_privacyidea() {
        let r = PasswdResolver::new(fixture());
        for case in expected()["search"].as_array().unwrap() {
            let f: SearchFilter = case[0]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
                .collect();
            let names: Vec<String> = r
                .user_list(&f)
                .unwrap()
                .iter()
                .map(|u| u["username"].as_str().to_owned())
                .collect();
            assert_eq!(json!(names), case[1], "{f:?}");
        }
    }

    #[test]
    fn password_checks_match_privacyidea() {
        let r = PasswdResolver::new(fixture());
        for case in expected()["checks"].as_array().unwrap() {
            let login = case[0].as_str().unwrap();
            let pw = case[1].as_str().unwrap();
            let uid = r.user_id(login).unwrap();
            assert_eq!(
                r.check_password(&uid, pw).unwrap(),
                case[2].as_bool().unwrap(),
                "{login}/{pw}"
            );
        }
    }

    #[test]
    fn shadow_and_unknown_hashes() {
        let r = PasswdResolver::new(fixture());
        for login in ["frank", "grace"] {
            let uid = r.user_id(login).unwrap();
            let err = r.check_password(&uid, "x").unwrap_err();
            assert_eq!(err, ResolverError::NotImplemented(SHADOW_PASSWORDS.into()));
            assert_eq!(err.to_string(), "no support for shadow passwords");
        }
        // `!` is not a hash privacyIDEA can identify (it answers 500): false here
        assert!(!r.check_password("999", "").unwrap());
        assert!(!r.check_password("999", "!").unwrap());
    }

    #[test]
    fn invalid_searches() {
        let r = PasswdResolver::new(fixture());
        for f in [
            filter(&[("foo", "x")]),
            filter(&[("username", "*"), ("givenname", "a")]),
            filter(&[("userid", "~5")]),
            filter(&[("userid", "1000")]),
            filter(&[("userid", "between 1")]),
            filter(&[("userid", "between 1,2,3")]),
        ] {
            assert!(
                matches!(r.user_list(&f), Err(ResolverError::InvalidSearch(_))),
                "{f:?}"
            );
        }
        // non-numeric bounds match nothing (privacyIDEA)
        assert!(r
            .user_list(&filter(&[("userid", "between a,b")]))
            .unwrap()
            .is_empty());
        assert!(r
            .user_list(&filter(&[("userid", "=x")]))
            .unwrap()
            .is_empty());
    }

    #[test]
    fn uid_pattern_table() {
        let cases: &[(&str, i128, bool)] = &[
            ("=1000", 1000, true),
            ("=1000", 1001, false),
            (">1000", 1001, true),
            (">1000", 1000, false),
            (">=1000", 1000, true),
            ("<1000", 999, true),
            ("<1000", 1000, false),
            ("<=1000", 1000, true),
            ("between 1000,2000", 1500, true),
            ("between 2000, 1000", 1000, true),
            ("between 2000, 1000", 2000, true),
            ("between 2000, 1000", 2001, false),
            ("  >  5 ", 6, true),
            ("=+7", 7, true),
        ];
        for &(p, uid, want) in cases {
            assert_eq!(
                UidPattern::parse(p).unwrap().matches(uid),
                want,
                "{p} {uid}"
            );
        }
    }

    #[test]
    fn string_match_table() {
        let cases: &[(&str, &str, bool)] = &[
            ("Alice", "alice", true),
            ("Alice", "ali", false),
            ("Alice", "ali*", true),
            ("Alice", "*ICE", true),
            ("Alice", "*lic*", true),
            ("Alice", "*", true),
            ("", "*", true),
            ("", "", true),
            ("Alice", "*x*", false),
            ("axb", "a*b", false),
            ("a*b", "a*b", true),
        ];
        for &(v, p, want) in cases {
            assert_eq!(string_match(v, &p.to_lowercase()), want, "{v} {p}");
        }
    }

    #[test]
    fn gecos_rules() {
        let e = Entry::parse(
            "cornelius:x:1000:1000:Cornelius,field2,+491111111,+491234566,user@localhost.localdomain::",
        )
        .unwrap();
        assert_eq!(e.givenname, "Cornelius");
        assert_eq!(e.surname, "");
        assert_eq!(e.mobile, "+491111111");
        assert_eq!(e.phone, "+491234566");
        assert_eq!(e.email, "user@localhost.localdomain");
        let e = Entry::parse("a:x:1:1:Given Middle Sur,r,m,p").unwrap();
        assert_eq!(
            (e.givenname.as_str(), e.surname.as_str()),
            ("Given", "Middle Sur")
        );
        assert_eq!(
            (e.mobile.as_str(), e.phone.as_str(), e.email.as_str()),
            ("m", "p", "")
        );
        let e = Entry::parse("a:x:1:1:G,r,m").unwrap();
        assert_eq!((e.mobile.as_str(), e.phone.as_str()), ("", ""));
        let e = Entry::parse("a:x:1:1:G,r,m,p,one@a.b,x,two@c.de,nope").unwrap();
        assert_eq!(e.email, "two@c.de");
        let e = Entry::parse("a:x:1:1:G,r,m,p, spaced@a.b ").unwrap();
        assert_eq!(e.email, " spaced@a.b ");
        // no gecos at all: tolerated (privacyIDEA fails to load)
        let e = Entry::parse("a:x:1").unwrap();
        assert_eq!(e.givenname, "");
        assert!(!e.info(false).contains_key("description"));
        assert!(Entry::parse("a:x").is_none());
    }

    #[test]
    fn email_regex_table() {
        for (s, want) in [
            ("a@b.c", true),
            ("@b.c", false),
            ("a@.c", false),
            ("a@bc.", false),
            ("a@b.", false),
            ("x@@b.c", true),
            ("a.b@c", false),
            ("a@b.c.d", true),
            ("nomail", false),
            ("a @ b . c", true),
        ] {
            assert_eq!(looks_like_email(s), want, "{s}");
        }
    }

    #[test]
    fn duplicates_follow_privacyidea_dicts() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dup");
        fs::write(
            &path,
            "a:x:1:1:First A\nb:x:2:2:B\na:x:3:3:Second A\nc:x:1:1:C replaces uid 1\nshort\n\n  d:x:4:4:D  \r\n",
        )
        .unwrap();
        let r = PasswdResolver::new(&path);
        assert_eq!(r.user_id("a").unwrap(), "3");
        assert_eq!(r.username("1").unwrap(), "c");
        assert_eq!(r.user_id("d").unwrap(), "4");
        let names: Vec<String> = r
            .user_list(&SearchFilter::new())
            .unwrap()
            .iter()
            .map(|u| u["username"].as_str().to_owned())
            .collect();
        assert_eq!(names, ["c", "b", "a", "d"]);
        // `a` still maps to uid 3; the old uid-1 line is gone from the list
        assert_eq!(
            r.user_info("3").unwrap()["description"].as_str(),
            "Second A"
        );
    }

    #[test]
    fn config_keys() {
        let cfg = |v: Value| v.as_object().unwrap().clone();
        let r = PasswdResolver::from_config(&cfg(json!({"fileName": "/x/a"}))).unwrap();
        assert_eq!(r.file_name(), Path::new("/x/a"));
        let r = PasswdResolver::from_config(&cfg(json!({"filename": "/x/b"}))).unwrap();
        assert_eq!(r.file_name(), Path::new("/x/b"));
        let r =
            PasswdResolver::from_config(&cfg(json!({"fileName": "", "filename": "/x/b"}))).unwrap();
        assert_eq!(r.file_name(), Path::new(DEFAULT_FILE));
        let r = PasswdResolver::from_config(&cfg(json!({}))).unwrap();
        assert_eq!(r.file_name(), Path::new(DEFAULT_FILE));
        let r = PasswdResolver::from_config(&cfg(json!({"Filename": "/x/c"}))).unwrap();
        assert_eq!(r.file_name(), Path::new(DEFAULT_FILE));
        assert!(PasswdResolver::from_config(&cfg(json!({"fileName": 5}))).is_err());
    }

    #[test]
    fn missing_and_non_utf8_files_are_backend_errors() {
        let dir = tempfile::tempdir().unwrap();
        let r = PasswdResolver::new(dir.path().join("missing"));
        assert!(matches!(r.user_id("a"), Err(ResolverError::Backend(_))));
        let bad = dir.path().join("latin1");
        fs::write(&bad, b"j\xf6rg:x:1:1:J\n").unwrap();
        let r = PasswdResolver::new(&bad);
        assert!(matches!(
            r.user_list(&SearchFilter::new()),
            Err(ResolverError::Backend(_))
        ));
    }

    #[test]
    fn file_is_cached_shared_and_reloaded_on_change() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("passwd");
        fs::write(&path, "a:x:1:1:A\n").unwrap();
        let r1 = PasswdResolver::new(&path);
        let r2 = PasswdResolver::from_config(
            json!({"fileName": path.to_str().unwrap()})
                .as_object()
                .unwrap(),
        )
        .unwrap();
        assert!(Arc::ptr_eq(&r1.file, &r2.file));
        for _ in 0..5 {
            assert_eq!(r1.user_id("a").unwrap(), "1");
            assert_eq!(r2.user_id("a").unwrap(), "1");
        }
        assert_eq!(r1.file.loads.load(Ordering::Relaxed), 1);
        // replace the file (new inode, new length)
        let tmp = dir.path().join("passwd.new");
        fs::write(&tmp, "a:x:1:1:A\nb:x:2:2:B\n").unwrap();
        fs::rename(&tmp, &path).unwrap();
        assert_eq!(r2.user_id("b").unwrap(), "2");
        assert_eq!(r1.user_id("b").unwrap(), "2");
        assert_eq!(r1.file.loads.load(Ordering::Relaxed), 2);
        // rewrite in place with the same length
        fs::write(&path, "a:x:7:1:A\nb:x:2:2:B\n").unwrap();
        let f = fs::File::options().write(true).open(&path).unwrap();
        f.set_modified(SystemTime::now() + std::time::Duration::from_secs(5))
            .unwrap();
        assert_eq!(r1.user_id("a").unwrap(), "7");
        // once all resolvers are gone the slot is freed
        let weak = Arc::downgrade(&r1.file);
        drop((r1, r2));
        assert!(weak.upgrade().is_none());
    }

    #[test]
    fn connection_test_is_not_implemented() {
        let t = PasswdResolver::new(fixture()).test_connection().unwrap();
        assert!(!t.success);
        assert_eq!(t.description, "Not implemented");
    }
}
