//! A small HTTP/1.1 client: one keep-alive TCP connection, one request in flight at a time.
//!
//! The load generator needs exactly that (one task per connection, requests back to back) and
//! nothing more: no pool, no TLS, no redirects. Writing it over tokio keeps the benchmark's own
//! cost per request low and predictable, and adds no HTTP-client features to the dependency
//! graph the server is built with.
//!
//! - `target`: where requests go (`host:port` and the GraphQL path);
//! - `conn`: the connection, and writing requests on it;
//! - `read`: reading one response off it (Content-Length, chunked, or until close).
mod conn;
mod read;
mod target;

pub use conn::Conn;
pub use target::Target;

/// A response: status and the whole body.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}
