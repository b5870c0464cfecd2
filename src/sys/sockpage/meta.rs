//! What a receive returns beside the data, as plain data in the page: a
//! record's metadata (`RecordMeta`) and the ancillary data the socket's
//! receives return.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV6};

use crate::runtime::RecordMeta;

/// `RecordMeta` as plain data.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct PodMeta {
    assoc: u32,
    stream: u16,
    ssn: u16,
    ppid: u32,
    tsn: u32,
    context: u32,
    unordered: u8,
    /// 0: no peer address, 4 or 6.
    family: u8,
    port: u16,
    addr: [u8; 16],
    flowinfo: u32,
    scope: u32,
}

impl From<&RecordMeta> for PodMeta {
    fn from(m: &RecordMeta) -> PodMeta {
        let mut p = PodMeta {
            assoc: m.assoc,
            stream: m.stream,
            ssn: m.ssn,
            ppid: m.ppid,
            tsn: m.tsn,
            context: m.context,
            unordered: m.unordered.into(),
            ..Default::default()
        };
        match m.peer {
            Some(SocketAddr::V4(a)) => {
                p.family = 4;
                p.port = a.port();
                p.addr[..4].copy_from_slice(&a.ip().octets());
            }
            Some(SocketAddr::V6(a)) => {
                p.family = 6;
                p.port = a.port();
                p.addr = a.ip().octets();
                p.flowinfo = a.flowinfo();
                p.scope = a.scope_id();
            }
            None => {}
        }
        p
    }
}

impl PodMeta {
    pub(super) fn meta(&self, notification: bool) -> RecordMeta {
        let peer = match self.family {
            4 => {
                let o = [self.addr[0], self.addr[1], self.addr[2], self.addr[3]];
                Some(SocketAddr::new(IpAddr::V4(Ipv4Addr::from(o)), self.port))
            }
            6 => Some(SocketAddr::V6(SocketAddrV6::new(
                Ipv6Addr::from(self.addr),
                self.port,
                self.flowinfo,
                self.scope,
            ))),
            _ => None,
        };
        RecordMeta {
            assoc: self.assoc,
            peer,
            stream: self.stream,
            ssn: self.ssn,
            ppid: self.ppid,
            tsn: self.tsn,
            unordered: self.unordered != 0,
            notification,
            context: self.context,
        }
    }
}

/// Which ancillary data a receive returns (the socket's options), as the
/// engine last published them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RecvWants {
    pub rcvinfo: bool,
    pub nxtinfo: bool,
    pub data_io: bool,
}
