"""Language selection: the language lives in the path; elsewhere the browser's preference."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, g, request, url_for

from app.config import DEFAULT_LANGUAGE, LANGUAGES


def preferred_language() -> str:
    """The best of our languages for this browser, German when nothing matches."""
    return request.accept_languages.best_match(LANGUAGES, default=DEFAULT_LANGUAGE) or (
        DEFAULT_LANGUAGE
    )


def language_from_path(path: str) -> str | None:
    first = path.lstrip("/").split("/", 1)[0]
    return first if first in LANGUAGES else None


def select_locale() -> str:
    lang = g.get("lang")
    if isinstance(lang, str):
        return lang
    return language_from_path(request.path) or preferred_language()


# Route prefix for every public page: an unknown language is a plain 404.
LANG_PREFIX = "/<any(" + ", ".join(LANGUAGES) + "):lang>"


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
    return [lang for lang in LANGUAGES if lang != current]


def init_i18n(app: Flask) -> None:
    app.url_value_preprocessor(pull_language)
    app.url_defaults(add_language)
    app.context_processor(template_helpers)


def language_switch_url(lang: str) -> str:
    """The current page in ``lang``, or that language's home page where there is no such page."""
    rule = request.url_rule
    if request.endpoint and rule is not None and "lang" in rule.arguments:
        return url_for(request.endpoint, **{**(request.view_args or {}), "lang": lang})
    return url_for("pages.home", lang=lang)


LANGUAGE_NAMES = {"de": "Deutsch", "en": "English"}


def template_helpers() -> dict[str, Any]:
    return {
        "current_lang": g.get("lang", DEFAULT_LANGUAGE),
        "other_languages": other_languages(),
        "language_switch_url": language_switch_url,
        "language_names": LANGUAGE_NAMES,
    }
