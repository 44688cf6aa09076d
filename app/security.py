"""Response headers that every page carries, set in code so the tests can hold them."""

from __future__ import annotations

from flask import Flask, Response, current_app, request

# No inline script or style anywhere, so nothing needs 'unsafe-inline'.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

# Nothing in the service needs a powerful browser feature; deny them all.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "autoplay",
        "browsing-topics",
        "camera",
        "display-capture",
        "encrypted-media",
        "fullscreen",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "picture-in-picture",
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
)

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": PERMISSIONS_POLICY,
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
HSTS = "max-age=63072000; includeSubDomains"


def forbid_caching(response: Response) -> Response:
    """``Cache-Control: no-store``, for blueprints whose pages hold what no cache may keep."""
    response.headers["Cache-Control"] = "no-store"
    return response


def add_security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def offer_onion_address(response: Response) -> Response:
    """Tell Tor Browser where the same page is on the onion service, if there is one.

    Not on the onion service itself: there it would point at the page the person is on.
    """
    onion = current_app.config.get("ONION_ADDRESS")
    if onion and not request.host.split(":", 1)[0].endswith(".onion"):
        response.headers["Onion-Location"] = onion + request.full_path.rstrip("?")
    return response


def init_security(app: Flask) -> None:
    app.after_request(add_security_headers)
    app.after_request(offer_onion_address)
