#!/usr/bin/env python3
"""UDP clients written the way real applications write them, run by the
tests under a target name (a copy of the python interpreter called
"droverpy") or not ("plainpy").

  sendto  IP PORT1 PORT2 ROUNDS   one unconnected socket, sendto() to both
  asyncio IP PORT1 PORT2 ROUNDS   asyncio's datagram endpoint, no remote_addr
  first   IP PORT SIZE COUNT      asyncio, connected (remote_addr), first
                                  datagram SIZE bytes (QUIC sends >= 1,200)
  tcplong IP PORT SECS            one TCP connection echoing a line every
                                  100 ms; connects again when it is reset
  introduced IP PORT              one unconnected socket asks PORT, hears
                                  from another port of the peer (as ICE /
                                  STUN change requests do) and answers there

Every reply must come back from the address its datagram was sent to, with
the same bytes. Prints "ok ..." (exit 0) or "fail ..." (exit 1).
"""
import asyncio
import socket
import struct
import sys


def payload(tag, size):
    body = bytes(((tag * 31 + j) * 7 + 13) & 0xFF for j in range(max(size, 8)))
    return struct.pack("!II", tag, len(body)) + body[8:]


class Tally:
    """Replies checked against what is awaited: `want` maps a tag to the
    (address, bytes) it was sent to."""

    def __init__(self):
        self.received = self.wrong = self.corrupt = 0

    def take(self, want, data, src):
        tag = struct.unpack("!I", data[:4])[0] if len(data) >= 8 else -1
        if tag not in want:
            return
        if src[:2] != want[tag][0]:
            self.wrong += 1
        elif data != want[tag][1]:
            self.corrupt += 1
        else:
            del want[tag]
            self.received += 1

    def ok(self, sent):
        return self.received == sent and not self.wrong and not self.corrupt

    def fields(self, sent):
        return dict(sent=sent, received=self.received, wrong_source=self.wrong, corrupt=self.corrupt)


def report(ok, **kw):
    print(("ok" if ok else "fail") + "".join(f" {k}={v}" for k, v in kw.items()), flush=True)
    return 0 if ok else 1


def plain_sendto(ip, ports, rounds):
    s = socket.socket(socket.AF_INET6 if ":" in ip else socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    sent = 0
    got = Tally()
    for r in range(rounds):
        want = {}
        for k, port in enumerate(ports):
            data = payload(r * 2 + k, 200)
            s.sendto(data, (ip, port))
            want[r * 2 + k] = ((ip, port), data)
            sent += 1
        while want:
            try:
                data, src = s.recvfrom(65536)
            except socket.timeout:
                break
            got.take(want, data, src)
    return report(got.ok(sent), **got.fields(sent), local_port=s.getsockname()[1])


class Collector(asyncio.DatagramProtocol):
    def __init__(self):
        self.queue = asyncio.Queue()
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        self.queue.put_nowait((data, addr))

    def error_received(self, exc):
        self.queue.put_nowait((None, exc))


async def async_exchange(ip, dests, rounds, first_size, connected):
    loop = asyncio.get_running_loop()
    family = socket.AF_INET6 if ":" in ip else socket.AF_INET
    if connected:
        transport, proto = await loop.create_datagram_endpoint(Collector, remote_addr=dests[0], family=family)
    else:
        local = ("::", 0) if family == socket.AF_INET6 else ("0.0.0.0", 0)
        transport, proto = await loop.create_datagram_endpoint(Collector, local_addr=local, family=family)
    sent = refused = 0
    got = Tally()
    tag = 0
    for r in range(rounds):
        want = {}
        for dest in dests:
            data = payload(tag, first_size if tag == 0 else 200)
            if connected:
                transport.sendto(data)
            else:
                transport.sendto(data, dest)
            want[tag] = (dest, data)
            tag += 1
            sent += 1
        deadline = loop.time() + 2
        while want:
            try:
                data, src = await asyncio.wait_for(proto.queue.get(), max(0.01, deadline - loop.time()))
            except asyncio.TimeoutError:
                break
            if data is None:
                refused += isinstance(src, ConnectionRefusedError)
                continue
            got.take(want, data, src)
    port = transport.get_extra_info("sockname")[1]
    transport.close()
    return report(got.ok(sent), **got.fields(sent), refused=refused, first=first_size, local_port=port)


def introduced(ip, port):
    # The far server's introducer answers from another port; a real peer
    # learnt that way (ICE) is then talked to directly.
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(3)
    s.sendto(b"introduce me", (ip, port))
    try:
        data, peer = s.recvfrom(65535)
    except socket.timeout:
        return report(False, why="no introduction")
    if peer[1] == port:
        return report(False, why="the answer came from the asked port", peer=peer)
    s.sendto(b"hello new peer", peer)
    try:
        data, back = s.recvfrom(65535)
    except socket.timeout:
        return report(False, why="the new peer did not answer", peer=peer)
    return report(data == b"hello new peer" and back == peer, peer=f"{peer[0]}:{peer[1]}")


def tcp_long(ip, port, secs):
    # An app's long-lived connection (a chat gateway): on a reset it
    # connects again, as real clients do.
    import time
    end = time.monotonic() + secs
    reconnects = echoes = 0
    s = None
    while time.monotonic() < end:
        try:
            if s is None:
                s = socket.create_connection((ip, port), timeout=2)
            s.sendall(b"ping\n")
            if s.recv(64) != b"ping\n":
                raise OSError("short echo")
            echoes += 1
        except OSError:
            if s is not None:
                s.close()
                reconnects += 1
            s = None
        time.sleep(0.1)
    return report(echoes > 0, reconnects=reconnects, echoes=echoes)


def main(argv):
    if len(argv) < (4 if len(argv) > 1 and argv[1] == "introduced" else 5):
        print(__doc__, file=sys.stderr)
        return 2
    mode, ip = argv[1], argv[2]
    if mode == "introduced":
        return introduced(ip, int(argv[3]))
    if mode == "tcplong":
        return tcp_long(ip, int(argv[3]), float(argv[4]))
    if mode == "sendto":
        return plain_sendto(ip, [int(argv[3]), int(argv[4])], int(argv[5]) if len(argv) > 5 else 5)
    if mode == "asyncio":
        dests = [(ip, int(argv[3])), (ip, int(argv[4]))]
        return asyncio.run(async_exchange(ip, dests, int(argv[5]) if len(argv) > 5 else 5, 200, False))
    if mode == "first":
        count = int(argv[5]) if len(argv) > 5 else 5
        return asyncio.run(async_exchange(ip, [(ip, int(argv[3]))], count, int(argv[4]), True))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
