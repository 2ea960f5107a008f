"""Linux side of the WinDivert.dll test double's file protocol (double_control.hpp).

A test script points DROVER_WINDIVERT_DOUBLE_DIR at a directory (a Linux path:
the double reads it as Z:<path>) and, with these helpers, feeds packets and
events to Drover's handles and reads what Drover injected.

    import double_ctl as wd
    wd.feed(d, "network", wd.address(outbound=True, if_idx=5), syn_bytes)
    wd.feed(d, "socket", wd.socket_address(wd.EVENT_CONNECT, pid, "198.18.0.1", 50000, "198.18.0.3", 7000, 6))
    for name, addr, packet in wd.sent(d): ...
"""
import ipaddress
import itertools
import os
import struct

LAYERS = {"network": 0, "forward": 1, "flow": 2, "socket": 3, "reflect": 4}
EVENT_PACKET, EVENT_BIND, EVENT_CONNECT, EVENT_LISTEN, EVENT_ACCEPT, EVENT_CLOSE = 0, 3, 4, 5, 6, 7
ADDRESS_SIZE = 80
_TMP = itertools.count()
_BITS = ["sniffed", "outbound", "loopback", "impostor", "ipv6", "ip_checksum", "tcp_checksum", "udp_checksum"]


def _header(layer, event, timestamp, flags):
    word = (layer & 0xFF) | (event & 0xFF) << 8
    for i, name in enumerate(_BITS):
        if flags.get(name):
            word |= 1 << (16 + i)
    return struct.pack("<qII", timestamp, word, 0)


def address(layer="network", event=EVENT_PACKET, if_idx=0, sub_if_idx=0, timestamp=0, **flags):
    """A NETWORK (or forward) layer WINDIVERT_ADDRESS; flags: outbound=True, ipv6=True, ..."""
    data = struct.pack("<II", if_idx, sub_if_idx).ljust(64, b"\0")
    return _header(LAYERS[layer], event, timestamp, flags) + data


def _words(ip):
    """An address as the SOCKET layer has it: IPv4-mapped IPv6, four host-order words, least significant first."""
    a = ipaddress.ip_address(ip)
    if a.version == 4:
        a = ipaddress.IPv6Address("::ffff:" + str(a))
    b = a.packed
    return [int.from_bytes(b[12 - 4 * i:16 - 4 * i], "big") for i in range(4)]


def socket_address(event, pid, local, local_port, remote, remote_port, protocol, endpoint_id=0, parent_id=0,
                   layer="socket", timestamp=0, **flags):
    """A SOCKET (or FLOW) layer WINDIVERT_ADDRESS: data_socket at offset 16."""
    if ipaddress.ip_address(local).version == 6:
        flags.setdefault("ipv6", True)
    data = struct.pack("<QQI4I4IHHB", endpoint_id, parent_id, pid, *_words(local), *_words(remote), local_port,
                       remote_port, protocol).ljust(64, b"\0")
    return _header(LAYERS[layer], event, timestamp, flags) + data


def parse_address(b):
    """The fields of an 80-byte address (network and socket views both)."""
    timestamp, word, _ = struct.unpack_from("<qII", b, 0)
    out = {"timestamp": timestamp, "layer": word & 0xFF, "event": word >> 8 & 0xFF}
    for i, name in enumerate(_BITS):
        out[name] = bool(word >> (16 + i) & 1)
    out["if_idx"], out["sub_if_idx"] = struct.unpack_from("<II", b, 16)
    sock = struct.unpack_from("<QQI4I4IHHB", b, 16)
    out.update(endpoint_id=sock[0], parent_id=sock[1], process_id=sock[2], local_port=sock[11], remote_port=sock[12],
               protocol=sock[13])
    return out


def _publish(directory, data, width=6, suffix=".pkt"):
    """Writes under a temporary name, then renames to the first free number (never half a record)."""
    os.makedirs(directory, exist_ok=True)
    tmp = os.path.join(directory, ".tmp-py-%d-%d" % (os.getpid(), next(_TMP)))
    with open(tmp, "wb") as f:
        f.write(data)
    n = 1
    while True:
        final = os.path.join(directory, str(n).zfill(width) + suffix)
        try:
            os.link(tmp, final)  # fails if it exists: a rename that never replaces
            os.unlink(tmp)
            return final
        except FileExistsError:
            n += 1


def feed(control_dir, layer, addr, packet=b""):
    """One record for the handles of `layer` ("network", "socket", ...); returns its path."""
    assert len(addr) == ADDRESS_SIZE
    return _publish(os.path.join(control_dir, "in-" + layer), addr + packet)


def sent(control_dir):
    """What the double's WinDivertSendEx wrote, in send order: [(name, address dict, packet bytes)]."""
    out_dir = os.path.join(control_dir, "out")
    names = sorted(n for n in os.listdir(out_dir) if n.endswith(".pkt")) if os.path.isdir(out_dir) else []
    result = []
    for n in names:
        with open(os.path.join(out_dir, n), "rb") as f:
            data = f.read()
        result.append((n, parse_address(data[:ADDRESS_SIZE]), data[ADDRESS_SIZE:]))
    return result


def opens(control_dir):
    """Every WinDivertOpen so far, in order: [{"filter":..., "layer":..., "result": "handle" | "error N"}]."""
    found = []
    for n in os.listdir(control_dir):
        if n.startswith("open-") and n.endswith(".txt") and n[5:-4].isdigit():
            with open(os.path.join(control_dir, n)) as f:
                rec = dict(line.split("=", 1) for line in f.read().splitlines() if "=" in line)
            found.append((int(n[5:-4]), rec))
    return [r for _, r in sorted(found)]


def set_open_error(control_dir, code, layer=None):
    """Makes WinDivertOpen fail with `code` (for one layer, or all); code None removes it."""
    path = os.path.join(control_dir, "open-error" + ("-" + layer if layer else ""))
    if code is None:
        if os.path.exists(path):
            os.unlink(path)
    else:
        with open(path, "w") as f:
            f.write(str(code))


def lose_handle(control_dir, number=None):
    """The driver goes away: every handle, or the handle of open-N.txt."""
    open(os.path.join(control_dir, "lose-handle" + ("-%d" % number if number else "")), "w").close()
