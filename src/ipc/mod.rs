//! The protocol between the preload library and the shared engine,
//! `sctpshimd`: one request, one response, over a Unix stream socket.
//!
//! A request names a socket call and carries what the call reads from the
//! caller's memory (addresses, option values, data); the socket it is about
//! travels beside it as a descriptor (SCM_RIGHTS), so the daemon knows it by
//! its inode whatever number the process gave it. The response carries the
//! result, errno, and what the call writes back; a new socket (socket,
//! accept, peeloff) comes back as a descriptor.
//!
//! Frames are a little-endian u32 length and that many bytes. Decoding is
//! total: any byte string gives a request or an error, never a panic, and
//! no length in it can make the decoder allocate more than the frame holds.

pub mod transport;

/// The longest frame either side accepts (a send of up to 64 MiB of data).
pub const MAX_FRAME: usize = (64 << 20) + 4096;

/// A socket call, as the library forwards it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// socket(domain, type, protocol); the new socket comes back. `settings`:
    /// the caller's SCTPSHIM_* settings for it, as `NAME=value` lines.
    Socket {
        domain: i32,
        ty: i32,
        protocol: i32,
        settings: Vec<u8>,
    },
    /// Which socket the attached descriptor is (after exec or SCM_RIGHTS).
    Identify,
    /// bind(2) with the caller's sockaddr bytes.
    Bind { addr: Vec<u8> },
    /// listen(2).
    Listen { backlog: i32 },
    /// connect(2), never waiting for the handshake (EINPROGRESS).
    Connect { addr: Vec<u8> },
    /// The outcome of a connect once the socket turned writable.
    ConnectDone,
    /// accept4(2) without waiting; `addrlen` is the room for the address.
    Accept { flags: i32, addrlen: u32 },
    /// getsockname (peer false) or getpeername (peer true).
    Name { peer: bool, addrlen: u32 },
    /// getsockopt(2) with the caller's option buffer (input and room).
    GetOpt { level: i32, name: i32, val: Vec<u8> },
    /// setsockopt(2).
    SetOpt { level: i32, name: i32, val: Vec<u8> },
    /// sendmsg(2): destination, ancillary data and the data gathered.
    Send {
        flags: i32,
        name: Vec<u8>,
        control: Vec<u8>,
        data: Vec<u8>,
    },
    /// recvmsg(2) without waiting, with room for data, name and control.
    Recv {
        flags: i32,
        len: u32,
        namelen: u32,
        controllen: u32,
    },
    /// The process closed a descriptor of socket `id`.
    Closed { id: u64 },
    /// The daemon's endpoints and associations, as text.
    Stat,
    /// shutdown(2).
    Shutdown { how: i32 },
    /// ioctl(FIONREAD): the length of the next message.
    BytesReady,
    /// For sends placed by the program itself (see `sys::sockpage`): the
    /// socket's shared send page (`pair_end` false) or a copy of the
    /// engine's end of its pair (true), as the attached descriptor.
    SendPage { pair_end: bool },
    /// A send the program marked in the shared page moved `written` of its
    /// `len` bytes (short or refused).
    Settle { mark: u64, len: u64, written: u64 },
    /// The program read from its end of socket `id`'s pair on its own (the
    /// engine may have messages to put into the pair, or a window update to
    /// send). The one request without an answer: the reader does not wait.
    Moved { id: u64 },
}

/// The answer to one request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Response {
    /// The call's return value (-1 on error).
    pub ret: i64,
    /// errno when `ret` is -1.
    pub errno: i32,
    /// The socket the attached descriptor is (socket, accept, peeloff,
    /// Identify), 0 if none.
    pub id: u64,
    /// msg_flags of a receive.
    pub flags: i32,
    /// The length the call reports for `name` (socklen_t out-parameter).
    pub namelen: u32,
    /// Data received, or an option value.
    pub data: Vec<u8>,
    /// An address written back.
    pub name: Vec<u8>,
    /// Ancillary data received.
    pub control: Vec<u8>,
}

/// A frame that does not decode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeError {
    /// Shorter than its fields say.
    Truncated,
    /// A request tag no version of the library sends.
    UnknownTag(u8),
    /// Bytes left over after the last field.
    Trailing,
}

struct Writer(Vec<u8>);

impl Writer {
    fn u8(&mut self, v: u8) -> &mut Self {
        self.0.push(v);
        self
    }
    fn u32(&mut self, v: u32) -> &mut Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    fn i32(&mut self, v: i32) -> &mut Self {
        self.u32(v as u32)
    }
    fn u64(&mut self, v: u64) -> &mut Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    fn bytes(&mut self, b: &[u8]) -> &mut Self {
        self.u32(b.len() as u32);
        self.0.extend_from_slice(b);
        self
    }
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        if self.0.len() < n {
            return Err(DecodeError::Truncated);
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }
    fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.take(1)?[0])
    }
    fn u32(&mut self) -> Result<u32, DecodeError> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn i32(&mut self) -> Result<i32, DecodeError> {
        self.u32().map(|v| v as i32)
    }
    fn u64(&mut self) -> Result<u64, DecodeError> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }
    fn bytes(&mut self) -> Result<Vec<u8>, DecodeError> {
        let n = self.u32()? as usize;
        self.take(n).map(<[u8]>::to_vec)
    }
    fn end(&self) -> Result<(), DecodeError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::Trailing)
        }
    }
}

impl Request {
    /// The request's bytes (without the frame length).
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer(Vec::with_capacity(32));
        match self {
            Request::Socket {
                domain,
                ty,
                protocol,
                settings,
            } => w.u8(1).i32(*domain).i32(*ty).i32(*protocol).bytes(settings),
            Request::Identify => w.u8(2),
            Request::Bind { addr } => w.u8(3).bytes(addr),
            Request::Listen { backlog } => w.u8(4).i32(*backlog),
            Request::Connect { addr } => w.u8(5).bytes(addr),
            Request::ConnectDone => w.u8(6),
            Request::Accept { flags, addrlen } => w.u8(7).i32(*flags).u32(*addrlen),
            Request::Name { peer, addrlen } => w.u8(8).u8(u8::from(*peer)).u32(*addrlen),
            Request::GetOpt { level, name, val } => w.u8(9).i32(*level).i32(*name).bytes(val),
            Request::SetOpt { level, name, val } => w.u8(10).i32(*level).i32(*name).bytes(val),
            Request::Send {
                flags,
                name,
                control,
                data,
            } => w.u8(11).i32(*flags).bytes(name).bytes(control).bytes(data),
            Request::Recv {
                flags,
                len,
                namelen,
                controllen,
            } => w
                .u8(12)
                .i32(*flags)
                .u32(*len)
                .u32(*namelen)
                .u32(*controllen),
            Request::Closed { id } => w.u8(13).u64(*id),
            Request::Stat => w.u8(14),
            Request::Shutdown { how } => w.u8(15).i32(*how),
            Request::BytesReady => w.u8(16),
            Request::SendPage { pair_end } => w.u8(17).u8(u8::from(*pair_end)),
            Request::Settle { mark, len, written } => w.u8(18).u64(*mark).u64(*len).u64(*written),
            Request::Moved { id } => w.u8(19).u64(*id),
        };
        w.0
    }

    /// Parses one request.
    pub fn decode(b: &[u8]) -> Result<Request, DecodeError> {
        let mut r = Reader(b);
        let req = match r.u8()? {
            1 => Request::Socket {
                domain: r.i32()?,
                ty: r.i32()?,
                protocol: r.i32()?,
                settings: r.bytes()?,
            },
            2 => Request::Identify,
            3 => Request::Bind { addr: r.bytes()? },
            4 => Request::Listen { backlog: r.i32()? },
            5 => Request::Connect { addr: r.bytes()? },
            6 => Request::ConnectDone,
            7 => Request::Accept {
                flags: r.i32()?,
                addrlen: r.u32()?,
            },
            8 => Request::Name {
                peer: r.u8()? != 0,
                addrlen: r.u32()?,
            },
            9 => Request::GetOpt {
                level: r.i32()?,
                name: r.i32()?,
                val: r.bytes()?,
            },
            10 => Request::SetOpt {
                level: r.i32()?,
                name: r.i32()?,
                val: r.bytes()?,
            },
            11 => Request::Send {
                flags: r.i32()?,
                name: r.bytes()?,
                control: r.bytes()?,
                data: r.bytes()?,
            },
            12 => Request::Recv {
                flags: r.i32()?,
                len: r.u32()?,
                namelen: r.u32()?,
                controllen: r.u32()?,
            },
            13 => Request::Closed { id: r.u64()? },
            14 => Request::Stat,
            15 => Request::Shutdown { how: r.i32()? },
            16 => Request::BytesReady,
            17 => Request::SendPage {
                pair_end: r.u8()? != 0,
            },
            18 => Request::Settle {
                mark: r.u64()?,
                len: r.u64()?,
                written: r.u64()?,
            },
            19 => Request::Moved { id: r.u64()? },
            t => return Err(DecodeError::UnknownTag(t)),
        };
        r.end()?;
        Ok(req)
    }
}

impl Response {
    /// An error answer.
    pub fn error(errno: i32) -> Response {
        Response {
            ret: -1,
            errno,
            ..Default::default()
        }
    }

    /// A plain success with return value `ret`.
    pub fn ok(ret: i64) -> Response {
        Response {
            ret,
            ..Default::default()
        }
    }

    /// The response's bytes (without the frame length).
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer(Vec::with_capacity(
            40 + self.data.len() + self.name.len() + self.control.len(),
        ));
        w.u64(self.ret as u64)
            .i32(self.errno)
            .u64(self.id)
            .i32(self.flags)
            .u32(self.namelen)
            .bytes(&self.data)
            .bytes(&self.name)
            .bytes(&self.control);
        w.0
    }

    /// Parses one response.
    pub fn decode(b: &[u8]) -> Result<Response, DecodeError> {
        let mut r = Reader(b);
        let resp = Response {
            ret: r.u64()? as i64,
            errno: r.i32()?,
            id: r.u64()?,
            flags: r.i32()?,
            namelen: r.u32()?,
            data: r.bytes()?,
            name: r.bytes()?,
            control: r.bytes()?,
        };
        r.end()?;
        Ok(resp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_request() -> Vec<Request> {
        vec![
            Request::Socket {
                domain: 2,
                ty: 1 | 0x800,
                protocol: 132,
                settings: b"SCTPSHIM_RTO_MIN_MS=20\n".to_vec(),
            },
            Request::Identify,
            Request::Bind {
                addr: vec![2, 0, 1, 2, 127, 0, 0, 1],
            },
            Request::Listen { backlog: -1 },
            Request::Shutdown { how: 1 },
            Request::BytesReady,
            Request::Connect { addr: vec![10; 28] },
            Request::ConnectDone,
            Request::Accept {
                flags: 0x80800,
                addrlen: 128,
            },
            Request::Name {
                peer: true,
                addrlen: 16,
            },
            Request::GetOpt {
                level: 132,
                name: 14,
                val: vec![0; 176],
            },
            Request::SetOpt {
                level: 1,
                name: 13,
                val: vec![1, 0, 0, 0, 0, 0, 0, 0],
            },
            Request::Send {
                flags: 0x40,
                name: vec![],
                control: vec![7; 48],
                data: b"hello".to_vec(),
            },
            Request::Recv {
                flags: 2,
                len: 65536,
                namelen: 28,
                controllen: 512,
            },
            Request::Closed { id: u64::MAX },
            Request::Stat,
            Request::SendPage { pair_end: true },
            Request::Moved { id: 7 },
            Request::Settle {
                mark: 3,
                len: u64::MAX,
                written: 1,
            },
        ]
    }

    #[test]
    fn requests_round_trip() {
        for req in every_request() {
            assert_eq!(Request::decode(&req.encode()), Ok(req));
        }
    }

    #[test]
    fn responses_round_trip() {
        let r = Response {
            ret: -1,
            errno: 104,
            id: 1 << 39 | 5,
            flags: 0x80,
            namelen: 16,
            data: vec![1, 2, 3],
            name: vec![2, 0, 0, 80],
            control: vec![9; 40],
        };
        assert_eq!(Response::decode(&r.encode()), Ok(r));
        assert_eq!(
            Response::decode(&Response::ok(7).encode()),
            Ok(Response::ok(7))
        );
    }

    #[test]
    fn malformed_requests_are_refused() {
        assert_eq!(Request::decode(&[]), Err(DecodeError::Truncated));
        assert_eq!(Request::decode(&[0]), Err(DecodeError::UnknownTag(0)));
        assert_eq!(Request::decode(&[99]), Err(DecodeError::UnknownTag(99)));
        // A length that claims more than the frame holds.
        assert_eq!(
            Request::decode(&[3, 0xff, 0xff, 0xff, 0xff, 1]),
            Err(DecodeError::Truncated)
        );
        assert_eq!(Request::decode(&[2, 0]), Err(DecodeError::Trailing));
        for req in every_request() {
            let b = req.encode();
            for cut in 0..b.len() {
                assert!(Request::decode(&b[..cut]).is_err(), "{req:?} cut at {cut}");
            }
        }
    }
}
