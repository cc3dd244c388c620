"""Real images for the photo tests, made with Pillow (uploads are decoded, so fakes fail)."""

from __future__ import annotations

import io

from PIL import Image
from PIL.ExifTags import GPS, IFD, Base


def make_png(
    *, size: tuple[int, int] = (8, 8), color: tuple[int, int, int] = (200, 30, 30)
) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def make_exif_with_gps(*, orientation: int = 1) -> Image.Exif:
    """EXIF as a phone writes it: where (Lanco's plaza), with what camera, which way up."""
    exif = Image.Exif()
    exif[Base.Make] = "Canon"
    exif[Base.Model] = "Canon EOS 5D Mark IV"
    exif[Base.Orientation] = orientation
    exif[Base.Artist] = "Sargento Perez"
    gps = exif.get_ifd(IFD.GPSInfo)
    gps[GPS.GPSLatitudeRef] = "S"
    gps[GPS.GPSLatitude] = (39.0, 27.0, 7.2)
    gps[GPS.GPSLongitudeRef] = "W"
    gps[GPS.GPSLongitude] = (72.0, 46.0, 30.0)
    return exif


def make_jpeg_with_gps(*, size: tuple[int, int] = (40, 20), orientation: int = 1) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(
        out, "JPEG", exif=make_exif_with_gps(orientation=orientation), comment=b"Cuadrante 1 Lanco"
    )
    return out.getvalue()


def make_webp_with_gps(*, size: tuple[int, int] = (16, 16)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(out, "WEBP", exif=make_exif_with_gps())
    return out.getvalue()
