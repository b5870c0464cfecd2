#!/usr/bin/env python3
"""Regenerates the seed corpora in fuzz/corpus/ (the files are committed;
run this only after changing it):

- decode_packet: every captured packet in src/proto/wire/testdata/*.txt
  (the hex line after each `# frame` comment).
- decode_chunk: the captured chunks, parameter lists and causes, each behind
  the selector byte the target reads (see fuzz_targets/decode_chunk.rs),
  plus cookie bodies for the signed-cookie mode.
- association: hand-made scripts in the record format of
  fuzz_targets/association.rs.

Usage: python3 fuzz/make-corpus.py   (from anywhere)
"""

import hashlib
import pathlib
import shutil
import struct

FUZZ = pathlib.Path(__file__).resolve().parent
TESTDATA = FUZZ.parent / "src" / "proto" / "wire" / "testdata"
CORPUS = FUZZ / "corpus"


def pad4(b: bytes) -> bytes:
    return b + b"\0" * (-len(b) % 4)


def tlvs(buf: bytes):
    """Splits chunk / parameter / cause TLVs (4-byte header, padded)."""
    out = []
    while len(buf) >= 4:
        ln = struct.unpack(">H", buf[2:4])[0]
        if ln < 4 or ln > len(buf):
            break
        out.append(buf[:ln])
        buf = buf[(ln + 3) & ~3 :]
    return out


def captured_packets():
    packets = []
    for f in sorted(TESTDATA.glob("*.txt")):
        lines = f.read_text().splitlines()
        for i, line in enumerate(lines):
            if line.startswith("# frame") and i + 1 < len(lines):
                hexline = lines[i + 1].strip()
                if hexline and not hexline.startswith("#"):
                    packets.append((f.stem, line.split()[2], bytes.fromhex(hexline)))
    return packets


def write(target: str, name: str, data: bytes, seen: set):
    digest = hashlib.sha1(data).hexdigest()
    if digest in seen:
        return
    seen.add(digest)
    d = CORPUS / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data)


# --- chunk builders (RFC 9260 layouts) ---------------------------------------


def chunk(ctype: int, flags: int, value: bytes) -> bytes:
    return pad4(struct.pack(">BBH", ctype, flags, 4 + len(value)) + value)


def data(tsn, payload, sid=0, ssn=0, ppid=0, flags=0x03):
    return chunk(0, flags, struct.pack(">IHHI", tsn, sid, ssn, ppid) + payload)


def sack(cum, rwnd=65536, gaps=(), dups=()):
    v = struct.pack(">IIHH", cum, rwnd, len(gaps), len(dups))
    v += b"".join(struct.pack(">HH", s, e) for s, e in gaps)
    v += b"".join(struct.pack(">I", d) for d in dups)
    return chunk(3, 0, v)


def param(ptype, value):
    return pad4(struct.pack(">HH", ptype, 4 + len(value)) + value)


def cause(code, value=b""):
    return pad4(struct.pack(">HH", code, 4 + len(value)) + value)


def heartbeat(info, ack=False):
    return chunk(5 if ack else 4, 0, param(1, info))


def abort(causes=b"", t=False):
    return chunk(6, 1 if t else 0, causes)


def shutdown(cum):
    return chunk(7, 0, struct.pack(">I", cum))


SHUTDOWN_ACK = chunk(8, 0, b"")
COOKIE_ACK = chunk(11, 0, b"")


def error(causes):
    return chunk(9, 0, causes)


def shutdown_complete(t=False):
    return chunk(14, 1 if t else 0, b"")


# --- association records -------------------------------------------------------

NOTHING = 0xFFFFFFFF  # relative cumulative ack: "nothing acked yet"


def rec(op: int, n: int, body: bytes = b"") -> bytes:
    assert 0 <= op < 8 and 0 <= n < 0x2000
    return struct.pack(">H", (op << 13) | n) + body


def pkt(chunks: bytes, relative=True) -> bytes:
    return rec(1 if relative else 0, len(chunks), chunks)


def pkt_tag(sel: int, chunks: bytes, tag: int = 0) -> bytes:
    body = bytes([sel]) + (struct.pack(">I", tag) if sel == 3 else b"") + chunks
    return rec(2, len(body), body)


def wait_ms(ms):
    return rec(3, min(ms // 10, 0x1FFF))


def send(side_a: bool, size: int, stream=0, unordered=False):
    n = (size - 1) | (stream << 11) | (int(unordered) << 12)
    return rec(4 if side_a else 5, n)


DRAIN = rec(6, 0)


def app(action, arg=0):
    return rec(7, action | (arg << 3))


# Z-to-A filter: without it, Z's SACK for DATA that A never sent makes A abort.
DEAF_SACK = app(7, 1)
DEAF_ALL = app(7, 2)
HEAR = app(7, 0)


def association_seeds(init_chunk: bytes):
    s = {}
    s["data_single"] = DEAF_SACK + pkt(data(0, b"hello")) + DRAIN + wait_ms(1000)
    s["data_a_aborts_on_sack"] = pkt(data(0, b"A never sent this")) + wait_ms(1000)
    s["data_deaf_then_hear"] = (
        DEAF_ALL + send(True, 10) + pkt(data(1, b"two")) + wait_ms(10000) + HEAR + wait_ms(5000) + DRAIN
    )
    s["data_fragments_gap_dup"] = (
        DEAF_SACK
        + pkt(data(0, b"first-", flags=0x02))
        + pkt(data(2, b"-last", flags=0x01))
        + pkt(data(1, b"middle", flags=0x00))
        + pkt(data(1, b"middle", flags=0x00))
        + wait_ms(1000)
        + DRAIN
    )
    s["data_unordered_streams"] = (
        DEAF_SACK
        + pkt(data(0, b"u", sid=1, flags=0x07))
        + pkt(data(1, b"bad stream", sid=0xFFFF))
        + pkt(data(2, b"i-bit", flags=0x0B))
        + pkt(data(3, b"", flags=0x03))
    )
    s["data_collides_with_a"] = send(True, 100) + pkt(data(0, b"x" * 100)) + send(True, 3000) + DRAIN
    s["sack_outstanding"] = (
        send(False, 1000)
        + send(False, 1000)
        + send(False, 1000)
        + pkt(sack(0, gaps=[(2, 2)], dups=[0]))
        + pkt(sack(2))
        + wait_ms(3000)
    )
    s["sack_bogus"] = pkt(sack(1000, rwnd=0)) + send(False, 2000) + pkt(sack(NOTHING, rwnd=0)) + wait_ms(5000)
    s["sack_gap_blocks"] = (
        send(False, 4000)
        + pkt(sack(NOTHING, gaps=[(2, 3), (1, 1), (5, 0xFFFF)], dups=[1, 2, 3]))
        + pkt(sack(NOTHING, gaps=[(2, 3)]))
        + pkt(sack(NOTHING, gaps=[(2, 3)]))
        + pkt(sack(NOTHING, gaps=[(2, 3)]))
        + wait_ms(2000)
    )
    s["heartbeat"] = pkt(heartbeat(b"\x01" * 20), False) + pkt(heartbeat(b"garbage-info", ack=True), False)
    s["shutdown"] = pkt(shutdown(NOTHING)) + wait_ms(1000) + pkt(SHUTDOWN_ACK, False) + wait_ms(3000)
    s["shutdown_with_data"] = send(False, 500) + pkt(shutdown(NOTHING)) + pkt(sack(0)) + wait_ms(2000)
    s["abort"] = pkt(abort(), False)
    s["abort_t_bit"] = pkt_tag(1, abort(t=True))
    s["abort_causes"] = pkt(abort(cause(12, b"bye") + cause(13, b"violation") + cause(9, struct.pack(">I", 0))))
    s["error_chunk"] = pkt(
        error(
            cause(1, struct.pack(">HH", 7, 0))
            + cause(6, chunk(0x42, 0, b"zz"))
            + cause(3, struct.pack(">I", 1000))
            + cause(9, struct.pack(">I", 0))
            + cause(0x1234, b"?")
        )
    )
    s["unknown_chunks"] = (
        DEAF_SACK
        + pkt(chunk(0xBF, 0, b"skip") + chunk(0xFF, 3, b"skip+report") + data(0, b"after"), True)
        + pkt(chunk(0x7F, 0, b"stop+report") + data(1, b"dropped"), True)
        + pkt(chunk(0x3F, 0, b"stop"), False)
        + pkt(chunk(0x80, 0, b""), False)
    )
    s["init_in_established"] = pkt_tag(2, init_chunk) + wait_ms(1000)
    s["cookie_echo_garbage"] = pkt(chunk(10, 0, bytes(range(100))), False) + pkt(COOKIE_ACK, False)
    s["shutdown_complete_t_bit"] = pkt_tag(1, shutdown_complete(t=True)) + pkt_tag(0, shutdown_complete())
    s["wrong_tags"] = pkt_tag(2, data(0, b"zero tag")) + pkt_tag(3, sack(0), 0xDEADBEEF)
    s["bundle"] = DEAF_SACK + pkt(sack(NOTHING) + data(0, b"bundled") + heartbeat(b"hb"))
    s["app_mix"] = (
        send(True, 200)
        + send(False, 300, stream=1, unordered=True)
        + app(0)
        + wait_ms(2000)
        + app(6)
        + send(True, 50)
        + app(3)
        + app(6)
        + DRAIN
    )
    s["lossy_link"] = app(4, 3) + app(5) + send(True, 2048) + send(False, 2048) + wait_ms(20000) + DRAIN
    s["timers_only"] = wait_ms(81910) + wait_ms(81910) + wait_ms(81910)
    # Z's application never reads: its receive window closes (zero-window probes).
    s["window_full"] = b"".join(send(True, 2048) + wait_ms(100) for _ in range(120)) + wait_ms(5000) + DRAIN
    return s


def cookie_body(n_addrs=1, v6=False):
    b = struct.pack(">QIHH", 1_000_000, 60_000, 5002, 5001)
    b += struct.pack(">IIIIII", 0x11111111, 0x22222222, 100, 200, 65536, 0)
    b += struct.pack(">HHII", 10, 10, 0, 0)
    b += struct.pack(">HB", 5001, n_addrs)
    for i in range(n_addrs):
        b += b"\x06" + bytes(16) if v6 and i else b"\x04" + bytes([127, 0, 0, 1 + i])
    return b


def main():
    if CORPUS.exists():
        shutil.rmtree(CORPUS)
    packets = captured_packets()
    seen = set()
    init_chunk = None
    for stem, frame, p in packets:
        write("decode_packet", f"{stem}_{frame}", p, seen)
    seen = set()
    for stem, frame, p in packets:
        chunks = tlvs(p[12:])
        write("decode_chunk", f"chunks_{stem}_{frame}", b"\x06" + p[12:], seen)
        for i, c in enumerate(chunks):
            write("decode_chunk", f"chunk{c[0]}_{stem}_{frame}_{i}", b"\x00" + c, seen)
            if c[0] in (1, 2):  # INIT / INIT ACK: parameters after 16 bytes
                init_chunk = init_chunk or (c if c[0] == 1 else None)
                params = c[20:]
                write("decode_chunk", f"params_{stem}_{frame}", b"\x01" + params, seen)
                for j, prm in enumerate(tlvs(params)):
                    write("decode_chunk", f"param_{stem}_{frame}_{j}", b"\x04" + prm, seen)
                    if struct.unpack(">H", prm[:2])[0] == 7:  # state cookie
                        write("decode_chunk", f"cookie_{stem}_{frame}", b"\x03" + prm[4:], seen)
            if c[0] in (6, 9) and len(c) > 4:  # ABORT / ERROR causes
                write("decode_chunk", f"causes_{stem}_{frame}", b"\x02" + c[4:], seen)
    all_causes = (
        cause(1, struct.pack(">HH", 7, 0))
        + cause(2, struct.pack(">IH", 1, 7))
        + cause(3, struct.pack(">I", 5))
        + cause(4)
        + cause(5, param(5, bytes(4)))
        + cause(6, chunk(0x42, 0, b"z"))
        + cause(7)
        + cause(8, param(0x8123, b"?"))
        + cause(9, struct.pack(">I", 9))
        + cause(10)
        + cause(11, param(5, bytes(4)))
        + cause(12, b"bye")
        + cause(13, b"why")
        + cause(0x99, b"unknown")
    )
    write("decode_chunk", "causes_every_code", b"\x02" + all_causes, seen)
    for j, c in enumerate(tlvs(all_causes)):
        write("decode_chunk", f"cause_{j}", b"\x05" + c, seen)
    write("decode_chunk", "signed_cookie_v4", b"\x07" + cookie_body(), seen)
    write("decode_chunk", "signed_cookie_v4_v6_stale", b"\x0f" + cookie_body(3, v6=True), seen)
    write("decode_chunk", "signed_cookie_no_addrs", b"\x07" + cookie_body(0), seen)

    seen = set()
    assert init_chunk is not None, "no captured INIT"
    for name, script in association_seeds(init_chunk).items():
        write("association", name, script, seen)

    for t in sorted(p.name for p in CORPUS.iterdir()):
        files = list((CORPUS / t).iterdir())
        size = sum(f.stat().st_size for f in files)
        print(f"{t}: {len(files)} files, {size} bytes")


if __name__ == "__main__":
    main()
