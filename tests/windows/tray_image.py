#!/usr/bin/env python3
"""Reads screenshots for tests/windows/tray.sh (ImageMagick's convert turns
them into PPM; nothing else is needed).

  tray_image.py count IMAGE RRGGBB...   per colour: "RRGGBB COUNT CX CY", the
                                        pixels within TOLERANCE of it and
                                        their centroid (-1 -1 when none)
  tray_image.py bands IMAGE             a menu's text rows, top to bottom:
                                        "Y0 Y1" per item with text
  tray_image.py diff IMAGE IMAGE Y0 Y1  how many pixels of rows Y0..Y1 differ
"""
import subprocess
import sys

TOLERANCE = 24  # per channel: a disc drawn exactly, a background far from each colour


def load(path):
    ppm = subprocess.run(["convert", path, "-depth", "8", "ppm:-"], check=True, capture_output=True).stdout
    # P6 <w> <h> <max>\n then RGB bytes; no comments in convert's output.
    fields = ppm.split(maxsplit=4)
    assert fields[0] == b"P6", path
    w, h = int(fields[1]), int(fields[2])
    data = fields[4]
    return w, h, [tuple(data[i:i + 3]) for i in range(0, w * h * 3, 3)]


def near(p, c):
    return all(abs(a - b) <= TOLERANCE for a, b in zip(p, c))


def count(path, hexes):
    w, _, px = load(path)
    for hx in hexes:
        c = tuple(int(hx[i:i + 2], 16) for i in (0, 2, 4))
        hits = [(i % w, i // w) for i, p in enumerate(px) if near(p, c)]
        if hits:
            cx = sum(x for x, _ in hits) // len(hits)
            cy = sum(y for _, y in hits) // len(hits)
        else:
            cx = cy = -1
        print(hx, len(hits), cx, cy)


def bands(path):
    """Rows holding text: some pixels far from the menu's background (its
    most common colour), but not most of the row (a separator line or the
    border is)."""
    w, h, px = load(path)
    freq = {}
    for p in px:
        freq[p] = freq.get(p, 0) + 1
    bg = max(freq, key=freq.get)
    margin = 4  # the menu's frame
    text_rows = []
    for y in range(h):
        row = px[y * w + margin:(y + 1) * w - margin]
        ink = sum(1 for p in row if max(abs(a - b) for a, b in zip(p, bg)) > 60)
        text_rows.append(0 < ink < len(row) * 0.5)
    y = 0
    while y < h:
        if text_rows[y]:
            y0 = y
            while y < h and text_rows[y]:
                y += 1
            if y - y0 >= 4:  # a line of text, not a stray dot
                print(y0, y - 1)
        y += 1


def diff(a, b, y0, y1):
    wa, ha, pa = load(a)
    wb, hb, pb = load(b)
    if (wa, ha) != (wb, hb):
        print(wa * ha)
        return
    print(sum(1 for i in range(y0 * wa, min(y1 + 1, ha) * wa) if pa[i] != pb[i]))


if __name__ == "__main__":
    verb = sys.argv[1]
    if verb == "count":
        count(sys.argv[2], sys.argv[3:])
    elif verb == "bands":
        bands(sys.argv[2])
    elif verb == "diff":
        diff(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    else:
        sys.exit("tray_image.py: unknown verb " + verb)
