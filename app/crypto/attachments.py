"""Evidence images, cleaned before they are sealed.

A photo carries more than its pixels: EXIF holds GPS coordinates, the time it was taken and the
phone's make, model and serial; XMP, IPTC, ICC profiles, PNG text chunks and JPEG comments can
hold names, user accounts and editing history. Any of these can identify the person reporting.
So an upload is accepted only if its content is a JPEG, PNG or WebP, it is decoded fully, turned
upright by its EXIF orientation, and its pixels are copied into a new image that is encoded afresh
with no metadata at all. The original bytes stay in memory and never touch the disk.
"""

from __future__ import annotations

import io
import struct
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from app.crypto.errors import ImageRejected

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_MAX_PIXELS = 40_000_000

# Pillow's detected format -> (format to write, MIME type). MPO is the multi-picture JPEG that
# some phone cameras write; its first picture is an ordinary JPEG.
_ACCEPTED = {
    "JPEG": ("JPEG", "image/jpeg"),
    "MPO": ("JPEG", "image/jpeg"),
    "PNG": ("PNG", "image/png"),
    "WEBP": ("WEBP", "image/webp"),
}
# What a hostile or broken file can make Pillow's parsers and decoders raise.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError, TypeError)


@dataclass(frozen=True, slots=True)
class SanitisedImage:
    """A re-encoded image without metadata. Its repr never shows the bytes."""

    data: bytes
    mime_type: str
    width: int
    height: int

    def __repr__(self) -> str:
        return (
            f"SanitisedImage({self.mime_type}, {self.width}x{self.height}, {len(self.data)} bytes)"
        )


def sanitise_image(
    data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES, max_pixels: int = DEFAULT_MAX_PIXELS
) -> SanitisedImage:
    """Return ``data`` re-encoded without metadata, or raise :class:`ImageRejected`.

    Reasons: ``too_large``, ``not_an_image``, ``unsupported_type``, ``too_many_pixels``,
    ``damaged``. Only the first frame of an animated image is kept.
    """
    if len(data) > max_bytes:
        raise ImageRejected("too_large")
    with warnings.catch_warnings():
        # Pillow warns about oddities of hostile input; those end in a rejection anyway. Its
        # decompression-bomb warning becomes an error, so that it is caught and never escapes.
        warnings.simplefilter("ignore")
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with _open(data) as source:
            out_format, mime_type = _accepted(source, max_pixels)
            _decode(source)
            clean = _fresh_copy(source, out_format)
    return SanitisedImage(_encode(clean, out_format), mime_type, clean.width, clean.height)


def _open(data: bytes) -> Image.Image:
    """Read the header only; no pixel data is decoded yet."""
    try:
        return Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImageRejected("too_many_pixels") from error
    except UnidentifiedImageError as error:
        raise ImageRejected("not_an_image") from error
    except _DECODE_ERRORS as error:  # a known format whose header Pillow could not read
        raise ImageRejected("damaged") from error


def _accepted(image: Image.Image, max_pixels: int) -> tuple[str, str]:
    """Check the detected format and the size from the header, before any pixel is decoded."""
    accepted = _ACCEPTED.get(image.format or "")
    if accepted is None:
        raise ImageRejected("unsupported_type")
    width, height = image.size
    if width * height > max_pixels:
        raise ImageRejected("too_many_pixels")
    return accepted


def _decode(image: Image.Image) -> None:
    """Decode the first frame and turn it upright by its EXIF orientation, in place."""
    try:
        image.load()
        ImageOps.exif_transpose(image, in_place=True)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImageRejected("too_many_pixels") from error
    except _DECODE_ERRORS as error:
        raise ImageRejected("damaged") from error


def _encode(image: Image.Image, out_format: str) -> bytes:
    """Write the clean image; nothing but pixels and the encoder settings goes in."""
    buffer = io.BytesIO()
    try:
        if out_format == "JPEG":
            image.save(buffer, format="JPEG", quality=85, progressive=False)
        elif out_format == "PNG":
            image.save(buffer, format="PNG", optimize=False)
        else:
            image.save(buffer, format="WEBP", quality=85)
    except _DECODE_ERRORS as error:  # e.g. a WebP canvas declared wider than WebP allows
        raise ImageRejected("damaged") from error
    return buffer.getvalue()


def _output_mode(image: Image.Image, out_format: str) -> str:
    if out_format == "JPEG":
        return "L" if image.mode in {"1", "L"} else "RGB"
    has_alpha = image.mode in {"RGBA", "LA", "PA"} or "transparency" in image.info
    if out_format == "WEBP":
        return "RGBA" if has_alpha else "RGB"
    grey = image.mode in {"1", "L", "LA"} or image.mode.startswith("I;16")
    if has_alpha:
        return "LA" if grey else "RGBA"
    return "L" if grey else "RGB"


def _fresh_copy(image: Image.Image, out_format: str) -> Image.Image:
    """Pixels only: a new image with an empty ``info``, no palette, no EXIF, no ICC profile."""
    mode = _output_mode(image, out_format)
    pixels = image
    if image.mode.startswith("I;16"):
        # 16-bit greyscale PNG: scale to 8 bits instead of clipping every pixel to white.
        pixels = image.convert("F").point(lambda value: value * 255 / 65535).convert("L")
    if pixels.mode != mode:
        pixels = pixels.convert(mode)
    clean = Image.new(mode, pixels.size)
    clean.paste(pixels, (0, 0))
    return clean
