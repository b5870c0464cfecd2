//! Copies in and out of the program's memory that turn a bad pointer into
//! EFAULT instead of a crash, as the kernel's copy_from_user does: the
//! kernel itself does the copy (process_vm_readv/writev on this process).
//! Where those calls are not allowed (seccomp), a plain copy is made.

use std::os::raw::{c_int, c_void};

fn vm(local: &libc::iovec, remote: &libc::iovec, write: bool) -> isize {
    // SAFETY: plain syscall.
    let pid = unsafe { libc::getpid() };
    // SAFETY: one local and one remote iovec; the kernel checks the remote
    // range and reports a bad one as EFAULT.
    unsafe {
        if write {
            libc::process_vm_writev(pid, local, 1, remote, 1, 0)
        } else {
            libc::process_vm_readv(pid, local, 1, remote, 1, 0)
        }
    }
}

fn unavailable() -> bool {
    matches!(
        std::io::Error::last_os_error().raw_os_error(),
        Some(libc::ENOSYS | libc::EPERM)
    )
}

/// Up to `len` bytes at `p`: all of them, or the readable prefix when the
/// range runs into unmapped memory; EFAULT when nothing at `p` is readable.
pub fn read(p: *const c_void, len: usize) -> Result<Vec<u8>, c_int> {
    if len == 0 {
        return Ok(Vec::new());
    }
    if p.is_null() {
        return Err(libc::EFAULT);
    }
    let mut buf = vec![0u8; len];
    let local = libc::iovec {
        iov_base: buf.as_mut_ptr() as *mut c_void,
        iov_len: len,
    };
    let remote = libc::iovec {
        iov_base: p as *mut c_void,
        iov_len: len,
    };
    match vm(&local, &remote, false) {
        n if n > 0 => {
            buf.truncate(n as usize);
            Ok(buf)
        }
        n if n < 0 && unavailable() => {
            // SAFETY: no checked copy available: the caller vouches for `p`.
            unsafe { std::ptr::copy_nonoverlapping(p as *const u8, buf.as_mut_ptr(), len) };
            Ok(buf)
        }
        _ => Err(libc::EFAULT),
    }
}

/// Exactly `len` bytes at `p`, or EFAULT.
pub fn read_exact(p: *const c_void, len: usize) -> Result<Vec<u8>, c_int> {
    let b = read(p, len)?;
    if b.len() == len {
        Ok(b)
    } else {
        Err(libc::EFAULT)
    }
}

/// Writes `data` at `p`, or EFAULT.
pub fn write(p: *mut c_void, data: &[u8]) -> Result<(), c_int> {
    if data.is_empty() {
        return Ok(());
    }
    if p.is_null() {
        return Err(libc::EFAULT);
    }
    let local = libc::iovec {
        iov_base: data.as_ptr() as *mut c_void,
        iov_len: data.len(),
    };
    let remote = libc::iovec {
        iov_base: p,
        iov_len: data.len(),
    };
    match vm(&local, &remote, true) {
        n if n == data.len() as isize => {
            // SAFETY: the kernel has just written this whole range, so it is
            // mapped and writable. The same bytes again, by a plain store, so
            // that memory checkers that do not follow process_vm_writev
            // (valgrind) see them as written.
            unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), p as *mut u8, data.len()) };
            Ok(())
        }
        n if n < 0 && unavailable() => {
            // SAFETY: no checked copy available: the caller vouches for `p`.
            unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), p as *mut u8, data.len()) };
            Ok(())
        }
        _ => Err(libc::EFAULT),
    }
}

/// A `T` (plain old data) at `p`, or EFAULT.
pub fn get<T: Copy>(p: *const T) -> Result<T, c_int> {
    let b = read_exact(p as *const c_void, std::mem::size_of::<T>())?;
    // SAFETY: `b` holds size_of::<T>() bytes; T is plain old data.
    Ok(unsafe { std::ptr::read_unaligned(b.as_ptr() as *const T) })
}

/// Stores `v` at `p`, or EFAULT.
pub fn put<T: Copy>(p: *mut T, v: T) -> Result<(), c_int> {
    // SAFETY: viewing a plain-old-data value as its bytes.
    let b = unsafe {
        std::slice::from_raw_parts(&v as *const T as *const u8, std::mem::size_of::<T>())
    };
    write(p as *mut c_void, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_pointers_are_efault() {
        let x = [1u8, 2, 3, 4];
        assert_eq!(read(x.as_ptr() as *const c_void, 4), Ok(vec![1, 2, 3, 4]));
        assert_eq!(read(std::ptr::null(), 4), Err(libc::EFAULT));
        assert_eq!(read(8 as *const c_void, 4), Err(libc::EFAULT));
        let mut y = [0u8; 4];
        assert_eq!(write(y.as_mut_ptr() as *mut c_void, &[9, 9]), Ok(()));
        assert_eq!(y, [9, 9, 0, 0]);
        assert_eq!(write(8 as *mut c_void, &[1]), Err(libc::EFAULT));
        assert_eq!(get(&7u32 as *const u32), Ok(7));
    }
}
