"""What a JPEG or PNG file declares, read from its bytes without decoding a pixel.

Pillow parses JPEG markers and PNG chunks in Python, one loop turn each; a 10 MB file of empty
segments costs it seconds of CPU and hundreds of MB before a single pixel exists. libjpeg reads
every scan of a progressive JPEG over the whole image, so thousands of tiny scans cost minutes.
These walkers count both first (and stop counting early), so that such files are refused cheaply.
They trust nothing: a file they cannot follow is left to Pillow, which refuses it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A marker that ends entropy-coded data: 0xFF followed by anything but a stuffed zero, a restart
# marker (RST0..RST7, part of the data) or another 0xFF (fill bytes before a marker).
_ENTROPY_END = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
_NOT_FILL = re.compile(rb"[^\xff]")
# Markers without a length field: TEM, RST0..RST7, SOI (a stray one is skipped, as libjpeg does).
_STANDALONE = {0x00, 0x01, *range(0xD0, 0xD9)}
_START_OF_FRAME = {*range(0xC0, 0xD0)} - {0xC4, 0xC8, 0xCC}  # DHT, JPG and DAC are no frames
# Frame types libjpeg decodes with DCT scaling and the memory model below: baseline, extended
# sequential and progressive, Huffman or arithmetic. Lossless and hierarchical ones are refused.
_DCT_FRAMES = {0xC0, 0xC1, 0xC2, 0xC9, 0xCA}
_PROGRESSIVE_FRAMES = {0xC2, 0xC6, 0xCA, 0xCE}


@dataclass(frozen=True, slots=True)
class JpegLayout:
    """The primary picture of a JPEG (an MPO's first picture) as its markers declare it."""

    frame_marker: int  # 0 if no frame header was found
    frames: int  # frame headers seen; libjpeg refuses a second one
    width: int
    height: int
    sampling: tuple[tuple[int, int], ...]  # (horizontal, vertical) sampling factor per component
    scans: int
    first_scan_components: int
    # Markers up to the end of the picture, plus stray bytes before them (junk, fill bytes):
    # the turns of Pillow's parsing loop, counted up to the walk's limit.
    steps: int

    @property
    def dct_based(self) -> bool:
        return self.frame_marker in _DCT_FRAMES

    @property
    def multi_scan(self) -> bool:
        """libjpeg buffers the whole image's DCT coefficients before it outputs a row."""
        return (
            self.frame_marker in _PROGRESSIVE_FRAMES
            or self.scans > 1
            or self.first_scan_components < len(self.sampling)
        )

    def coefficient_bytes(self) -> int:
        """Memory of libjpeg's whole-image coefficient buffers: 64 two-byte values per block of
        every component, counted in whole MCUs. Their size does not shrink with DCT scaling."""
        if not self.sampling:
            return 0
        h_max = max(max(h for h, _ in self.sampling), 1)
        v_max = max(max(v for _, v in self.sampling), 1)
        mcus = -(-self.width // (8 * h_max)) * -(-self.height // (8 * v_max))
        blocks_per_mcu = sum(h * v for h, v in self.sampling)
        return mcus * blocks_per_mcu * 64 * 2


def read_jpeg_layout(data: bytes, *, stop_after: int) -> JpegLayout:
    """Walk the markers of the first picture up to its end (EOI).

    Counting stops once more than ``stop_after`` steps or scans are seen, so the walk costs at
    most that many loop turns; the counts then say "more than ``stop_after``".
    """
    position, steps, scans, frames = 2, 0, 0, 0
    frame_marker, width, height, first_scan = 0, 0, 0, 0
    sampling: tuple[tuple[int, int], ...] = ()
    while steps <= stop_after and scans <= stop_after:
        # Junk before a marker and fill bytes (0xFF) inside it are skipped, as libjpeg does;
        # Pillow reads them one byte per loop turn, so each counts as a step.
        start, position = position, data.find(b"\xff", position)
        code = _NOT_FILL.search(data, position) if position >= 0 else None
        if code is None:
            break
        marker, position = data[code.start()], code.end()
        steps += position - start - 1
        if marker == 0xD9:  # end of image
            break
        if marker in _STANDALONE:
            continue
        length = int.from_bytes(data[position : position + 2], "big")
        if length < 2:
            break
        body_at, position = position + 2, position + length
        if marker in _START_OF_FRAME:
            frames += 1
            body = data[body_at:position]
            if frames == 1 and len(body) >= 6:
                frame_marker = marker
                height, width = int.from_bytes(body[1:3], "big"), int.from_bytes(body[3:5], "big")
                sampling = tuple((c >> 4, c & 0x0F) for c in body[7 : 6 + 3 * body[5] : 3])
        elif marker == 0xDA:  # start of scan, followed by its entropy-coded data
            scans += 1
            if scans == 1 and body_at < min(position, len(data)):
                first_scan = data[body_at]
            end = _ENTROPY_END.search(data, position)
            if end is None:
                break
            position = end.start()
    return JpegLayout(frame_marker, frames, width, height, sampling, scans, first_scan, steps)


def count_png_chunks(data: bytes, *, stop_after: int) -> int:
    """Chunks from the signature to IEND (or the end of the data), counting up to
    ``stop_after + 1``. Pillow reads each in a loop turn of its own, IDAT included."""
    position, chunks = 8, 0
    while position + 8 <= len(data) and chunks <= stop_after:
        chunks += 1
        if data[position + 4 : position + 8] == b"IEND":
            break
        position += 12 + int.from_bytes(data[position : position + 4], "big")
    return chunks
