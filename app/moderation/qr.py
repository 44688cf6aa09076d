"""QR codes of an authenticator address, drawn here (segno): nothing leaves the server.

The page's SVG is inline, without XML declaration, namespace or style (the CSP allows no inline
style; colours are SVG attributes), with a <title> that names it for screen readers. The
terminal's is text (half-block characters) for ``flask users create``.
"""

from __future__ import annotations

import io

import segno
from markupsafe import Markup, escape

# Medium error correction: an otpauth URI of our length stays a version 6 code (41 modules),
# 4 pixels per module fits a 320 px wide screen with the quiet zone.
_ERROR = "m"
_SCALE = 4


def qr_svg(uri: str, name: str, element_id: str = "totp-qr") -> Markup:
    """The code as inline SVG whose accessible name is ``name``."""
    code = segno.make(uri, error=_ERROR)
    svg = code.svg_inline(
        scale=_SCALE, dark="#000", light="#fff", title=name, svgclass="qr-code", lineclass=None
    )
    title_id = f"{element_id}-title"
    # role and aria-labelledby name the picture; segno writes the <title> first, unescaped ids
    # are ours, the title text is escaped by segno.
    return Markup(  # noqa: S704 (segno escapes the title; the rest is its own drawing)
        svg.replace("<svg ", f'<svg id="{escape(element_id)}" role="img" '
                    f'aria-labelledby="{escape(title_id)}" ', 1)
        .replace("<title>", f'<title id="{escape(title_id)}">', 1)
    )  # fmt: skip


def qr_terminal(uri: str) -> str:
    """The code as text for a terminal (two rows of modules per line)."""
    out = io.StringIO()
    segno.make(uri, error=_ERROR).terminal(out=out, compact=True)
    return out.getvalue()
