//! The audit table: rows written in one batch get consecutive ids, are
//! signed over privacyIDEA's text of the row as stored, and are found by
//! privacyIDEA's filters.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use chrono::{NaiveDate, TimeDelta};
use common::{each_backend, each_store};
use pi_store::{AuditPage, AuditQuery, AuditRecord, Store};

fn record(i: u32, realm: &str) -> AuditRecord {
    let start = NaiveDate::from_ymd_opt(2026, 12, 6)
        .unwrap()
        .and_hms_micro_opt(10, 0, i, 123_456)
        .unwrap();
    AuditRecord {
        date: start + TimeDelta::microseconds(9_860),
        startdate: Some(start),
        duration: Some(TimeDelta::microseconds(9_860)),
        action: "POST /policy/<name>".into(),
        success: 1,
        realm: realm.into(),
        administrator: "admin".into(),
        action_detail: format!("pol{i}"),
        info: "x".repeat(700),
        privacyidea_server: "node1".into(),
        client: "127.0.0.1".into(),
        user_agent: "curl".into(),
        user_agent_version: "8.0".into(),
        thread_id: "7".into(),
        policies: "a,b".into(),
        ..AuditRecord::default()
    }
}

/// The first `page_size` rows, unfiltered.
fn first_page(store: &Store, page_size: i64) -> AuditPage {
    store
        .search_audit(&AuditQuery {
            page: 1,
            page_size,
            ..AuditQuery::default()
        })
        .unwrap()
}

#[test]
fn written_rows_read_back_signed_and_filtered() {
    each_store(|db, store| {
        store.ensure_audit_table().unwrap();
        store.ensure_audit_table().unwrap();
        let mut batch: Vec<AuditRecord> = (0..5)
            .map(|i| record(i, if i % 2 == 0 { "r1" } else { "r2" }))
            .collect();
        let sign = |t: &str| Some(format!("sig:{}", t.len()));
        store.write_audit(&mut batch, Some(&sign)).unwrap();
        let ids: Vec<i64> = batch.iter().map(|r| r.id).collect();
        assert!(ids.windows(2).all(|w| w[1] == w[0] + 1), "{ids:?}");
        assert_eq!(batch[0].info.len(), 500, "cut to the column");

        let page = first_page(store, 10);
        assert_eq!(page.total, 5);
        assert_eq!(page.entries.len(), 5);
        for (read, written) in page.entries.iter().zip(&batch) {
            assert_eq!(read, written, "{}", db.label());
            // the text signed at write time is the text of the stored row
            assert_eq!(read.signature, format!("sig:{}", read.sign_text().len()));
        }
        assert!(page.neighbours.contains(&ids[1]));

        let filtered = store
            .search_audit(&AuditQuery {
                filters: vec![
                    ("realm".into(), "r1".into()),
                    ("action".into(), "POST /policy/*".into()),
                    ("action_detail".into(), "!pol4".into()),
                    ("success".into(), "1".into()),
                    ("nonsense".into(), "x".into()),
                ],
                page: 1,
                page_size: 1,
                descending: true,
                ..AuditQuery::default()
            })
            .unwrap();
        assert_eq!(filtered.total, 2, "{}", db.label());
        assert_eq!(filtered.entries[0].action_detail, "pol2");

        let restricted = store
            .search_audit(&AuditQuery {
                allowed_realms: Some(vec!["r2".into()]),
                admin: Some(("nobody".into(), String::new())),
                page: 1,
                page_size: 10,
                ..AuditQuery::default()
            })
            .unwrap();
        assert_eq!(restricted.total, 2);
        let dates = store
            .search_audit(&AuditQuery {
                filters: vec![("date".into(), "2026-12-06 10:00:01*".into())],
                page: 1,
                page_size: 10,
                ..AuditQuery::default()
            })
            .unwrap();
        assert_eq!(dates.total, 1, "{}", db.label());
    });
}

#[test]
fn large_batches_get_consecutive_ids_and_their_own_signatures() {
    each_store(|db, store| {
        store.ensure_audit_table().unwrap();
        let sign = |t: &str| Some(format!("sig:{t}").chars().take(1000).collect::<String>());
        let mut first: Vec<AuditRecord> = (0..3).map(|i| record(i, "r")).collect();
        store.write_audit(&mut first, Some(&sign)).unwrap();
        let mut batch: Vec<AuditRecord> = (0..450).map(|i| record(i % 60, "r")).collect();
        store.write_audit(&mut batch, Some(&sign)).unwrap();
        let ids: Vec<i64> = first.iter().chain(&batch).map(|r| r.id).collect();
        assert!(ids.windows(2).all(|w| w[1] == w[0] + 1), "{}", db.label());
        let page = first_page(store, 1000);
        assert_eq!(page.total, 453);
        for r in &page.entries {
            let expected: String = format!("sig:{}", r.sign_text())
                .chars()
                .take(1000)
                .collect();
            assert_eq!(r.signature, expected, "{} row {}", db.label(), r.id);
        }
    });
}

#[test]
fn export_rounds_cover_each_row_once_in_date_order_up_to_a_snapshot() {
    each_store(|_, store| {
        store.ensure_audit_table().unwrap();
        let base = NaiveDate::from_ymd_opt(2026, 12, 6)
            .unwrap()
            .and_hms_micro_opt(10, 0, 0, 0)
            .unwrap();
        // 23 rows: dates out of id order, runs of equal dates (one on a whole
        // second), one row outside the filter
        let mut batch: Vec<AuditRecord> = (0..23u32)
            .map(|i| {
                let mut r = record(i, if i == 5 { "other" } else { "r1" });
                r.date = base + TimeDelta::seconds(i64::from((23 - i) / 3));
                r
            })
            .collect();
        store.write_audit(&mut batch, None).unwrap();
        let q = AuditQuery {
            filters: vec![("realm".into(), "r1".into())],
            ..AuditQuery::default()
        };
        let up_to = store.max_audit_id(&q).unwrap().unwrap();
        // written after the export started: not part of it
        let mut later = vec![record(59, "r1")];
        store.write_audit(&mut later, None).unwrap();

        let mut seen: Vec<(chrono::NaiveDateTime, i64)> = Vec::new();
        let mut after = None;
        loop {
            let round = store.audit_export_round(&q, up_to, after, 4).unwrap();
            assert!(round.entries.len() <= 4);
            seen.extend(round.entries.iter().map(|r| (r.date, r.id)));
            match round.entries.last() {
                Some(last) if round.entries.len() == 4 => after = Some((last.date, last.id)),
                _ => break,
            }
        }
        let mut expected: Vec<(chrono::NaiveDateTime, i64)> = batch
            .iter()
            .filter(|r| r.realm == "r1")
            .map(|r| (r.date, r.id))
            .collect();
        expected.sort();
        assert_eq!(seen, expected);
        assert!(store
            .max_audit_id(&AuditQuery {
                filters: vec![("realm".into(), "none".into())],
                ..AuditQuery::default()
            })
            .unwrap()
            .is_none());
    });
}

#[test]
fn concurrent_writers_never_share_an_id_and_sign_the_stored_id() {
    // two nodes (two stores, as two servers on one database) writing
    // batches at the same time
    each_backend(|db| {
        let a = db.open().unwrap();
        let b = db.open().unwrap();
        a.ensure_audit_table().unwrap();
        let sign = |t: &str| Some(format!("sig:{}", t.len()));
        std::thread::scope(|s| {
            for (n, store) in [&a, &b].into_iter().enumerate() {
                s.spawn(move || {
                    for round in 0..10u32 {
                        let mut batch: Vec<AuditRecord> = (0..37)
                            .map(|i| record(i % 60, &format!("node{n}-{round}")))
                            .collect();
                        store.write_audit(&mut batch, Some(&sign)).unwrap();
                    }
                });
            }
        });
        let page = a
            .search_audit(&AuditQuery {
                page: 1,
                page_size: 1000,
                ..AuditQuery::default()
            })
            .unwrap();
        assert_eq!(page.total, 740, "{}", db.label());
        let mut ids: Vec<i64> = page.entries.iter().map(|r| r.id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 740, "{}", db.label());
        for r in &page.entries {
            assert_eq!(
                r.signature,
                format!("sig:{}", r.sign_text().len()),
                "{} row {}",
                db.label(),
                r.id
            );
        }
    });
}
