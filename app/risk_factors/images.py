"""Photos are re-encoded on upload: only pixels are kept, never what came with them.

A phone photo carries EXIF with the GPS position of whoever took it, the camera's serial
number and the time; XMP and comments can carry more; and bytes that start like a PNG can be
an HTML page (a polyglot a browser might render). Decoding the image with Pillow proves it is
one, and saving its pixels into a fresh image (EXIF orientation applied first, so nothing
turns sideways) drops every piece of metadata. The original bytes are not kept anywhere.
"""

from __future__ import annotations

import io
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

from PIL import Image, ImageFile, ImageOps

from app.errors import InvalidInput, UnsupportedMediaType

# magic number -> (media type, Pillow format)
_SIGNATURES = (
    (b"\xff\xd8\xff", "image/jpeg", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "PNG"),
)
JPEG_QUALITY = 85
WEBP_QUALITY = 85


def sniff_image(head: bytes) -> str | None:
    """The media type the first bytes claim (JPEG, PNG or WebP), or None."""
    for magic, media_type, _ in _SIGNATURES:
        if head.startswith(magic):
            return media_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}


def _invalid(reason: str) -> InvalidInput:
    return InvalidInput(
        f"El archivo no es una foto válida: {reason}.",
        errors=[{"field": "file", "location": "file", "reason": reason}],
    )


_TRUNCATION_FLAG = threading.Lock()


@contextmanager
def _complete_images_only() -> Iterator[None]:
    """Refuse truncated files even where WeasyPrint runs.

    Importing WeasyPrint (the reports) sets Pillow's process-wide
    `ImageFile.LOAD_TRUNCATED_IMAGES = True`, which makes a cut-off upload decode as an image
    padded with black. The flag is turned off while an upload is decoded; the lock keeps two
    uploads from restoring it under each other (decoding photos is serialised, which is fine
    for the few uploads a comuna gets).
    """
    with _TRUNCATION_FLAG:
        previous = ImageFile.LOAD_TRUNCATED_IMAGES
        ImageFile.LOAD_TRUNCATED_IMAGES = False
        try:
            yield
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = previous


def _decode(data: bytes, expected_format: str, max_pixels: int) -> Image.Image:
    try:
        with warnings.catch_warnings(), _complete_images_only():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=[expected_format])
            if image.width * image.height > max_pixels:
                raise _invalid(f"la imagen supera {max_pixels // 1_000_000} megapíxeles")
            image.load()
    except InvalidInput:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _invalid(f"la imagen supera {max_pixels // 1_000_000} megapíxeles") from None
    except (OSError, SyntaxError, ValueError, EOFError):
        # a signature followed by anything but an image (HTML, a script, a truncated file)
        raise _invalid("el contenido no se puede leer como imagen") from None
    return image


def _pixels_only(image: Image.Image, *, alpha: bool) -> Image.Image:
    """A new image holding nothing but the pixels (no info, EXIF, ICC, XMP or text chunks)."""
    if image.mode == "L":
        mode = "L"
    elif image.mode == "LA":
        mode = "LA" if alpha else "L"
    else:
        mode = "RGBA" if alpha and image.has_transparency_data else "RGB"
    try:
        converted = image.convert(mode) if image.mode != mode else image
    except ValueError:
        raise _invalid(f"modo de color no soportado ({image.mode})") from None
    return Image.frombytes(mode, converted.size, converted.tobytes())


def reencode(data: bytes, *, max_pixels: int) -> tuple[str, bytes]:
    """(media type, re-encoded bytes) of an uploaded photo; 415 or 422 when it is not one."""
    media_type = sniff_image(data[:16])
    if media_type is None:
        raise UnsupportedMediaType(
            "La foto debe ser JPEG, PNG o WebP (se revisa el contenido, no el nombre).",
            errors=[{"field": "file", "location": "file", "reason": "no es JPEG, PNG ni WebP"}],
        )
    image_format = _FORMATS[media_type]
    image = _decode(data, image_format, max_pixels)
    try:
        upright = ImageOps.exif_transpose(image)
    except (OSError, SyntaxError, ValueError):  # unreadable EXIF: the pixels as they are
        upright = image
    clean = _pixels_only(upright, alpha=image_format != "JPEG")
    out = io.BytesIO()
    if image_format == "JPEG":
        clean.save(out, "JPEG", quality=JPEG_QUALITY)
    elif image_format == "PNG":
        clean.save(out, "PNG")
    else:
        clean.save(out, "WEBP", quality=WEBP_QUALITY)
    return media_type, out.getvalue()
