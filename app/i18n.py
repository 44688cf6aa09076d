"""Language selection: the language lives in the path; elsewhere the browser's preference.

The languages come from the configuration (``LANGUAGES``, app/config.py), read per request: the
routes take them through the ``lang`` URL converter, an unknown code being a plain 404.
"""

from __future__ import annotations

from typing import Any, ClassVar

from flask import Flask, current_app, g, request, url_for
from werkzeug.routing import AnyConverter, Map

from app.config import DEFAULT_LANGUAGE, Language
from app.dates import day_element, format_day, format_moment, format_period, period_element


def languages() -> tuple[Language, ...]:
    """The configured languages, in the order the language switch offers them."""
    configured: tuple[Language, ...] = current_app.config["LANGUAGES"]
    return configured


def language_codes() -> tuple[str, ...]:
    return tuple(language.code for language in languages())


def direction(code: str) -> str:
    """``ltr`` or ``rtl`` for a configured language; left to right for anything else."""
    for language in languages():
        if language.code == code:
            return language.direction
    return "ltr"


def preferred_language() -> str:
    """The best of our languages for this browser, German when nothing matches."""
    return request.accept_languages.best_match(language_codes(), default=DEFAULT_LANGUAGE) or (
        DEFAULT_LANGUAGE
    )


def language_from_path(path: str) -> str | None:
    first = path.lstrip("/").split("/", 1)[0]
    return first if first in language_codes() else None


def select_locale() -> str:
    lang = g.get("lang")
    if isinstance(lang, str):
        return lang
    return language_from_path(request.path) or preferred_language()


class LanguageConverter(AnyConverter):
    """``<lang:lang>`` in a route: one of the configured codes (``init_i18n`` sets them)."""

    codes: ClassVar[tuple[str, ...]] = ()

    def __init__(self, map: Map) -> None:  # noqa: A002 - werkzeug's parameter name
        super().__init__(map, *self.codes)


def pull_language(endpoint: str | None, values: dict[str, Any] | None) -> None:
    if values and "lang" in values:
        g.lang = values.pop("lang")


def add_language(endpoint: str, values: dict[str, Any]) -> None:
    if "lang" in values or "lang" not in g:
        return
    if current_app.url_map.is_endpoint_expecting(endpoint, "lang"):
        values["lang"] = g.lang


def other_languages() -> list[str]:
    current = g.get("lang", DEFAULT_LANGUAGE)
    return [code for code in language_codes() if code != current]


def init_i18n(app: Flask) -> None:
    """Register the ``lang`` converter (before any blueprint adds its routes) and the hooks."""
    codes = tuple(language.code for language in app.config["LANGUAGES"])
    app.url_map.converters["lang"] = type(
        "LanguageConverter", (LanguageConverter,), {"codes": codes}
    )
    app.url_value_preprocessor(pull_language)
    app.url_defaults(add_language)
    app.context_processor(template_helpers)
    # Dates in templates go through these, never str(date) or strftime (app/dates.py).
    app.jinja_env.filters.update(
        day=day_element, period=period_element, day_text=format_day,
        period_text=format_period, moment=format_moment,
    )  # fmt: skip


def language_switch_url(lang: str) -> str:
    """The current page in ``lang``, or that language's home page where there is no such page."""
    rule = request.url_rule
    if request.endpoint and rule is not None and "lang" in rule.arguments:
        return url_for(request.endpoint, **{**(request.view_args or {}), "lang": lang})
    return url_for("pages.home", lang=lang)


def template_helpers() -> dict[str, Any]:
    current = g.get("lang", DEFAULT_LANGUAGE)
    return {
        "current_lang": current,
        "current_dir": direction(current),
        "other_languages": other_languages(),
        "language_switch_url": language_switch_url,
        "language_direction": direction,
        "language_names": {language.code: language.name for language in languages()},
    }
