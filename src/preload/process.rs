//! Process life cycle: exit and _exit (queued data is not lost), fork
//! handlers, and the library's constructor.

use std::os::raw::{c_int, c_void};
use std::panic::catch_unwind;

use crate::runtime::current_engine;
use crate::sys::real;

extern "C" fn at_exit() {
    let secs = std::env::var("SCTPSHIM_LINGER_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5u64);
    if let Some(e) = current_engine() {
        let _ = catch_unwind(|| e.drain_at_exit(std::time::Duration::from_secs(secs)));
    }
}

type ExitFn = unsafe extern "C" fn(c_int) -> !;

fn real_exit(name: &std::ffi::CStr) -> ExitFn {
    // SAFETY: dlsym with RTLD_NEXT and a NUL-terminated name.
    let p = unsafe { libc::dlsym(libc::RTLD_NEXT, name.as_ptr()) };
    if p.is_null() {
        std::process::abort();
    }
    // SAFETY: `p` is libc's `_exit`/`_Exit`, whose C type is `void (int)`, noreturn.
    unsafe { std::mem::transmute::<*mut c_void, ExitFn>(p) }
}

/// _exit(2): runs no exit handlers, but must not lose queued SCTP data
/// either, so it waits as exit() does before ending the process.
///
/// # Safety
/// Plain C ABI entry point.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn _exit(status: c_int) -> ! {
    at_exit();
    // SAFETY: calling libc's _exit.
    unsafe { real_exit(c"_exit")(status) }
}

/// _Exit(3): as `_exit`.
///
/// # Safety
/// Plain C ABI entry point.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn _Exit(status: c_int) -> ! {
    at_exit();
    // SAFETY: calling libc's _Exit.
    unsafe { real_exit(c"_Exit")(status) }
}

extern "C" fn fork_prepare() {
    crate::runtime::before_fork();
}

extern "C" fn fork_done() {
    crate::runtime::after_fork();
}

extern "C" fn fork_child() {
    crate::ownfds::forget_after_fork();
    crate::runtime::after_fork();
}

#[ctor::ctor]
fn init() {
    let _ = real();
    crate::ownfds::adopt();
    if super::client::remote() {
        super::client::adopt_inherited();
    }
    // SAFETY: registering plain extern "C" fns with atexit / pthread_atfork.
    unsafe {
        libc::atexit(at_exit);
        libc::pthread_atfork(Some(fork_prepare), Some(fork_done), Some(fork_child));
    }
}
