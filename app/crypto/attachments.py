"""Evidence images, cleaned before they are sealed.

A photo carries more than its pixels: EXIF holds GPS coordinates, the time it was taken and the
phone's make, model and serial; XMP, IPTC, ICC profiles, PNG text chunks and JPEG comments can
hold names, user accounts and editing history. Any of these can identify the person reporting.
So an upload is accepted only if its content is a JPEG, PNG or WebP, it is decoded fully, turned
upright by its EXIF orientation, and its pixels are copied into a new image that is encoded afresh
with no metadata at all. The original bytes stay in memory and never touch the disk.

What decoding will cost is known before it starts, and bounded: the pixels the decoder produces
times their bytes (channels and bit depth, as Pillow holds them and as the decoder inflates them),
the copies that shrinking needs, and the decoder's own whole-image buffers (libjpeg's coefficients
of a progressive JPEG, libwebp's canvases). A file over that budget, with too many frames, or with
too many JPEG scans, JPEG markers or PNG chunks (app/crypto/image_layout.py) is refused unread.
Pictures larger than the output size come out smaller: libjpeg decodes a large JPEG at 1/2, 1/4
or 1/8 scale by itself (draft mode), so a 200-megapixel phone photo costs less memory than a
12-megapixel one decoded in full; PNG and WebP can only be decoded whole, then resampled.
"""

from __future__ import annotations

import io
import math
import struct
import warnings
from dataclasses import dataclass

from PIL import ExifTags, Image, ImageFile, UnidentifiedImageError

from app.crypto.errors import ImageRejected
from app.crypto.image_layout import JpegLayout, count_png_chunks, read_jpeg_layout

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
# Declared in the header. The largest phone cameras have 200 megapixels (16320 x 12240).
DEFAULT_MAX_PIXELS = 250_000_000
# What decoding one picture may hold at once (see _decoding_cost): a 50-megapixel PNG, a
# 12-megapixel WebP, a 50-megapixel progressive JPEG; any baseline JPEG up to DEFAULT_MAX_PIXELS.
DEFAULT_MAX_DECODED_BYTES = 192 * 1024 * 1024
# The cleaned picture has at most this many pixels: a 12- or 16-megapixel phone photo keeps its
# size, a larger one is made smaller (and a screenshot of a long page stays readable).
DEFAULT_MAX_OUTPUT_PIXELS = 16_000_000
# Only the first frame is decoded, so frames cost little; thousands are no photo of an incident.
DEFAULT_MAX_FRAMES = 1000
# Pillow walks JPEG markers (and stray bytes between them) and PNG chunks in Python, a loop turn
# each; real files have dozens, a PNG split into small IDAT chunks some thousands.
MAX_MARKERS = 50_000
# libjpeg reads each scan of a progressive JPEG over the whole picture; encoders write about 10.
MAX_SCANS = 100
# Pillow's own check of the header (a warning above this, an error at twice) stays on as a second
# line, at our ceiling: its default (89 megapixels) would refuse the photos of large cameras.
Image.MAX_IMAGE_PIXELS = DEFAULT_MAX_PIXELS

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
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Bytes per pixel of Pillow's modes; every other mode is held in four bytes (LA too).
_HELD_BYTES = {"1": 1, "L": 1, "P": 1, "I;16": 2}
# Bits per pixel of the data the PNG decoder inflates, by Pillow's raw mode (depth x channels).
_PNG_RAW_BITS = {
    "1": 1, "L;2": 2, "L;4": 4, "L": 8, "I;16B": 16, "RGB": 24, "RGB;16B": 48,
    "P;1": 1, "P;2": 2, "P;4": 4, "P": 8, "LA": 16, "LA;16B": 32, "RGBA": 32, "RGBA;16B": 64,
}  # fmt: skip
# libwebp keeps two RGBA canvases (the frame and the one before it); Pillow copies the frame out.
_WEBP_DECODER_BYTES = 12
# Pillow resamples pictures with alpha through a premultiplied copy of the same size.
_PREMULTIPLIED = {"RGBA", "LA", "PA"}
# EXIF orientation -> the turn that makes the picture upright (as ImageOps.exif_transpose).
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


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
    data: bytes,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_decoded_bytes: int = DEFAULT_MAX_DECODED_BYTES,
    max_output_pixels: int = DEFAULT_MAX_OUTPUT_PIXELS,
    max_frames: int = DEFAULT_MAX_FRAMES,
) -> SanitisedImage:
    """Return ``data`` re-encoded without metadata, or raise :class:`ImageRejected`.

    The result has at most ``max_output_pixels``. Only the first frame of an animated image is
    kept. Reasons: ``too_large`` (bytes), ``not_an_image``, ``unsupported_type``,
    ``too_many_pixels`` (declared in the header), ``too_complex`` (over ``max_decoded_bytes``,
    ``max_frames``, or too many scans, markers or chunks), ``damaged``.
    """
    if len(data) > max_bytes:
        raise ImageRejected("too_large")
    layout = _walk(data)
    with warnings.catch_warnings():
        # Pillow warns about oddities of hostile input; those end in a rejection anyway. Its
        # decompression-bomb warning becomes an error, so that it is caught and never escapes.
        warnings.simplefilter("ignore")
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with _open(data) as source:
            out_format, mime_type = _accepted(source, max_pixels, max_frames)
            if source.format in {"JPEG", "MPO"}:
                layout = _checked(layout, source)
                _draft(source, 2 * max_output_pixels)
            mode = _output_mode(source, out_format)
            size = _output_size(source.size, max_output_pixels)
            if _decoding_cost(source, layout, mode, size) > max_decoded_bytes:
                raise ImageRejected("too_complex")
            turn = _decode(source)
            clean = _clean_pixels(source, size, mode, turn)
    return SanitisedImage(_encode(clean, out_format), mime_type, clean.width, clean.height)


def _walk(data: bytes) -> JpegLayout | None:
    """Count what Pillow's and libjpeg's parsers would walk, before either runs."""
    if data.startswith(_PNG_SIGNATURE):
        if count_png_chunks(data, stop_after=MAX_MARKERS) > MAX_MARKERS:
            raise ImageRejected("too_complex")
        return None
    if not data.startswith(b"\xff\xd8\xff"):
        return None
    layout = read_jpeg_layout(data, stop_after=MAX_MARKERS)
    if layout.steps > MAX_MARKERS or layout.scans > MAX_SCANS:
        raise ImageRejected("too_complex")
    if layout.frame_marker and not layout.dct_based:
        raise ImageRejected("unsupported_type")  # lossless or hierarchical JPEG: no phone's
    return layout


def _open(data: bytes) -> ImageFile.ImageFile:
    """Read the header only; no pixel data is decoded yet."""
    try:
        return Image.open(io.BytesIO(data))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImageRejected("too_many_pixels") from error
    except UnidentifiedImageError as error:
        raise ImageRejected("not_an_image") from error
    except _DECODE_ERRORS as error:  # a known format whose header Pillow could not read
        raise ImageRejected("damaged") from error


def _accepted(image: Image.Image, max_pixels: int, max_frames: int) -> tuple[str, str]:
    """Check the detected format, size and frames from the header, before any pixel is decoded."""
    accepted = _ACCEPTED.get(image.format or "")
    if accepted is None:
        raise ImageRejected("unsupported_type")
    width, height = image.size
    if width * height > max_pixels:
        raise ImageRejected("too_many_pixels")
    if getattr(image, "n_frames", 1) > max_frames:
        raise ImageRejected("too_complex")
    return accepted


def _checked(layout: JpegLayout | None, image: Image.Image) -> JpegLayout:
    """The walked layout, if it is the picture Pillow found (libjpeg refuses a second frame)."""
    if layout is None or layout.frames != 1 or (layout.width, layout.height) != image.size:
        raise ImageRejected("damaged")
    return layout


def _draft(image: ImageFile.ImageFile, max_pixels: int) -> None:
    """Let libjpeg decode at the least of 1/2, 1/4 or 1/8 scale that has at most ``max_pixels``.

    Decoding at twice the output size at most, then resampling, keeps detail and costs little.
    """
    width, height = image.size
    for scale in (1, 2, 4, 8):  # noqa: B007 - the scale found is used after the loop
        if -(-width // scale) * -(-height // scale) <= max_pixels:
            break
    if scale > 1:
        image.draft(image.mode, (max(width // scale, 1), max(height // scale, 1)))


def _output_size(size: tuple[int, int], max_pixels: int) -> tuple[int, int]:
    """``size`` shrunk to at most ``max_pixels``, keeping its proportions."""
    width, height = size
    if width * height <= max_pixels:
        return size
    factor = math.sqrt(max_pixels / (width * height))
    width, height = max(int(width * factor), 1), max(int(height * factor), 1)
    while width * height > max_pixels:  # rounding; at most a step or two
        width, height = (width - 1, height) if width >= height else (width, height - 1)
    return width, height


def _decoding_cost(
    image: ImageFile.ImageFile, layout: JpegLayout | None, mode: str, size: tuple[int, int]
) -> int:
    """Bytes that decoding the first frame (at its draft scale) and shrinking it will cost.

    The larger of: what is held in memory at once (the decoded picture, full-size copies that
    resampling needs, the decoder's whole-image buffers) and what a PNG decoder inflates (16-bit
    samples are inflated, then halved).
    """
    width, height = image.size
    pixels = width * height
    per_pixel = _HELD_BYTES.get(image.mode, 4)
    if size != image.size:
        resampled = image.mode
        if _converted_before_resampling(image):
            per_pixel += _HELD_BYTES.get(mode, 4)
            resampled = mode
        if resampled in _PREMULTIPLIED:
            per_pixel += 4
    held = pixels * per_pixel
    if layout is not None and layout.multi_scan:
        held += layout.coefficient_bytes()
    if image.format == "WEBP":
        held += pixels * _WEBP_DECODER_BYTES
    inflated = 0
    if image.format == "PNG" and image.tile:
        inflated = math.ceil(pixels * _PNG_RAW_BITS.get(str(image.tile[0].args), 64) / 8)
    return max(held, inflated)


def _decode(image: Image.Image) -> Image.Transpose | None:
    """Decode the first frame; return the turn that makes it upright by its EXIF orientation."""
    try:
        image.load()
        orientation = image.getexif().get(ExifTags.Base.Orientation)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
        raise ImageRejected("too_many_pixels") from error
    except _DECODE_ERRORS as error:
        raise ImageRejected("damaged") from error
    return _UPRIGHT.get(orientation) if isinstance(orientation, int) else None


def _clean_pixels(
    source: Image.Image, size: tuple[int, int], mode: str, turn: Image.Transpose | None
) -> Image.Image:
    """The source's pixels, shrunk to ``size``, in ``mode``, upright, in a fresh image.

    Shrinking comes before converting where it can, so that conversions work on the smaller
    picture. Each step makes a new picture and lets the one before it go, and the source is
    closed as soon as the first new picture exists: the decoded picture never lives alongside
    more than one other.
    """
    pixels = source
    if size != pixels.size:
        if _converted_before_resampling(pixels):
            pixels = pixels.convert(mode)
        # reduce() (a box filter, fast) does the bulk of a large reduction; not for 16 bits.
        gap = None if pixels.mode == "I;16" else 3.0
        pixels = pixels.resize(size, Image.Resampling.LANCZOS, reducing_gap=gap)
    if pixels.mode == "I;16":
        # 16-bit greyscale PNG: keep each value's high byte instead of clipping it to white.
        pixels = Image.frombytes("L", pixels.size, pixels.tobytes(), "raw", "L;16")
    if pixels.mode != mode:
        pixels = pixels.convert(mode)
    if pixels is not source:
        source.close()
    if turn is not None:
        pixels = pixels.transpose(turn)
        source.close()
    return _fresh_copy(pixels)


def _converted_before_resampling(image: Image.Image) -> bool:
    """A palette or black and white has no values between its values to resample; a colour key
    (PNG tRNS) marks one exact colour as transparent, which resampling would blur away."""
    return image.mode in {"P", "1"} or ("transparency" in image.info and image.mode in {"L", "RGB"})


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


def _fresh_copy(image: Image.Image) -> Image.Image:
    """Pixels only: a new image with an empty ``info``, no palette, no EXIF, no ICC profile."""
    clean = Image.new(image.mode, image.size)
    clean.paste(image, (0, 0))
    return clean
