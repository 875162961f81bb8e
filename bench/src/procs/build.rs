//! The server binary: where the workspace and the binary are, and building it from the current
//! source (without the variables `cargo run` gives this process, which would rebuild ring).
use std::{
    path::{Path, PathBuf},
    process::Command,
};

/// The workspace root (the folder above this crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("bench/ has a parent")
        .to_path_buf()
}

/// The server binary: `BENCH_SERVER_BIN` when set (to compare two builds in one session),
/// else the one beside this binary (same target folder and profile).
pub fn server_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("BENCH_SERVER_BIN") {
        return PathBuf::from(path);
    }
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join("cachegraph")))
        .unwrap_or_else(|| workspace_root().join("target/release/cachegraph"))
}

/// `cargo build --release --bin cachegraph`, so the server binary is the current source.
pub fn build_server() -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(&cargo);
    cmd.args(["build", "--release", "--bin", "cachegraph"])
        .current_dir(workspace_root());
    // `cargo run` gives this process CARGO_MANIFEST_DIR, CARGO_PKG_NAME, … of `bench`. Some
    // build scripts (ring's) watch those variables, so passing them on would make cargo rebuild
    // half the dependency tree here, and again at the next plain `cargo build`.
    for (key, _) in std::env::vars_os() {
        if let Some(key) = key.to_str()
            && (key.starts_with("CARGO_PKG_")
                || matches!(
                    key,
                    "CARGO_MANIFEST_DIR"
                        | "CARGO_MANIFEST_PATH"
                        | "CARGO_MANIFEST_LINKS"
                        | "CARGO_CRATE_NAME"
                        | "CARGO_BIN_NAME"
                        | "CARGO_PRIMARY_PACKAGE"
                        | "CARGO_RUSTC_CURRENT_DIR"
                        | "CARGO_TARGET_TMPDIR"
                        | "OUT_DIR"
                ))
        {
            cmd.env_remove(key);
        }
    }
    let status = cmd.status().map_err(|e| format!("running {cargo}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "`cargo build --release --bin cachegraph` failed ({status})"
        ))
    }
}
