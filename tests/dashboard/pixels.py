"""Just enough PNG decoding to check screenshots in code (8-bit RGB/RGBA, not interlaced: what
Chromium writes), so the tests need no imaging library."""
from __future__ import annotations

import struct
import zlib


def decode_png(data: bytes) -> tuple[int, int, list[bytes]]:
    """(width, height, rows of RGB bytes)."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, width = 8, b"", 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour, _c, _f, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or colour not in (2, 6) or interlace:
                raise ValueError(f"unsupported PNG (depth {depth}, colour type {colour}, interlace {interlace})")
            bpp = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows, prev = [], bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        ftype, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if ftype == 1:
                line[i] = (line[i] + a) & 255
            elif ftype == 2:
                line[i] = (line[i] + b) & 255
            elif ftype == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif ftype == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        prev = line
        rows.append(bytes(line) if bpp == 3 else bytes(v for k, v in enumerate(line) if k % 4 != 3))
    return width, height, rows


def ink(png: bytes, background=(255, 255, 255), tolerance=24) -> dict:
    """How much of an image is not background: the share of such pixels, and how many distinct
    colours there are (a blank or single-colour box has one or two)."""
    width, height, rows = decode_png(png)
    inked, colours = 0, set()
    for row in rows:
        for x in range(0, len(row), 3):
            px = row[x:x + 3]
            colours.add(px)
            if max(abs(px[k] - background[k]) for k in range(3)) > tolerance:
                inked += 1
    total = width * height
    return {"width": width, "height": height, "share": inked / total if total else 0.0, "colours": len(colours)}


def accent_share(png: bytes, rgb=(37, 99, 235), tolerance=40) -> float:
    """The share of pixels near the chart's accent colour: the line and bars, not text or grid."""
    width, height, rows = decode_png(png)
    hits = 0
    for row in rows:
        for x in range(0, len(row), 3):
            if all(abs(row[x + k] - rgb[k]) <= tolerance for k in range(3)):
                hits += 1
    return hits / (width * height)
