//! Reading one HTTP/1.1 response off a connection: the head, then a body framed by
//! `Content-Length`, by chunks (with trailers), or by the end of the connection.
//!
//! Apart from writing because the framing is the intricate part, and the one the tests drive.
use std::io;

use tokio::io::AsyncReadExt;

use super::{Response, conn::Conn};

/// Responses larger than this are refused (the largest expected is a page of 100 users).
const MAX_BODY: usize = 64 * 1024 * 1024;

impl Conn {
    /// Reads more bytes into `buf`; end of stream is an error (a response was expected).
    async fn fill(&mut self) -> io::Result<()> {
        if self.buf.capacity() - self.buf.len() < 4096 {
            self.buf.reserve(16 * 1024);
        }
        let n = self.stream.read_buf(&mut self.buf).await?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "server closed the connection",
            ));
        }
        Ok(())
    }

    pub(super) async fn read_response(&mut self) -> io::Result<Response> {
        // The head.
        let head_end = loop {
            if let Some(i) = find(&self.buf, b"\r\n\r\n") {
                break i + 4;
            }
            if self.buf.len() > 64 * 1024 {
                return Err(bad("response head larger than 64 KiB"));
            }
            self.fill().await?;
        };
        let head = std::str::from_utf8(&self.buf[..head_end])
            .map_err(|_| bad("response head is not UTF-8"))?;
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap_or_default();
        let mut parts = status_line.splitn(3, ' ');
        let version = parts.next().unwrap_or_default();
        if !version.starts_with("HTTP/1.") {
            return Err(bad(&format!("bad status line `{status_line}`")));
        }
        let status: u16 = parts
            .next()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad(&format!("bad status line `{status_line}`")))?;
        let mut content_length: Option<usize> = None;
        let mut chunked = false;
        let mut close = version == "HTTP/1.0";
        for line in lines {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                content_length = Some(value.parse().map_err(|_| bad("bad Content-Length"))?);
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = value.to_ascii_lowercase().contains("chunked");
            } else if name.eq_ignore_ascii_case("connection") {
                let v = value.to_ascii_lowercase();
                if v.contains("close") {
                    close = true;
                } else if v.contains("keep-alive") {
                    close = false;
                }
            }
        }
        self.buf.drain(..head_end);

        let body = if chunked {
            self.read_chunked().await?
        } else if let Some(len) = content_length {
            if len > MAX_BODY {
                return Err(bad("response body too large"));
            }
            while self.buf.len() < len {
                self.fill().await?;
            }
            self.buf.drain(..len).collect()
        } else if status == 204 || status == 304 || (100..200).contains(&status) {
            Vec::new()
        } else {
            // Delimited by the end of the connection.
            close = true;
            loop {
                match self.stream.read_buf(&mut self.buf).await {
                    Ok(0) => break,
                    Ok(_) if self.buf.len() > MAX_BODY => {
                        return Err(bad("response body too large"));
                    }
                    Ok(_) => {}
                    Err(e) => return Err(e),
                }
            }
            std::mem::take(&mut self.buf)
        };
        if close {
            self.closed = true;
        }
        Ok(Response { status, body })
    }

    async fn read_chunked(&mut self) -> io::Result<Vec<u8>> {
        let mut body = Vec::new();
        loop {
            let line_end = loop {
                if let Some(i) = find(&self.buf, b"\r\n") {
                    break i;
                }
                self.fill().await?;
            };
            let size_text =
                std::str::from_utf8(&self.buf[..line_end]).map_err(|_| bad("bad chunk size"))?;
            let size_text = size_text.split(';').next().unwrap_or_default().trim();
            let size = usize::from_str_radix(size_text, 16).map_err(|_| bad("bad chunk size"))?;
            self.buf.drain(..line_end + 2);
            if size == 0 {
                // Trailers, if any, end with an empty line.
                loop {
                    let end = loop {
                        if let Some(i) = find(&self.buf, b"\r\n") {
                            break i;
                        }
                        self.fill().await?;
                    };
                    self.buf.drain(..end + 2);
                    if end == 0 {
                        return Ok(body);
                    }
                }
            }
            if body.len() + size > MAX_BODY {
                return Err(bad("response body too large"));
            }
            while self.buf.len() < size + 2 {
                self.fill().await?;
            }
            body.extend_from_slice(&self.buf[..size]);
            self.buf.drain(..size + 2);
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn bad(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::Target;
    use tokio::{io::AsyncWriteExt, net::TcpListener};

    /// A canned server: answers each request with the next of `responses`, on one connection.
    async fn canned(responses: Vec<&'static [u8]>) -> Target {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 4096];
            for r in responses {
                let mut got = Vec::new();
                while find(&got, b"\r\n\r\n").is_none() {
                    let n = s.read(&mut buf).await.unwrap();
                    got.extend_from_slice(&buf[..n]);
                }
                s.write_all(r).await.unwrap();
            }
        });
        Target::local(&addr)
    }

    #[tokio::test]
    async fn keeps_alive_and_reads_both_framings() {
        let target = canned(vec![
            b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello",
            b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n",
            b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        ])
        .await;
        let mut c = Conn::connect(&target).await.unwrap();
        let r = c.get("/health").await.unwrap();
        assert_eq!((r.status, r.body.as_slice()), (200, b"hello".as_slice()));
        let r = c.post_json("/graphql", Some("t"), b"{}").await.unwrap();
        assert_eq!((r.status, r.body.as_slice()), (201, b"abcde".as_slice()));
        assert!(c.is_open());
        let r = c.get("/").await.unwrap();
        assert_eq!(r.status, 503);
        assert!(!c.is_open());
    }
}
