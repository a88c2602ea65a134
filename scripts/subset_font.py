"""Make the dashboard's served font: Noto Sans CJK SC cut to the characters names use.

The dashboard serves every asset itself (no CDN), so a person's Hanzi name renders on a machine
without CJK fonts. The whole font is 16 MB; names need far fewer glyphs: ASCII, Latin-1, the
punctuation the pages use, the 3,755 characters of GB 2312 level 1 (the common Hanzi) and every
Hanzi the synthetic population uses. Other characters fall back to the system's fonts.

    apt-get install fonts-noto-cjk && .venv/bin/pip install fonttools brotli
    .venv/bin/python scripts/subset_font.py
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTCollection

ROOT = Path(__file__).resolve().parents[1]
SOURCE = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
TARGET = ROOT / "credo/dashboard/static/fonts/credo-sans-sc.woff2"


def characters() -> str:
    chars = {chr(c) for c in range(0x20, 0x7F)} | {chr(c) for c in range(0xA0, 0x100)}
    chars |= set("·—–‘’“”…•←↑→↓▲▼★、。《》「」『』【】（）：；，！？￥")
    for hi in range(0xB0, 0xD8):  # GB 2312 level 1: rows 16-55
        for lo in range(0xA1, 0xFF):
            try:
                chars.add(bytes([hi, lo]).decode("gb2312"))
            except UnicodeDecodeError:
                continue
    for path in (ROOT / "credo").rglob("*.py"):
        chars |= set(re.findall(r"[\u3400-\u9fff]", path.read_text(encoding="utf-8")))
    return "".join(sorted(chars))


def main() -> None:
    collection = TTCollection(str(SOURCE))
    font = next(f for f in collection.fonts if f["name"].getDebugName(1) == "Noto Sans CJK SC")
    options = subset.Options()
    options.flavor = "woff2"
    options.layout_features = ["kern", "liga", "locl", "vert"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    text = characters()
    subsetter.populate(text=text)
    subsetter.subset(font)
    font.flavor = "woff2"
    font.save(str(TARGET))
    print(f"{len(text)} characters -> {TARGET} ({TARGET.stat().st_size:,} bytes)", file=sys.stderr)


if __name__ == "__main__":
    main()
