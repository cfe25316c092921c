//! Time ranges of the `time` policy attribute (spec/policy.md §1.9).

use crate::pyrepr::parse_int;
use chrono::{Datelike, NaiveDateTime, Timelike};
use serde::Serialize;
use std::fmt;
use thiserror::Error;

/// Why a time range does not parse (privacyIDEA raises `ValueError` or
/// `ParameterError`; both make the policy invalid).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid time range item `{item}`: {reason}")]
pub struct TimeRangeError {
    /// The offending item (whitespace removed).
    pub item: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

/// One `<dow>[-<dow>]:<start>-<end>` item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TimeItem {
    /// First ISO weekday (Mon = 1 … Sun = 7).
    pub day_from: u8,
    /// Last ISO weekday (inclusive; no wrap-around).
    pub day_to: u8,
    /// Start as minutes since midnight (inclusive).
    pub start: u16,
    /// End as minutes since midnight (inclusive).
    pub end: u16,
}

/// A parsed, non-empty time range: matches if any item matches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TimeRange {
    items: Vec<TimeItem>,
}

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

fn day(s: &str, item: &str) -> Result<u8, TimeRangeError> {
    DAYS.iter()
        .position(|d| *d == s)
        .map(|p| p as u8 + 1)
        .ok_or(TimeRangeError {
            item: item.to_string(),
            reason: "unknown day of the week",
        })
}

/// `H`, `H:MM`; three or more parts use the hour only (privacyIDEA quirk).
fn clock(s: &str, item: &str) -> Result<u16, TimeRangeError> {
    let err = |reason| TimeRangeError {
        item: item.to_string(),
        reason,
    };
    let parts: Vec<i64> = s
        .split(':')
        .map(|p| parse_int(p).ok_or(err("not a number")))
        .collect::<Result<_, _>>()?;
    let (h, m) = if parts.len() == 2 {
        (parts[0], parts[1])
    } else {
        (parts[0], 0)
    };
    if !(0..24).contains(&h) {
        return Err(err("hour must be in 0..23"));
    }
    if !(0..60).contains(&m) {
        return Err(err("minute must be in 0..59"));
    }
    Ok((h * 60 + m) as u16)
}

impl TimeRange {
    /// Parse a non-empty time string exactly as privacyIDEA's
    /// `check_time_in_range` does (all whitespace removed, days
    /// case-insensitive). The empty string is not a time range (the policy
    /// is then unrestricted); it fails here like in privacyIDEA.
    pub fn parse(raw: &str) -> Result<TimeRange, TimeRangeError> {
        let compact: String = raw.chars().filter(|c| !c.is_whitespace()).collect();
        let mut items = Vec::new();
        for tr in compact.split(',') {
            let (dow, t) = tr.split_once(':').ok_or(TimeRangeError {
                item: tr.to_string(),
                reason: "missing `:`",
            })?;
            let dow = dow.to_lowercase();
            let (d1, d2) = if dow.contains('-') {
                let parts: Vec<&str> = dow.split('-').collect();
                if parts.len() != 2 {
                    return Err(TimeRangeError {
                        item: tr.to_string(),
                        reason: "malformed day range",
                    });
                }
                (parts[0], parts[1])
            } else {
                (dow.as_str(), dow.as_str())
            };
            let day_from = day(d1, tr)?;
            let day_to = day(d2, tr)?;
            let tparts: Vec<&str> = t.split('-').collect();
            if tparts.len() != 2 {
                return Err(TimeRangeError {
                    item: tr.to_string(),
                    reason: "time part must be `<start>-<end>`",
                });
            }
            let start = clock(tparts[0], tr)?;
            let end = clock(tparts[1], tr)?;
            if start > end {
                return Err(TimeRangeError {
                    item: tr.to_string(),
                    reason: "start is after end",
                });
            }
            items.push(TimeItem {
                day_from,
                day_to,
                start,
                end,
            });
        }
        Ok(TimeRange { items })
    }

    /// The items.
    pub fn items(&self) -> &[TimeItem] {
        &self.items
    }

    /// Whether the instant (ISO weekday 1–7, hour, minute) is inside.
    pub fn matches(&self, weekday: u8, hour: u8, minute: u8) -> bool {
        let m = u16::from(hour) * 60 + u16::from(minute);
        self.items
            .iter()
            .any(|i| i.day_from <= weekday && weekday <= i.day_to && i.start <= m && m <= i.end)
    }

    /// Whether a naive local date-time is inside (seconds ignored).
    pub fn matches_datetime(&self, t: &NaiveDateTime) -> bool {
        self.matches(
            t.weekday().number_from_monday() as u8,
            t.hour() as u8,
            t.minute() as u8,
        )
    }
}

impl fmt::Display for TimeRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .items
            .iter()
            .map(|i| {
                let d = |n: u8| {
                    let s = DAYS[(n - 1) as usize];
                    let mut c = s.chars();
                    c.next()
                        .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                        .unwrap_or_default()
                };
                format!(
                    "{}-{}: {:02}:{:02}-{:02}:{:02}",
                    d(i.day_from),
                    d(i.day_to),
                    i.start / 60,
                    i.start % 60,
                    i.end / 60,
                    i.end % 60
                )
            })
            .collect();
        f.write_str(&parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, mo, d)
            .unwrap()
            .and_hms_opt(h, mi, 0)
            .unwrap()
    }

    #[test]
    fn case_009_invalid_times() {
        for t in [
            "Monday: 12-18",
            "Montag: 8-12",
            ":8-12",
            "Mon-Fri: 12:26",
            "Mon:",
            "Mon-Fri: 12-08",
        ] {
            assert!(TimeRange::parse(t).is_err(), "{t}");
        }
    }

    #[test]
    fn case_010_valid_times() {
        for t in [
            "Mon-Fri: 08:00-16:30",
            "Tue-Thu:6-22",
            "Wed: 13:30-18",
            "Sat-Sun: 20-23:59",
            "Mon-Fri: 9-18, Sat: 10-12",
        ] {
            assert!(TimeRange::parse(t).is_ok(), "{t}");
        }
    }

    #[test]
    fn case_v12_edges() {
        // 2024-07-01 is a Monday
        let r = TimeRange::parse("Mon: 9-18").unwrap();
        assert!(r.matches_datetime(&at(2024, 7, 1, 18, 0)));
        assert!(r.matches_datetime(
            &NaiveDate::from_ymd_opt(2024, 7, 1)
                .unwrap()
                .and_hms_opt(18, 0, 59)
                .unwrap()
        ));
        assert!(!r.matches_datetime(&at(2024, 7, 1, 18, 1)));
        assert!(r.matches_datetime(&at(2024, 7, 1, 9, 0)));
        assert!(!r.matches_datetime(&at(2024, 7, 1, 8, 59)));
        assert!(!TimeRange::parse("Sun-Mon: 0-23:59")
            .unwrap()
            .matches_datetime(&at(2024, 7, 1, 10, 0)));
        assert!(TimeRange::parse("Mon-Fri: 9-12, Mon: 13-14")
            .unwrap()
            .matches_datetime(&at(2024, 7, 1, 13, 30)));
        assert!(TimeRange::parse("Mon-Fri:09:30-17:45")
            .unwrap()
            .matches_datetime(&at(2024, 7, 1, 17, 45)));
    }

    #[test]
    fn case_v13_invalid_forms() {
        for t in [
            "Mon: 9-18,",
            "Mon: 9-24",
            "Mon: 22-6",
            "Monday: 9-18",
            "Mon",
            "",
        ] {
            assert!(TimeRange::parse(t).is_err(), "{t}");
        }
    }

    #[test]
    fn three_part_quirk() {
        let r = TimeRange::parse("Mon: 9:00:00-10").unwrap();
        assert_eq!(r.items()[0].start, 9 * 60);
        let r = TimeRange::parse("Mon: 9:59:00-10").unwrap();
        assert_eq!(r.items()[0].start, 9 * 60);
        assert!(TimeRange::parse("Mon: 9:60-10").is_err());
    }

    #[test]
    fn case_079_days() {
        let r = TimeRange::parse("Mon-Wed: 0-23:59").unwrap();
        assert!(r.matches_datetime(&at(2019, 7, 3, 13, 0)));
        assert!(!r.matches_datetime(&at(2019, 7, 4, 14, 34)));
    }

    #[test]
    fn case_137_138_utils() {
        let t = at(2016, 4, 5, 9, 12); // Tuesday
        for s in [
            "Mon-Fri: 09:00-17:30",
            "Mon - Fri : 09:00- 17:30",
            "Sat-Sun:10:00-15:00, Mon - Fri : 09:00- 17:30",
            "Tue: 9-15",
            "Tue: 9-15:1",
            "Mon-Fri: 9:12-17:30",
        ] {
            assert!(TimeRange::parse(s).unwrap().matches_datetime(&t), "{s}");
        }
        for s in ["Wed - Fri: 09:00-17:30", "Mon-Fri: 09:30-17:30"] {
            assert!(!TimeRange::parse(s).unwrap().matches_datetime(&t), "{s}");
        }
        assert!(TimeRange::parse("Mon-Wrong: asd-17:30").is_err());
    }

    #[test]
    fn day_and_minute_edges() {
        let r = TimeRange::parse("sun: 0-0").unwrap();
        assert!(r.matches(7, 0, 0));
        assert!(!r.matches(7, 0, 1));
        assert!(!r.matches(1, 0, 0));
        let r = TimeRange::parse("MON-SUN: 0-23:59").unwrap();
        assert!((1..=7).all(|d| r.matches(d, 23, 59) && r.matches(d, 0, 0)));
    }
}
