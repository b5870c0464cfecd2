//! A program's pointer arguments, copied in and out with EFAULT checks
//! (see `usermem.rs`), so that no pointer a program passes can crash it:
//! the message headers of sendmsg/recvmsg, their iovec arrays, names and
//! control data, and getsockopt/setsockopt's option buffers. The data
//! buffers of one-to-one sockets are left to the kernel, which reads and
//! writes them in the pair's own calls (and answers EFAULT itself).

use std::os::raw::{c_int, c_void};

use libc::{msghdr, socklen_t};

use crate::usermem;

/// Most iovecs one call takes (UIO_MAXIOV).
pub(super) const IOV_MAX: usize = 1024;
/// The largest address a call copies (sizeof(struct sockaddr_storage)).
const NAME_MAX: usize = 128;
/// The most control data a call copies.
const CONTROL_MAX: usize = 1 << 16;

/// The iovec array of a message header, or EFAULT; more than IOV_MAX is
/// EMSGSIZE, as Linux.
pub(super) fn iovecs_of(m: &msghdr) -> Result<Vec<libc::iovec>, c_int> {
    if m.msg_iovlen == 0 {
        return Ok(Vec::new());
    }
    if m.msg_iovlen > IOV_MAX {
        return Err(libc::EMSGSIZE);
    }
    let size = std::mem::size_of::<libc::iovec>();
    let raw = usermem::read_exact(m.msg_iov as *const c_void, m.msg_iovlen * size)?;
    Ok(raw
        .chunks_exact(size)
        // SAFETY: each chunk holds one iovec's bytes.
        .map(|c| unsafe { std::ptr::read_unaligned(c.as_ptr() as *const libc::iovec) })
        .collect())
}

/// The bytes the iovecs describe, or EFAULT.
pub(super) fn gather(iov: &[libc::iovec]) -> Result<Vec<u8>, c_int> {
    let mut data = Vec::with_capacity(iov.iter().map(|v| v.iov_len).sum());
    for v in iov {
        data.extend_from_slice(&usermem::read_exact(v.iov_base, v.iov_len)?);
    }
    Ok(data)
}

/// A program's message header, copied: `hdr` points at our copies of its
/// iovec array (whose buffers stay the program's), name and control data.
pub(super) struct UserMsg {
    pub(super) hdr: msghdr,
    /// The program's header as it passed it.
    pub(super) orig: msghdr,
    iov: Vec<libc::iovec>,
    name: Vec<u8>,
    control: Vec<u8>,
}

impl UserMsg {
    /// From the program's header `orig` and its iovecs, both copied in.
    fn new(orig: msghdr, iov: Vec<libc::iovec>, name: Vec<u8>, control: Vec<u8>) -> UserMsg {
        let mut u = UserMsg {
            hdr: orig,
            orig,
            iov,
            name,
            control,
        };
        u.hdr.msg_iov = u.iov.as_mut_ptr();
        u.hdr.msg_iovlen = u.iov.len();
        u.hdr.msg_name = if orig.msg_name.is_null() {
            std::ptr::null_mut()
        } else {
            u.name.as_mut_ptr() as *mut c_void
        };
        u.hdr.msg_namelen = u.name.len() as socklen_t;
        u.hdr.msg_control = if orig.msg_control.is_null() {
            std::ptr::null_mut()
        } else {
            u.control.as_mut_ptr() as *mut c_void
        };
        u.hdr.msg_controllen = u.control.len();
        u
    }

    /// sendmsg's header: the name and control data read in (EFAULT).
    pub(super) fn for_send(msg: *const msghdr) -> Result<UserMsg, c_int> {
        let m = usermem::get(msg)?;
        let name = if m.msg_name.is_null() {
            Vec::new()
        } else {
            usermem::read_exact(m.msg_name, (m.msg_namelen as usize).min(NAME_MAX))?
        };
        let control = if m.msg_control.is_null() {
            Vec::new()
        } else {
            usermem::read_exact(m.msg_control, m.msg_controllen.min(CONTROL_MAX))?
        };
        let iov = iovecs_of(&m)?;
        Ok(UserMsg::new(m, iov, name, control))
    }

    /// recvmsg's header: room for the name and control data it asks for.
    pub(super) fn for_recv(msg: *const msghdr) -> Result<UserMsg, c_int> {
        let m = usermem::get(msg)?;
        let iov = iovecs_of(&m)?;
        Ok(UserMsg::for_recv_of(m, iov))
    }

    /// As `for_recv`, from the header and iovecs already copied in.
    pub(super) fn for_recv_of(m: msghdr, iov: Vec<libc::iovec>) -> UserMsg {
        let name = vec![0u8; (m.msg_namelen as usize).min(NAME_MAX)];
        let control = vec![0u8; m.msg_controllen.min(CONTROL_MAX)];
        UserMsg::new(m, iov, name, control)
    }

    /// After a receive: the name, control data, their lengths and the
    /// flags go back into the program's header. A name that cannot be
    /// written is EFAULT (the data is taken, as on Linux); control data
    /// that cannot be written is left out (Linux's put_cmsg).
    pub(super) fn finish_recv(&self, msg: *mut msghdr) -> Result<(), c_int> {
        let field = |off: usize| (msg as *mut u8).wrapping_add(off);
        if !self.orig.msg_name.is_null() {
            let n = (self.hdr.msg_namelen as usize).min(self.name.len());
            usermem::write(self.orig.msg_name, &self.name[..n])?;
            usermem::put(
                field(std::mem::offset_of!(msghdr, msg_namelen)) as *mut socklen_t,
                self.hdr.msg_namelen,
            )?;
        }
        let mut clen = 0;
        if !self.orig.msg_control.is_null() {
            clen = self.hdr.msg_controllen.min(self.control.len());
            if usermem::write(self.orig.msg_control, &self.control[..clen]).is_err() {
                clen = 0;
            }
        }
        usermem::put(
            field(std::mem::offset_of!(msghdr, msg_controllen)) as *mut usize,
            clen,
        )?;
        usermem::put(
            field(std::mem::offset_of!(msghdr, msg_flags)) as *mut c_int,
            self.hdr.msg_flags,
        )
    }
}

/// An option buffer copied in: `room` bytes as `*len` says (the readable
/// part of `val`, then zeros), for getsockopt's code to fill.
pub(super) struct OptBuf {
    pub(super) buf: Vec<u8>,
    pub(super) len: socklen_t,
}

impl OptBuf {
    /// getsockopt's buffer: `*len` (EFAULT), and what `val` holds.
    pub(super) fn for_get(val: *const c_void, len: *const socklen_t) -> Result<OptBuf, c_int> {
        let room = usermem::get(len)?;
        if (room as c_int) < 0 {
            return Err(libc::EINVAL);
        }
        let room = (room as usize).min(1 << 20);
        let mut buf = usermem::read(val, room)?;
        buf.resize(room, 0);
        Ok(OptBuf {
            buf,
            len: room as socklen_t,
        })
    }

    /// A pointer for the option code: never null (an empty buffer is a
    /// length question, not a bad address).
    pub(super) fn ptr(&mut self) -> *mut c_void {
        self.buf.as_mut_ptr() as *mut c_void
    }

    /// After a successful get: the value and its length go back (EFAULT).
    pub(super) fn finish_get(&self, val: *mut c_void, len: *mut socklen_t) -> Result<(), c_int> {
        let n = (self.len as usize).min(self.buf.len());
        usermem::write(val, &self.buf[..n])?;
        usermem::put(len, self.len)
    }
}
