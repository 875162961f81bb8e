//! `cachegraph [serve | migrate | export-schema [PATH]]`: parse config, init tracing, run.
use std::process::ExitCode;

/// Large allocations are mapped and unmapped, never kept in a thread's heap: glibc otherwise
/// raises its mmap threshold after the first free of an argon2 buffer (19 MiB), and every
/// thread that hashed a password keeps one for good (measured by `scripts/floods`: +370 MiB
/// under a login flood without this). Pinning the threshold also pins the trim threshold,
/// whose default (128 KiB) would return small-object heaps to the OS after nearly every free:
/// it is set to the largest value glibc's own adjustment reaches.
fn return_large_allocations() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; it is called before any thread starts.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 64 << 20);
    }
}

fn main() -> ExitCode {
    return_large_allocations();
    match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime.block_on(run()),
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> ExitCode {
    let command: Vec<String> = std::env::args().skip(1).collect();
    if command.first().map(String::as_str) == Some("export-schema") {
        let sdl = cachegraph::graphql::sdl();
        return match command.get(1) {
            Some(path) => match std::fs::write(path, sdl) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("cannot write {path}: {e}");
                    ExitCode::FAILURE
                }
            },
            None => {
                print!("{sdl}");
                ExitCode::SUCCESS
            }
        };
    }

    let _ = dotenvy::dotenv();
    cachegraph::telemetry::init();
    let config = match cachegraph::config::Config::from_env() {
        Ok(config) => config,
        Err(e) => {
            tracing::error!("{e}");
            return ExitCode::FAILURE;
        }
    };

    let result = match command.first().map(String::as_str) {
        None | Some("serve") => cachegraph::run(config).await,
        Some("migrate") => migrate(&config).await,
        Some(other) => {
            eprintln!("unknown command `{other}`; use serve, migrate or export-schema [PATH]");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            ExitCode::FAILURE
        }
    }
}

async fn migrate(config: &cachegraph::config::Config) -> Result<(), cachegraph::StartError> {
    let db = cachegraph::db::connect(config).await?;
    cachegraph::db::migrate(&db).await?;
    tracing::info!("migrations applied");
    Ok(())
}
