"""The public pages tell the truth about the running service: nothing that exists is announced
as coming, and every link on them leads to a page that exists."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.extensions import db
from tests.conftest import SQLITE_FILE
from tests.conftest import testing_app as build_app
from tests.pages import LANGUAGES, page_paths, visible_text

# Every public page a person can reach with GET, in every language.
PUBLIC_PATHS = page_paths() + [
    f"/{lang}/{page}"
    for lang in LANGUAGES
    for page in ("statistics", "report", "report/status", "report/thanks")
]

# Words that announce something as not there yet, in every language of the site (de, en, tr, ar).
ANNOUNCING = re.compile(
    r"\b(bald|demnächst|in Kürze|geplant|planen|in Vorbereitung|in Arbeit|noch nicht|künftig|"
    r"zukünftig|freigeschaltet|soon|planned|plan to|coming|upcoming|will open|not yet|"
    r"in preparation|under construction|in the future|work in progress|"
    r"yakında|planlanıyor|planlanmaktadır|henüz|hazırlanıyor|ileride|gelecekte|"
    r"قريبًا|قريبا|مخطط لها|مخطط له|قيد الإعداد|قيد التطوير|لم يكتمل|بعد قليل|في المستقبل)\b",
    re.IGNORECASE,
)

# Sentences that may use such a word, each with the reason it is true (a part of the sentence
# is enough). An entry no page uses any more fails the test: the list stays as short as the truth.
ALLOWED = {
    # An instruction to the person, not an announcement.
    "Schreiben Sie möglichst bald auf, was geschehen ist": "advice: write it down early",
    "Write down what happened as soon as you can": "advice: write it down early",
    "Das Wichtigste in Kürze": "a heading: the most important points in brief",
    "encrypted as soon as they arrive": "when sealing happens",
    "as soon as the moderation team decides on a case": "when the numbers change",
    "Monate, die noch nicht begonnen haben, fehlen": "how the charts treat future months",
    "قريبًا من العدد الكلي": "Arabic 'qariban min' is 'close to' (a sum), not 'soon'",
}


@pytest.fixture
def site(tmp_path: Path, sqlite_template: Path) -> Iterator[FlaskClient]:
    """A client of an app on a migrated SQLite database (the statistics page reads it)."""
    instance = tmp_path / "instance"
    instance.mkdir()
    shutil.copy(sqlite_template, instance / SQLITE_FILE)
    app: Flask = build_app(instance, DATABASE_URL=f"sqlite:///{instance / SQLITE_FILE}")
    yield app.test_client()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def sentences(text: str) -> list[str]:
    return [part.strip() for part in re.split(r"(?<=[.!?:])\s+", text) if part.strip()]


def test_no_page_announces_as_coming_what_may_already_exist(site: FlaskClient) -> None:
    announcing: list[str] = []
    used: set[str] = set()
    for path in PUBLIC_PATHS:
        response = site.get(path)
        assert response.status_code == 200, path
        for sentence in sentences(visible_text(response.get_data(as_text=True))):
            if not ANNOUNCING.search(sentence):
                continue
            allowed = [fragment for fragment in ALLOWED if fragment in sentence]
            used.update(allowed)
            if not allowed:
                announcing.append(f"{path}: {sentence}")
    assert announcing == [], (
        "pages announce something as coming; make the text true to the running service, or add "
        "the sentence to ALLOWED with the reason it is still true:\n" + "\n".join(announcing)
    )
    assert sorted(set(ALLOWED) - used) == [], "ALLOWED lists sentences no page uses any more"


def test_the_help_page_leads_to_the_form_and_the_status_page(site: FlaskClient) -> None:
    for lang in LANGUAGES:
        html = site.get(f"/{lang}/help").get_data(as_text=True)
        article = html.split('<article class="prose">', 1)[1].split("</article>", 1)[0]
        assert f'href="/{lang}/report"' in article
        assert f'href="/{lang}/report/status"' in article


class _Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if values.get("id"):
            self.ids.add(str(values["id"]))
        if tag in {"a", "link"} and values.get("href"):
            self.links.append(str(values["href"]))


def test_every_link_on_every_public_page_leads_somewhere(site: FlaskClient) -> None:
    broken: list[str] = []
    checked: dict[str, int] = {}
    for path in PUBLIC_PATHS:
        parser = _Anchors()
        parser.feed(site.get(path).get_data(as_text=True))
        for link in parser.links:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc:  # mailto:, tel: and the quick exit leave the site
                continue
            if not parts.path:  # "#main": an element of this page
                if parts.fragment not in parser.ids:
                    broken.append(f"{path}: {link} names no element of the page")
                continue
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            if target not in checked:
                with site.get(target, follow_redirects=True) as response:  # closes static files
                    checked[target] = response.status_code
            if checked[target] != 200:
                broken.append(f"{path}: {link} answers {checked[target]}")
    assert len(checked) > len(PUBLIC_PATHS) // 2, checked
    assert broken == [], "\n".join(broken)
