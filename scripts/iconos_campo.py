"""Draws the field form's app icons (app/static/reportar/icono-192.png, icono-512.png).

The same drawing as app/static/icono.svg (a map pin on Vigía's blue), with Pillow, so the
web app manifest has the PNG sizes phones ask for. Run it again after changing the drawing:
    .venv/bin/python scripts/iconos_campo.py
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parents[1] / "app" / "static" / "reportar"
BLUE = (23, 50, 77)
AMBER = (245, 158, 11)


def icon(size: int) -> Image.Image:
    # drawn on a 64-unit grid, as the SVG; maskable: the pin stays inside the central 80 %
    image = Image.new("RGB", (size, size), BLUE)
    draw = ImageDraw.Draw(image)
    u = size / 64
    draw.ellipse([16 * u, 10 * u, 48 * u, 42 * u], fill=AMBER)
    draw.polygon([(18 * u, 31 * u), (46 * u, 31 * u), (32 * u, 54 * u)], fill=AMBER)
    draw.ellipse([26 * u, 20 * u, 38 * u, 32 * u], fill=BLUE)
    return image


def main() -> None:
    for size in (192, 512):
        icon(size).save(OUT / f"icono-{size}.png", optimize=True)


if __name__ == "__main__":
    main()
