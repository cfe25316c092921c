//! Shared helpers of the integration tests.
#![allow(dead_code)]

use diesel::prelude::*;
use diesel::sql_types::Text;
use pi_store::testing::{all_test_dbs, TestDb};
use pi_store::AnyConnection;

/// Runs `f` once per available backend.
pub fn each_backend(f: impl Fn(&TestDb)) {
    for db in all_test_dbs().expect("create test databases") {
        eprintln!("--- backend {}", db.label());
        f(&db);
    }
}

/// Runs `f` once per available backend with a store opened on it.
pub fn each_store(f: impl Fn(&TestDb, &pi_store::Store)) {
    each_backend(|db| f(db, &db.open().expect("open store")));
}

/// A store on `uri` whose pool checkouts time out after `timeout`.
pub fn open_with_timeout(uri: &str, timeout: std::time::Duration) -> pi_store::Store {
    pi_store::Store::open(
        uri,
        pi_store::StoreOptions::default().with_connection_timeout(timeout),
    )
    .expect("open store")
}

#[derive(QueryableByName)]
struct Line {
    #[diesel(sql_type = Text)]
    s: String,
}

/// Runs a query whose single column `s` is text.
pub fn lines(c: &mut AnyConnection, sql: &str) -> Vec<String> {
    diesel::sql_query(sql)
        .load::<Line>(c)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .into_iter()
        .map(|l| l.s)
        .collect()
}

/// One scalar as text.
pub fn scalar(c: &mut AnyConnection, sql: &str) -> String {
    lines(c, sql).into_iter().next().unwrap_or_default()
}

pub const OUR_TABLES: &[&str] = &[
    "admin",
    "config",
    "description",
    "nodename",
    "pidea_audit",
    "policy",
    "policycondition",
    "privacyideaserver",
    "realm",
    "resolver",
    "resolverconfig",
    "resolverrealm",
];

pub const OUR_SEQUENCES: &[&str] = &[
    "audit_seq",
    "description_seq",
    "policy_seq",
    "policycondition_seq",
    "privacyideaserver_seq",
    "realm_seq",
    "resolver_seq",
    "resolverconf_seq",
    "resolverrealm_seq",
];

fn in_list(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("'{n}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A textual description of the schema of our tables (columns, types,
/// nullability, defaults, constraints, indexes, sequences).
pub fn describe_schema(db: &TestDb) -> Vec<String> {
    let mut c = db.connect().expect("connect");
    let tables = in_list(OUR_TABLES);
    match c {
        AnyConnection::Sqlite(_) => lines(
            &mut c,
            &format!(
                "SELECT type || ' ' || name || ': ' || COALESCE(sql, '') AS s FROM sqlite_master \
                 WHERE tbl_name IN ({tables}) ORDER BY type, name"
            ),
        ),
        AnyConnection::Postgres(_) => lines(
            &mut c,
            &format!(
                "SELECT s FROM (
                   SELECT 'col ' || table_name || ' ' || lpad(ordinal_position::text, 3, '0') || ' ' || column_name || ' '
                          || data_type || ' ' || COALESCE(character_maximum_length::text, '-') || ' '
                          || is_nullable || ' ' || COALESCE(column_default, '-') AS s
                     FROM information_schema.columns
                    WHERE table_schema = current_schema() AND table_name IN ({tables})
                   UNION ALL
                   SELECT 'con ' || conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid)
                     FROM pg_constraint
                    WHERE connamespace = current_schema()::regnamespace AND conrelid::regclass::text IN ({tables})
                   UNION ALL
                   SELECT 'idx ' || indexdef FROM pg_indexes
                    WHERE schemaname = current_schema() AND tablename IN ({tables})
                   UNION ALL
                   SELECT 'seq ' || sequence_name || ' ' || data_type || ' ' || start_value || ' ' || increment
                          || ' ' || minimum_value || ' ' || maximum_value
                     FROM information_schema.sequences
                    WHERE sequence_schema = current_schema() AND sequence_name IN ({seqs})
                 ) d ORDER BY s",
                seqs = in_list(OUR_SEQUENCES)
            ),
        ),
        // SHOW CREATE TABLE is what mysqldump prints: compare it verbatim
        // (AUTO_INCREMENT counters removed), plus the sequences' definitions.
        AnyConnection::Mysql(_) => {
            let mut out = Vec::new();
            for t in OUR_TABLES {
                #[derive(QueryableByName)]
                struct Create {
                    #[diesel(sql_type = Text, column_name = "Create Table")]
                    ddl: String,
                }
                let rows: Vec<Create> = diesel::sql_query(format!("SHOW CREATE TABLE `{t}`"))
                    .load(&mut c)
                    .unwrap_or_else(|e| panic!("{t}: {e}"));
                for r in rows {
                    let ddl = r
                        .ddl
                        .split(' ')
                        .filter(|w| !w.starts_with("AUTO_INCREMENT="))
                        .collect::<Vec<_>>()
                        .join(" ");
                    out.push(ddl);
                }
            }
            out.extend(lines(
                &mut c,
                &format!(
                    "SELECT CONCAT('seq ', table_name, ' ', table_type) AS s FROM information_schema.tables \
                     WHERE table_schema = DATABASE() AND table_name IN ({}) ORDER BY table_name",
                    in_list(OUR_SEQUENCES)
                ),
            ));
            out
        }
    }
}

/// privacyIDEA's schema fixture for this backend.
pub fn fixture_sql(db: &TestDb) -> &'static str {
    match db.backend() {
        pi_store::Backend::Sqlite => include_str!("../fixtures/privacyidea-3.14-sqlite-schema.sql"),
        pi_store::Backend::Postgres => {
            include_str!("../fixtures/privacyidea-3.14-postgresql-schema.sql")
        }
        pi_store::Backend::Mysql => include_str!("../fixtures/privacyidea-3.14-mariadb-schema.sql"),
    }
}
