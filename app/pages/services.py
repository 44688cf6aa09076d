"""Supporting pages from Markdown files with front matter, rendered and sanitised.

The shipped texts live in ``app/pages/content/<lang>/<slug>.md``. An operator can replace any of
them, and the counselling contacts, by putting a file with the same name under
``instance/content/`` — nothing in the code needs to change.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import markdown
import nh3
import yaml
from markupsafe import Markup, escape

SHIPPED_CONTENT = Path(__file__).parent / "content"

ALLOWED_TAGS = {
    "a", "abbr", "blockquote", "br", "code", "dd", "dl", "dt", "em", "h2", "h3", "h4", "hr",
    "li", "ol", "p", "strong", "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href"}, "abbr": {"title"}, "td": {"align"}, "th": {"align"}}
# Links stay on this site (or open the phone or mail program): nothing leaks to a third party.
ALLOWED_LINK_PREFIXES = ("/", "#", "mailto:", "tel:")


class PageNotFound(LookupError):
    """No content file exists for this language and page."""


class ContentError(ValueError):
    """A content file is malformed; the message names the file."""


@dataclass(frozen=True)
class Page:
    slug: str
    lang: str
    title: str
    summary: str
    body: Markup


@dataclass(frozen=True)
class Contact:
    name: str
    description: str
    phone: str = ""
    email: str = ""
    address: str = ""
    hours: str = ""
    area: str = ""


CONTACT_KEYS = frozenset(Contact.__dataclass_fields__)


@dataclass(frozen=True)
class ContactGroup:
    title: str
    contacts: list[Contact] = field(default_factory=list)


def _keep_local_links(element: str, attribute: str, value: str) -> str | None:
    if attribute == "href" and not value.startswith(ALLOWED_LINK_PREFIXES):
        return None
    return value


# Runs that read left to right in every script: phone numbers of several groups, e-mail and web
# addresses. On a right-to-left page the bidirectional algorithm would reorder their parts
# ("0800 111 0 222" shows as "222 0 111 0800"); isolated, they read as written. On a
# left-to-right page the isolation changes nothing.
LEFT_TO_RIGHT_RUN = re.compile(
    r"\+?\d[\d/-]*(?: [\d/-]+)+\d|https?://[^\s<]+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
)
_TAG = re.compile(r"(<[^>]*>)")


def isolate_left_to_right(html: str) -> Markup:
    """``html`` (markup, or plain text, which is escaped) with every left-to-right run in the
    text between its tags wrapped in ``<bdi dir="ltr">``."""
    return Markup(  # noqa: S704 - the parts are escaped markup; only <bdi> is added
        "".join(
            part if part.startswith("<") else LEFT_TO_RIGHT_RUN.sub(_isolated, part)
            for part in _TAG.split(escape(html))
        )
    )


def _isolated(match: re.Match[str]) -> str:
    return f'<bdi dir="ltr">{match.group()}</bdi>'


def render_markdown(text: str) -> Markup:
    """Markdown to HTML that holds only harmless tags and on-site links."""
    html = markdown.markdown(text, extensions=["sane_lists", "tables"], output_format="html")
    cleaned = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        attribute_filter=_keep_local_links,
        url_schemes={"mailto", "tel"},
        link_rel=None,
    )
    return isolate_left_to_right(Markup(cleaned))  # noqa: S704 - sanitised by nh3 just above


def split_front_matter(text: str, source: Path) -> tuple[dict[str, Any], str]:
    if not text.startswith("---\n"):
        raise ContentError(f"{source}: a content file starts with a '---' front matter block")
    try:
        header, body = text[4:].split("\n---\n", 1)
    except ValueError:
        raise ContentError(f"{source}: the front matter block is not closed by '---'") from None
    meta = yaml.safe_load(header) or {}
    if not isinstance(meta, dict) or not isinstance(meta.get("title"), str):
        raise ContentError(f"{source}: the front matter needs a 'title'")
    return meta, body


def content_file(instance_path: str, *parts: str) -> Path | None:
    """The operator's file if there is one, else the shipped one, else None."""
    for root in (Path(instance_path) / "content", SHIPPED_CONTENT):
        candidate = root.joinpath(*parts)
        if candidate.is_file():
            return candidate
    return None


@lru_cache(maxsize=128)
def _parse_page(path: Path, mtime_ns: int, slug: str, lang: str) -> Page:
    del mtime_ns  # part of the cache key only: an edited file is read again
    meta, body = split_front_matter(path.read_text(encoding="utf-8"), path)
    return Page(
        slug=slug,
        lang=lang,
        title=meta["title"],
        summary=str(meta.get("summary", "")),
        body=render_markdown(body),
    )


def load_page(instance_path: str, lang: str, slug: str) -> Page:
    """The page ``slug`` in ``lang``.

    Raises:
        PageNotFound: when no file exists for it.
        ContentError: when the file is malformed.
    """
    path = content_file(instance_path, lang, f"{slug}.md")
    if path is None:
        raise PageNotFound(f"{lang}/{slug}")
    return _parse_page(path, path.stat().st_mtime_ns, slug, lang)


def _localised(value: Any, lang: str) -> str:
    if isinstance(value, dict):
        return str(value.get(lang) or next(iter(value.values()), ""))
    return "" if value is None else str(value)


def load_contacts(instance_path: str, lang: str) -> list[ContactGroup]:
    """The counselling contacts, grouped, in ``lang`` (``contacts.yaml``, operator-editable)."""
    path = content_file(instance_path, "contacts.yaml")
    if path is None:
        return []
    return _parse_contacts(path, path.stat().st_mtime_ns, lang)


@lru_cache(maxsize=16)
def _parse_contacts(path: Path, mtime_ns: int, lang: str) -> list[ContactGroup]:
    del mtime_ns  # part of the cache key only: an edited file is read again
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    groups = []
    for group in data.get("groups", []):
        contacts = []
        for entry in group.get("contacts", []):
            unknown = set(entry) - CONTACT_KEYS
            if unknown:
                raise ContentError(f"{path}: unknown contact keys {sorted(unknown)}")
            contacts.append(
                Contact(**{key: _localised(value, lang) for key, value in entry.items()})
            )
        groups.append(ContactGroup(title=_localised(group.get("title"), lang), contacts=contacts))
    return groups


@dataclass(frozen=True)
class Operator:
    """Who runs the service, for the imprint; from configuration, never from content files."""

    name: str
    address_lines: list[str]
    email: str
    phone: str
    representative: str
    register: str


def operator_from_config(config: Mapping[str, Any]) -> Operator:
    return Operator(
        name=str(config.get("OPERATOR_NAME", "")),
        address_lines=str(config.get("OPERATOR_ADDRESS", "")).splitlines(),
        email=str(config.get("OPERATOR_EMAIL", "")),
        phone=str(config.get("OPERATOR_PHONE", "")),
        representative=str(config.get("OPERATOR_REPRESENTATIVE", "")),
        register=str(config.get("OPERATOR_REGISTER", "")),
    )
