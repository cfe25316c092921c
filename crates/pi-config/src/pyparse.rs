//! Lexer and parser for the Python-literal subset that `pi.cfg` files use.
//!
//! The file is first cut into tokens (strings, numbers, names, single-character operators and
//! physical newlines), then into logical statements (a statement ends at a newline outside
//! brackets or at a `;`), and each statement is evaluated as `KEY = <literal>`.
//! Errors are reported per statement so that the caller can decide whether a broken statement is
//! fatal (a key we use) or only worth a warning (anything else).

/// Values are `pi_model`'s Python literals (the same type the policy import
/// parser produces); tuples stay tuples, dict keys are strings here.
pub(crate) use pi_model::pyliteral::PyValue;

#[derive(Debug, Clone, Copy, PartialEq)]
enum StrKind {
    Text,
    Bytes,
    Format,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Name(String),
    Str(String, StrKind),
    Num(String),
    Op(char),
    Newline,
    /// A lexical error (unterminated string, bad escape); the rest of its line is skipped.
    Err(String),
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    line: usize,
}

/// One evaluated statement of a `pi.cfg` file.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Stmt {
    /// `KEY = value` with an upper-case key (Flask only takes upper-case names).
    Assign {
        key: String,
        line: usize,
        value: PyValue,
    },
    /// A statement we skip without comment (imports, lower-case helper variables).
    Ignored { line: usize, what: String },
    /// A statement we could not understand. `key` is the assigned name if one was recognisable.
    Broken {
        key: Option<String>,
        line: usize,
        message: String,
    },
}

/// Parses a whole `pi.cfg` text into statements. Never fails: problems are [`Stmt::Broken`].
pub(crate) fn parse_file(text: &str) -> Vec<Stmt> {
    let tokens = lex(text);
    split(&tokens).into_iter().map(|raw| eval(&raw)).collect()
}

// ---------------------------------------------------------------------------------------------
// Lexer
// ---------------------------------------------------------------------------------------------

struct Lexer {
    chars: Vec<char>,
    pos: usize,
    line: usize,
    out: Vec<Token>,
}

fn lex(text: &str) -> Vec<Token> {
    let mut lx = Lexer {
        chars: text.chars().collect(),
        pos: 0,
        line: 1,
        out: Vec::new(),
    };
    lx.run();
    lx.out
}

impl Lexer {
    fn peek(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.pos + ahead).copied()
    }

    fn push(&mut self, tok: Tok, line: usize) {
        self.out.push(Token { tok, line });
    }

    fn run(&mut self) {
        while let Some(c) = self.peek(0) {
            match c {
                '\n' => {
                    self.push(Tok::Newline, self.line);
                    self.line += 1;
                    self.pos += 1;
                }
                ' ' | '\t' | '\r' | '\x0c' | '\u{feff}' => self.pos += 1,
                '#' => {
                    while self.peek(0).is_some_and(|c| c != '\n') {
                        self.pos += 1;
                    }
                }
                '\\' if self.peek(1) == Some('\n') => {
                    self.pos += 2;
                    self.line += 1;
                }
                '\\' if self.peek(1) == Some('\r') && self.peek(2) == Some('\n') => {
                    self.pos += 3;
                    self.line += 1;
                }
                '\'' | '"' => self.string(""),
                c if c.is_ascii_digit()
                    || (c == '.' && self.peek(1).is_some_and(|d| d.is_ascii_digit())) =>
                {
                    self.number()
                }
                c if c == '_' || c.is_alphabetic() => self.name(),
                c => {
                    self.push(Tok::Op(c), self.line);
                    self.pos += 1;
                }
            }
        }
    }

    fn name(&mut self) {
        let start = self.pos;
        while self
            .peek(0)
            .is_some_and(|c| c == '_' || c.is_alphanumeric())
        {
            self.pos += 1;
        }
        let name: String = self.chars[start..self.pos].iter().collect();
        let is_prefix = matches!(
            name.to_ascii_lowercase().as_str(),
            "r" | "u" | "b" | "br" | "rb" | "f" | "fr" | "rf"
        );
        if is_prefix && matches!(self.peek(0), Some('\'' | '"')) {
            self.string(&name.to_ascii_lowercase());
        } else {
            self.push(Tok::Name(name), self.line);
        }
    }

    fn number(&mut self) {
        let start = self.pos;
        let hex = self.peek(0) == Some('0') && matches!(self.peek(1), Some('x' | 'X'));
        while let Some(c) = self.peek(0) {
            let prev = if self.pos > start {
                self.chars.get(self.pos - 1).copied()
            } else {
                None
            };
            let exp_sign = (c == '+' || c == '-') && !hex && matches!(prev, Some('e' | 'E'));
            if c.is_ascii_alphanumeric() || c == '_' || c == '.' || exp_sign {
                self.pos += 1;
            } else {
                break;
            }
        }
        let raw: String = self.chars[start..self.pos].iter().collect();
        self.push(Tok::Num(raw), self.line);
    }

    /// Lexes a string literal starting at the opening quote; `prefix` is lower-case.
    fn string(&mut self, prefix: &str) {
        let start_line = self.line;
        let raw = prefix.contains('r');
        let kind = if prefix.contains('b') {
            StrKind::Bytes
        } else if prefix.contains('f') {
            StrKind::Format
        } else {
            StrKind::Text
        };
        let Some(quote) = self.peek(0) else {
            return;
        };
        let triple = self.peek(1) == Some(quote) && self.peek(2) == Some(quote);
        self.pos += if triple { 3 } else { 1 };
        let mut value = String::new();
        let mut error: Option<String> = None;
        loop {
            let Some(c) = self.peek(0) else {
                let msg = if triple {
                    "unterminated triple-quoted string literal"
                } else {
                    "unterminated string literal"
                };
                self.push(Tok::Err(msg.to_owned()), start_line);
                return;
            };
            if c == quote {
                if !triple {
                    self.pos += 1;
                    break;
                }
                if self.peek(1) == Some(quote) && self.peek(2) == Some(quote) {
                    self.pos += 3;
                    break;
                }
                value.push(c);
                self.pos += 1;
                continue;
            }
            if c == '\n' {
                if !triple {
                    // Do not consume the newline: the statement ends here.
                    self.push(
                        Tok::Err("unterminated string literal".to_owned()),
                        self.line,
                    );
                    return;
                }
                value.push(c);
                self.line += 1;
                self.pos += 1;
                continue;
            }
            if c == '\\' {
                let Some(next) = self.peek(1) else {
                    self.pos += 1;
                    continue;
                };
                if next == '\n' {
                    self.line += 1;
                }
                if raw {
                    value.push('\\');
                    value.push(next);
                    self.pos += 2;
                    continue;
                }
                self.pos += 2;
                match self.escape(next, kind) {
                    Ok(Some(ch)) => value.push(ch),
                    Ok(None) => {}
                    Err(msg) => {
                        if error.is_none() {
                            error = Some(msg);
                        }
                    }
                }
                continue;
            }
            value.push(c);
            self.pos += 1;
        }
        match error {
            Some(msg) => self.push(Tok::Err(msg), start_line),
            None => self.push(Tok::Str(value, kind), start_line),
        }
    }

    /// Interprets the escape `\<next>`; `self.pos` is just after `next`.
    fn escape(&mut self, next: char, kind: StrKind) -> Result<Option<char>, String> {
        let simple = match next {
            '\n' => return Ok(None),
            '\\' => '\\',
            '\'' => '\'',
            '"' => '"',
            'a' => '\x07',
            'b' => '\x08',
            'f' => '\x0c',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            'v' => '\x0b',
            '0'..='7' => {
                let mut code = next.to_digit(8).unwrap_or(0);
                for _ in 0..2 {
                    match self.peek(0).and_then(|c| c.to_digit(8)) {
                        Some(d) => {
                            code = code * 8 + d;
                            self.pos += 1;
                        }
                        None => break,
                    }
                }
                return char::from_u32(code)
                    .map(Some)
                    .ok_or_else(|| "invalid octal escape".to_owned());
            }
            'x' => return self.hex_escape(2, "\\x").map(Some),
            'u' if kind != StrKind::Bytes => return self.hex_escape(4, "\\u").map(Some),
            'U' if kind != StrKind::Bytes => return self.hex_escape(8, "\\U").map(Some),
            'N' if kind != StrKind::Bytes => {
                return Err("`\\N{...}` escapes are not supported".to_owned())
            }
            _ => {
                // Python keeps unknown escapes verbatim (with a warning).
                self.pos -= 1;
                return Ok(Some('\\'));
            }
        };
        Ok(Some(simple))
    }

    fn hex_escape(&mut self, digits: usize, name: &str) -> Result<char, String> {
        let mut code: u32 = 0;
        for _ in 0..digits {
            match self.peek(0).and_then(|c| c.to_digit(16)) {
                Some(d) => {
                    code = code * 16 + d;
                    self.pos += 1;
                }
                None => return Err(format!("truncated `{name}` escape")),
            }
        }
        char::from_u32(code).ok_or_else(|| format!("invalid `{name}` escape"))
    }
}

// ---------------------------------------------------------------------------------------------
// Statement splitter
// ---------------------------------------------------------------------------------------------

struct RawStmt {
    line: usize,
    tokens: Vec<Token>,
    error: Option<(usize, String)>,
}

fn closing(open: char) -> char {
    match open {
        '(' => ')',
        '[' => ']',
        _ => '}',
    }
}

fn split(tokens: &[Token]) -> Vec<RawStmt> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        if matches!(tokens[i].tok, Tok::Newline | Tok::Op(';')) {
            i += 1;
            continue;
        }
        let line = tokens[i].line;
        let mut stmt = RawStmt {
            line,
            tokens: Vec::new(),
            error: None,
        };
        // (bracket, line, token index)
        let mut stack: Vec<(char, usize, usize)> = Vec::new();
        let mut ended = false;
        while i < tokens.len() {
            let t = &tokens[i];
            match &t.tok {
                Tok::Newline if stack.is_empty() => {
                    i += 1;
                    ended = true;
                    break;
                }
                Tok::Newline => i += 1,
                Tok::Op(';') if stack.is_empty() => {
                    i += 1;
                    ended = true;
                    break;
                }
                Tok::Err(msg) => {
                    stmt.error = Some((t.line, msg.clone()));
                    i = skip_line(tokens, i);
                    ended = true;
                    break;
                }
                Tok::Op(c @ ('(' | '[' | '{')) => {
                    stack.push((*c, t.line, i));
                    stmt.tokens.push(t.clone());
                    i += 1;
                }
                Tok::Op(c @ (')' | ']' | '}')) => {
                    match stack.pop() {
                        Some((open, _, _)) if closing(open) == *c => {
                            stmt.tokens.push(t.clone());
                            i += 1;
                        }
                        Some((open, open_line, _)) => {
                            stmt.error = Some((
                            t.line,
                            format!("closing `{c}` does not match `{open}` opened on line {open_line}"),
                        ));
                            i = skip_line(tokens, i);
                            ended = true;
                            break;
                        }
                        None => {
                            stmt.error = Some((t.line, format!("unmatched `{c}`")));
                            i = skip_line(tokens, i);
                            ended = true;
                            break;
                        }
                    }
                }
                _ => {
                    stmt.tokens.push(t.clone());
                    i += 1;
                }
            }
        }
        if !ended {
            if let Some(&(open, open_line, open_idx)) = stack.first() {
                stmt.error = Some((open_line, format!("`{open}` is never closed")));
                // Resume right after the line that opened the bracket so that later
                // assignments are still seen.
                i = skip_line(tokens, open_idx);
            }
        }
        out.push(stmt);
    }
    out
}

/// Index just after the next newline token at or after `i`.
fn skip_line(tokens: &[Token], mut i: usize) -> usize {
    while i < tokens.len() {
        if tokens[i].tok == Tok::Newline {
            return i + 1;
        }
        i += 1;
    }
    i
}

// ---------------------------------------------------------------------------------------------
// Evaluator
// ---------------------------------------------------------------------------------------------

/// Python's `str.isupper()`: at least one cased character and no lower-case ones.
fn is_upper(name: &str) -> bool {
    name.chars().any(char::is_uppercase) && !name.chars().any(char::is_lowercase)
}

fn eval(raw: &RawStmt) -> Stmt {
    let first_name = match raw.tokens.first().map(|t| &t.tok) {
        Some(Tok::Name(n)) => Some(n.clone()),
        _ => None,
    };
    if let Some(n) = &first_name {
        if n == "import" || n == "from" {
            return Stmt::Ignored {
                line: raw.line,
                what: format!("`{n}` statement"),
            };
        }
    }
    if let Some((line, message)) = &raw.error {
        return Stmt::Broken {
            key: first_name,
            line: *line,
            message: message.clone(),
        };
    }
    let Some(key) = first_name else {
        return Stmt::Broken {
            key: None,
            line: raw.line,
            message: "expected `NAME = value`".to_owned(),
        };
    };
    let broken = |line: usize, message: String| Stmt::Broken {
        key: Some(key.clone()),
        line,
        message,
    };
    match raw.tokens.get(1) {
        Some(Token {
            tok: Tok::Op('='), ..
        }) => {}
        Some(t) => {
            return broken(
                t.line,
                format!("expected `=` after `{key}`, found {}", describe(&t.tok)),
            )
        }
        None => return broken(raw.line, format!("expected `=` after `{key}`")),
    }
    let mut p = Parser {
        tokens: &raw.tokens[2..],
        pos: 0,
        last_line: raw.line,
    };
    let value = match p.value() {
        Ok(v) => v,
        Err((line, message)) => return broken(line, message),
    };
    if let Some(t) = p.tokens.get(p.pos) {
        return broken(
            t.line,
            format!(
                "unexpected {} after the value (only Python literals are understood)",
                describe(&t.tok)
            ),
        );
    }
    if !is_upper(&key) {
        return Stmt::Ignored {
            line: raw.line,
            what: format!("lower-case name `{key}`"),
        };
    }
    Stmt::Assign {
        key,
        line: raw.line,
        value,
    }
}

fn describe(tok: &Tok) -> String {
    match tok {
        Tok::Name(n) => format!("`{n}`"),
        Tok::Str(..) => "a string".to_owned(),
        Tok::Num(n) => format!("`{n}`"),
        Tok::Op(c) => format!("`{c}`"),
        Tok::Newline => "end of line".to_owned(),
        Tok::Err(m) => m.clone(),
    }
}

struct Parser<'a> {
    tokens: &'a [Token],
    pos: usize,
    last_line: usize,
}

type PResult<T> = Result<T, (usize, String)>;

/// Python's `logging` level of a name (`logging.INFO` → 20), also for
/// `PI_LOGLEVEL` given as a string.
pub(crate) fn logging_level(name: &str) -> Option<i64> {
    Some(match name {
        "CRITICAL" | "FATAL" => 50,
        "ERROR" => 40,
        "WARNING" | "WARN" => 30,
        "INFO" => 20,
        "DEBUG" => 10,
        "NOTSET" => 0,
        _ => return None,
    })
}

impl Parser<'_> {
    fn next(&mut self) -> Option<&Token> {
        let t = self.tokens.get(self.pos);
        if let Some(t) = t {
            self.last_line = t.line;
            self.pos += 1;
        }
        t
    }

    fn peek_tok(&self) -> Option<&Tok> {
        self.tokens.get(self.pos).map(|t| &t.tok)
    }

    fn eof(&self, what: &str) -> (usize, String) {
        (
            self.last_line,
            format!("expected {what}, found end of statement"),
        )
    }

    fn value(&mut self) -> PResult<PyValue> {
        let Some(t) = self.next().cloned() else {
            return Err(self.eof("a value"));
        };
        let line = t.line;
        match t.tok {
            Tok::Str(s, kind) => {
                let mut s = s;
                check_str_kind(kind, line)?;
                while let Some(Tok::Str(more, kind)) = self.peek_tok().cloned() {
                    check_str_kind(kind, line)?;
                    s.push_str(&more);
                    self.next();
                }
                Ok(PyValue::Str(s))
            }
            Tok::Num(raw) => parse_number(&raw, false, line),
            Tok::Op(sign @ ('-' | '+')) => match self.next().cloned() {
                Some(Token {
                    tok: Tok::Num(raw),
                    line,
                }) => parse_number(&raw, sign == '-', line),
                Some(t) => Err((
                    t.line,
                    format!(
                        "expected a number after `{sign}`, found {}",
                        describe(&t.tok)
                    ),
                )),
                None => Err(self.eof("a number")),
            },
            Tok::Name(n) => match n.as_str() {
                "True" => Ok(PyValue::Bool(true)),
                "False" => Ok(PyValue::Bool(false)),
                "None" => Ok(PyValue::None),
                "logging" if self.peek_tok() == Some(&Tok::Op('.')) => {
                    self.next();
                    match self.next().cloned() {
                        Some(Token {
                            tok: Tok::Name(level),
                            line,
                        }) => logging_level(&level)
                            .map(PyValue::Int)
                            .ok_or((line, format!("unknown logging level `logging.{level}`"))),
                        _ => Err((line, "expected a level name after `logging.`".to_owned())),
                    }
                }
                _ => Err((
                    line,
                    format!("unsupported value `{n}` (only Python literals are understood)"),
                )),
            },
            Tok::Op('[') => self.sequence(']', "list").map(PyValue::List),
            Tok::Op('(') => {
                if self.peek_tok() == Some(&Tok::Op(')')) {
                    self.next();
                    return Ok(PyValue::Tuple(Vec::new()));
                }
                let first = self.value()?;
                match self.next().cloned() {
                    Some(Token {
                        tok: Tok::Op(')'), ..
                    }) => Ok(first),
                    Some(Token {
                        tok: Tok::Op(','), ..
                    }) => {
                        let mut items = vec![first];
                        items.extend(self.sequence(')', "tuple")?);
                        Ok(PyValue::Tuple(items))
                    }
                    Some(t) => Err((
                        t.line,
                        format!("expected `,` or `)` in tuple, found {}", describe(&t.tok)),
                    )),
                    None => Err(self.eof("`)`")),
                }
            }
            Tok::Op('{') => self.dict(),
            other => Err((
                line,
                format!(
                    "unsupported value starting with {} (only Python literals are understood)",
                    describe(&other)
                ),
            )),
        }
    }

    /// Items up to `close`, after the opening bracket (or after `first,` of a tuple).
    fn sequence(&mut self, close: char, what: &str) -> PResult<Vec<PyValue>> {
        let mut items = Vec::new();
        loop {
            if self.peek_tok() == Some(&Tok::Op(close)) {
                self.next();
                return Ok(items);
            }
            items.push(self.value()?);
            match self.next().cloned() {
                Some(Token {
                    tok: Tok::Op(','), ..
                }) => {}
                Some(Token {
                    tok: Tok::Op(c), ..
                }) if c == close => return Ok(items),
                Some(t) => {
                    return Err((
                        t.line,
                        format!(
                            "expected `,` or `{close}` in {what}, found {}",
                            describe(&t.tok)
                        ),
                    ))
                }
                None => return Err(self.eof(&format!("`{close}`"))),
            }
        }
    }

    fn dict(&mut self) -> PResult<PyValue> {
        let mut entries: Vec<(PyValue, PyValue)> = Vec::new();
        loop {
            if self.peek_tok() == Some(&Tok::Op('}')) {
                self.next();
                return Ok(PyValue::Dict(entries));
            }
            let key_line = self.tokens.get(self.pos).map_or(self.last_line, |t| t.line);
            let key = match self.value()? {
                k @ PyValue::Str(_) => k,
                _ => return Err((key_line, "only string dict keys are supported".to_owned())),
            };
            match self.next().cloned() {
                Some(Token {
                    tok: Tok::Op(':'), ..
                }) => {}
                Some(t) => {
                    return Err((
                        t.line,
                        format!("expected `:` in dict, found {}", describe(&t.tok)),
                    ))
                }
                None => return Err(self.eof("`:`")),
            }
            let value = self.value()?;
            // Like a Python dict: a repeated key keeps its first position.
            match entries.iter_mut().find(|(k, _)| *k == key) {
                Some(entry) => entry.1 = value,
                None => entries.push((key, value)),
            }
            match self.next().cloned() {
                Some(Token {
                    tok: Tok::Op(','), ..
                }) => {}
                Some(Token {
                    tok: Tok::Op('}'), ..
                }) => return Ok(PyValue::Dict(entries)),
                Some(t) => {
                    return Err((
                        t.line,
                        format!("expected `,` or `}}` in dict, found {}", describe(&t.tok)),
                    ))
                }
                None => return Err(self.eof("`}`")),
            }
        }
    }
}

fn check_str_kind(kind: StrKind, line: usize) -> PResult<()> {
    match kind {
        StrKind::Text => Ok(()),
        StrKind::Bytes => Err((line, "bytes literals are not supported".to_owned())),
        StrKind::Format => Err((line, "f-strings are not supported".to_owned())),
    }
}

fn parse_number(raw: &str, negative: bool, line: usize) -> PResult<PyValue> {
    let bad = || (line, format!("invalid number `{raw}`"));
    let clean: String = raw.chars().filter(|c| *c != '_').collect();
    let lower = clean.to_ascii_lowercase();
    let radix = if lower.starts_with("0x") {
        Some(16)
    } else if lower.starts_with("0o") {
        Some(8)
    } else if lower.starts_with("0b") {
        Some(2)
    } else {
        None
    };
    if let Some(radix) = radix {
        let digits = lower.get(2..).unwrap_or("");
        let v = i64::from_str_radix(digits, radix).map_err(|_| bad())?;
        return Ok(PyValue::Int(if negative { -v } else { v }));
    }
    if lower.ends_with('j') {
        return Err((line, format!("complex number `{raw}` is not supported")));
    }
    let is_float = lower.contains('.') || lower.contains('e');
    if is_float {
        if lower.contains("inf") || lower.contains("nan") {
            return Err(bad());
        }
        let v: f64 = lower.parse().map_err(|_| bad())?;
        return Ok(PyValue::Float(if negative { -v } else { v }));
    }
    if !lower.chars().all(|c| c.is_ascii_digit()) {
        return Err(bad());
    }
    let text = if negative { format!("-{lower}") } else { lower };
    text.parse::<i64>()
        .map(PyValue::Int)
        .map_err(|_| (line, format!("integer `{raw}` is out of range")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Stmt {
        let mut all = parse_file(text);
        assert_eq!(all.len(), 1, "{all:?}");
        all.remove(0)
    }

    fn value(text: &str) -> PyValue {
        match one(text) {
            Stmt::Assign { value, .. } => value,
            other => panic!("not an assignment: {other:?}"),
        }
    }

    fn broken(text: &str) -> (Option<String>, usize, String) {
        let all = parse_file(text);
        for s in all {
            if let Stmt::Broken { key, line, message } = s {
                return (key, line, message);
            }
        }
        panic!("no broken statement in {text:?}");
    }

    #[test]
    fn scalars() {
        assert_eq!(value("A = 'x'"), PyValue::Str("x".into()));
        assert_eq!(value("A = \"x\""), PyValue::Str("x".into()));
        assert_eq!(value("A = 42"), PyValue::Int(42));
        assert_eq!(value("A = -42"), PyValue::Int(-42));
        assert_eq!(value("A = 1_000"), PyValue::Int(1000));
        assert_eq!(value("A = 0x10"), PyValue::Int(16));
        assert_eq!(value("A = 1.5"), PyValue::Float(1.5));
        assert_eq!(value("A = 1e3"), PyValue::Float(1000.0));
        assert_eq!(value("A = 2.5e-1"), PyValue::Float(0.25));
        assert_eq!(value("A = True"), PyValue::Bool(true));
        assert_eq!(value("A = False"), PyValue::Bool(false));
        assert_eq!(value("A = None"), PyValue::None);
        assert_eq!(value("A = logging.DEBUG"), PyValue::Int(10));
        assert_eq!(value("A = logging.CRITICAL"), PyValue::Int(50));
    }

    #[test]
    fn strings_and_escapes() {
        assert_eq!(
            value(r#"A = 'it\'s \"q\" \\ \n\t\x41\u00e9\101'"#),
            PyValue::Str("it's \"q\" \\ \n\tAéA".into())
        );
        assert_eq!(
            value(r"A = r'C:\new\'x'"),
            PyValue::Str(r"C:\new\'x".into())
        );
        assert_eq!(value(r"A = '\d+'"), PyValue::Str(r"\d+".into()));
        assert_eq!(value("A = 'a' \"b\" 'c'"), PyValue::Str("abc".into()));
        assert_eq!(
            value("A = ('long '\n     'string')"),
            PyValue::Str("long string".into())
        );
        assert_eq!(
            value("A = '''multi\nline'''"),
            PyValue::Str("multi\nline".into())
        );
        assert_eq!(
            value("A = u'ü # not a comment'"),
            PyValue::Str("ü # not a comment".into())
        );
    }

    #[test]
    fn containers() {
        assert_eq!(
            value("A = ['a', \"b\",]"),
            PyValue::List(vec![PyValue::Str("a".into()), PyValue::Str("b".into())])
        );
        assert_eq!(
            value("A = (1, 2)"),
            PyValue::Tuple(vec![PyValue::Int(1), PyValue::Int(2)])
        );
        assert_eq!(value("A = (1,)"), PyValue::Tuple(vec![PyValue::Int(1)]));
        assert_eq!(value("A = ()"), PyValue::Tuple(vec![]));
        // A repeated key keeps its first position, as in a Python dict.
        assert_eq!(
            value("A = {'a': 1, 'b': 2, 'a': 3}"),
            PyValue::Dict(vec![
                ("a".into(), PyValue::Int(3)),
                ("b".into(), PyValue::Int(2)),
            ])
        );
        assert_eq!(value("A = (7)"), PyValue::Int(7));
        assert_eq!(
            value("A = {'x': {'y': 30}, 'z': [True]}"),
            PyValue::Dict(vec![
                (
                    "x".into(),
                    PyValue::Dict(vec![("y".into(), PyValue::Int(30))])
                ),
                ("z".into(), PyValue::List(vec![PyValue::Bool(true)])),
            ])
        );
    }

    #[test]
    fn statements() {
        let all = parse_file("import logging\nfrom os import path\nA = 1; B = 2\nlower = 3\n");
        assert!(matches!(all[0], Stmt::Ignored { line: 1, .. }));
        assert!(matches!(all[1], Stmt::Ignored { line: 2, .. }));
        assert!(matches!(&all[2], Stmt::Assign { key, line: 3, .. } if key == "A"));
        assert!(matches!(&all[3], Stmt::Assign { key, line: 3, .. } if key == "B"));
        assert!(matches!(all[4], Stmt::Ignored { line: 4, .. }));
        let all = parse_file("A = \\\n  5\nB = 6");
        assert_eq!(
            all[1],
            Stmt::Assign {
                key: "B".into(),
                line: 3,
                value: PyValue::Int(6)
            }
        );
    }

    #[test]
    fn errors_with_lines() {
        assert_eq!(
            broken("\nA = 'abc\nB = 1"),
            (Some("A".into()), 2, "unterminated string literal".into())
        );
        let (key, line, msg) = broken("A = 1\n\nB = ['a', 'b' 'c' 5]");
        assert_eq!((key.as_deref(), line), (Some("B"), 3));
        assert!(msg.contains("expected `,` or `]`"), "{msg}");
        let (key, line, msg) = broken("C 'x'");
        assert_eq!((key.as_deref(), line), (Some("C"), 1));
        assert!(msg.contains("expected `=`"), "{msg}");
        let (key, line, _) = broken("X = 1\nD = [1,\n 2,\nE = 5\n");
        assert_eq!((key.as_deref(), line), (Some("D"), 2));
        let (key, line, msg) = broken("F = os.urandom(24)");
        assert_eq!((key.as_deref(), line), (Some("F"), 1));
        assert!(msg.contains("unsupported value `os`"), "{msg}");
        let (_, _, msg) = broken("G = 60 * 60");
        assert!(msg.contains("unexpected `*`"), "{msg}");
        let (_, line, msg) = broken("H = [1, 2)\n");
        assert_eq!(line, 1);
        assert!(msg.contains("does not match"), "{msg}");
    }

    #[test]
    fn recovery_after_unclosed_bracket() {
        let all = parse_file("D = [1,\n 2,\nE = 5\n");
        assert!(all.iter().any(|s| matches!(
            s,
            Stmt::Assign { key, line: 3, value: PyValue::Int(5) } if key == "E"
        )));
    }

    #[test]
    fn multi_line_values() {
        let text = "A = [\n  'x',  # comment\n  'y',\n]\nB = {\n 'k': (1,\n 2),\n}\nC = 3\n";
        let all = parse_file(text);
        assert_eq!(all.len(), 3);
        assert!(matches!(&all[2], Stmt::Assign { key, line: 9, .. } if key == "C"));
    }
}
