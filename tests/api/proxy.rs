//! A TCP proxy a test can stall, to cut one instance off Redis while the others still reach it.
use std::sync::Arc;

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    sync::watch,
};

/// A TCP proxy in front of one Redis server; [`Proxy::stall`] stops it forwarding anything
/// (connections stay open, bytes wait), like a partition between one instance and Redis.
pub struct Proxy {
    pub port: u16,
    stalled: Arc<watch::Sender<bool>>,
    _accept: tokio::task::JoinHandle<()>,
}

impl Proxy {
    pub async fn start(upstream: u16) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let port = listener.local_addr().unwrap().port();
        let stalled = Arc::new(watch::channel(false).0);
        let gate = stalled.clone();
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)).await else {
                    continue;
                };
                let (cr, cw) = client.into_split();
                let (sr, sw) = server.into_split();
                tokio::spawn(pipe(cr, sw, gate.subscribe()));
                tokio::spawn(pipe(sr, cw, gate.subscribe()));
            }
        });
        Self {
            port,
            stalled,
            _accept: accept,
        }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Stops forwarding in both directions.
    pub fn stall(&self) {
        self.stalled.send_replace(true);
    }

    /// Forwards again (held bytes first).
    pub fn heal(&self) {
        self.stalled.send_replace(false);
    }
}

async fn pipe(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    mut stalled: watch::Receiver<bool>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if stalled.wait_for(|s| !*s).await.is_err() {
            return;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}
