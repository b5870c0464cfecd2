"""Process-level checks of the shared engine, run under LD_PRELOAD by
scripts/e2e-process.sh. Each check prints "ok <what>" or raises.

  subprocess PORT   Python's subprocess (vfork + dup2) with an SCTP socket as
                    the child's stdout: the parent's own stdout is untouched,
                    the child's output reaches the peer; socket.dup() copies
                    (F_DUPFD_CLOEXEC) are SCTP sockets.
  daemon-killed PORT STAT
                    sctpshimd killed with SIGKILL: calls on existing sockets
                    fail as a reset connection (never hang), and the next
                    socket() starts a fresh daemon that works.
  many-killed PORT STAT
                    a one-to-many socket's process killed, once with its
                    receive buffer full and once with nothing unread: its
                    socket and endpoint leave the daemon at once, though the
                    peer's process lives on and the engine has nothing else
                    to do.
"""
import errno
import os
import signal
import socket
import subprocess
import sys
import time

IPPROTO_SCTP = 132


def pair(port):
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM, IPPROTO_SCTP)
    srv.bind(("127.0.0.1", port))
    srv.listen()
    cli = socket.socket(socket.AF_INET, socket.SOCK_STREAM, IPPROTO_SCTP)
    cli.connect(("127.0.0.1", port))
    conn, _ = srv.accept()
    return srv, cli, conn


def check_subprocess(port):
    srv, cli, conn = pair(port)
    subprocess.run(["echo", "from-child"], stdout=cli, check=True)
    # The parent's stdout must still be its own (the vfork child's dup2 ran
    # in shared memory).
    print("parent stdout still works", flush=True)
    data = conn.recv(100)
    assert data == b"from-child\n", data
    d = cli.dup()
    cli.close()
    d.sendall(b"dup")
    assert conn.recv(10) == b"dup"
    print("ok subprocess(stdout=sctp socket) and socket.dup()")


def daemon_pid(stat):
    out = subprocess.run([stat, "stat"], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        if line.startswith("sctpshimd pid"):
            return int(line.split()[2])
    raise AssertionError("no daemon in: " + out)


def check_daemon_killed(port, stat):
    srv, cli, conn = pair(port)
    cli.sendall(b"before")
    assert conn.recv(10) == b"before"
    pid = daemon_pid(stat)
    os.kill(pid, signal.SIGKILL)
    time.sleep(0.2)
    t0 = time.monotonic()
    for s, op in ((cli, lambda s: s.send(b"after")), (conn, lambda s: s.recv(10))):
        s.settimeout(5)
        try:
            r = op(s)
            raise AssertionError("call on a socket of a killed daemon answered %r" % (r,))
        except OSError as e:
            assert e.errno in (errno.ECONNRESET, errno.EPIPE), e
    assert time.monotonic() - t0 < 5
    # A fresh daemon for new sockets.
    srv2, cli2, conn2 = pair(port + 1)
    cli2.sendall(b"fresh")
    assert conn2.recv(10) == b"fresh"
    assert daemon_pid(stat) != pid
    print("ok daemon killed: old sockets reset, a new daemon serves new ones")


SERVER = """
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_SEQPACKET, 132)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen()
print("ready", flush=True)
time.sleep(60)
"""


def held_ports(stat):
    """The local ports of the daemon's endpoints."""
    out = subprocess.run([stat, "stat"], capture_output=True, text=True, check=True).stdout
    ports, on = set(), False
    for line in out.splitlines():
        if line.startswith("ENDPOINTS"):
            on = True
        elif on and line.strip() and line.split()[0].isdigit():
            ports.add(int(line.split()[0]))
        elif on and not line.startswith(" LPORT"):
            on = False
    return ports


def check_many_killed(port, stat):
    cli = socket.socket(socket.AF_INET, socket.SOCK_SEQPACKET, IPPROTO_SCTP)
    cli.setblocking(False)
    for fill in (True, False):
        srv = subprocess.Popen([sys.executable, "-c", SERVER, str(port)], stdout=subprocess.PIPE, text=True)
        assert srv.stdout.readline().strip() == "ready"
        sent, t0 = 0, time.monotonic()
        while time.monotonic() - t0 < 5:
            try:
                cli.sendto(b"x" * 1000, ("127.0.0.1", port))
                sent += 1
                if not fill:
                    break
            except BlockingIOError:
                if sent > 100:  # the receiver's buffer is full
                    break
                time.sleep(0.01)
        time.sleep(0.3)
        assert port in held_ports(stat), "the server's endpoint is not listed"
        srv.kill()
        srv.wait()
        t0 = time.monotonic()
        while port in held_ports(stat):
            assert time.monotonic() - t0 < 3, "the killed process's socket stays in the daemon (%s)" % (
                "buffer full" if fill else "nothing unread")
            time.sleep(0.05)
        port += 1
    print("ok many killed: the sockets left the daemon")


if __name__ == "__main__":
    what = sys.argv[1]
    if what == "subprocess":
        check_subprocess(int(sys.argv[2]))
    elif what == "daemon-killed":
        check_daemon_killed(int(sys.argv[2]), sys.argv[3])
    elif what == "many-killed":
        check_many_killed(int(sys.argv[2]), sys.argv[3])
    else:
        raise SystemExit("unknown check " + what)
