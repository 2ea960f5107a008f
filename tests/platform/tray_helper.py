#!/usr/bin/python3
"""The tray tests' eyes and hands: the StatusNotifierItem host and our item
over D-Bus (the session bus of DBUS_SESSION_BUS_ADDRESS), and pixel counts of
a screenshot.

  tray_helper.py wait-host SECONDS        until the watcher has a host
  tray_helper.py wait-item SECONDS        until an item ".../drover" is registered; prints "BUS PATH"
  tray_helper.py layout                   our menu: "ID<TAB>LABEL<TAB>enabled|disabled<TAB>toggle-state" a row
                                          (a separator's label is "----")
  tray_helper.py click LABEL              dbusmenu Event(id, "clicked") on the row whose label starts with LABEL
  tray_helper.py menu-event opened|closed dbusmenu Event(0, ...) on the root, as hosts that say so send it
  tray_helper.py notify-server OUT        a stand-in org.freedesktop.Notifications: each Notify as a JSON line
  tray_helper.py bus-pids                 the pids of every client of the session bus but the bus itself
  tray_helper.py colours PNG              pixels near each tray colour: "grey=N green=N yellow=N red=N"
  tray_helper.py wait-colour X Y W H COLOUR SECONDS OUT.png
                                          screenshots the area until COLOUR dominates it ("none": until no
                                          tray colour is there); keeps the last one
  tray_helper.py wait-bright X Y W H SHARE SECONDS OUT.png
                                          screenshots the area until SHARE of it is bright (a menu drawn there)

Every wait is bounded; a wait that runs out exits 1 saying what it saw.
"""
import subprocess
import sys
import time

from gi.repository import Gio, GLib

WATCHER = "org.kde.StatusNotifierWatcher"
# tray::colour_rgb (core/tray_model.cpp): what the icon's disc is drawn in.
COLOURS = {"grey": 0x8A8A8A, "green": 0x2EB84B, "yellow": 0xF2B90C, "red": 0xD93025}
TOLERANCE = 40  # per channel: the host scales the icon and blends its edge
MIN_PIXELS = 80  # of a ~20 px disc (~300 px) on a 22 px icon


def bus():
    return Gio.bus_get_sync(Gio.BusType.SESSION, None)


def call(dest, path, iface, method, args, reply=None, timeout_ms=3000):
    return bus().call_sync(dest, path, iface, method, args,
                           GLib.VariantType(reply) if reply else None,
                           Gio.DBusCallFlags.NONE, timeout_ms, None)


def watcher_prop(name):
    return call(WATCHER, "/StatusNotifierWatcher", "org.freedesktop.DBus.Properties", "Get",
                GLib.Variant("(ss)", (WATCHER, name)), "(v)").unpack()[0]


def until(seconds, probe, what):
    deadline = time.monotonic() + float(seconds)
    last = None
    while True:
        try:
            last = probe()
            if last:
                return last
        except GLib.Error as e:
            last = e.message
        if time.monotonic() > deadline:
            sys.exit(f"tray_helper: no {what} after {seconds} s (last: {last})")
        time.sleep(0.05)


def our_item():
    for entry in watcher_prop("RegisteredStatusNotifierItems"):
        # ayatana registers "BUS/PATH"; others register a bus name only.
        slash = entry.find("/")
        name, path = (entry[:slash], entry[slash:]) if slash > 0 else (entry, "/StatusNotifierItem")
        if path.endswith("/drover"):
            return name, path
    return None


def menu_of(name, path):
    return call(name, path, "org.freedesktop.DBus.Properties", "Get",
                GLib.Variant("(ss)", ("org.kde.StatusNotifierItem", "Menu")), "(v)").unpack()[0]


def rows():
    name, path = our_item() or sys.exit("tray_helper: our item is not registered")
    menu = menu_of(name, path)
    _, layout = call(name, menu, "com.canonical.dbusmenu", "GetLayout",
                     GLib.Variant("(iias)", (0, -1, [])), "(u(ia{sv}av))").unpack()
    out = []
    for child in layout[2]:
        cid, props, _ = child
        if props.get("visible", True) is False:
            continue
        label = "----" if props.get("type") == "separator" else props.get("label", "")
        out.append((cid, label, props.get("enabled", True), props.get("toggle-state", -1)))
    return name, menu, out


def event(name, menu, cid, what):
    call(name, menu, "com.canonical.dbusmenu", "Event",
         GLib.Variant("(isvu)", (cid, what, GLib.Variant("i", 0), 0)))


def counts(png, area=None):
    crop = ["-crop", "%dx%d+%d+%d" % area] if area else []
    raw = subprocess.run(["convert", png, *crop, "-depth", "8", "rgb:-"], check=True,
                         capture_output=True).stdout
    result = dict.fromkeys(COLOURS, 0)
    targets = [(n, (c >> 16) & 255, (c >> 8) & 255, c & 255) for n, c in COLOURS.items()]
    for i in range(0, len(raw) - 2, 3):
        r, g, b = raw[i], raw[i + 1], raw[i + 2]
        for n, tr, tg, tb in targets:
            if abs(r - tr) <= TOLERANCE and abs(g - tg) <= TOLERANCE and abs(b - tb) <= TOLERANCE:
                result[n] += 1
                break
    return result


NOTIFY_XML = """<node><interface name="org.freedesktop.Notifications">
<method name="Notify"><arg type="s" direction="in"/><arg type="u" direction="in"/><arg type="s" direction="in"/>
<arg type="s" direction="in"/><arg type="s" direction="in"/><arg type="as" direction="in"/>
<arg type="a{sv}" direction="in"/><arg type="i" direction="in"/><arg type="u" direction="out"/></method>
<method name="GetCapabilities"><arg type="as" direction="out"/></method>
</interface></node>"""


def notify_server(out):
    import json
    conn = bus()
    node = Gio.DBusNodeInfo.new_for_xml(NOTIFY_XML)
    count = [0]

    def on_call(_conn, _sender, _path, _iface, method, params, invocation):
        if method == "GetCapabilities":
            invocation.return_value(GLib.Variant("(as)", (["body"],)))
            return
        app, _replaces, icon, summary, body, _actions, _hints, _timeout = params.unpack()
        count[0] += 1
        with open(out, "a") as f:
            f.write(json.dumps({"app": app, "icon": icon, "summary": summary, "body": body}) + "\n")
        invocation.return_value(GLib.Variant("(u)", (count[0],)))

    conn.register_object("/org/freedesktop/Notifications", node.interfaces[0], on_call, None, None)
    owned = conn.call_sync("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "RequestName",
                           GLib.Variant("(su)", ("org.freedesktop.Notifications", 4)), GLib.VariantType("(u)"),
                           Gio.DBusCallFlags.NONE, 3000, None).unpack()[0]
    if owned != 1:
        sys.exit(f"tray_helper: cannot own org.freedesktop.Notifications ({owned})")
    print("notify-server ready", flush=True)
    GLib.MainLoop().run()


def bright_share(png):
    raw = subprocess.run(["convert", png, "-colorspace", "Gray", "-depth", "8", "gray:-"], check=True,
                         capture_output=True).stdout
    return sum(1 for v in raw if v > 128) / max(1, len(raw))


def dominant(c, colour):
    others = max(v for k, v in c.items() if k != colour)
    return c[colour] >= MIN_PIXELS and c[colour] > 4 * others


def main(argv):
    cmd = argv[1] if len(argv) > 1 else "help"
    if cmd == "wait-host":
        until(argv[2], lambda: watcher_prop("IsStatusNotifierHostRegistered"), "registered host")
    elif cmd == "wait-item":
        print(*until(argv[2], our_item, "registered item"))
    elif cmd == "layout":
        for cid, label, enabled, toggle in rows()[2]:
            print(f"{cid}\t{label}\t{'enabled' if enabled else 'disabled'}\t{toggle}")
    elif cmd == "click":
        name, menu, found = rows()
        match = [r for r in found if r[1].startswith(argv[2])]
        if not match:
            sys.exit(f"tray_helper: no menu row starts with '{argv[2]}': {[r[1] for r in found]}")
        event(name, menu, match[0][0], "clicked")
    elif cmd == "menu-event":
        name, menu, _ = rows()
        event(name, menu, 0, argv[2])
    elif cmd == "notify-server":
        notify_server(argv[2])
    elif cmd == "bus-pids":
        names = call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "ListNames",
                     None, "(as)").unpack()[0]
        pids = set()
        for n in names:
            if n.startswith(":"):
                try:
                    pids.add(call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                                  "GetConnectionUnixProcessID", GLib.Variant("(s)", (n,)), "(u)").unpack()[0])
                except GLib.Error:
                    pass  # gone meanwhile
        import os
        pids.discard(os.getpid())
        print(*sorted(pids))
    elif cmd == "colours":
        print(" ".join(f"{k}={v}" for k, v in counts(argv[2]).items()))
    elif cmd == "wait-colour":
        x, y, w, h = (int(v) for v in argv[2:6])
        colour, seconds, out = argv[6], float(argv[7]), argv[8]
        start = time.monotonic()
        while True:
            subprocess.run(["import", "-window", "root", "-crop", f"{w}x{h}+{x}+{y}", "+repage", out], check=True)
            c = counts(out)
            if dominant(c, colour) if colour != "none" else max(c.values()) < MIN_PIXELS:
                print(f"{colour} after {time.monotonic() - start:.2f} s: {c}")
                return
            if time.monotonic() - start > seconds:
                sys.exit(f"tray_helper: the tray area is not {colour} after {seconds} s: {c}")
            time.sleep(0.05)
    elif cmd == "wait-bright":
        x, y, w, h = (int(v) for v in argv[2:6])
        share, seconds, out = float(argv[6]), float(argv[7]), argv[8]
        start = time.monotonic()
        while True:
            subprocess.run(["import", "-window", "root", "-crop", f"{w}x{h}+{x}+{y}", "+repage", out], check=True)
            got = bright_share(out)
            if got >= share:
                print(f"{got:.2f} bright after {time.monotonic() - start:.2f} s")
                return
            if time.monotonic() - start > seconds:
                sys.exit(f"tray_helper: only {got:.2f} of the area is bright after {seconds} s")
            time.sleep(0.05)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
