//! Reading one variable: trimmed, empty counts as unset, and every parse error names the
//! variable and says what was expected (never echoing a secret: only non-secret values are
//! read through the typed helpers).
use std::time::Duration;

use super::ConfigError;

/// A lookup of variables (the process environment, or a map in tests).
pub(super) struct Env<F> {
    lookup: F,
}

pub(super) fn invalid(var: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError {
        var,
        reason: reason.into(),
    }
}

impl<F: Fn(&str) -> Option<String>> Env<F> {
    pub(super) fn new(lookup: F) -> Self {
        Self { lookup }
    }

    /// The trimmed value, `None` when unset or empty.
    pub(super) fn get(&self, key: &str) -> Option<String> {
        (self.lookup)(key)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    /// A non-negative whole number.
    pub(super) fn num(&self, var: &'static str, default: u64) -> Result<u64, ConfigError> {
        match self.get(var) {
            None => Ok(default),
            Some(v) => v
                .parse::<u64>()
                .map_err(|_| invalid(var, format!("`{v}` is not a non-negative whole number"))),
        }
    }

    /// A whole number greater than 0.
    pub(super) fn positive(&self, var: &'static str, default: u64) -> Result<u64, ConfigError> {
        let n = self.num(var, default)?;
        if n == 0 {
            return Err(invalid(var, "must be greater than 0"));
        }
        Ok(n)
    }

    /// A positive number no larger than `max`.
    pub(super) fn bounded(
        &self,
        var: &'static str,
        default: u64,
        max: u64,
    ) -> Result<u64, ConfigError> {
        let n = self.positive(var, default)?;
        if n > max {
            return Err(invalid(var, format!("must be at most {max}")));
        }
        Ok(n)
    }

    /// A positive number of milliseconds.
    pub(super) fn millis(&self, var: &'static str, default: u64) -> Result<Duration, ConfigError> {
        Ok(Duration::from_millis(self.positive(var, default)?))
    }

    /// A positive number of seconds.
    pub(super) fn secs(&self, var: &'static str, default: u64) -> Result<Duration, ConfigError> {
        Ok(Duration::from_secs(self.positive(var, default)?))
    }

    /// `true`/`false` (also 1/0, on/off, yes/no).
    pub(super) fn flag(&self, var: &'static str, default: bool) -> Result<bool, ConfigError> {
        match self.get(var).map(|v| v.to_ascii_lowercase()).as_deref() {
            None => Ok(default),
            Some("1" | "true" | "on" | "yes") => Ok(true),
            Some("0" | "false" | "off" | "no") => Ok(false),
            Some(other) => Err(invalid(var, format!("`{other}` is not true or false"))),
        }
    }
}
