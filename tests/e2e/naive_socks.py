#!/usr/bin/env python3
"""A SOCKS5 proxy that reads each client message with one recv() and drops
whatever came with it (as some small proxies do): a pipelined handshake
stalls here. CONNECT relays; UDP ASSOCIATE relays UDP (IPv4) on a port bound
on 0.0.0.0.

--delay S        waits S seconds before each handshake reply (a slow proxy)
--relay-bnd IP   the BND.ADDR answered to UDP ASSOCIATE (default: --ip);
                 127.0.0.1 acts like hpsockd, which names its relay that way
"""
import argparse
import select
import socket
import struct
import threading
import time

ARGS = None


def reply(c, data):
    if ARGS.delay:
        time.sleep(ARGS.delay)
    c.sendall(data)


def relay(a, b):
    socks = [a, b]
    while True:
        r, _, _ = select.select(socks, [], [], 60)
        if not r:
            return
        for s in r:
            data = s.recv(65536)
            if not data:
                return
            (b if s is a else a).sendall(data)


def parse_udp(d):
    """SOCKS5 UDP request header -> (host, port, payload) or None."""
    if len(d) < 10 or d[2] != 0:
        return None
    if d[3] == 1:
        return socket.inet_ntoa(d[4:8]), struct.unpack("!H", d[8:10])[0], d[10:]
    if d[3] == 3:
        n = d[4]
        return d[5:5 + n].decode(), struct.unpack("!H", d[5 + n:7 + n])[0], d[7 + n:]
    return None


def udp_relay(u, client_ip, stop):
    """Client datagrams (from the control connection's address) go out
    decapsulated; everything else comes back to the client encapsulated."""
    client = None
    u.settimeout(0.5)
    while not stop.is_set():
        try:
            d, src = u.recvfrom(65536)
        except socket.timeout:
            continue
        except OSError:
            return
        if src[0] == client_ip:
            req = parse_udp(d)
            if req is None:
                continue
            client = src
            try:
                u.sendto(req[2], (req[0], req[1]))
            except OSError:
                pass
        elif client is not None:
            hdr = b"\x00\x00\x00\x01" + socket.inet_aton(src[0]) + struct.pack("!H", src[1])
            u.sendto(hdr + d, client)


def handle(c, own_ip):
    try:
        c.settimeout(10)
        greeting = c.recv(512)  # anything behind the greeting is lost here
        if len(greeting) < 3 or greeting[0] != 5:
            return
        reply(c, b"\x05\x00")
        req = c.recv(512)
        if len(req) < 10 or req[0] != 5 or req[3] != 1:
            return
        ip = socket.inet_ntoa(req[4:8])
        port = struct.unpack("!H", req[8:10])[0]
        if req[1] == 3:  # UDP ASSOCIATE: relayed while the connection lasts
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            u.bind(("0.0.0.0", 0))
            stop = threading.Event()
            t = threading.Thread(target=udp_relay, args=(u, c.getpeername()[0], stop), daemon=True)
            t.start()
            bnd = ARGS.relay_bnd or own_ip
            reply(c, b"\x05\x00\x00\x01" + socket.inet_aton(bnd) + struct.pack("!H", u.getsockname()[1]))
            c.settimeout(None)
            while c.recv(512):
                pass
            stop.set()
            t.join()
            u.close()
            return
        up = socket.create_connection((ip, port), timeout=5)
        reply(c, b"\x05\x00\x00\x01" + socket.inet_aton(own_ip) + struct.pack("!H", up.getsockname()[1]))
        c.settimeout(None)
        relay(c, up)
        up.close()
    except OSError:
        pass
    finally:
        c.close()


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--ip", required=True)
    ap.add_argument("--port", type=int, default=1081)
    ap.add_argument("--delay", type=float, default=0.0)
    ap.add_argument("--relay-bnd", default="")
    ARGS = ap.parse_args()
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((ARGS.ip, ARGS.port))
    srv.listen(128)
    while True:
        c, _ = srv.accept()
        threading.Thread(target=handle, args=(c, ARGS.ip), daemon=True).start()


if __name__ == "__main__":
    main()
