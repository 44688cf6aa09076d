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
from PIL import Image, ImageCms, ImageOps, PngImagePlugin, TiffImagePlugin

from app.crypto.attachments import SanitisedImage, sanitise_image
from app.crypto.errors import ImageRejected

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


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header declares ``width`` x ``height`` and whose pixel data is a stub."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    stub = zlib.compress(b"\x00" * 64)
    chunks = chunk(b"IHDR", header) + chunk(b"IDAT", stub) + chunk(b"IEND", b"")
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
    "size",
    [
        (20_000, 20_000),  # over max_pixels, under Pillow's own limit
        (10_000, 10_000),  # over Pillow's warning limit: the warning must not escape
        (100_000, 100_000),  # over Pillow's error limit
    ],
)
def test_decompression_bombs_are_rejected_from_the_header(size: tuple[int, int]) -> None:
    # The pixel data is a 64-byte stub: decoding it would fail as "damaged".
    assert rejection(png_header_only(*size)) == "too_many_pixels"


def test_pillow_limit_applies_even_with_a_higher_max_pixels() -> None:
    assert rejection(png_header_only(10_000, 10_000), max_pixels=10**12) == "too_many_pixels"


def test_a_small_header_with_a_stub_is_decoded_and_found_damaged() -> None:
    assert rejection(png_header_only(100, 100)) == "damaged"


def test_a_bomb_found_while_decoding_is_too_many_pixels(monkeypatch: pytest.MonkeyPatch) -> None:
    def bomb(image: Image.Image, **options: object) -> NoReturn:
        raise Image.DecompressionBombWarning("found while decoding")

    monkeypatch.setattr(ImageOps, "exif_transpose", bomb)
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
        assert reason in {"not_an_image", "unsupported_type", "too_many_pixels", "damaged"}
    else:
        assert MAKE.encode() not in result.data
        assert reopen(result).size == (result.width, result.height)
