#!/usr/bin/env python3
"""A TCP forwarder that holds every new connection for --delay-ms before it
connects onward and relays both ways: a proxy far away (a SOCKS5 handshake,
UDP ASSOCIATE included, takes that much longer), in front of a real one.
Only the control connection is slowed; the UDP relay address the proxy
answers with is used directly."""
import argparse
import socket
import threading
import time


def pump(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s, how in ((dst, socket.SHUT_WR), (src, socket.SHUT_RD)):
            try:
                s.shutdown(how)
            except OSError:
                pass


def serve(client, to, delay):
    time.sleep(delay)
    try:
        up = socket.create_connection(to, timeout=5)
        up.settimeout(None)
    except OSError:
        client.close()
        return
    for s in (client, up):
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    t = threading.Thread(target=pump, args=(up, client), daemon=True)
    t.start()
    pump(client, up)
    t.join()
    client.close()
    up.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", required=True, help="IP:PORT")
    ap.add_argument("--to", required=True, help="IP:PORT")
    ap.add_argument("--delay-ms", type=int, default=150)
    a = ap.parse_args()
    lip, lport = a.listen.rsplit(":", 1)
    tip, tport = a.to.rsplit(":", 1)
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((lip, int(lport)))
    ls.listen(256)
    while True:
        c, _ = ls.accept()
        threading.Thread(target=serve, args=(c, (tip, int(tport)), a.delay_ms / 1000), daemon=True).start()


if __name__ == "__main__":
    main()
