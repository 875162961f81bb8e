//! Who sent a request, as far as the connection and trusted proxies tell.
use std::net::SocketAddr;

use axum::{extract::ConnectInfo, http::request::Parts};

use crate::auth::ClientAddr;

/// The client's address: the connection's peer, or behind `hops` trusted proxies the
/// `X-Forwarded-For` entry `hops` from the right, over every line of the header (the first
/// proxy's view of its peer). A shorter chain means proxies were bypassed: its leftmost entry
/// (the nearest trusted proxy's peer) is used then.
pub(super) fn client_addr(parts: &Parts, hops: usize) -> ClientAddr {
    let forwarded = (hops > 0)
        .then(|| {
            let entries: Vec<&str> = parts
                .headers
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .map(str::trim)
                .collect();
            let at = entries.len().saturating_sub(hops);
            entries.get(at).and_then(|e| e.parse().ok())
        })
        .flatten();
    let peer = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    ClientAddr(forwarded.or(peer))
}
