//! Unit tests of the option parser.
use super::*;

fn run(args: &[&str]) -> Result<Args, clap::Error> {
    parse(args.iter().map(|s| s.to_string()).collect(), |_| None)
}

#[test]
fn defaults_and_options() {
    let a = run(&[]).unwrap();
    assert_eq!(a.databases, [DbKind::Sqlite, DbKind::Postgres]);
    assert_eq!(a.workloads.len(), 6);
    assert_eq!((a.users, a.connections), (10_000, 32));
    assert_eq!(a.duration, Duration::from_secs(8));
    assert_eq!(a.server_cpus.as_deref(), Some("1"));
    assert_eq!(a.layers, Layers::LADDER);
    let a = run(&[
        "--databases=sqlite",
        "--backends",
        "none,redis",
        "--workloads",
        "w3,W0",
        "--duration",
        "0.5",
        "--zipf",
        "1.1",
        "--server-cpus",
        "none",
        "--no-build",
    ])
    .unwrap();
    assert_eq!(a.databases, [DbKind::Sqlite]);
    assert_eq!(a.backends, [Backend::None, Backend::Redis]);
    assert_eq!(a.workloads, [Workload::W3, Workload::W0]);
    assert_eq!(a.duration, Duration::from_millis(500));
    assert_eq!(a.zipf, Some(1.1));
    assert!(a.server_cpus.is_none() && !a.build);
    assert_eq!(a.layers, [Layers::All]);
    let a = run(&["--layers", "all,entries", "--backends", "redis"]).unwrap();
    assert_eq!(a.layers, [Layers::Entries, Layers::All]);
    assert!(!a.per_connection_tokens);
    assert!(
        run(&["--tokens", "per-connection"])
            .unwrap()
            .per_connection_tokens
    );
}

#[test]
fn rejects_nonsense() {
    for bad in [
        &["--users", "10"][..],
        &["--backends", "memcached"],
        &["--layers", "responses"],
        &["--duration", "0"],
        &["--url", "http://x"],
        &["--name", "../x"],
        &["--connections"],
        &["--tokens", "unique"],
        &[
            "--tokens",
            "per-connection",
            "--url",
            "http://x",
            "--token",
            "t",
        ],
        &[
            "--tokens",
            "per-connection",
            "--users",
            "100",
            "--connections",
            "101",
        ],
        &["stray"],
    ] {
        assert!(run(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn pg_url_from_the_environment() {
    let parsed = parse(vec![], |k| {
        (k == "BENCH_PG_URL").then(|| "postgres://x@h/db".to_owned())
    })
    .unwrap();
    let a = parsed;
    assert_eq!(a.pg_url.as_deref(), Some("postgres://x@h/db"));
}

#[test]
fn prefill_passes() {
    assert_eq!(run(&[]).unwrap().prefill, 2);
    assert_eq!(run(&["--prefill", "1"]).unwrap().prefill, 1);
    assert_eq!(run(&["--prefill=0"]).unwrap().prefill, 0);
    assert_eq!(run(&["--no-prefill"]).unwrap().prefill, 0);
    for bad in ["3", "-1", "once", ""] {
        assert!(run(&["--prefill", bad]).is_err(), "{bad:?}");
    }
}

#[test]
fn help_lists_every_option_and_is_not_a_run() {
    let err = run(&["--help"]).unwrap_err();
    assert_eq!(err.kind(), clap::error::ErrorKind::DisplayHelp);
    let help = err.to_string();
    for opt in [
        "--databases",
        "--pg-url",
        "--backends",
        "--layers",
        "--workloads",
        "--users",
        "--connections",
        "--tokens",
        "--duration",
        "--warmup",
        "--zipf",
        "--server-cpus",
        "--name",
        "--no-build",
        "--prefill",
        "--no-prefill",
        "--server-env",
        "--url",
        "--token",
    ] {
        assert!(help.contains(opt), "{opt} missing from --help");
    }
}

#[test]
fn lists_drop_repeats_and_name_the_bad_item() {
    let a = run(&["--workloads", "W3,w3,W4", "--databases", "pg,postgres"]).unwrap();
    assert_eq!(a.workloads, [Workload::W3, Workload::W4]);
    assert_eq!(a.databases, [DbKind::Postgres]);
    let err = run(&["--backends", "redis,memcached"])
        .unwrap_err()
        .to_string();
    assert!(err.contains("memcached"), "{err}");
    let a = run(&["--server-env", "A=1", "--server-env=B=x=y"]).unwrap();
    assert_eq!(
        a.server_env,
        [("A".into(), "1".into()), ("B".into(), "x=y".into())]
    );
}
