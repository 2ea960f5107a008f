#!/usr/bin/env python3
"""Subscribes to the engine's state changes ("watch"), sends one request on a
second connection (e.g. "sleep"), and prints how many milliseconds passed
until a watcher line containing the expected text arrived."""
import socket
import sys
import time

path, request, expect = sys.argv[1:4]
watch = socket.socket(socket.AF_UNIX)
watch.connect(path)
watch.sendall(b"watch\n")
buf = b""
while b"\n" not in buf:  # the current status comes first
    buf += watch.recv(65536)
buf = buf.split(b"\n", 1)[1]
ctl = socket.socket(socket.AF_UNIX)
ctl.connect(path)
t0 = time.monotonic()
ctl.sendall((request + "\n").encode())
watch.settimeout(5)
while expect.encode() not in buf:
    chunk = watch.recv(65536)
    if not chunk:
        sys.exit("watch connection closed")
    buf += chunk
print(f"{(time.monotonic() - t0) * 1000:.1f}")
