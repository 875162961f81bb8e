//! Telemetry: logs (one subscriber for the process, filtered by `RUST_LOG`, as text or JSON
//! lines), the line logged per request, and the app's metrics ([`Metrics`]).
mod metrics;

pub use metrics::Metrics;

use std::{io::IsTerminal, time::Duration};

use tracing_subscriber::EnvFilter;

/// The filter when `RUST_LOG` is unset: our own lines at INFO, the drivers' at WARN.
pub const DEFAULT_FILTER: &str = "info,sqlx=warn,fred=warn";

/// How log lines are written (`LOG_FORMAT`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines; coloured only on a terminal, and never with `NO_COLOR` set.
    #[default]
    Text,
    /// One JSON object per line, for log shippers.
    Json,
}

/// Installs the process's subscriber (call once, at start), writing to stdout.
pub fn init(format: LogFormat) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        LogFormat::Json => builder.json().flatten_event(true).init(),
        LogFormat::Text => builder.with_ansi(colour()).init(),
    }
}

/// Colour only for a person: stdout is a terminal and `NO_COLOR` is unset or empty.
fn colour() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// At what level each request is logged (`LOG_REQUESTS`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RequestLog {
    /// One INFO line per request (the default).
    #[default]
    Info,
    /// At DEBUG: hidden by the default filter, shown with `RUST_LOG=debug`.
    Debug,
    /// Not logged.
    Off,
}

/// What one GraphQL request was, for its log line.
pub struct Served<'a> {
    /// The operation's name, if it has one.
    pub operation: Option<&'a str>,
    /// Whether it succeeded.
    pub ok: bool,
    /// Whether the whole-response cache answered it.
    pub cached: bool,
    /// How long it took.
    pub elapsed: Duration,
}

/// Whether a client-chosen operation name may appear in a label or a log line as it is: a short
/// identifier. Anything else is shown as `other`, so no client can write a megabyte into every
/// log line or a series of its choosing.
pub(crate) fn is_short_name(name: &str) -> bool {
    name.len() <= 64 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

impl RequestLog {
    /// Logs `served` at this level.
    pub fn log(self, served: &Served<'_>) {
        let operation = match served.operation {
            None => "anonymous",
            Some(name) if is_short_name(name) => name,
            Some(_) => "other",
        };
        let outcome = if served.ok { "ok" } else { "error" };
        let ms = (served.elapsed.as_secs_f64() * 1e5).round() / 100.0;
        let cached = served.cached;
        match self {
            RequestLog::Info => {
                tracing::info!(target: "cachegraph::request", operation, outcome, ms, cached, "graphql request")
            }
            RequestLog::Debug => {
                tracing::debug!(target: "cachegraph::request", operation, outcome, ms, cached, "graphql request")
            }
            RequestLog::Off => {}
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_short_identifiers_are_shown_as_sent() {
        use super::is_short_name as short;
        assert!(short("ListUsers_2"));
        assert!(!short(&"a".repeat(65)));
        assert!(!short("evil\nINFO forged line"));
    }
}
