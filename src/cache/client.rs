//! The one way this server configures a fred client: for the pool and for L1's tracking
//! connection alike.
use std::time::Duration;

use fred::{
    prelude::*,
    types::config::{ReconnectPolicy, UnresponsiveConfig},
};

/// The one way this server configures a fred client for `url`: RESP3 when `resp3` (tracking
/// needs it; its pushes then get a deep event channel), every command bounded by `timeout`,
/// the first connection retried with the
/// reconnect policy instead of failing start-up, a paused or silent server's connection closed
/// after 2 s and reconnected with exponential backoff (0.1 to 5 s, for ever).
pub(crate) fn builder(
    url: &str,
    resp3: bool,
    timeout: Duration,
) -> Result<Builder, fred::error::Error> {
    let mut config = Config::from_url(url)?;
    if resp3 {
        config.version = fred::types::RespVersion::RESP3;
    }
    config.fail_fast = false;
    let mut builder = Builder::from_config(config);
    builder
        .with_performance_config(|p| {
            p.default_command_timeout = timeout;
            if resp3 {
                // Invalidation pushes arrive in bursts; a lagging channel flushes L1.
                p.broadcast_channel_capacity = 8192;
            }
        })
        .with_connection_config(|c| {
            c.connection_timeout = Duration::from_secs(2);
            c.internal_command_timeout = Duration::from_secs(2);
            c.unresponsive = UnresponsiveConfig {
                max_timeout: Some(Duration::from_secs(2)),
                interval: Duration::from_millis(500),
            };
        })
        .set_policy(ReconnectPolicy::new_exponential(0, 100, 5_000, 2));
    Ok(builder)
}
