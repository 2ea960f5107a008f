#!/usr/bin/env python3
"""A SOCKS5 proxy that reads each client message with one recv() and drops
whatever came with it (as some small proxies do): a pipelined handshake
stalls here. CONNECT relays; UDP ASSOCIATE answers but relays nothing."""
import argparse
import select
import socket
import struct
import threading


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


def handle(c, own_ip):
    try:
        c.settimeout(10)
        greeting = c.recv(512)  # anything behind the greeting is lost here
        if len(greeting) < 3 or greeting[0] != 5:
            return
        c.sendall(b"\x05\x00")
        req = c.recv(512)
        if len(req) < 10 or req[0] != 5 or req[3] != 1:
            return
        ip = socket.inet_ntoa(req[4:8])
        port = struct.unpack("!H", req[8:10])[0]
        if req[1] == 3:  # UDP ASSOCIATE: answered, then held open
            c.sendall(b"\x05\x00\x00\x01" + socket.inet_aton(own_ip) + struct.pack("!H", 9))
            c.settimeout(None)
            while c.recv(512):
                pass
            return
        up = socket.create_connection((ip, port), timeout=5)
        c.sendall(b"\x05\x00\x00\x01" + socket.inet_aton(own_ip) + struct.pack("!H", up.getsockname()[1]))
        c.settimeout(None)
        relay(c, up)
        up.close()
    except OSError:
        pass
    finally:
        c.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ip", required=True)
    ap.add_argument("--port", type=int, default=1081)
    a = ap.parse_args()
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((a.ip, a.port))
    srv.listen(128)
    while True:
        c, _ = srv.accept()
        threading.Thread(target=handle, args=(c, a.ip), daemon=True).start()


if __name__ == "__main__":
    main()
