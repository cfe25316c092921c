//! Policy time ranges (`Mon-Fri: 9-18, Sat: 10:30-12`): parse and evaluate
//! at every hour of a week without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pi_model::TimeRange;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(range) = TimeRange::parse(text) {
        for day in 1..=7 {
            for hour in 0..24 {
                let t = chrono::NaiveDate::from_ymd_opt(2024, 7, day)
                    .and_then(|d| d.and_hms_opt(hour, 30, 0));
                if let Some(t) = t {
                    let _ = range.matches_datetime(&t);
                }
            }
        }
    }
});
