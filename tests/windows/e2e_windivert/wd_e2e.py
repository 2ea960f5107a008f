#!/usr/bin/env python3
"""The packet side of tests/windows/e2e_windivert.sh: what WinDivert and the
Windows kernel would do around drover.exe, done through the test double's
files (tests/windows/windivert_double/double_ctl.py).

Each subcommand is one scenario; it prints "ok ..." and exits 0, or prints
"FAIL: ..." and exits 1. Every wait is bounded.

  winpid NAME                       (stdin: `wmic process get name,processid`)
  tcp DIR PID C S CP SP IFIDX http|echo
  udp DIR PID C S CP SP IFIDX
  nontarget DIR PID C S CP SP IFIDX
  refused DIR PID|none C S CP SP IFIDX
  opens DIR                          (the open-N.txt records, one per line)
"""
import ipaddress
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "windivert_double"))
import double_ctl as wd  # noqa: E402

TCP, UDP = 6, 17
SYN, RST, ACK = 0x02, 0x04, 0x10


class Fail(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


# --- packets -----------------------------------------------------------------

def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def _pseudo(src, dst, proto, length):
    if src.version == 4:
        return src.packed + dst.packed + struct.pack("!BBH", 0, proto, length)
    return src.packed + dst.packed + struct.pack("!IxxxB", length, proto)


def build(src, sport, dst, dport, proto, flags=SYN, payload=b"", seq=0x1000):
    """An IPv4 or IPv6 TCP/UDP packet with correct checksums."""
    s, d = ipaddress.ip_address(src), ipaddress.ip_address(dst)
    if proto == TCP:
        # A SYN with an MSS option, as a real stack sends it.
        opts = struct.pack("!BBH", 2, 4, 1460) if flags & SYN else b""
        l4 = struct.pack("!HHIIBBHHH", sport, dport, seq, 0, (5 + len(opts) // 4) << 4, flags, 64240, 0, 0) + opts
        l4 += payload
        c = csum(_pseudo(s, d, TCP, len(l4)) + l4)
        l4 = l4[:16] + struct.pack("!H", c) + l4[18:]
    else:
        l4 = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
        c = csum(_pseudo(s, d, UDP, len(l4)) + l4) or 0xFFFF
        l4 = l4[:6] + struct.pack("!H", c) + l4[8:]
    if s.version == 4:
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 0x4242, 0x4000, 64, proto, 0, s.packed, d.packed)
        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    else:
        ip = struct.pack("!IHBB16s16s", 6 << 28, len(l4), proto, 64, s.packed, d.packed)
    return ip + l4


def parse(p):
    """The fields of an IPv4/IPv6 TCP/UDP packet, with its checksums checked."""
    check(len(p) >= 20, "a packet of %d bytes" % len(p))
    v = p[0] >> 4
    if v == 4:
        ihl = (p[0] & 15) * 4
        total = struct.unpack_from("!H", p, 2)[0]
        proto = p[9]
        src, dst = ipaddress.ip_address(p[12:16]), ipaddress.ip_address(p[16:20])
        ip_ok = csum(p[:ihl]) == 0
        l4 = p[ihl:total]
    else:
        check(v == 6 and len(p) >= 40, "not an IP packet")
        plen = struct.unpack_from("!H", p, 4)[0]
        proto = p[6]
        src, dst = ipaddress.ip_address(p[8:24]), ipaddress.ip_address(p[24:40])
        ip_ok = True  # IPv6 has no header checksum
        l4 = p[40:40 + plen]
    out = {"version": v, "proto": proto, "src": str(src), "dst": str(dst), "ip_ok": ip_ok, "len": len(p)}
    out["sport"], out["dport"] = struct.unpack_from("!HH", l4, 0)
    out["l4_ok"] = csum(_pseudo(src, dst, proto, len(l4)) + l4) == 0
    if proto == TCP:
        out["flags"] = l4[13]
        out["payload"] = l4[(l4[12] >> 4) * 4:]
    else:
        out["payload"] = l4[8:]
    return out


def describe(p):
    try:
        f = parse(p)
    except Exception as e:  # noqa: BLE001 - a description only
        return "unparsable (%s)" % e
    return "%s:%d -> %s:%d proto %d flags %s len %d" % (f["src"], f["sport"], f["dst"], f["dport"], f["proto"],
                                                         hex(f.get("flags", 0)), f["len"])


# --- the double's files ------------------------------------------------------

def out_count(d):
    return len(wd.sent(d))


def wait_out(d, n, secs):
    """The records past the first n, once at least one is there (or [] after secs)."""
    end = time.time() + secs
    while time.time() < end:
        s = wd.sent(d)
        if len(s) > n:
            time.sleep(0.05)  # a batch may carry more than one
            return wd.sent(d)[n:]
        time.sleep(0.02)
    return []


def feed_consumed(d, layer, addr, packet=b"", secs=10):
    """Feeds a record and waits until a handle of that layer took it."""
    path = wd.feed(d, layer, addr, packet)
    end = time.time() + secs
    while os.path.exists(path):
        check(time.time() < end, "no %s-layer handle took %s within %ds" % (layer, os.path.basename(path), secs))
        time.sleep(0.02)
    return path


def socket_event(d, event, pid, local, lport, remote, rport, proto):
    feed_consumed(d, "socket", wd.socket_address(event, pid, local, lport, remote, rport, proto))
    # The capture's SOCKET-layer thread records the owner right after its
    # receive returns: a moment, so the packet that follows finds it.
    time.sleep(0.2)


def net_address(if_idx, v6=False):
    return wd.address(outbound=True, if_idx=if_idx, sub_if_idx=1, ipv6=v6)


def leaked_outbound(records, dst, dport):
    return [n for n, a, p in records if a["outbound"] and _dst_is(p, dst, dport)]


def _dst_is(p, dst, dport):
    try:
        f = parse(p)
    except Fail:
        return False
    return f["dst"] == dst and f["dport"] == dport


# --- scenarios ---------------------------------------------------------------

def scenario_tcp(d, pid, c, s, cp, sp, if_idx, mode):
    """A target's SYN is reflected to the listener; then the connection the
    kernel would deliver (S:cp -> C:L) is made for real, and its bytes must
    come back from the far server through the proxy."""
    pid, cp, sp, if_idx = int(pid), int(cp), int(sp), int(if_idx)
    n0 = out_count(d)
    socket_event(d, wd.EVENT_CONNECT, pid, c, cp, s, sp, TCP)
    syn = build(c, cp, s, sp, TCP, SYN)
    feed_consumed(d, "network", net_address(if_idx), syn)
    recs = wait_out(d, n0, 10)
    check(recs, "nothing injected for the target's SYN within 10 s")
    name, a, p = recs[0]
    f = parse(p)
    check(f["proto"] == TCP and f["flags"] & SYN and not f["flags"] & ACK, "%s is no SYN: %s" % (name, describe(p)))
    check(f["src"] == s and f["sport"] == cp, "reflected SYN from %s:%d, want %s:%d" % (f["src"], f["sport"], s, cp))
    check(f["dst"] == c, "reflected SYN to %s, want %s" % (f["dst"], c))
    check(not a["outbound"], "the reflected SYN was sent outbound")
    check(a["if_idx"] == if_idx, "reflected on IfIdx %d, want %d" % (a["if_idx"], if_idx))
    check(f["ip_ok"] and f["l4_ok"], "bad checksums on the reflected SYN")
    listener = f["dport"]
    check(listener != sp, "the SYN was not redirected (destination port %d)" % listener)
    check(not leaked_outbound(recs, s, sp), "the target's SYN also went out to %s:%d" % (s, sp))

    # The kernel's part: the reflected SYN arrives at the listener as from
    # S:cp. Here a real socket bound to S:cp (S is also on the client
    # namespace's lo) connects to the listener.
    k = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    k.settimeout(10)
    k.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    k.bind((s, cp))
    k.connect((c, listener))
    if mode == "http":
        k.sendall(b"GET / HTTP/1.0\r\nHost: far\r\n\r\n")
        got = b""
        while True:
            b = k.recv(65536)
            if not b:
                break
            got += b
        check(b"hello from the far server" in got, "the HTTP reply was %r" % got[:200])
        what = "HTTP reply %d bytes" % len(got)
    else:
        msg = os.urandom(1 << 16)
        k.sendall(msg)
        got = b""
        while len(got) < len(msg):
            b = k.recv(65536)
            check(b, "the echo ended after %d of %d bytes" % (len(got), len(msg)))
            got += b
        check(got == msg, "the echo came back different")
        what = "echo %d bytes verified" % len(got)
    k.close()
    after = wd.sent(d)[n0:]
    check(not leaked_outbound(after, s, sp), "a packet of the target went out to %s:%d" % (s, sp))
    print("ok listener=%d %s" % (listener, what))


def scenario_udp(d, pid, c, s, cp, sp, if_idx):
    """A target's datagram is taken; the far echo's reply is injected inbound
    from the original destination on the captured IfIdx."""
    pid, cp, sp, if_idx = int(pid), int(cp), int(sp), int(if_idx)
    n0 = out_count(d)
    socket_event(d, wd.EVENT_BIND, pid, "0.0.0.0", cp, "0.0.0.0", 0, UDP)
    payload = b"drover-windivert-e2e " + os.urandom(8).hex().encode()
    dgram = build(c, cp, s, sp, UDP, payload=payload)
    t0 = time.time()
    feed_consumed(d, "network", net_address(if_idx), dgram)
    recs = wait_out(d, n0, 10)
    check(recs, "no reply injected within 10 s")
    ms = (time.time() - t0) * 1000
    name, a, p = recs[0]
    f = parse(p)
    check(f["proto"] == UDP, "%s is not UDP: %s" % (name, describe(p)))
    check((f["src"], f["sport"]) == (s, sp), "reply from %s:%d, want %s:%d" % (f["src"], f["sport"], s, sp))
    check((f["dst"], f["dport"]) == (c, cp), "reply to %s:%d, want %s:%d" % (f["dst"], f["dport"], c, cp))
    check(f["payload"] == payload, "the reply's payload %r is not the datagram's" % f["payload"][:64])
    check(f["ip_ok"], "bad IPv4 header checksum on the reply")
    check(f["l4_ok"], "bad UDP checksum on the reply")
    check(not a["outbound"], "the reply was sent outbound")
    check(a["if_idx"] == if_idx, "the reply went to IfIdx %d, want %d" % (a["if_idx"], if_idx))
    check(len(recs) == 1, "%d packets injected, want 1: %s" % (len(recs), [describe(x[2]) for x in recs]))
    print("ok reply %s:%d -> %s:%d, %d bytes, IfIdx %d, checksums valid, %.0f ms" %
          (f["src"], f["sport"], f["dst"], f["dport"], len(f["payload"]), a["if_idx"], ms))


def scenario_nontarget(d, pid, c, s, cp, sp, if_idx):
    """Another program's SYN goes back out exactly as it came."""
    pid, cp, sp, if_idx = int(pid), int(cp), int(sp), int(if_idx)
    n0 = out_count(d)
    socket_event(d, wd.EVENT_CONNECT, pid, c, cp, s, sp, TCP)
    syn = build(c, cp, s, sp, TCP, SYN, seq=0x7777)
    addr = net_address(if_idx)
    path = feed_consumed(d, "network", addr, syn)
    recs = wait_out(d, n0, 10)
    check(recs, "nothing reinjected within 10 s")
    name = recs[0][0]
    with open(os.path.join(d, "out", name), "rb") as fh:
        rec = fh.read()
    check(rec[wd.ADDRESS_SIZE:] == syn, "the reinjected packet differs: %s" % describe(rec[wd.ADDRESS_SIZE:]))
    check(rec[:wd.ADDRESS_SIZE] == addr, "the reinjected packet's address differs: %s" % wd.parse_address(rec))
    check(len(recs) == 1, "%d packets injected, want 1" % len(recs))
    print("ok %s: %d bytes, packet and address byte-identical (%s)" % (name, len(rec), os.path.basename(path)))


def scenario_refused(d, pid, c, s, cp, sp, if_idx):
    """A SYN Drover must refuse (a target's IPv6; or one no SOCKET event
    attributed, pid "none"): an inbound RST, nothing else."""
    cp, sp, if_idx = int(cp), int(sp), int(if_idx)
    v6 = ipaddress.ip_address(c).version == 6
    n0 = out_count(d)
    if pid != "none":
        socket_event(d, wd.EVENT_CONNECT, int(pid), c, cp, s, sp, TCP)
    syn = build(c, cp, s, sp, TCP, SYN)
    feed_consumed(d, "network", net_address(if_idx, v6=v6), syn)
    recs = wait_out(d, n0, 10)
    check(recs, "nothing injected for the SYN within 10 s")
    time.sleep(1.0)  # anything else it would send
    recs = wd.sent(d)[n0:]
    check(len(recs) == 1, "%d packets injected, want 1 RST: %s" % (len(recs), [describe(x[2]) for x in recs]))
    name, a, p = recs[0]
    f = parse(p)
    check(f["version"] == (6 if v6 else 4) and f["proto"] == TCP and f["flags"] & RST,
          "%s is no RST: %s" % (name, describe(p)))
    check((f["src"], f["sport"]) == (s, sp) and (f["dst"], f["dport"]) == (c, cp),
          "RST %s:%d -> %s:%d, want %s:%d -> %s:%d" % (f["src"], f["sport"], f["dst"], f["dport"], s, sp, c, cp))
    check(not a["outbound"], "the RST was sent outbound")
    check(f["l4_ok"], "bad TCP checksum on the RST")
    print("ok %s: RST %s:%d -> %s:%d inbound, nothing else" % (name, f["src"], f["sport"], f["dst"], f["dport"]))


def winpid(name):
    text = sys.stdin.buffer.read().replace(b"\0", b"").decode("ascii", "replace")
    pids = [ln.split()[-1] for ln in text.splitlines()
            if len(ln.split()) >= 2 and ln.split()[0].lower() == name.lower() and ln.split()[-1].isdigit()]
    check(pids, "no process named %s in wmic's list" % name)
    print(pids[-1])


def opens(d):
    for i, r in enumerate(wd.opens(d), 1):
        print(i, r.get("layer"), r.get("result"))


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    try:
        {"winpid": winpid, "tcp": scenario_tcp, "udp": scenario_udp, "nontarget": scenario_nontarget,
         "refused": scenario_refused, "opens": opens}[cmd](*args)
    except (Fail, OSError) as e:
        print("FAIL: %s: %s" % (cmd, e))
        sys.exit(1)


if __name__ == "__main__":
    main()
