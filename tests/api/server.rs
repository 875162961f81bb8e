//! The HTTP server's own bounds: idle and slow connections are closed, connections are
//! capped, slow bodies time out, and metrics labels are bounded.
use std::time::Duration;

use serde_json::json;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
    time::timeout,
};

use crate::helpers::{Backend, TestApp};

async fn app(env: &[(&str, &str)]) -> TestApp {
    TestApp::with_env(Backend::Memory, env).await
}

/// Reads until the server closes the connection; returns what it sent.
async fn read_to_close(stream: &mut TcpStream) -> String {
    let mut out = Vec::new();
    timeout(Duration::from_secs(10), stream.read_to_end(&mut out))
        .await
        .expect("the server closes the connection")
        .expect("read");
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_and_idle_connections_are_closed() {
    let app = app(&[("HTTP_HEADER_TIMEOUT_MS", "300")]).await;
    // Sends nothing at all.
    let mut silent = TcpStream::connect(app.addr).await.unwrap();
    assert_eq!(read_to_close(&mut silent).await, "");
    // Sends half a request line, then stalls.
    let mut slow = TcpStream::connect(app.addr).await.unwrap();
    slow.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    assert_eq!(read_to_close(&mut slow).await, "");
    // One request on a keep-alive connection, then idle.
    let mut idle = TcpStream::connect(app.addr).await.unwrap();
    idle.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let answered = read_to_close(&mut idle).await;
    assert!(answered.starts_with("HTTP/1.1 200"), "{answered}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_the_limit_wait_for_a_free_one() {
    let app = app(&[("HTTP_MAX_CONNECTIONS", "3")]).await;
    // Open keep-alive connections, each answered once, until one is not answered: the app's
    // own client may hold one more from start-up, so that is the 3rd or the 4th.
    let mut held = Vec::new();
    let mut waiting = None;
    for _ in 0..4 {
        let mut s = TcpStream::connect(app.addr).await.unwrap();
        s.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let mut buf = [0u8; 12];
        match timeout(Duration::from_millis(700), s.read_exact(&mut buf)).await {
            Ok(read) => {
                read.unwrap();
                assert_eq!(&buf, b"HTTP/1.1 200");
                held.push(s);
            }
            Err(_) => {
                waiting = Some(s);
                break;
            }
        }
    }
    let mut waiting = waiting.expect("a connection over the limit is not served");
    assert!((2..=3).contains(&held.len()), "{} served", held.len());
    // Closing the others lets it in: its request, sent long ago, is answered now.
    held.clear();
    let mut buf = [0u8; 12];
    timeout(Duration::from_secs(10), waiting.read_exact(&mut buf))
        .await
        .expect("served once a connection is free")
        .unwrap();
    assert_eq!(&buf, b"HTTP/1.1 200");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_never_arrives_times_out() {
    let app = app(&[("HTTP_BODY_TIMEOUT_MS", "300")]).await;
    let mut s = TcpStream::connect(app.addr).await.unwrap();
    s.write_all(
        b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"qu",
    )
    .await
    .unwrap();
    let mut buf = vec![0u8; 64];
    let n = timeout(Duration::from_secs(10), s.read(&mut buf))
        .await
        .expect("answered")
        .unwrap();
    let head = String::from_utf8_lossy(&buf[..n]);
    assert!(head.starts_with("HTTP/1.1 408"), "{head}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operation_name_labels_are_bounded() {
    let app = app(&[("METRICS_MAX_OPERATIONS", "3")]).await;
    for i in 0..20 {
        let body = app
            .gql_as(None, &format!("query Op{i} {{ __typename }}"), json!({}))
            .await;
        assert!(body["errors"].is_null(), "{body}");
    }
    let text = app
        .http
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let named: std::collections::HashSet<&str> = text
        .lines()
        .filter(|l| l.starts_with("cachegraph_graphql_requests_total{"))
        .filter_map(|l| l.split("operation=\"").nth(1)?.split('"').next())
        .collect();
    assert!(named.contains("other"), "{named:?}");
    let ops = named.iter().filter(|n| n.starts_with("Op")).count();
    assert!(ops <= 3, "{named:?}");
}
