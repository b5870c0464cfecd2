"""Random kills of SCTP programs under the shim, run by scripts/e2e-kill.sh
(make soak): each round forks six kinds of programs (a one-to-many server
that reads now and then, a one-to-many client sending without blocking,
a one-to-one server that accepts and half-closes, one-to-one clients that
connect, send and close, connects to a port nobody listens on, and a
peeloff), lets them run for a random time, then kills them in a random
order with SIGKILL or SIGTERM. Arguments: BASE_PORT ROUNDS SEED. The
script checks afterwards that the daemon holds nothing.
"""
import ctypes
import os
import random
import signal
import socket
import sys
import time

IPPROTO_SCTP = 132
SCTP_GET_ASSOC_ID_LIST = 29
LOCAL = "127.0.0.1"


def quietly(f, *args):
    """f(*args), None when the call fails (a full buffer, a reset, ...)."""
    try:
        return f(*args)
    except OSError:
        return None


def sctp(kind):
    return socket.socket(socket.AF_INET, kind, IPPROTO_SCTP)


def many_server(rng, port):
    s = sctp(socket.SOCK_SEQPACKET)
    s.bind((LOCAL, port))
    s.listen()
    while True:  # reads now and then: its buffer may fill
        if rng.random() < 0.5:
            s.recv(65536)
        else:
            time.sleep(0.01)


def many_client(rng, port):
    c = sctp(socket.SOCK_SEQPACKET)
    c.setblocking(False)
    while True:
        if quietly(c.sendto, b"y" * rng.choice([10, 1000, 20000]), (LOCAL, port)) is None:
            time.sleep(0.005)


def one_server(rng, port):
    listener = sctp(socket.SOCK_STREAM)
    listener.bind((LOCAL, port + 1))
    listener.listen(5)
    conns = []
    while True:
        a, _ = listener.accept()
        a.setblocking(False)
        conns.append(a)
        for x in conns:
            quietly(x.recv, rng.choice([1, 100, 65536]))
            if rng.random() < 0.2:
                quietly(x.shutdown, socket.SHUT_WR)


def dialing(port):
    """A non-blocking one-to-one socket whose connect to `port` started."""
    c = sctp(socket.SOCK_STREAM)
    c.setblocking(False)
    quietly(c.connect, (LOCAL, port))
    return c


def one_clients(rng, port):
    while True:
        c = dialing(port + 1)
        time.sleep(0.01)
        for _ in range(rng.randint(0, 50)):
            if quietly(c.send, b"z" * rng.choice([1, 500, 9000])) is None:
                break
        if rng.random() < 0.5:
            c.close()


def nowhere(rng, port):
    while True:
        dialing(port + 2)
        time.sleep(0.05)


def peeloff(rng, port):
    s = sctp(socket.SOCK_SEQPACKET)
    s.bind((LOCAL, port + 3))
    s.listen()
    c = sctp(socket.SOCK_SEQPACKET)
    c.sendto(b"hello", (LOCAL, port + 3))
    s.recv(100)
    ids = s.getsockopt(IPPROTO_SCTP, SCTP_GET_ASSOC_ID_LIST, 4 + 4 * 8)
    n = int.from_bytes(ids[:4], sys.byteorder)
    lib = ctypes.CDLL(None)
    peeled = [lib.sctp_peeloff(s.fileno(), int.from_bytes(ids[4 + 4 * i:8 + 4 * i], sys.byteorder))
              for i in range(min(n, 8))]
    assert any(fd >= 0 for fd in peeled), "nothing peeled off"
    while True:
        c.sendto(b"again", (LOCAL, port + 3))
        time.sleep(0.01)


KINDS = [many_server, many_client, one_server, one_clients, nowhere, peeloff]


def main():
    base, rounds, seed = (int(a) for a in sys.argv[1:4])
    rng = random.Random(seed)
    for r in range(rounds):
        port = base + 10 * r
        procs = []
        for k, kind in enumerate(KINDS):
            pid = os.fork()
            if pid == 0:
                try:
                    kind(random.Random(seed * 1000 + r * 10 + k), port)
                except Exception:  # a kill or a refused call ends its part early
                    pass
                time.sleep(100)
                os._exit(0)
            procs.append(pid)
        time.sleep(rng.uniform(0.2, 1.5))
        for pid in rng.sample(procs, len(procs)):
            os.kill(pid, rng.choice([signal.SIGKILL, signal.SIGTERM]))
            time.sleep(rng.uniform(0, 0.2))
        for pid in procs:
            os.waitpid(pid, 0)
    print("done")


if __name__ == "__main__":
    main()
