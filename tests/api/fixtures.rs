//! What a test owns besides the app: a `redis-server` on a free loopback port (with nothing
//! persisted, so a test can pause, kill and restart it), and a database of its own (a fresh
//! SQLite file, or a fresh PostgreSQL database when `TEST_DATABASE_URL` is set).
use std::{
    process::{Child, Command, Stdio},
    time::Duration,
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use crate::helpers::Db;

/// Makes the process `cmd` starts die with the thread that starts it (Linux's
/// `PR_SET_PDEATHSIG`), so a test binary killed mid-run (a CI timeout, ^C, a crash) leaves no
/// `redis-server` or server behind; `Drop` stops them when a test ends normally. A test's
/// processes are started by its own threads (the test's thread or its runtime's workers),
/// which live as long as the test; never start one from `spawn_blocking`, whose threads exit
/// when idle.
pub fn dies_with_test(cmd: &mut Command) -> &mut Command {
    use std::os::unix::process::CommandExt;
    // SAFETY: the closure runs in the child between fork and exec, and calls only `prctl`,
    // which is async-signal-safe; it allocates nothing and takes no lock.
    unsafe {
        cmd.pre_exec(
            || match libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) {
                -1 => Err(std::io::Error::last_os_error()),
                _ => Ok(()),
            },
        )
    }
}

/// A free loopback port (the OS picks it).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A `redis-server` of this test's own, on a free loopback port, with nothing persisted.
pub struct RedisServer {
    child: Option<Child>,
    pub port: u16,
    dir: tempfile::TempDir,
    args: Vec<String>,
}

impl RedisServer {
    /// Starts a server and waits until it answers PING.
    pub async fn start() -> Self {
        Self::start_with(Vec::new()).await
    }

    /// A port for a server that is not running yet (see [`RedisServer::restart`]).
    pub fn not_started() -> Self {
        Self {
            child: None,
            port: free_port(),
            dir: tempfile::tempdir().expect("temp dir"),
            args: Vec::new(),
        }
    }

    /// Starts a server with `args` added to the usual ones (cluster or replica settings).
    pub async fn start_with(args: Vec<String>) -> Self {
        let mut server = Self {
            child: None,
            port: free_port(),
            dir: tempfile::tempdir().expect("temp dir"),
            args,
        };
        server.spawn().await;
        server
    }

    async fn spawn(&mut self) {
        let child = dies_with_test(&mut Command::new("redis-server"))
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .args(&self.args)
            .arg("--dir")
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is installed (scripts/test installs it)");
        self.child = Some(child);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while !self.answers_ping().await {
            assert!(
                tokio::time::Instant::now() < deadline,
                "redis-server did not start"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn answers_ping(&self) -> bool {
        let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)).await else {
            return false;
        };
        let mut buf = [0u8; 16];
        s.write_all(b"PING\r\n").await.is_ok()
            && matches!(
                tokio::time::timeout(Duration::from_millis(500), s.read(&mut buf)).await,
                Ok(Ok(n)) if buf[..n].starts_with(b"+PONG")
            )
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn signal(&self, sig: &str) {
        let pid = self.child.as_ref().expect("running").id().to_string();
        let ok = Command::new("kill")
            .args([sig, &pid])
            .status()
            .expect("kill");
        assert!(ok.success(), "kill {sig} {pid}");
    }

    /// SIGSTOP: the server holds its connections but answers nothing.
    pub fn pause(&self) {
        self.signal("-STOP");
    }

    /// SIGCONT.
    pub fn resume(&self) {
        self.signal("-CONT");
    }

    /// SIGKILL, and wait for it to be gone. Its data is lost (nothing is persisted).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts again on the same port.
    pub async fn restart(&mut self) {
        self.kill();
        self.spawn().await;
    }

    /// A fred client for inspecting what the app stored.
    pub async fn client(&self) -> fred::prelude::Client {
        use fred::prelude::*;
        let client = Builder::from_config(Config::from_url(&self.url()).unwrap())
            .build()
            .unwrap();
        client.init().await.unwrap();
        client
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        if let Some(child) = &self.child {
            // A paused server must be resumed to die promptly.
            let _ = Command::new("kill")
                .args(["-CONT", &child.id().to_string()])
                .status();
        }
        self.kill();
    }
}

/// A database of this test's own: a fresh SQLite file, or a fresh PostgreSQL database.
pub struct TestDb {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    /// (server URL, database name) of a PostgreSQL database this handle drops.
    owned_pg: Option<(String, String)>,
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((base, name)) = self.owned_pg.take() else {
            return;
        };
        // Drop is synchronous: run the DROP on a runtime of its own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            if let Ok(rt) = rt {
                rt.block_on(async {
                    use sea_orm::{ConnectionTrait, Database};
                    if let Ok(admin) = Database::connect(&base).await {
                        let _ = admin
                            .execute_unprepared(&format!(
                                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                            ))
                            .await;
                    }
                });
            }
        })
        .join();
    }
}

impl TestDb {
    /// A handle on a database another app created (the creator keeps it alive).
    pub fn shared(url: &str) -> Self {
        Self {
            url: url.to_owned(),
            _dir: None,
            owned_pg: None,
        }
    }

    /// `None` (with a printed note) for PostgreSQL when `TEST_DATABASE_URL` is unset.
    pub async fn create(db: Db) -> Option<Self> {
        match db {
            Db::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}/app.db?mode=rwc", dir.path().display());
                Some(Self {
                    url,
                    _dir: Some(dir),
                    owned_pg: None,
                })
            }
            Db::Postgres => {
                let Ok(base) = std::env::var("TEST_DATABASE_URL") else {
                    eprintln!("note: TEST_DATABASE_URL is unset; PostgreSQL leg skipped");
                    return None;
                };
                use sea_orm::{ConnectionTrait, Database};
                let name = format!("cg_test_{}", uuid_like());
                let admin = Database::connect(&base)
                    .await
                    .expect("TEST_DATABASE_URL answers");
                admin
                    .execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .expect("create test database");
                let mut url = url::Url::parse(&base).expect("TEST_DATABASE_URL is a URL");
                url.set_path(&name);
                Some(Self {
                    url: url.to_string(),
                    _dir: None,
                    owned_pg: Some((base, name)),
                })
            }
        }
    }
}

/// 16 random hex digits, for names that must not collide.
pub fn uuid_like() -> String {
    use rand::Rng;
    let n: u64 = rand::rng().random();
    format!("{n:016x}")
}

#[test]
fn a_started_process_dies_with_the_thread_that_started_it() {
    let child = std::thread::spawn(|| {
        dies_with_test(&mut Command::new("sleep"))
            .arg("30")
            .spawn()
            .expect("sleep")
    })
    .join()
    .unwrap();
    // The thread has ended: the kernel sends its children SIGKILL (without it, `sleep` would
    // exit by itself after 30 s, with status 0).
    use std::os::unix::process::ExitStatusExt;
    let mut child = child;
    let status = child.wait().expect("wait");
    assert_eq!(status.signal(), Some(libc::SIGKILL), "{status:?}");
}
