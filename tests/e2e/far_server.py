#!/usr/bin/env python3
"""The 'far' test host: HTTP on 8080, TCP echo on 7000, UDP echo on 7001.

Every TCP connection's peer is logged ("tcp IP PORT") so tests can tell
proxied connections (from the proxy host) from direct ones (a leak when the
client is a target). Bytes served by /bytes/N follow a pattern the test
client verifies byte by byte.
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


def log_peer(addr):
    with log_lock:
        log_file.write(f"tcp {addr[0]} {addr[1]}\n")
        log_file.flush()


class Http(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, *args):
        pass

    def do_GET(self):
        log_peer(self.client_address)
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


class ThreadingHTTP(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024


class ThreadingHTTP6(ThreadingHTTP):
    address_family = socket.AF_INET6


def udp_echo(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind(("0.0.0.0", port))
    while True:
        data, peer = s.recvfrom(65535)
        s.sendto(data, peer)


def main():
    global log_file
    ap = argparse.ArgumentParser()
    ap.add_argument("--log", required=True)
    ap.add_argument("--http", type=int, default=8080)
    ap.add_argument("--echo", type=int, default=7000)
    ap.add_argument("--udp", type=int, default=7001)
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
    threading.Thread(target=udp_echo, args=(a.udp,), daemon=True).start()
    print("far server ready", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    sys.exit(main())
