"""No internal code as text on a staff page (issue 15, item 15): every page, with data in every
state, rendered in German and English, is parsed, and the text a person reads (not attributes,
not an option's value) must hold no role, case state, account state, scope, audit tag or other
snake_case code."""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale
from sqlalchemy import select, update

from app.api.tokens import SCOPES, TOKEN_PREFIX, create_token, revoke_token
from app.audit import AuditTag, record_event
from app.codebook import current_codebook
from app.extensions import db
from app.models import Incident, User
from app.models.incident import STATES
from app.models.user import ADMIN, MODERATOR, RESEARCHER, ROLES
from app.moderation.accounts import ACTIVE, WAITING_FOR_CONFIRMATION, WAITING_FOR_KEYS, create_user
from app.moderation.cases import CODED_QUESTIONS
from app.moderation.invitations import invite
from app.moderation.labels import AUDIT_SUBJECTS, AUDIT_TARGETS, KINDS, label_of
from tests.factories import store_sample_report
from tests.functional.conftest import hidden_value
from tests.functional.test_moderation_access import login
from tests.staff import CHEAP, PASSWORD, Staff, confirmed_secret, make_staff

SNAKE_CASE = re.compile(r"\b[a-z0-9]+(?:_[a-z0-9]+)+\b")
AUDIT_TAG = re.compile(r"\b[a-z_]+:[a-z_]+\b")
WORD_CODES = {*ROLES, *STATES, ACTIVE, WAITING_FOR_CONFIRMATION, WAITING_FOR_KEYS, *SCOPES,
              *AUDIT_SUBJECTS, *AUDIT_TARGETS}  # fmt: skip


class VisibleText(HTMLParser):
    """Text nodes a person reads; attributes (an option's value too) are not text."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self._skip = 0
        self._code = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        self._code = tag == "code"

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip -= 1
        if tag == "code":
            self._code = False

    def handle_data(self, data: str) -> None:
        # A command to type on the server is shown as it must be typed.
        # In <code>, a command or a token's prefix is typed or compared as it is: not a code.
        machine_text = self._code and data.startswith(("flask ", TOKEN_PREFIX))
        if self._skip or machine_text or not data.strip():
            return
        self.texts.append(data.strip())


def raw_codes(
    html: str, lang: str, codebook_codes: set[str], same_words: frozenset[str] = frozenset()
) -> list[str]:
    """``same_words``: codes whose label in this language is the same word (English "active")."""
    parser = VisibleText()
    parser.feed(html)
    found = []
    for text in parser.texts:
        found += SNAKE_CASE.findall(text) + AUDIT_TAG.findall(text)
        if (text in WORD_CODES - same_words) or text in codebook_codes:
            found.append(text)
        words = set(re.findall(r"[A-Za-z_]+", text))
        if lang == "de":  # German text never writes these English words in lower case
            found += sorted(words & WORD_CODES)
        else:
            found += [code for code in WORD_CODES - same_words if f"({code})" in text]
    return found


@pytest.fixture
def office(intake_app: Flask) -> dict[str, Staff]:
    """Accounts in every role and state, cases in every state, tokens, every audit event."""
    recovery = intake_app.config["TEST_RECOVERY_KEY"]
    today = dt.datetime.now(dt.UTC).date()
    with intake_app.app_context():
        staff = {ADMIN: make_staff(ADMIN, recovery, "ada@example.org"),
                 MODERATOR: make_staff(MODERATOR, recovery, "mo@example.org"),
                 RESEARCHER: make_staff(RESEARCHER, recovery, "rita@example.org")}  # fmt: skip
        create_user(
            "ulla@example.org", MODERATOR, PASSWORD, today=today, params=CHEAP, pending_slot=True
        )  # fmt: skip  (unconfirmed)
        create_user("kai@example.org", MODERATOR, PASSWORD, today=today, params=CHEAP,
                    pending_slot=True, second_factor=confirmed_secret())  # fmt: skip
        admin = db.session.scalars(select(User).where(User.email == "ada@example.org")).one()
        for role in ROLES:
            invite(f"neu-{len(role)}@example.org", role, by=admin, now=dt.datetime.now(dt.UTC))
        for scopes in (["submit"], ["statistics"], list(SCOPES)):
            create_token("Beratungsstelle", scopes, today=today)
        revoked, _ = create_token("Alte Stelle", ["submit"], today=today)
        revoke_token(revoked, today, by=admin)
        create_token("Abgelaufen", ["statistics"], today=today - dt.timedelta(days=9),
                     expires_on=today - dt.timedelta(days=1))  # fmt: skip
        for _ in STATES:
            store_sample_report(intake_app.config["RECEIPT_SECRET"].encode())
        db.session.flush()
        ids = list(db.session.scalars(select(Incident.id).order_by(Incident.id)))
        for incident_id, state in zip(ids, STATES, strict=True):
            db.session.execute(update(Incident).where(Incident.id == incident_id)
                               .values(state=state))  # fmt: skip
        for tag in AuditTag:
            record_event(tag, "s", actor_id=admin.id, target_type="incident", target_id=ids[0],
                         details={"role": MODERATOR, "from": STATES[0], "to": STATES[1],
                                  "format": "csv"})  # fmt: skip
        for target in AUDIT_TARGETS:
            record_event(AuditTag.CASE_OPEN, "s", target_type=target, target_id=1)
        db.session.commit()
    return staff


def pages(app: Flask) -> list[str]:
    with app.app_context():
        ids = list(db.session.scalars(select(Incident.id)))
    queue = ["/moderation/queue", *(f"/moderation/queue?state={s}" for s in (*STATES, "all"))]
    return ["/moderation/", *queue, *(f"/moderation/cases/{i}" for i in ids),
            "/moderation/admin/accounts", "/moderation/admin/audit",
            "/moderation/admin/audit?tag=case:", "/moderation/admin/tokens",
            "/moderation/account"]  # fmt: skip


def set_language(app: Flask, lang: str) -> None:
    with app.app_context():
        db.session.execute(update(User).values(language=lang))
        db.session.commit()


@pytest.mark.parametrize("lang", ["de", "en"])
def test_no_staff_page_shows_an_internal_code(
    intake_app: Flask, office: dict[str, Staff], lang: str
) -> None:
    set_language(intake_app, lang)
    with intake_app.app_context():
        codebook = current_codebook()
        codebook_codes = {code for question in CODED_QUESTIONS
                          for code in codebook.question(question).codes}  # fmt: skip
    with intake_app.test_request_context(), force_locale(lang):
        same_words = frozenset(
            code for kind in KINDS for code in KINDS[kind] if label_of(code, kind) == code
        )
    shown: dict[str, list[str]] = {}
    checked = 0

    def check(client: FlaskClient, path: str, method: str = "GET", **data: str) -> str:
        nonlocal checked
        response = client.open(path, method=method, data=data or None,
                               headers={"Accept-Language": lang})  # fmt: skip
        assert response.status_code in {200, 409, 422}, (path, response.status_code)
        html = response.get_data(as_text=True)
        assert f'<html lang="{lang}"' in html
        found = raw_codes(html, lang, codebook_codes, same_words)
        if found:
            shown[f"{method} {path}"] = sorted(set(found))
        checked += 1
        return html

    admin = intake_app.test_client()
    assert login(admin, office[ADMIN]).status_code == 303
    for path in pages(intake_app):
        html = check(admin, path)
    csrf = hidden_value(html, "csrf_token")
    check(
        admin,
        "/moderation/admin/invitations",
        "POST",
        csrf_token=csrf,
        email="ada@example.org",
        role=MODERATOR,
    )  # fmt: skip  (a refusal)
    with intake_app.app_context():
        first = db.session.scalars(select(Incident.id).order_by(Incident.id)).first()
    check(admin, f"/moderation/cases/{first}/open", "POST", csrf_token=csrf)
    check(admin, f"/moderation/cases/{first}/state", "POST", csrf_token=csrf, to="nowhere")
    for role in (MODERATOR, RESEARCHER):
        client = intake_app.test_client()
        assert login(client, office[role]).status_code == 303
        check(client, "/moderation/")
    anonymous = intake_app.test_client()
    check(anonymous, "/moderation/login")
    assert checked >= 20
    assert shown == {}


def test_every_code_of_every_kind_has_words_in_both_languages(app: Flask) -> None:
    """A new role, state, scope or audit tag without words fails here, not on a page."""
    from app.moderation.labels import AUDIT_EVENTS, CASE_STATES
    from app.moderation.labels import ROLES as ROLE_WORDS
    from app.moderation.labels import SCOPES as SCOPE_WORDS

    assert set(AUDIT_EVENTS) == set(AuditTag)
    assert set(CASE_STATES) == set(STATES)
    assert set(ROLE_WORDS) == set(ROLES)
    assert set(SCOPE_WORDS) == set(SCOPES)
    assert {tag.value.split(":")[0] for tag in AuditTag} == set(AUDIT_SUBJECTS)
    for lang in ("de", "en"):
        with app.test_request_context(), force_locale(lang):
            for kind, words in KINDS.items():
                for code in words:
                    assert label_of(code, kind), (kind, code)
                    assert not SNAKE_CASE.search(label_of(code, kind)), (kind, code)
