//! The real libc entry points, found with `dlsym(RTLD_NEXT, ..)` so that
//! calls made by the shim never re-enter its own interposers.

use std::ffi::CStr;
use std::os::raw::{c_int, c_void};

use libc::{sockaddr, socklen_t};
use once_cell::sync::OnceCell;

type SocketFn = unsafe extern "C" fn(c_int, c_int, c_int) -> c_int;
type CloseFn = unsafe extern "C" fn(c_int) -> c_int;
type DupFn = unsafe extern "C" fn(c_int) -> c_int;
type Dup2Fn = unsafe extern "C" fn(c_int, c_int) -> c_int;
type Dup3Fn = unsafe extern "C" fn(c_int, c_int, c_int) -> c_int;
type AddrFn = unsafe extern "C" fn(c_int, *const sockaddr, socklen_t) -> c_int;
type GetAddrFn = unsafe extern "C" fn(c_int, *mut sockaddr, *mut socklen_t) -> c_int;
type Accept4Fn = unsafe extern "C" fn(c_int, *mut sockaddr, *mut socklen_t, c_int) -> c_int;
type ListenFn = unsafe extern "C" fn(c_int, c_int) -> c_int;
type ShutdownFn = unsafe extern "C" fn(c_int, c_int) -> c_int;
type GetOptFn = unsafe extern "C" fn(c_int, c_int, c_int, *mut c_void, *mut socklen_t) -> c_int;
type SetOptFn = unsafe extern "C" fn(c_int, c_int, c_int, *const c_void, socklen_t) -> c_int;
type SendToFn =
    unsafe extern "C" fn(c_int, *const c_void, usize, c_int, *const sockaddr, socklen_t) -> isize;
type RecvFromFn =
    unsafe extern "C" fn(c_int, *mut c_void, usize, c_int, *mut sockaddr, *mut socklen_t) -> isize;
type SendMsgFn = unsafe extern "C" fn(c_int, *const libc::msghdr, c_int) -> isize;
type RecvMsgFn = unsafe extern "C" fn(c_int, *mut libc::msghdr, c_int) -> isize;
type ReadFn = unsafe extern "C" fn(c_int, *mut c_void, usize) -> isize;
type WriteFn = unsafe extern "C" fn(c_int, *const c_void, usize) -> isize;
type PollFn = unsafe extern "C" fn(*mut libc::pollfd, libc::nfds_t, c_int) -> c_int;
type FcntlFn = unsafe extern "C" fn(c_int, c_int, libc::c_ulong) -> c_int;
type IoctlFn = unsafe extern "C" fn(c_int, libc::c_ulong, libc::c_ulong) -> c_int;
type VecFn = unsafe extern "C" fn(c_int, *const libc::iovec, c_int) -> isize;
type SendMmsgFn = unsafe extern "C" fn(c_int, *mut libc::mmsghdr, libc::c_uint, c_int) -> c_int;
type SendFileFn = unsafe extern "C" fn(c_int, c_int, *mut libc::off_t, usize) -> isize;
type SpliceFn = unsafe extern "C" fn(
    c_int,
    *mut libc::loff_t,
    c_int,
    *mut libc::loff_t,
    usize,
    libc::c_uint,
) -> isize;
type RecvMmsgFn = unsafe extern "C" fn(
    c_int,
    *mut libc::mmsghdr,
    libc::c_uint,
    c_int,
    *mut libc::timespec,
) -> c_int;

/// The real libc entry points.
pub struct Real {
    pub socket: SocketFn,
    pub close: CloseFn,
    pub dup: DupFn,
    pub dup2: Dup2Fn,
    pub dup3: Dup3Fn,
    pub bind: AddrFn,
    pub connect: AddrFn,
    pub listen: ListenFn,
    pub accept4: Accept4Fn,
    pub getsockname: GetAddrFn,
    pub getpeername: GetAddrFn,
    pub shutdown: ShutdownFn,
    pub getsockopt: GetOptFn,
    pub setsockopt: SetOptFn,
    pub sendto: SendToFn,
    pub recvfrom: RecvFromFn,
    pub sendmsg: SendMsgFn,
    pub recvmsg: RecvMsgFn,
    pub read: ReadFn,
    pub write: WriteFn,
    pub poll: PollFn,
    pub fcntl: FcntlFn,
    pub ioctl: IoctlFn,
    pub readv: VecFn,
    pub writev: VecFn,
    pub sendmmsg: SendMmsgFn,
    pub recvmmsg: RecvMmsgFn,
    pub sendfile: SendFileFn,
    pub splice: SpliceFn,
}

static REAL: OnceCell<Real> = OnceCell::new();

fn sym<T: Copy>(name: &CStr) -> T {
    // SAFETY: dlsym with RTLD_NEXT and a NUL-terminated name is always safe to
    // call; the result is checked for NULL below.
    let p = unsafe { libc::dlsym(libc::RTLD_NEXT, name.as_ptr()) };
    // SAFETY: as a fallback for a binary that links us directly (no next
    // object defines the name), the default search order finds libc's.
    let p = if p.is_null() {
        unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr()) }
    } else {
        p
    };
    if p.is_null() {
        // Without libc's socket functions nothing can work; fail loudly.
        std::process::abort();
    }
    assert_eq!(std::mem::size_of::<T>(), std::mem::size_of::<*mut c_void>());
    // SAFETY: `T` is a function pointer type whose signature matches the C
    // prototype of `name`; both are pointer-sized (checked above).
    unsafe { std::mem::transmute_copy(&p) }
}

/// The real functions (resolved once, thread-safe).
pub fn real() -> &'static Real {
    REAL.get_or_init(|| Real {
        socket: sym(c"socket"),
        close: sym(c"close"),
        dup: sym(c"dup"),
        dup2: sym(c"dup2"),
        dup3: sym(c"dup3"),
        bind: sym(c"bind"),
        connect: sym(c"connect"),
        listen: sym(c"listen"),
        accept4: sym(c"accept4"),
        getsockname: sym(c"getsockname"),
        getpeername: sym(c"getpeername"),
        shutdown: sym(c"shutdown"),
        getsockopt: sym(c"getsockopt"),
        setsockopt: sym(c"setsockopt"),
        sendto: sym(c"sendto"),
        recvfrom: sym(c"recvfrom"),
        sendmsg: sym(c"sendmsg"),
        recvmsg: sym(c"recvmsg"),
        read: sym(c"read"),
        write: sym(c"write"),
        poll: sym(c"poll"),
        fcntl: sym(c"fcntl"),
        ioctl: sym(c"ioctl"),
        readv: sym(c"readv"),
        writev: sym(c"writev"),
        sendmmsg: sym(c"sendmmsg"),
        recvmmsg: sym(c"recvmmsg"),
        sendfile: sym(c"sendfile"),
        splice: sym(c"splice"),
    })
}
