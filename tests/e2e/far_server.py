#!/usr/bin/env python3
"""The 'far' test host: HTTP on 8080 (and [::]:8086), TCP echo on 7000, UDP
echo on 7001 and 7002 (IPv4) and on [::]:7001 (IPv6).

Every TCP connection's peer is logged ("tcp IP PORT") and so is every UDP
datagram's ("udp IP PORT DSTPORT LEN"), written and flushed before the
reply goes out, so tests can tell proxied traffic (from the proxy host) from
direct traffic (a leak when the client is a target). The listeners accept
data in the SYN (TCP Fast Open, when the namespace's sysctl allows it).
Bytes served by /bytes/N follow a pattern the test client verifies byte by
byte.
"""
import argparse
import http.server
import socket
import socketserver
import sys
import threading

PERIOD = 65521
BLOCK = bytes(((j * 7 + 13) & 0xFF) for j in range(PERIOD))
log_lock = threading.Lock()
log_file = None


def log_line(line):
    with log_lock:
        log_file.write(line + "\n")
        log_file.flush()


def log_peer(addr):
    log_line(f"tcp {addr[0]} {addr[1]}")


def fast_open(sock):
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_FASTOPEN, 256)
    except (AttributeError, OSError):
        pass


class Http(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, *args):
        pass

    # Every connection, as it is accepted: one that never sends a request
    # (or is cut before it) still shows who made it.
    def setup(self):
        log_peer(self.client_address)
        super().setup()

    def do_GET(self):
        if self.path.startswith("/bytes/"):
            try:
                n = int(self.path[len("/bytes/"):])
            except ValueError:
                self.send_error(400)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(n))
            self.end_headers()
            sent = 0
            while sent < n:
                off = sent % PERIOD
                chunk = BLOCK[off:off + min(PERIOD - off, n - sent)]
                self.wfile.write(chunk)
                sent += len(chunk)
            return
        body = b"<html><body>hello from the far server</body></html>\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class Echo(socketserver.BaseRequestHandler):
    def handle(self):
        log_peer(self.client_address)
        while True:
            data = self.request.recv(65536)
            if not data:
                return
            self.request.sendall(data)


class ThreadingTCP(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024

    def server_bind(self):
        fast_open(self.socket)
        super().server_bind()


class ThreadingHTTP(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024

    def server_bind(self):
        fast_open(self.socket)
        super().server_bind()


class ThreadingHTTP6(ThreadingHTTP):
    address_family = socket.AF_INET6


def udp_socket(family, port):
    s = socket.socket(family, socket.SOCK_DGRAM)
    # SO_RCVBUFFORCE / SO_SNDBUFFORCE (33, 32; root): past net.core.rmem_max,
    # so a burst is never lost here.
    for force, plain in ((33, socket.SO_RCVBUF), (32, socket.SO_SNDBUF)):
        try:
            s.setsockopt(socket.SOL_SOCKET, force, 8 << 20)
        except OSError:
            s.setsockopt(socket.SOL_SOCKET, plain, 8 << 20)
    if family == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.bind(("::", port))
    else:
        s.bind(("0.0.0.0", port))
    return s


def udp_echo(s, port):
    while True:
        data, peer = s.recvfrom(65535)
        log_line(f"udp {peer[0]} {peer[1]} {port} {len(data)}")
        s.sendto(data, peer)


def udp_introducer(s, port, other):
    # Answers from `other` (another port's socket): the client then meets a
    # peer it never sent to, as an ICE or STUN change request makes it.
    while True:
        data, peer = s.recvfrom(65535)
        log_line(f"udp {peer[0]} {peer[1]} {port} {len(data)}")
        other.sendto(b"introduced", peer)


def main():
    global log_file
    ap = argparse.ArgumentParser()
    ap.add_argument("--log", required=True)
    ap.add_argument("--http", type=int, default=8080)
    ap.add_argument("--echo", type=int, default=7000)
    ap.add_argument("--udp", type=int, action="append", help="UDP echo port (repeatable; default 7001 and 7002)")
    ap.add_argument("--udp6", type=int, default=7001)
    ap.add_argument("--http6", type=int, default=8086)
    a = ap.parse_args()
    log_file = open(a.log, "a")
    servers = [ThreadingHTTP(("0.0.0.0", a.http), Http), ThreadingTCP(("0.0.0.0", a.echo), Echo)]
    if socket.has_ipv6:
        try:
            servers.append(ThreadingHTTP6(("::", a.http6), Http))
        except OSError:
            pass  # no IPv6 in this namespace
    for srv in servers:
        threading.Thread(target=srv.serve_forever, daemon=True).start()
    udp = [(socket.AF_INET, p) for p in (a.udp or [7001, 7002])]
    if socket.has_ipv6:
        udp.append((socket.AF_INET6, a.udp6))
    for family, port in udp:
        try:
            sock = udp_socket(family, port)
        except OSError:
            if family == socket.AF_INET6:
                continue  # no IPv6 in this namespace
            raise
        threading.Thread(target=udp_echo, args=(sock, port), daemon=True).start()
        if family == socket.AF_INET and port == 7002:
            intro = udp_socket(socket.AF_INET, 7010)
            threading.Thread(target=udp_introducer, args=(intro, 7010, sock), daemon=True).start()
    print("far server ready", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    sys.exit(main())
