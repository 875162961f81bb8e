//! The accept loop: HTTP/1.1, at most `HTTP_MAX_CONNECTIONS` connections at once, each bound
//! by `HTTP_HEADER_TIMEOUT_MS` for sending a request's headers (from the moment it is accepted)
//! and for sitting idle between requests, and a graceful drain on shutdown.
//!
//! `axum::serve` has no timer, so hyper's header timeout cannot be set through it and idle
//! sockets stay open for ever; this loop is the same hyper-util server with those bounds. Every
//! request carries the peer address as [`ConnectInfo`] (login throttling counts by client).
use std::{future::Future, sync::Arc, time::Duration};

use axum::{Router, body::Body, extract::ConnectInfo};
use hyper::body::Incoming;
use hyper_util::{
    rt::{TokioExecutor, TokioIo, TokioTimer},
    server::{conn::auto::Builder, graceful::GracefulShutdown},
    service::TowerToHyperService,
};
use tokio::{net::TcpListener, sync::Semaphore};
use tower::ServiceExt;

use crate::config::ServerLimits;

/// How long requests in flight may take to finish once shutdown begins.
const DRAIN: Duration = Duration::from_secs(10);

/// Serves `router` on `listener` within `limits` until `shutdown` resolves, then stops
/// accepting and drains in-flight requests for at most ten seconds.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: &ServerLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    // HTTP/1.1 only: hyper's HTTP/2 server has no idle timeout (a client that answers pings
    // holds its connection for ever) and multiplexes 200 requests per connection past the
    // connection cap. TLS-terminating proxies speak HTTP/1.1 to their upstreams.
    let mut builder = Builder::new(TokioExecutor::new()).http1_only();
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    tokio::pin!(shutdown);

    loop {
        // A connection over the limit waits in the listen backlog until one closes.
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors, or a connection reset before it was accepted:
                    // back off a little instead of spinning.
                    tracing::debug!(error = %err, "accept failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let header_timeout = limits.header_timeout;
        let service = router
            .clone()
            .map_request(move |request: axum::http::Request<Incoming>| {
                let mut request = request.map(Body::new);
                request.extensions_mut().insert(ConnectInfo(peer));
                request
            });
        let builder = builder.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            // hyper starts its header timer at the first byte; a connection that sends none
            // is closed here.
            let mut first = [0u8; 1];
            if !matches!(
                tokio::time::timeout(header_timeout, stream.peek(&mut first)).await,
                Ok(Ok(1))
            ) {
                drop(permit);
                return;
            }
            let connection = builder
                .serve_connection_with_upgrades(
                    TokioIo::new(stream),
                    TowerToHyperService::new(service),
                )
                .into_owned();
            if let Err(err) = watcher.watch(connection).await {
                tracing::trace!(error = %err, %peer, "connection ended with an error");
            }
            drop(permit);
        });
    }

    drop(listener);
    tracing::info!("shutting down: draining requests");
    if tokio::time::timeout(DRAIN, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("requests still running after 10 s; stopping anyway");
    }
    Ok(())
}
