//! SQL text for the SQL resolver: identifier quoting per dialect, privacyIDEA's
//! `LIKE` escaping, the restricted `Where` syntax, and the statements. Values
//! are never spliced into the SQL text: they travel as [`Bind`] parameters.

use std::fmt::Write as _;

/// The SQL dialect of a user database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// SQLite (file or `:memory:`).
    Sqlite,
    /// PostgreSQL.
    Postgres,
    /// MySQL / MariaDB.
    Mysql,
}

pub use pi_model::sqllike::{escape_like, wildcard_to_like};

/// How a column's values are compared and rendered (SQLAlchemy's reflected
/// type family, as far as the resolver's behaviour depends on it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// Integer family: a user id is compared as a number; `0` is "empty".
    Int,
    /// Floating point.
    Float,
    /// Character types.
    Text,
    /// Binary (BLOB, bytea, VARBINARY): decoded with the `Encoding` key.
    Binary,
    /// Anything else (UUID, dates, booleans, numeric, untyped): compared
    /// through its text form.
    Other,
}

impl ColumnKind {
    /// Classifies a reflected type name (SQLite declared type, PostgreSQL /
    /// MySQL `information_schema.columns.data_type`).
    pub fn classify(dialect: Dialect, type_name: &str) -> ColumnKind {
        let t = type_name.trim().to_ascii_uppercase();
        match dialect {
            Dialect::Sqlite => {
                // SQLAlchemy's names first, then SQLite's affinity rules
                let base = t.split('(').next().unwrap_or("").trim();
                match base {
                    "BOOL" | "BOOLEAN" | "DATE" | "DATETIME" | "TIME" | "TIMESTAMP" | "DECIMAL"
                    | "NUMERIC" => ColumnKind::Other,
                    _ if t.contains("INT") => ColumnKind::Int,
                    _ if t.contains("CHAR") || t.contains("CLOB") || t.contains("TEXT") => {
                        ColumnKind::Text
                    }
                    _ if t.contains("BLOB") => ColumnKind::Binary,
                    _ if t.contains("REAL") || t.contains("FLOA") || t.contains("DOUB") => {
                        ColumnKind::Float
                    }
                    _ => ColumnKind::Other,
                }
            }
            Dialect::Postgres => match t.as_str() {
                "SMALLINT" | "INTEGER" | "BIGINT" => ColumnKind::Int,
                "REAL" | "DOUBLE PRECISION" => ColumnKind::Float,
                "CHARACTER VARYING" | "CHARACTER" | "TEXT" | "NAME" => ColumnKind::Text,
                "BYTEA" => ColumnKind::Binary,
                _ => ColumnKind::Other,
            },
            Dialect::Mysql => match t.as_str() {
                "TINYINT" | "SMALLINT" | "MEDIUMINT" | "INT" | "INTEGER" | "BIGINT" => {
                    ColumnKind::Int
                }
                "FLOAT" | "DOUBLE" | "REAL" => ColumnKind::Float,
                "CHAR" | "VARCHAR" | "TINYTEXT" | "TEXT" | "MEDIUMTEXT" | "LONGTEXT" | "ENUM"
                | "SET" => ColumnKind::Text,
                "BINARY" | "VARBINARY" | "TINYBLOB" | "BLOB" | "MEDIUMBLOB" | "LONGBLOB" => {
                    ColumnKind::Binary
                }
                _ => ColumnKind::Other,
            },
        }
    }
}

/// A reflected column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// Column name, exactly as the database reports it.
    pub name: String,
    /// Its type family.
    pub kind: ColumnKind,
}

/// A bound parameter value.
#[derive(Debug, Clone, PartialEq)]
pub enum Bind {
    /// Text.
    Text(String),
    /// 64-bit integer.
    Int(i64),
    /// Double.
    Float(f64),
}

/// A statement with its parameters, in placeholder order.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// SQL text with the dialect's placeholders.
    pub sql: String,
    /// Parameters.
    pub binds: Vec<Bind>,
}

/// One comparison of the `Where` key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WhereCond {
    /// Column name.
    pub column: String,
    /// The operator.
    pub op: WhereOp,
    /// The value, always a string (bound, never spliced).
    pub value: String,
}

/// Operators the release honours in `Where`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhereOp {
    /// `like` (any case): SQL `LIKE` without escape character.
    Like,
    /// `==` → `=`.
    Eq,
    /// `>`.
    Gt,
    /// `<`.
    Lt,
}

impl WhereOp {
    fn sql(self) -> &'static str {
        match self {
            WhereOp::Like => "LIKE",
            WhereOp::Eq => "=",
            WhereOp::Gt => ">",
            WhereOp::Lt => "<",
        }
    }
}

/// A `Where` part that is not `column op value`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`Where` part `{0}` is not `column operator value`")]
pub struct WhereError(pub String);

/// Parses the `Where` key like privacyIDEA: split on ` and ` (any case, one
/// blank each side), each part must be exactly three whitespace-separated
/// tokens `column op value`; operators other than `like`, `==`, `>`, `<` are
/// silently dropped (`active != 1` filters nothing). No `OR`, no parentheses,
/// no values with blanks.
pub fn parse_where(text: &str) -> Result<Vec<WhereCond>, WhereError> {
    let mut out = Vec::new();
    if text.is_empty() {
        return Ok(out);
    }
    for part in split_and(text) {
        let tokens: Vec<&str> = part.split_whitespace().collect();
        let [column, op, value] = tokens[..] else {
            return Err(WhereError(part.to_owned()));
        };
        let op = if op.eq_ignore_ascii_case("like") {
            WhereOp::Like
        } else {
            match op {
                "==" => WhereOp::Eq,
                ">" => WhereOp::Gt,
                "<" => WhereOp::Lt,
                _ => continue,
            }
        };
        out.push(WhereCond {
            column: column.to_owned(),
            op,
            value: value.to_owned(),
        });
    }
    Ok(out)
}

/// `re.split(' and ', text, flags=re.IGNORECASE)`.
fn split_and(text: &str) -> Vec<&str> {
    let lower = text.to_ascii_lowercase();
    let mut parts = Vec::new();
    let mut start = 0;
    let mut from = 0;
    while let Some(pos) = lower[from..].find(" and ") {
        let at = from + pos;
        parts.push(&text[start..at]);
        start = at + 5;
        from = start;
    }
    parts.push(&text[start..]);
    parts
}

/// The table name split like the release: schema = text before the first
/// `.`, table = text after the last `.` (`a.b.c` → `a` / `c`).
pub fn split_table(table: &str) -> (Option<&str>, &str) {
    match (table.split_once('.'), table.rsplit_once('.')) {
        (Some((schema, _)), Some((_, name))) => (Some(schema), name),
        _ => (None, table),
    }
}

/// Builds statements for one dialect and one table.
#[derive(Debug, Clone)]
pub struct Builder<'a> {
    /// Dialect.
    pub dialect: Dialect,
    /// Schema, if the `Table` key named one.
    pub schema: Option<&'a str>,
    /// Table name.
    pub table: &'a str,
    /// Reflected columns.
    pub columns: &'a [Column],
}

/// A failure to build a statement (a name the table does not have).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildSqlError {
    /// The column is not in the table.
    #[error("column `{0}` is not in the table")]
    NoColumn(String),
    /// A `Where` value that the column's type cannot take.
    #[error("value `{value}` is not valid for column `{column}`")]
    BadValue {
        /// Column.
        column: String,
        /// Value.
        value: String,
    },
}

/// A condition of a statement under construction.
#[derive(Debug, Clone, PartialEq)]
pub enum Cond<'c> {
    /// `col LIKE pattern ESCAPE '/'` (pattern already escaped).
    LikeEscaped(&'c Column, String),
    /// `col = value` for the user-id column.
    IdEquals(&'c Column, Bind),
    /// A parsed `Where` comparison.
    Where(&'c Column, WhereOp, String),
}

impl<'a> Builder<'a> {
    /// Quotes an identifier: `"x"` (`""` doubles) or MySQL's `` `x` ``.
    pub fn quote(&self, ident: &str) -> String {
        match self.dialect {
            Dialect::Mysql => format!("`{}`", ident.replace('`', "``")),
            Dialect::Sqlite | Dialect::Postgres => format!("\"{}\"", ident.replace('"', "\"\"")),
        }
    }

    /// The quoted, schema-qualified table.
    pub fn table_ref(&self) -> String {
        match self.schema {
            Some(s) => format!("{}.{}", self.quote(s), self.quote(self.table)),
            None => self.quote(self.table),
        }
    }

    /// The reflected column `name`.
    pub fn column(&self, name: &str) -> Result<&'a Column, BuildSqlError> {
        self.columns
            .iter()
            .find(|c| c.name == name)
            .ok_or_else(|| BuildSqlError::NoColumn(name.to_owned()))
    }

    fn text_cast(&self, expr: &str) -> String {
        match self.dialect {
            Dialect::Mysql => format!("CAST({expr} AS CHAR)"),
            Dialect::Sqlite | Dialect::Postgres => format!("CAST({expr} AS TEXT)"),
        }
    }

    fn placeholder(&self, sql: &mut String, binds: &mut Vec<Bind>, bind: Bind) {
        binds.push(bind);
        match self.dialect {
            Dialect::Postgres => {
                let _ = write!(sql, "${}", binds.len());
            }
            Dialect::Sqlite | Dialect::Mysql => sql.push('?'),
        }
    }

    /// The `Where` comparisons resolved against the table.
    pub fn where_conds<'c>(&self, conds: &'c [WhereCond]) -> Result<Vec<Cond<'a>>, BuildSqlError>
    where
        'a: 'c,
    {
        conds
            .iter()
            .map(|w| Ok(Cond::Where(self.column(&w.column)?, w.op, w.value.clone())))
            .collect()
    }

    fn render_conds(
        &self,
        conds: &[Cond<'_>],
        sql: &mut String,
        binds: &mut Vec<Bind>,
    ) -> Result<(), BuildSqlError> {
        for (i, cond) in conds.iter().enumerate() {
            sql.push_str(if i == 0 { " WHERE " } else { " AND " });
            match cond {
                Cond::LikeEscaped(col, pattern) => {
                    // PostgreSQL has no `integer LIKE text`: compare the text form
                    let expr = if self.dialect == Dialect::Postgres && col.kind != ColumnKind::Text
                    {
                        self.text_cast(&self.quote(&col.name))
                    } else {
                        self.quote(&col.name)
                    };
                    sql.push_str(&expr);
                    sql.push_str(" LIKE ");
                    self.placeholder(sql, binds, Bind::Text(pattern.clone()));
                    sql.push_str(" ESCAPE '/'");
                }
                Cond::IdEquals(col, bind) => {
                    sql.push_str(&self.quote(&col.name));
                    sql.push_str(" = ");
                    self.placeholder(sql, binds, bind.clone());
                }
                Cond::Where(col, op, value) => {
                    let (expr, bind) = self.where_operand(col, *op, value)?;
                    sql.push_str(&expr);
                    sql.push(' ');
                    sql.push_str(op.sql());
                    sql.push(' ');
                    self.placeholder(sql, binds, bind);
                }
            }
        }
        Ok(())
    }

    /// The column expression and the bound value of a `Where` comparison.
    /// SQLite and MySQL coerce a text parameter themselves (as the release
    /// relies on); PostgreSQL types parameters strictly, so the value is
    /// converted to the column's type here (or the column compared as text).
    fn where_operand(
        &self,
        col: &Column,
        op: WhereOp,
        value: &str,
    ) -> Result<(String, Bind), BuildSqlError> {
        let quoted = self.quote(&col.name);
        if self.dialect != Dialect::Postgres || op == WhereOp::Like {
            let expr = if self.dialect == Dialect::Postgres && col.kind != ColumnKind::Text {
                self.text_cast(&quoted)
            } else {
                quoted
            };
            return Ok((expr, Bind::Text(value.to_owned())));
        }
        let bad = || BuildSqlError::BadValue {
            column: col.name.clone(),
            value: value.to_owned(),
        };
        Ok(match col.kind {
            ColumnKind::Int => (quoted, Bind::Int(value.trim().parse().map_err(|_| bad())?)),
            ColumnKind::Float => (
                quoted,
                Bind::Float(value.trim().parse().map_err(|_| bad())?),
            ),
            ColumnKind::Text => (quoted, Bind::Text(value.to_owned())),
            ColumnKind::Binary | ColumnKind::Other => {
                (self.text_cast(&quoted), Bind::Text(value.to_owned()))
            }
        })
    }

    /// `SELECT count(*) AS n FROM t [WHERE …]`.
    pub fn count(&self, conds: &[Cond<'_>]) -> Result<Statement, BuildSqlError> {
        let mut sql = format!("SELECT count(*) AS n FROM {}", self.table_ref());
        let mut binds = Vec::new();
        self.render_conds(conds, &mut sql, &mut binds)?;
        Ok(Statement { sql, binds })
    }

    /// `SELECT <json array of the columns as text> AS j FROM t [WHERE …]
    /// [LIMIT n]`: one text column per row whatever the table looks like.
    /// Binary columns come as hex.
    pub fn select(
        &self,
        columns: &[&Column],
        conds: &[Cond<'_>],
        limit: Option<i64>,
    ) -> Result<Statement, BuildSqlError> {
        let exprs: Vec<String> = columns
            .iter()
            .map(|c| {
                let q = self.quote(&c.name);
                match (c.kind, self.dialect) {
                    (ColumnKind::Binary, Dialect::Sqlite) => format!("hex({q})"),
                    (ColumnKind::Binary, Dialect::Postgres) => format!("encode({q}, 'hex')"),
                    (ColumnKind::Binary, Dialect::Mysql) => format!("HEX({q})"),
                    _ => self.text_cast(&q),
                }
            })
            .collect();
        let array = match self.dialect {
            Dialect::Sqlite => format!("json_array({})", exprs.join(", ")),
            Dialect::Postgres => format!("CAST(json_build_array({}) AS TEXT)", exprs.join(", ")),
            Dialect::Mysql => format!("CAST(JSON_ARRAY({}) AS CHAR)", exprs.join(", ")),
        };
        let mut sql = format!("SELECT {array} AS j FROM {}", self.table_ref());
        let mut binds = Vec::new();
        self.render_conds(conds, &mut sql, &mut binds)?;
        if let Some(n) = limit {
            let _ = write!(sql, " LIMIT {n}");
        }
        Ok(Statement { sql, binds })
    }

    /// The statement listing the table's columns (name, type), with the
    /// schema and table names bound.
    pub fn reflect(&self) -> Statement {
        let mut binds = Vec::new();
        let sql = match self.dialect {
            Dialect::Sqlite => {
                binds.push(Bind::Text(self.table.to_owned()));
                match self.schema {
                    Some(s) => {
                        binds.push(Bind::Text(s.to_owned()));
                        "SELECT name AS name, type AS typ FROM pragma_table_info(?, ?) ORDER BY cid"
                    }
                    None => {
                        "SELECT name AS name, type AS typ FROM pragma_table_info(?) ORDER BY cid"
                    }
                }
            }
            Dialect::Postgres => {
                binds.push(Bind::Text(self.table.to_owned()));
                match self.schema {
                    Some(s) => {
                        binds.push(Bind::Text(s.to_owned()));
                        "SELECT CAST(column_name AS TEXT) AS name, CAST(data_type AS TEXT) AS typ \
                         FROM information_schema.columns WHERE table_name = $1 AND table_schema = $2 \
                         ORDER BY ordinal_position"
                    }
                    None => {
                        "SELECT CAST(column_name AS TEXT) AS name, CAST(data_type AS TEXT) AS typ \
                         FROM information_schema.columns WHERE table_name = $1 \
                         AND table_schema = current_schema() ORDER BY ordinal_position"
                    }
                }
            }
            Dialect::Mysql => {
                binds.push(Bind::Text(self.table.to_owned()));
                match self.schema {
                    Some(s) => {
                        binds.push(Bind::Text(s.to_owned()));
                        "SELECT column_name AS name, data_type AS typ FROM information_schema.columns \
                         WHERE table_name = ? AND table_schema = ? ORDER BY ordinal_position"
                    }
                    None => {
                        "SELECT column_name AS name, data_type AS typ FROM information_schema.columns \
                         WHERE table_name = ? AND table_schema = DATABASE() ORDER BY ordinal_position"
                    }
                }
            }
        };
        Statement {
            sql: sql.to_owned(),
            binds,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn where_parsing() {
        let c = |column: &str, op, value: &str| WhereCond {
            column: column.into(),
            op,
            value: value.into(),
        };
        assert_eq!(parse_where("").unwrap(), vec![]);
        assert_eq!(
            parse_where("active == 1").unwrap(),
            vec![c("active", WhereOp::Eq, "1")]
        );
        assert_eq!(
            parse_where("givenname == hans and name == dampf").unwrap(),
            vec![
                c("givenname", WhereOp::Eq, "hans"),
                c("name", WhereOp::Eq, "dampf")
            ]
        );
        assert_eq!(
            parse_where("givenname == hans AND name == dampf")
                .unwrap()
                .len(),
            2
        );
        // more blanks are tolerated: each part is split on whitespace
        assert_eq!(
            parse_where("givenname == hans   AND name == dampf")
                .unwrap()
                .len(),
            2
        );
        assert_eq!(
            parse_where("id > 2").unwrap(),
            vec![c("id", WhereOp::Gt, "2")]
        );
        assert_eq!(
            parse_where("id < 5").unwrap(),
            vec![c("id", WhereOp::Lt, "5")]
        );
        assert_eq!(
            parse_where("username LiKe wal%").unwrap(),
            vec![c("username", WhereOp::Like, "wal%")]
        );
        // unsupported operators are dropped silently
        assert_eq!(parse_where("active != 1").unwrap(), vec![]);
        assert_eq!(parse_where("a >= 1 and b = 2 and c <> 3").unwrap(), vec![]);
        // not three tokens
        assert!(parse_where("active 1").is_err());
        assert!(parse_where("a == b c").is_err());
        assert!(parse_where("a == 1 or b == 2").is_err());
        assert!(parse_where("name == 'two words'").is_err());
        // `and` only splits with single blanks around it
        assert!(parse_where("a == 1\tand b == 2").is_err());
        // the value is one token: SQL in it stays a value
        assert_eq!(
            parse_where("id > 0;DROP").unwrap(),
            vec![c("id", WhereOp::Gt, "0;DROP")]
        );
    }

    #[test]
    fn table_split() {
        assert_eq!(split_table("users"), (None, "users"));
        assert_eq!(split_table("public.users"), (Some("public"), "users"));
        assert_eq!(split_table("a.b.c"), (Some("a"), "c"));
    }

    fn cols() -> Vec<Column> {
        vec![
            Column {
                name: "id".into(),
                kind: ColumnKind::Int,
            },
            Column {
                name: "user\"name".into(),
                kind: ColumnKind::Text,
            },
            Column {
                name: "pic`".into(),
                kind: ColumnKind::Binary,
            },
        ]
    }

    #[test]
    fn statements_per_dialect() {
        let cols = cols();
        for (dialect, expect_count, expect_select) in [
            (
                Dialect::Sqlite,
                "SELECT count(*) AS n FROM \"s\".\"t\"\"x\" WHERE \"user\"\"name\" LIKE ? ESCAPE '/' AND \"id\" > ?",
                "SELECT json_array(CAST(\"id\" AS TEXT), CAST(\"user\"\"name\" AS TEXT), hex(\"pic`\")) AS j FROM \"s\".\"t\"\"x\" WHERE \"id\" = ? LIMIT 5",
            ),
            (
                Dialect::Postgres,
                "SELECT count(*) AS n FROM \"s\".\"t\"\"x\" WHERE \"user\"\"name\" LIKE $1 ESCAPE '/' AND \"id\" > $2",
                "SELECT CAST(json_build_array(CAST(\"id\" AS TEXT), CAST(\"user\"\"name\" AS TEXT), encode(\"pic`\", 'hex')) AS TEXT) AS j FROM \"s\".\"t\"\"x\" WHERE \"id\" = $1 LIMIT 5",
            ),
            (
                Dialect::Mysql,
                "SELECT count(*) AS n FROM `s`.`t\"x` WHERE `user\"name` LIKE ? ESCAPE '/' AND `id` > ?",
                "SELECT CAST(JSON_ARRAY(CAST(`id` AS CHAR), CAST(`user\"name` AS CHAR), HEX(`pic```)) AS CHAR) AS j FROM `s`.`t\"x` WHERE `id` = ? LIMIT 5",
            ),
        ] {
            let b = Builder {
                dialect,
                schema: Some("s"),
                table: "t\"x",
                columns: &cols,
            };
            let name = b.column("user\"name").unwrap();
            let w = b
                .where_conds(&parse_where("id > 15").unwrap())
                .unwrap();
            let mut conds = vec![Cond::LikeEscaped(name, escape_like("a'b_"))];
            conds.extend(w);
            let st = b.count(&conds).unwrap();
            assert_eq!(st.sql, expect_count, "{dialect:?}");
            // values are parameters; PostgreSQL gets the `Where` value typed
            let where_bind = if dialect == Dialect::Postgres {
                Bind::Int(15)
            } else {
                Bind::Text("15".into())
            };
            assert_eq!(st.binds, vec![Bind::Text("a'b/_".into()), where_bind]);
            let all: Vec<&Column> = cols.iter().collect();
            let id = b.column("id").unwrap();
            let st = b
                .select(&all, &[Cond::IdEquals(id, Bind::Int(1))], Some(5))
                .unwrap();
            assert_eq!(st.sql, expect_select, "{dialect:?}");
        }
    }

    #[test]
    fn postgres_compares_non_text_columns_as_text_in_like() {
        let cols = cols();
        let b = Builder {
            dialect: Dialect::Postgres,
            schema: None,
            table: "users",
            columns: &cols,
        };
        let id = b.column("id").unwrap();
        let st = b.count(&[Cond::LikeEscaped(id, "1%".into())]).unwrap();
        assert_eq!(
            st.sql,
            "SELECT count(*) AS n FROM \"users\" WHERE CAST(\"id\" AS TEXT) LIKE $1 ESCAPE '/'"
        );
        // a non-number against an integer column cannot be bound
        let w = b.where_conds(&parse_where("id > abc").unwrap()).unwrap();
        assert!(matches!(b.count(&w), Err(BuildSqlError::BadValue { .. })));
        // unknown `Where` column
        assert_eq!(
            b.where_conds(&parse_where("nocol == 1").unwrap())
                .unwrap_err(),
            BuildSqlError::NoColumn("nocol".into())
        );
    }

    #[test]
    fn column_kinds() {
        use ColumnKind::*;
        for (t, k) in [
            ("INTEGER", Int),
            ("BIGINT", Int),
            ("VARCHAR(64)", Text),
            ("TEXT", Text),
            ("BLOB", Binary),
            ("", Other),
            ("REAL", Float),
            ("BOOLEAN", Other),
            ("DATETIME", Other),
        ] {
            assert_eq!(ColumnKind::classify(Dialect::Sqlite, t), k, "{t}");
        }
        for (t, k) in [
            ("integer", Int),
            ("character varying", Text),
            ("text", Text),
            ("uuid", Other),
            ("bytea", Binary),
            ("double precision", Float),
        ] {
            assert_eq!(ColumnKind::classify(Dialect::Postgres, t), k, "{t}");
        }
        for (t, k) in [("int", Int), ("varchar", Text), ("varbinary", Binary)] {
            assert_eq!(ColumnKind::classify(Dialect::Mysql, t), k, "{t}");
        }
    }
}
