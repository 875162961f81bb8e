//! `cachegraph`: sets up the process (allocator, runtime) and runs the command line
//! ([`cachegraph::cli`]).
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
        Ok(runtime) => runtime.block_on(cachegraph::cli::main()),
        Err(e) => {
            eprintln!("cannot start the async runtime: {e}");
            ExitCode::FAILURE
        }
    }
}
