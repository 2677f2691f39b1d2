use std::process::ExitCode;

/// mimalloc: the facts of a parsed slice are millions of small strings and
/// lists, built on two threads; glibc's allocator spent a tenth of the
/// audit in `malloc`/`free` (see BENCHMARKS.md, "Engine v2").
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc v3's `mi_option_arena_eager_commit` and `mi_option_purge_delay`
/// (their places in `mi_option_t` of the version Cargo.lock pins; the
/// bindings name neither).
const MI_OPTION_ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Memory freed goes back to the system at once, and arenas are committed
/// as used: the audit of a large tree holds all the facts of its slice, and
/// without these its peak memory was a tenth higher. The first arena is
/// made by the first allocation, before `main`: on Linux this runs earlier,
/// as a constructor ahead of mimalloc's own (lower priority number first).
extern "C" fn configure_allocator() {
    // SAFETY: sets two entries of mimalloc's option table; no allocation.
    unsafe {
        libmimalloc_sys::mi_option_set(MI_OPTION_ARENA_EAGER_COMMIT, 0);
        libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0);
    }
}

#[cfg(target_os = "linux")]
#[used]
#[link_section = ".init_array.00101"]
static CONFIGURE_ALLOCATOR: extern "C" fn() = configure_allocator;

fn main() -> ExitCode {
    configure_allocator();
    // SAFETY: before any tree-sitter object exists. tree-sitter allocates
    // through mimalloc too (its trees are freed file by file, and two
    // allocators would each keep the other's freed pages).
    unsafe {
        tree_sitter::set_allocator(
            Some(libmimalloc_sys::mi_malloc),
            Some(libmimalloc_sys::mi_calloc),
            Some(libmimalloc_sys::mi_realloc),
            Some(libmimalloc_sys::mi_free),
        );
    }
    let status = aiguard::run(
        std::env::args_os().collect(),
        &mut std::io::stdout().lock(),
        &mut std::io::stderr().lock(),
    );
    ExitCode::from(status.code() as u8)
}
