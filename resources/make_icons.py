"""Make the application icon's PNG, ICO and ICNS files from resources/ecmt.svg.

Run after changing the SVG and commit what it writes: builds use the files as they are,
so a build machine needs neither tool. Needs `rsvg-convert` (Debian `librsvg2-bin`) and
Pillow (the `test` extra).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from PIL import Image

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "ecmt.svg"
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
ICNS_SIZES = (16, 32, 64, 128, 256, 512)


def render(size: int) -> Path:
    out = HERE / "icons" / f"ecmt-{size}.png"
    out.parent.mkdir(exist_ok=True)
    subprocess.run(
        ["rsvg-convert", "-w", str(size), "-h", str(size), "-o", str(out), str(SOURCE)],
        check=True,
    )
    return out


def main() -> int:
    pngs = {size: render(size) for size in PNG_SIZES}
    largest = Image.open(pngs[256]).convert("RGBA")
    largest.save(HERE / "ecmt.ico", sizes=[(s, s) for s in ICO_SIZES])
    Image.open(pngs[512]).convert("RGBA").save(
        HERE / "ecmt.icns", sizes=[(s, s) for s in ICNS_SIZES]
    )
    print(f"wrote {len(pngs)} PNGs, ecmt.ico and ecmt.icns from {SOURCE.name}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
