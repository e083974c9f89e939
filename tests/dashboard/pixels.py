"""Screenshot checks in code: a screenshot's PNG is decoded and counted by a canvas in a blank
browser page (fast, and no imaging library to install)."""
from __future__ import annotations

import base64

_COUNT = """async ([b64, bg, accent, tol]) => {
  const img = new Image();
  img.src = "data:image/png;base64," + b64;
  await img.decode();
  const c = document.createElement("canvas");
  c.width = img.naturalWidth; c.height = img.naturalHeight;
  const g = c.getContext("2d");
  g.drawImage(img, 0, 0);
  const d = g.getImageData(0, 0, c.width, c.height).data;
  let inked = 0, accented = 0;
  const colours = new Set();
  for (let i = 0; i < d.length; i += 4) {
    const r = d[i], gr = d[i + 1], b = d[i + 2];
    if (colours.size < 5000) colours.add((r << 16) | (gr << 8) | b);
    if (Math.max(Math.abs(r - bg[0]), Math.abs(gr - bg[1]), Math.abs(b - bg[2])) > tol) inked++;
    if (Math.max(Math.abs(r - accent[0]), Math.abs(gr - accent[1]), Math.abs(b - accent[2])) <= 40) accented++;
  }
  const n = c.width * c.height;
  return {width: c.width, height: c.height, share: inked / n, accent: accented / n, colours: colours.size};
}"""

ACCENT = (37, 99, 235)  # --accent in dashboard.css: chart lines and bars


class Pixels:
    """Counts pixels of PNG screenshots in its own about:blank page."""

    def __init__(self, context):
        self.page = context.new_page()

    def __call__(self, png: bytes, background=(255, 255, 255), tolerance=24) -> dict:
        return self.page.evaluate(_COUNT, [base64.b64encode(png).decode(), list(background), list(ACCENT),
                                           tolerance])
