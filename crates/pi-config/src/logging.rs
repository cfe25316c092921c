//! The binaries' log output from pi.cfg: `PI_LOGLEVEL` (Python's numeric
//! levels) and `PI_LOGFORMAT` (text or one JSON object per line).

use crate::{LogFormat, PiConfig};
use std::io::Write;

/// The `env_logger` filter for a Python log level: up to 10 `debug`, up to
/// 20 `info`, up to 30 `warn`, above `error`.
pub fn level_filter(pi_level: i64) -> &'static str {
    match pi_level {
        i64::MIN..=10 => "debug",
        11..=20 => "info",
        21..=30 => "warn",
        _ => "error",
    }
}

/// Sets up `env_logger` from the configuration (`RUST_LOG`, when set,
/// wins over `PI_LOGLEVEL`). A second call does nothing.
pub fn init_logging(cfg: &PiConfig) {
    let env = env_logger::Env::default().filter_or("RUST_LOG", level_filter(cfg.pi_loglevel));
    let mut builder = env_logger::Builder::from_env(env);
    if cfg.pi_logformat == LogFormat::Json {
        builder.format(|buf, record| {
            let line = serde_json::json!({
                "ts": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
                "level": record.level().as_str(),
                "target": record.target(),
                "msg": record.args().to_string(),
            });
            writeln!(buf, "{line}")
        });
    }
    let _ = builder.try_init();
}

#[cfg(test)]
mod tests {
    use super::level_filter;

    #[test]
    fn python_levels_map_to_filters() {
        assert_eq!(level_filter(0), "debug");
        assert_eq!(level_filter(10), "debug");
        assert_eq!(level_filter(20), "info");
        assert_eq!(level_filter(30), "warn");
        assert_eq!(level_filter(40), "error");
        assert_eq!(level_filter(50), "error");
    }
}
