//! One keep-alive connection: connecting (with `TCP_NODELAY`), and writing a request on it in a
//! single call. Reading the response is `read`'s part.
use std::{io, time::Duration};

use tokio::{io::AsyncWriteExt, net::TcpStream};

use super::{Response, target::Target};

/// One keep-alive connection.
pub struct Conn {
    pub(super) stream: TcpStream,
    authority: String,
    /// Bytes read but not yet consumed.
    pub(super) buf: Vec<u8>,
    /// Request head and body are assembled here, then written with one call.
    out: Vec<u8>,
    /// The server said `Connection: close`, or a read failed: this connection is finished.
    pub(super) closed: bool,
}

/// How long connecting may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

impl Conn {
    /// Opens a connection (TCP_NODELAY: requests are small and latency matters).
    pub async fn connect(target: &Target) -> io::Result<Self> {
        let stream = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(&target.authority))
            .await
            .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "connect timed out"))??;
        stream.set_nodelay(true)?;
        Ok(Self {
            stream,
            authority: target.authority.clone(),
            buf: Vec::with_capacity(16 * 1024),
            out: Vec::with_capacity(1024),
            closed: false,
        })
    }

    /// Whether this connection can take another request.
    pub fn is_open(&self) -> bool {
        !self.closed
    }

    /// `POST path` with a JSON body and an optional bearer token.
    pub async fn post_json(
        &mut self,
        path: &str,
        bearer: Option<&str>,
        body: &[u8],
    ) -> io::Result<Response> {
        self.out.clear();
        self.out.extend_from_slice(b"POST ");
        self.out.extend_from_slice(path.as_bytes());
        self.out.extend_from_slice(b" HTTP/1.1\r\nHost: ");
        self.out.extend_from_slice(self.authority.as_bytes());
        self.out.extend_from_slice(
            b"\r\nContent-Type: application/json\r\nAccept: application/json\r\n",
        );
        if let Some(token) = bearer {
            self.out.extend_from_slice(b"Authorization: Bearer ");
            self.out.extend_from_slice(token.as_bytes());
            self.out.extend_from_slice(b"\r\n");
        }
        self.out.extend_from_slice(b"Content-Length: ");
        self.out
            .extend_from_slice(body.len().to_string().as_bytes());
        self.out.extend_from_slice(b"\r\n\r\n");
        self.out.extend_from_slice(body);
        self.send().await
    }

    /// `GET path`.
    pub async fn get(&mut self, path: &str) -> io::Result<Response> {
        self.out.clear();
        self.out.extend_from_slice(b"GET ");
        self.out.extend_from_slice(path.as_bytes());
        self.out.extend_from_slice(b" HTTP/1.1\r\nHost: ");
        self.out.extend_from_slice(self.authority.as_bytes());
        self.out.extend_from_slice(b"\r\n\r\n");
        self.send().await
    }

    async fn send(&mut self) -> io::Result<Response> {
        if self.closed {
            return Err(io::Error::new(
                io::ErrorKind::NotConnected,
                "connection already closed",
            ));
        }
        let result = async {
            self.stream.write_all(&self.out).await?;
            self.read_response().await
        }
        .await;
        if result.is_err() {
            self.closed = true;
        }
        result
    }
}
