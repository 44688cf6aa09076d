"""Evidence images lose every piece of metadata, keep their pixels, and hostile files are refused.

Every image is made here in memory with Pillow; no binary fixture is committed.
"""

from __future__ import annotations

import builtins
import dataclasses
import io
import os
import struct
import tempfile
import zlib
from typing import Any, NoReturn

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import (
    Image,
    ImageCms,
    ImageFile,
    JpegImagePlugin,
    PngImagePlugin,
    TiffImagePlugin,
    WebPImagePlugin,
)

from app.crypto.attachments import (
    DEFAULT_MAX_OUTPUT_PIXELS,
    MAX_MARKERS,
    MAX_SCANS,
    SanitisedImage,
    sanitise_image,
)
from app.crypto.errors import ImageRejected
from app.crypto.image_layout import read_jpeg_layout

MAKE = "MeldeMake-7f3a9c"
MODEL = "MeldeModel-91c2e4"
TAKEN_AT = "2021:03:04 05:06:07"
GPS_DATE = "1999:12:31"
GPS_SECONDS = TiffImagePlugin.IFDRational(1234567, 1000)
RED = (220, 20, 30)
BLUE = (20, 40, 210)
# Keys Pillow itself puts into ``info`` when it reads a metadata-free file.
HARMLESS_INFO = {
    *("jfif", "jfif_version", "jfif_unit", "jfif_density"),  # JPEG's JFIF header
    *("loop", "background", "timestamp", "duration"),  # WebP's canvas and frame
}
MIME = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}


def encode(image: Image.Image, fmt: str, **params: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **params)
    return buffer.getvalue()


def two_colours(size: tuple[int, int] = (40, 20), mode: str = "RGB") -> Image.Image:
    """Left half red, right half blue."""
    image = Image.new("RGB", size, RED)
    image.paste(BLUE, (size[0] // 2, 0, size[0], size[1]))
    return image.convert(mode)


def noisy(size: tuple[int, int] = (96, 64)) -> Image.Image:
    count = size[0] * size[1] * 3
    return Image.frombytes("RGB", size, bytes((i * 7919) % 251 for i in range(count)))


def gps_exif(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = MAKE
    exif[0x0110] = MODEL
    exif[0x0132] = TAKEN_AT
    exif[0x0112] = orientation
    exif[0x8825] = {
        1: "N",
        2: (52.0, 31.0, GPS_SECONDS),
        3: "E",
        4: (13.0, 24.0, GPS_SECONDS),
        29: GPS_DATE,
    }
    return exif


def png_chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body)
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


def png_header_only(width: int, height: int, depth: int = 8, colour_type: int = 2) -> bytes:
    """A PNG whose header declares ``width`` x ``height`` and whose pixel data is a stub."""
    header = struct.pack(">IIBBBBB", width, height, depth, colour_type, 0, 0, 0)
    stub = zlib.compress(b"\x00" * 64)
    chunks = png_chunk(b"IHDR", header) + png_chunk(b"IDAT", stub) + png_chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + chunks


def png_from_rows(
    width: int, height: int, depth: int, colour_type: int, rows: list[bytes]
) -> bytes:
    """A PNG written by hand (Pillow cannot write 16-bit colour); each row without filter."""
    header = struct.pack(">IIBBBBB", width, height, depth, colour_type, 0, 0, 0)
    pixels = zlib.compress(b"".join(b"\x00" + row for row in rows))
    chunks = png_chunk(b"IHDR", header) + png_chunk(b"IDAT", pixels) + png_chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + chunks


def reopen(result: SanitisedImage) -> Image.Image:
    image = Image.open(io.BytesIO(result.data))
    image.load()
    return image


def assert_clean(original: bytes, result: SanitisedImage, markers: list[bytes]) -> Image.Image:
    for marker in markers:
        assert marker in original, f"test image lacks {marker!r}"
        assert marker not in result.data, f"{marker!r} survived"
    image = reopen(result)
    assert len(image.getexif()) == 0
    assert set(image.info) <= HARMLESS_INFO
    assert getattr(image, "text", {}) == {}
    assert MIME[image.format or ""] == result.mime_type
    assert image.size == (result.width, result.height)
    return image


def rejection(data: bytes, **limits: int) -> str:
    with pytest.raises(ImageRejected) as caught:
        sanitise_image(data, **limits)
    return caught.value.reason


def test_jpeg_loses_gps_camera_and_time_and_is_turned_upright() -> None:
    original = encode(two_colours(), "JPEG", exif=gps_exif(orientation=6), quality=95)
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)

    result = sanitise_image(original)

    # The GPS seconds rational, in whichever byte order Pillow wrote the EXIF block.
    gps_bytes = struct.pack(">2L" if b"Exif\x00\x00MM" in original else "<2L", 1234567, 1000)
    markers = [m.encode() for m in (MAKE, MODEL, TAKEN_AT, GPS_DATE)] + [gps_bytes, b"Exif\x00\x00"]
    image = assert_clean(original, result, markers)
    assert (result.mime_type, result.width, result.height) == ("image/jpeg", 20, 40)
    assert 0x0112 not in image.getexif()
    # Rotated 90 degrees clockwise: the red left half is now on top.
    assert_close(image.convert("RGB").getpixel((10, 5)), RED)
    assert_close(image.convert("RGB").getpixel((10, 35)), BLUE)


def iptc_segment(caption: bytes) -> bytes:
    """A JPEG APP13 segment: a Photoshop IPTC-NAA resource holding one caption record."""
    record = b"\x1c\x02\x78" + struct.pack(">H", len(caption)) + caption
    record += b"\x00" * (len(record) % 2)
    resource = b"8BIM\x04\x04\x00\x00" + struct.pack(">I", len(record)) + record
    body = b"Photoshop 3.0\x00" + resource
    return b"\xff\xed" + struct.pack(">H", len(body) + 2) + body


def test_jpeg_loses_icc_profile_comment_xmp_and_iptc() -> None:
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/">xmp-marker-5d1e</x:xmpmeta>'
    jpeg = encode(two_colours(), "JPEG", icc_profile=icc, comment=b"com-marker-c4b8", xmp=xmp)
    original = jpeg[:2] + iptc_segment(b"iptc-marker-a07b") + jpeg[2:]
    opened = Image.open(io.BytesIO(original))
    assert {"icc_profile", "comment", "xmp", "photoshop"} <= set(opened.info)

    result = sanitise_image(original)

    markers = [b"ICC_PROFILE", b"com-marker-c4b8", b"xmp-marker-5d1e", b"iptc-marker-a07b"]
    assert_clean(original, result, markers + [b"Photoshop 3.0"])


def test_png_loses_text_chunks_exif_and_icc_profile() -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "text-marker-0b7f")
    info.add_itxt("Author", "itxt-marker-6a2d")
    info.add_text("Location", "ztxt-marker-e91c", zip=True)
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    original = encode(two_colours(), "PNG", pnginfo=info, exif=gps_exif(), icc_profile=icc)
    opened = Image.open(io.BytesIO(original))
    opened.load()
    assert {"Comment", "Author", "Location", "icc_profile", "exif"} <= set(opened.info)

    result = sanitise_image(original)

    markers = [b"text-marker-0b7f", b"itxt-marker-6a2d", b"Location", b"iCCP", b"eXIf"]
    markers += [MAKE.encode(), MODEL.encode()]
    image = assert_clean(original, result, markers)
    assert (result.mime_type, result.width, result.height) == ("image/png", 40, 20)
    assert image.getpixel((5, 5)) == RED
    assert image.getpixel((35, 15)) == BLUE


def test_webp_loses_exif_and_xmp() -> None:
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/">xmp-marker-3f60</x:xmpmeta>'
    original = encode(two_colours(), "WEBP", exif=gps_exif(), xmp=xmp, quality=95)
    assert {"exif", "xmp"} <= set(Image.open(io.BytesIO(original)).info)

    result = sanitise_image(original)

    markers = [b"xmp-marker-3f60", MAKE.encode(), MODEL.encode(), b"EXIF", b"XMP "]
    image = assert_clean(original, result, markers)
    assert (result.mime_type, result.width, result.height) == ("image/webp", 40, 20)
    assert_close(image.convert("RGB").getpixel((5, 5)), RED)
    assert_close(image.convert("RGB").getpixel((35, 15)), BLUE)


def assert_close(actual: Any, expected: Any, tolerance: int = 24) -> None:
    assert isinstance(actual, tuple)
    assert isinstance(expected, tuple)
    assert len(actual) == len(expected)
    assert all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True)), actual


@pytest.mark.parametrize(
    ("fmt", "mode", "out_mode"),
    [
        ("JPEG", "RGB", "RGB"),
        ("JPEG", "L", "L"),
        ("JPEG", "CMYK", "RGB"),
        ("PNG", "RGB", "RGB"),
        ("PNG", "RGBA", "RGBA"),
        ("PNG", "LA", "LA"),
        ("PNG", "L", "L"),
        ("PNG", "1", "L"),
        ("PNG", "P", "RGB"),
        ("WEBP", "RGB", "RGB"),
        ("WEBP", "RGBA", "RGB"),  # an opaque alpha channel is dropped by the WebP encoder
    ],
)
def test_pixels_survive_in_the_same_format(fmt: str, mode: str, out_mode: str) -> None:
    source = two_colours(mode=mode)
    result = sanitise_image(encode(source, fmt))

    image = reopen(result)
    assert (image.format, image.mode, image.size) == (fmt, out_mode, (40, 20))
    assert result.mime_type == MIME[fmt]
    expected = source.convert("RGB")
    for point in [(3, 3), (16, 10), (24, 10), (37, 17)]:
        assert_close(image.convert("RGB").getpixel(point), expected.getpixel(point))


def alpha(image: Image.Image, point: tuple[int, int]) -> int:
    value = image.getpixel(point)
    assert isinstance(value, tuple)
    return int(value[-1])


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_alpha_survives(fmt: str) -> None:
    source = two_colours(mode="RGBA")
    source.putalpha(Image.new("L", source.size, 255))
    source.paste((0, 0, 0, 0), (0, 0, 10, 20))
    image = reopen(sanitise_image(encode(source, fmt)))
    assert image.mode == "RGBA"
    assert alpha(image, (2, 2)) == 0
    assert_close(image.getpixel((15, 5)), (*RED, 255))
    assert_close(image.getpixel((35, 15)), (*BLUE, 255))


def test_png_palette_transparency_becomes_alpha() -> None:
    source = Image.new("P", (8, 8), 0)
    source.putpalette([255, 0, 0, 0, 0, 255])
    source.paste(1, (4, 0, 8, 8))
    result = sanitise_image(encode(source, "PNG", transparency=0))

    image = reopen(result)
    assert image.mode == "RGBA"
    assert alpha(image, (1, 1)) == 0
    assert image.getpixel((6, 6)) == (0, 0, 255, 255)


def test_png_greyscale_colour_key_becomes_alpha() -> None:
    source = Image.new("L", (8, 8), 7)
    source.paste(200, (4, 0, 8, 8))
    image = reopen(sanitise_image(encode(source, "PNG", transparency=7)))
    assert image.mode == "LA"
    assert image.getpixel((1, 1)) == (7, 0)
    assert image.getpixel((6, 6)) == (200, 255)


def test_sixteen_bit_greyscale_png_is_scaled_not_clipped() -> None:
    source = Image.new("I;16", (8, 8), 0)
    source.paste(65535, (4, 0, 8, 8))
    source.paste(32896, (0, 0, 4, 4))
    image = reopen(sanitise_image(encode(source, "PNG")))
    assert image.mode == "L"
    assert [image.getpixel(p) for p in [(1, 1), (1, 6), (6, 6)]] == [128, 0, 255]


def test_multi_picture_jpeg_from_a_phone_becomes_a_plain_jpeg() -> None:
    original = encode(two_colours(), "MPO", save_all=True, append_images=[noisy((40, 20))])
    assert Image.open(io.BytesIO(original)).format == "MPO"

    result = sanitise_image(original)

    image = reopen(result)
    assert (image.format, result.mime_type, image.size) == ("JPEG", "image/jpeg", (40, 20))
    assert getattr(image, "n_frames", 1) == 1
    assert_close(image.convert("RGB").getpixel((5, 5)), RED)


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_animation_keeps_only_the_first_frame(fmt: str) -> None:
    frames = [Image.new("RGB", (16, 16), RED), Image.new("RGB", (16, 16), BLUE)]
    original = encode(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100)
    assert getattr(Image.open(io.BytesIO(original)), "n_frames", 1) == 2

    result = sanitise_image(original)

    image = reopen(result)
    assert image.format == fmt
    assert getattr(image, "n_frames", 1) == 1
    assert not getattr(image, "is_animated", False)
    assert_close(image.convert("RGB").getpixel((8, 8)), RED)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_too_large_is_checked_on_the_bytes(fmt: str) -> None:
    data = encode(two_colours(), fmt)
    assert rejection(data, max_bytes=len(data) - 1) == "too_large"
    assert sanitise_image(data, max_bytes=len(data)).width == 40


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"hello",
        b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>',
        b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n",
        b"<!DOCTYPE html><html><body><img src=x onerror=alert(1)></body></html>",
        b"\x89PNG\r\n\x1a\n",
        b"\xff\xd8\xff",
    ],
)
def test_non_images_are_rejected(data: bytes) -> None:
    assert rejection(data) == "not_an_image"


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "TIFF", "ICO", "PPM"])
def test_other_image_types_are_rejected_by_content(fmt: str) -> None:
    assert rejection(encode(two_colours(), fmt)) == "unsupported_type"


@pytest.mark.parametrize(
    ("size", "limits"),
    [
        ((10_000, 10_000), {"max_pixels": 50_000_000}),  # over max_pixels, under Pillow's limit
        ((20_000, 20_000), {}),  # over Pillow's warning limit: the warning must not escape
        ((100_000, 100_000), {}),  # over Pillow's error limit
    ],
)
def test_decompression_bombs_are_rejected_from_the_header(
    size: tuple[int, int], limits: dict[str, int]
) -> None:
    # The pixel data is a 64-byte stub: decoding it would fail as "damaged".
    assert rejection(png_header_only(*size), **limits) == "too_many_pixels"


def test_pillow_limit_applies_even_with_higher_limits_of_ours() -> None:
    data = png_header_only(20_000, 20_000)
    assert rejection(data, max_pixels=10**12, max_decoded_bytes=10**13) == "too_many_pixels"


def test_a_small_header_with_a_stub_is_decoded_and_found_damaged() -> None:
    assert rejection(png_header_only(100, 100)) == "damaged"


def test_a_bomb_found_while_decoding_is_too_many_pixels(monkeypatch: pytest.MonkeyPatch) -> None:
    def bomb(image: Image.Image, **options: object) -> NoReturn:
        raise Image.DecompressionBombWarning("found while decoding")

    monkeypatch.setattr(PngImagePlugin.PngImageFile, "load", bomb)
    assert rejection(encode(two_colours(), "PNG")) == "too_many_pixels"


def test_a_webp_canvas_wider_than_webp_allows_is_damaged() -> None:
    frames = [Image.new("RGB", (16, 16), RED), Image.new("RGB", (16, 16), BLUE)]
    data = bytearray(encode(frames[0], "WEBP", save_all=True, append_images=frames[1:]))
    assert data[12:16] == b"VP8X"
    data[24:27] = (20_000 - 1).to_bytes(3, "little")  # canvas width - 1, 24 bits
    assert Image.open(io.BytesIO(bytes(data))).size == (20_000, 16)
    assert rejection(bytes(data)) == "damaged"


def test_max_pixels_applies_to_ordinary_images() -> None:
    data = encode(two_colours(), "JPEG")
    assert rejection(data, max_pixels=40 * 20 - 1) == "too_many_pixels"
    assert sanitise_image(data, max_pixels=40 * 20).height == 20


# --- What decoding costs is known from the header, and bounded -------------------------------


def forbid_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(self: object) -> NoReturn:
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", forbidden)
    for plugin in (
        PngImagePlugin.PngImageFile,
        JpegImagePlugin.JpegImageFile,
        WebPImagePlugin.WebPImageFile,
    ):
        monkeypatch.setattr(plugin, "load", forbidden)


@pytest.mark.parametrize(("colour_type", "name"), [(2, "RGB"), (6, "RGBA"), (4, "grey and alpha")])
def test_a_sixteen_bit_png_of_36_megapixels_is_refused_before_decoding(
    colour_type: int, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Under the header's pixel cap, but 16-bit samples inflate to 144..288 MB (the report's file
    # was 280 KB of zeros); its stub data would be "damaged" if it were decoded at all.
    forbid_decoding(monkeypatch)
    assert rejection(png_header_only(6000, 6000, 16, colour_type)) == "too_complex", name


def test_a_sixteen_bit_greyscale_png_of_36_megapixels_fits_the_budget() -> None:
    # Two bytes per pixel (72 MB): decoded, and found damaged only because its data is a stub.
    assert rejection(png_header_only(6000, 6000, 16, 0)) == "damaged"


def test_sixteen_bit_colour_png_keeps_the_high_byte_of_each_sample() -> None:
    rgb = [struct.pack(">6H", 0xFFFF, 0x8000, 0x0000, 0x1234, 0xABCD, 0x00FF) * 2] * 2
    rgba = [struct.pack(">8H", 0xFFFF, 0x8000, 0x0000, 0xFFFF, 0x1234, 0xABCD, 0x00FF, 0) * 2] * 2
    image = reopen(sanitise_image(png_from_rows(4, 2, 16, 2, rgb)))
    assert (image.mode, image.size) == ("RGB", (4, 2))
    assert image.getpixel((0, 0)) == (0xFF, 0x80, 0x00)
    assert image.getpixel((1, 1)) == (0x12, 0xAB, 0x00)
    image = reopen(sanitise_image(png_from_rows(4, 2, 16, 6, rgba)))
    assert image.mode == "RGBA"
    assert image.getpixel((0, 0)) == (0xFF, 0x80, 0x00, 0xFF)
    assert alpha(image, (1, 0)) == 0


def test_sixteen_bit_greyscale_png_is_shrunk_before_it_is_made_eight_bit() -> None:
    source = Image.new("I;16", (40, 20), 65535)
    source.paste(32896, (0, 0, 20, 20))
    result = sanitise_image(encode(source, "PNG"), max_output_pixels=200)
    image = reopen(result)
    assert (image.mode, image.size) == ("L", (20, 10))
    assert (image.getpixel((2, 5)), image.getpixel((17, 5))) == (128, 255)


@pytest.fixture(scope="module")
def fifty_megapixel_photo() -> bytes:
    """8160 x 6120 like a 50-megapixel phone camera's, stored sideways with orientation 6."""
    photo = Image.new("RGB", (8160, 6120), RED)
    photo.paste(BLUE, (4080, 0, 8160, 6120))
    return encode(photo, "JPEG", exif=gps_exif(orientation=6))


def test_a_fifty_megapixel_phone_photo_is_decoded_at_half_size_and_turned_upright(
    fifty_megapixel_photo: bytes,
) -> None:
    # Decoded in full it would hold 200 MB; at libjpeg's 1/2 scale 50 MB fit a budget of 64 MiB.
    result = sanitise_image(fifty_megapixel_photo, max_decoded_bytes=64 * 2**20)
    assert (result.mime_type, result.width, result.height) == ("image/jpeg", 3060, 4080)
    assert result.width * result.height <= DEFAULT_MAX_OUTPUT_PIXELS
    image = reopen(result)
    assert_close(image.getpixel((1500, 1000)), RED)  # the left half is now on top
    assert_close(image.getpixel((1500, 3000)), BLUE)
    assert MAKE.encode() not in result.data


@pytest.mark.parametrize(
    ("max_output_pixels", "size"),
    [
        (10_000, (100, 75)),  # decoded at 1/8 scale, already small enough
        (50_000, (200, 150)),  # 1/4
        (200_000, (400, 300)),  # 1/2
        (300_000, (632, 474)),  # decoded in full (at most twice the output), then resampled
        (480_000, (800, 600)),  # the picture itself
    ],
)
def test_a_large_jpeg_is_decoded_at_reduced_scale_then_shrunk_to_the_output_cap(
    max_output_pixels: int, size: tuple[int, int]
) -> None:
    result = sanitise_image(
        encode(two_colours((800, 600)), "JPEG"), max_output_pixels=max_output_pixels
    )
    assert (result.width, result.height) == size
    image = reopen(result).convert("RGB")
    assert_close(image.getpixel((size[0] // 8, size[1] // 2)), RED)
    assert_close(image.getpixel((size[0] * 7 // 8, size[1] // 2)), BLUE)


@pytest.mark.parametrize(
    ("fmt", "mode", "out_mode"),
    [
        ("PNG", "RGB", "RGB"),
        ("PNG", "RGBA", "RGBA"),
        ("PNG", "LA", "LA"),
        ("PNG", "L", "L"),
        ("PNG", "P", "RGB"),
        ("PNG", "1", "L"),
        ("WEBP", "RGB", "RGB"),
        ("JPEG", "CMYK", "RGB"),
    ],
)
def test_other_pictures_are_resampled_to_the_output_cap(fmt: str, mode: str, out_mode: str) -> None:
    source = Image.new("RGB", (80, 40), (255, 255, 255))
    source.paste((0, 0, 0), (40, 0, 80, 40))
    result = sanitise_image(encode(source.convert(mode), fmt), max_output_pixels=800)
    image = reopen(result)
    assert (image.mode, image.size) == (out_mode, (40, 20))
    assert_close(image.convert("RGB").getpixel((5, 10)), (255, 255, 255))
    assert_close(image.convert("RGB").getpixel((35, 10)), (0, 0, 0))


@pytest.mark.parametrize("source_mode", ["P", "L", "RGB"])
def test_a_colour_key_survives_resampling_without_a_fringe(source_mode: str) -> None:
    # Left half the transparent colour key, right half opaque. The key's colour is white (or
    # red) where the opaque half is black (or blue): any of the key's colour in a visible pixel
    # is a fringe that resampling the key colour along with the rest would leave.
    grey = source_mode == "L"
    key_colour, opaque = ((255, 255, 255), (0, 0, 0)) if grey else ((255, 0, 0), (0, 0, 255))
    colours = Image.new("RGB", (40, 20), key_colour)
    colours.paste(opaque, (20, 0, 40, 20))
    source = colours.quantize(2) if source_mode == "P" else colours.convert(source_mode)
    key = source.getpixel((0, 0))
    result = sanitise_image(encode(source, "PNG", transparency=key), max_output_pixels=50)
    image = reopen(result)
    assert (image.mode, image.size) == ("LA" if grey else "RGBA", (10, 5))
    assert alpha(image, (1, 2)) == 0
    assert alpha(image, (8, 2)) == 255
    for x in range(10):
        pixel = image.getpixel((x, 2))
        assert isinstance(pixel, tuple)
        assert pixel[0] == 0 or pixel[-1] == 0, (x, pixel)


def test_the_output_keeps_its_proportions_and_its_cap() -> None:
    for size, cap in [((1, 5000), 100), ((5000, 1), 100), ((3, 3), 1), ((641, 479), 1000)]:
        result = sanitise_image(encode(Image.new("L", size, 90), "PNG"), max_output_pixels=cap)
        assert result.width * result.height <= cap
        assert (result.width >= result.height) == (size[0] >= size[1])


def picture_in(kind: str) -> bytes:
    """A 20 x 20 PNG of the given kind."""
    if kind == "RGB;16":
        return png_from_rows(20, 20, 16, 2, [bytes(20 * 6)] * 20)
    mode, _, extra = kind.partition("+")
    image = two_colours((20, 20)).convert(mode)
    return encode(image, "PNG", **({"transparency": 0} if extra else {}))


@pytest.mark.parametrize(
    ("kind", "kept", "shrunk"),
    [
        ("L", 1, 1),
        ("1", 1, 2),  # a black-and-white picture is made greyscale before it is resampled
        ("RGB", 4, 4),  # Pillow holds three channels in four bytes
        ("RGBA", 4, 8),  # resampling works on a premultiplied copy
        ("LA", 4, 8),
        ("P", 1, 5),  # converted to RGB first
        ("P+transparency", 1, 9),  # converted to RGBA, which is premultiplied
        ("I;16", 2, 2),
        ("RGB;16", 6, 6),  # six bytes a pixel are inflated, then halved
    ],
)
def test_the_decoding_budget_counts_bytes_per_pixel(kind: str, kept: int, shrunk: int) -> None:
    data = picture_in(kind)
    for per_pixel, cap in [(kept, 400), (shrunk, 100)]:
        budget = 20 * 20 * per_pixel
        assert rejection(data, max_decoded_bytes=budget - 1, max_output_pixels=cap) == "too_complex"
        result = sanitise_image(data, max_decoded_bytes=budget, max_output_pixels=cap)
        assert result.width * result.height == cap


def test_progressive_jpeg_counts_libjpegs_coefficient_buffers() -> None:
    picture = noisy((400, 300))
    baseline, progressive = encode(picture, "JPEG"), encode(picture, "JPEG", progressive=True)
    coefficients = read_jpeg_layout(progressive, stop_after=MAX_MARKERS).coefficient_bytes()
    assert coefficients == 25 * 19 * 6 * 128  # MCUs of 16 x 16 pixels, 4 + 2 blocks, 64 x 2 bytes
    held = 400 * 300 * 4  # Pillow holds RGB in four bytes
    assert sanitise_image(baseline, max_decoded_bytes=held).width == 400
    assert rejection(progressive, max_decoded_bytes=held + coefficients - 1) == "too_complex"
    assert sanitise_image(progressive, max_decoded_bytes=held + coefficients).width == 400


def only_first_component_in_first_scan(jpeg: bytes) -> bytes:
    """Rewrite a baseline JPEG's scan header to name one component (a non-interleaved scan)."""
    at = jpeg.index(b"\xff\xda")
    length = struct.unpack(">H", jpeg[at + 2 : at + 4])[0]
    header = jpeg[at + 4 : at + 2 + length]
    one = bytes([1]) + header[1:3] + header[-3:]
    return jpeg[:at] + b"\xff\xda" + struct.pack(">H", len(one) + 2) + one + jpeg[at + 2 + length :]


def test_the_jpeg_layout_tells_a_single_scan_from_buffered_ones() -> None:
    picture = noisy((64, 48))
    baseline = read_jpeg_layout(encode(picture, "JPEG"), stop_after=100)
    progressive = read_jpeg_layout(encode(picture, "JPEG", progressive=True), stop_after=100)
    split = read_jpeg_layout(
        only_first_component_in_first_scan(encode(picture, "JPEG")), stop_after=100
    )
    assert (baseline.width, baseline.height, baseline.frames) == (64, 48, 1)
    assert (baseline.scans, baseline.first_scan_components, baseline.multi_scan) == (1, 3, False)
    assert progressive.scans > 1
    assert progressive.multi_scan
    assert (split.first_scan_components, split.multi_scan) == (1, True)


def with_extra_scans(jpeg: bytes, count: int) -> bytes:
    """``count`` more scans before the end, each a few bytes that end every block of the first
    component at once (one end-of-band run), yet make libjpeg visit the whole picture."""
    table = bytes([0x11, 1] + [0] * 15 + [0x50])  # AC table 1: one code, a run of 32..63 blocks
    scan = bytes([1, 1, 0x01, 1, 63, 0x00])  # component 1, coefficients 1..63
    segments = b"\xff\xc4" + struct.pack(">H", len(table) + 2) + table
    one_scan = b"\xff\xda" + struct.pack(">H", len(scan) + 2) + scan + b"\x7f"  # 0 11111 11
    end = jpeg.rindex(b"\xff\xd9")
    return jpeg[:end] + segments + one_scan * count + jpeg[end:]


def test_too_many_scans_are_refused_before_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    progressive = encode(noisy((64, 48)), "JPEG", progressive=True)
    scans = read_jpeg_layout(progressive, stop_after=MAX_MARKERS).scans
    at_the_limit = with_extra_scans(progressive, MAX_SCANS - scans)
    assert sanitise_image(at_the_limit).width == 64
    over = with_extra_scans(progressive, 10_000)
    forbid_decoding(monkeypatch)
    assert rejection(over) == "too_complex"


def test_too_many_markers_or_chunks_are_refused_before_pillow_parses_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    jpeg, png = encode(two_colours(), "JPEG"), encode(two_colours(), "PNG")
    tables = jpeg.index(b"\xff\xdb")
    comments = b"\xff\xfe\x00\x02"  # an empty comment segment
    variants = {  # Pillow's parser takes a loop turn for each segment, fill byte or stray byte
        "JPEG comments": lambda n: jpeg[:2] + comments * n + jpeg[2:],
        "JPEG fill bytes": lambda n: jpeg[:tables] + b"\xff" * n + jpeg[tables:],
        "JPEG stray bytes": lambda n: jpeg[:tables] + b"\x00" * n + jpeg[tables:],
        "PNG chunks": lambda n: png[:33] + png_chunk(b"quIt", b"") * n + png[33:],
    }
    for name, variant in variants.items():
        assert sanitise_image(variant(1000)).width == 40, name

    def forbidden(*args: object, **kwargs: object) -> NoReturn:
        raise AssertionError("Pillow opened the file")

    monkeypatch.setattr(Image, "open", forbidden)
    for name, variant in variants.items():
        assert rejection(variant(MAX_MARKERS)) == "too_complex", name


@pytest.mark.parametrize(("marker", "kind"), [(0xC3, "lossless"), (0xC5, "hierarchical")])
def test_jpegs_no_phone_writes_are_refused(marker: int, kind: str) -> None:
    data = bytearray(encode(two_colours(), "JPEG"))
    data[data.index(b"\xff\xc0") + 1] = marker
    assert rejection(bytes(data)) == "unsupported_type", kind


def test_a_second_frame_header_is_damaged() -> None:
    data = encode(two_colours(), "JPEG")
    at = data.index(b"\xff\xc0")
    frame = data[at : at + 2 + struct.unpack(">H", data[at + 2 : at + 4])[0]]
    assert rejection(data[:at] + frame + data[at:]) == "damaged"


def animation(fmt: str, frames: int = 2) -> bytes:
    pictures = [Image.new("RGB", (16, 16), (i * 40 % 256, 0, 0)) for i in range(frames)]
    if fmt == "MPO":
        return encode(pictures[0], "MPO", save_all=True, append_images=pictures[1:])
    return encode(pictures[0], fmt, save_all=True, append_images=pictures[1:], duration=100)


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "MPO"])
def test_frames_are_counted_from_the_header(fmt: str) -> None:
    data = animation(fmt, 3)
    assert rejection(data, max_frames=2) == "too_complex"
    assert sanitise_image(data, max_frames=3).width == 16


def test_an_animated_png_declaring_millions_of_frames_is_refused() -> None:
    data = bytearray(animation("PNG"))
    at = data.index(b"acTL")
    data[at + 4 : at + 8] = struct.pack(">I", 5_000_000)
    data[at + 12 : at + 16] = struct.pack(">I", zlib.crc32(bytes(data[at : at + 12])))
    assert rejection(bytes(data)) == "too_complex"


def test_webp_costs_libwebps_canvases_besides_the_picture() -> None:
    picture = two_colours((1000, 1000))
    budget = 8 * 10**6  # the picture in four bytes per pixel is 4 MB; libwebp adds 12 MB
    assert sanitise_image(encode(picture, "PNG"), max_decoded_bytes=budget).width == 1000
    assert rejection(encode(picture, "WEBP"), max_decoded_bytes=budget) == "too_complex"


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_truncated_images_are_damaged(fmt: str) -> None:
    data = encode(noisy(), fmt)
    assert rejection(data[: len(data) // 2]) == "damaged"


def test_repr_hides_the_bytes_and_the_result_is_frozen() -> None:
    result = sanitise_image(encode(two_colours(), "PNG"))
    assert repr(result) == f"SanitisedImage(image/png, 40x20, {len(result.data)} bytes)"
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.width = 1  # type: ignore[misc]


def test_nothing_is_written_to_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args: object, **kwargs: object) -> NoReturn:
        raise AssertionError("sanitise_image touched the file system")

    uploads = [encode(two_colours(), fmt, exif=gps_exif()) for fmt in ("JPEG", "PNG", "WEBP")]
    uploads.append(encode(two_colours(), "MPO", save_all=True, append_images=[two_colours()]))
    for name in ("NamedTemporaryFile", "TemporaryFile", "SpooledTemporaryFile", "mkstemp"):
        monkeypatch.setattr(tempfile, name, forbidden)
    monkeypatch.setattr(builtins, "open", forbidden)
    monkeypatch.setattr(io, "open", forbidden)
    monkeypatch.setattr(os, "open", forbidden)

    for upload in uploads:
        assert sanitise_image(upload).data
    for rejected in (b"hello", encode(two_colours(), "GIF"), upload[:200]):
        with pytest.raises(ImageRejected):
            sanitise_image(rejected)


@settings(max_examples=25, deadline=None)
@given(
    width=st.integers(1, 48),
    height=st.integers(1, 48),
    fmt=st.sampled_from(["JPEG", "PNG", "WEBP"]),
    data=st.data(),
)
def test_random_images_round_trip_with_their_size(
    width: int, height: int, fmt: str, data: st.DataObject
) -> None:
    count = width * height * 3
    pixels = data.draw(st.binary(min_size=count, max_size=count), label="pixels")
    source = Image.frombytes("RGB", (width, height), pixels)
    result = sanitise_image(encode(source, fmt))
    image = reopen(result)
    assert (image.format, image.size) == (fmt, (width, height))
    assert (result.width, result.height) == (width, height)
    if fmt == "PNG":
        assert image.tobytes() == source.tobytes()


@settings(max_examples=40, deadline=None)
@given(
    width=st.integers(1, 300),
    height=st.integers(1, 300),
    cap=st.integers(1, 5000),
    fmt=st.sampled_from(["JPEG", "PNG", "WEBP"]),
)
def test_no_image_comes_out_larger_than_the_output_cap(
    width: int, height: int, cap: int, fmt: str
) -> None:
    picture = Image.effect_noise((width, height), 64).convert("RGB")
    result = sanitise_image(encode(picture, fmt), max_output_pixels=cap)
    assert 1 <= result.width * result.height <= cap
    assert reopen(result).size == (result.width, result.height)
    if width * height <= cap:
        assert (result.width, result.height) == (width, height)


FUZZ_SEEDS = {fmt: encode(noisy((24, 16)), fmt, exif=gps_exif(6)) for fmt in MIME}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    fmt=st.sampled_from(sorted(FUZZ_SEEDS)),
    cut=st.integers(0, 2000),
    flips=st.lists(st.tuples(st.integers(0, 2000), st.integers(0, 255)), max_size=6),
)
def test_mangled_files_are_cleaned_or_rejected_never_crash(
    fmt: str, cut: int, flips: list[tuple[int, int]]
) -> None:
    data = bytearray(FUZZ_SEEDS[fmt])
    for position, value in flips:
        data[position % len(data)] = value
    data = data[: max(cut, len(data) // 2)] if cut % 2 else data
    result: SanitisedImage | None = None
    reason = ""
    try:
        result = sanitise_image(bytes(data))
    except ImageRejected as error:
        reason = error.reason
    if result is None:
        assert reason in {
            "not_an_image", "unsupported_type", "too_many_pixels", "too_complex", "damaged"
        }  # fmt: skip
    else:
        assert MAKE.encode() not in result.data
        assert reopen(result).size == (result.width, result.height)
