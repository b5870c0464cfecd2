//! The shared engine's request decoder on arbitrary bytes (what any local
//! process of the same user can send to sctpshimd): never a panic, and
//! whatever decodes encodes back to the same request. Responses too.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sctpshim::ipc::{Request, Response};

fuzz_target!(|data: &[u8]| {
    if let Ok(req) = Request::decode(data) {
        assert_eq!(Request::decode(&req.encode()), Ok(req));
    }
    if let Ok(resp) = Response::decode(data) {
        assert_eq!(Response::decode(&resp.encode()), Ok(resp));
    }
});
