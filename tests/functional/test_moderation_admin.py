"""Admin pages: invitations with pending key slots, grants, unlocking, removal, API tokens,
audit log."""

from __future__ import annotations

import base64
import datetime as dt
import re
from urllib.parse import parse_qs, urlsplit

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.api.tokens import create_token
from app.crypto import keyring
from app.dates import format_day
from app.extensions import db
from app.models import ApiToken, AuditEvent, KeySlot, User
from app.models.user import ADMIN, MODERATOR, RESEARCHER
from tests.functional.conftest import hidden_value
from tests.functional.test_moderation_access import login
from tests.functional.test_partner_api import api_body, post
from tests.staff import PASSWORD, Staff, make_staff


def admin_client(app: Flask) -> tuple[FlaskClient, Staff, str]:
    with app.app_context():
        admin = make_staff(ADMIN, app.config["TEST_RECOVERY_KEY"])
    client = app.test_client()
    assert login(client, admin).status_code == 303
    csrf = hidden_value(client.get("/moderation/admin/accounts").get_data(as_text=True),
                        "csrf_token")  # fmt: skip
    return client, admin, csrf


def test_an_invited_moderator_gets_keys_from_an_admin(intake_app: Flask) -> None:
    client, _, csrf = admin_client(intake_app)
    invitation = {"csrf_token": csrf, "email": "Neu@Example.org", "role": MODERATOR}
    page = client.post("/moderation/admin/invitations", data=invitation)
    assert page.status_code == 200
    link = re.search(r"(http://[^<\s]+/moderation/invitation/[^<\s]+)", page.get_data(as_text=True))
    assert link
    path = urlsplit(link.group(1)).path

    newcomer = intake_app.test_client()
    form = newcomer.get(path)
    assert form.status_code == 200
    token = hidden_value(form.get_data(as_text=True), "csrf_token")
    mismatch = newcomer.post(path, data={"csrf_token": token, "password": PASSWORD,
                                         "password_again": PASSWORD + "x"})  # fmt: skip
    assert mismatch.status_code == 422
    done = newcomer.post(path, data={"csrf_token": token, "password": PASSWORD,
                                     "password_again": PASSWORD})  # fmt: skip
    assert done.status_code == 303
    assert done.headers["Location"].endswith("/moderation/enrolment")
    html = newcomer.get("/moderation/enrolment").get_data(as_text=True)
    uri = re.search(r"(otpauth://totp/[^<\s]+)", html)
    assert uri
    assert newcomer.get(path).status_code == 404  # the link works once
    accounts = client.get("/moderation/admin/accounts").get_data(as_text=True)
    assert "wartet auf Bestätigung der Authenticator-App" in accounts
    query = parse_qs(urlsplit(uri.group(1).replace("&amp;", "&")).query)
    secret = base64.b32decode(query["secret"][0] + "=" * (-len(query["secret"][0]) % 8))
    recovery = re.findall(r"([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})", html)
    invited = Staff("neu@example.org", MODERATOR, PASSWORD, secret, recovery)
    confirmed = newcomer.post("/moderation/enrolment", data={
        "csrf_token": hidden_value(html, "csrf_token"), "code": invited.code()})  # fmt: skip
    assert confirmed.status_code == 303

    with intake_app.app_context():
        user = db.session.scalars(select(User).where(User.email == "neu@example.org")).one()
        slot = db.session.scalars(select(KeySlot).where(KeySlot.account_id == user.id)).one()
        assert slot.grants == []  # pending: holds nothing yet
    accounts = client.get("/moderation/admin/accounts").get_data(as_text=True)
    assert "wartet auf Schlüssel" in accounts
    granted = client.post("/moderation/admin/keys/grant", data={"csrf_token": csrf})
    assert granted.status_code == 200
    assert "Schlüssel an 1 Konten freigegeben." in granted.get_data(as_text=True)
    with intake_app.app_context():
        slot = db.session.scalars(select(KeySlot).where(KeySlot.account_id == user.id)).one()
        assert keyring.unlock_with_password(slot, PASSWORD)  # now it opens the reports
    assert login(intake_app.test_client(), invited).status_code == 303


def test_invitations_refuse_taken_addresses_and_bad_links(intake_app: Flask) -> None:
    client, admin, csrf = admin_client(intake_app)
    invitation = {"csrf_token": csrf, "email": admin.email, "role": RESEARCHER}
    taken = client.post("/moderation/admin/invitations", data=invitation)
    assert taken.status_code == 422
    assert intake_app.test_client().get("/moderation/invitation/not-a-token").status_code == 404


def test_admin_removes_but_keeps_the_last_admin(intake_app: Flask) -> None:
    client, admin, csrf = admin_client(intake_app)
    with intake_app.app_context():
        researcher = make_staff(RESEARCHER, None)
        users = {u.email: u.id for u in db.session.scalars(select(User))}
    assert client.post(f"/moderation/admin/accounts/{users[researcher.email]}/remove",
                       data={"csrf_token": csrf}).status_code == 303  # fmt: skip
    refused = client.post(f"/moderation/admin/accounts/{users[admin.email]}/remove",
                          data={"csrf_token": csrf})  # fmt: skip
    assert refused.status_code == 422
    assert client.post("/moderation/admin/accounts/99999/remove",
                       data={"csrf_token": csrf}).status_code == 404  # fmt: skip


def test_audit_log_filters_and_holds_no_content(intake_app: Flask) -> None:
    client, admin, _ = admin_client(intake_app)
    page = client.get("/moderation/admin/audit?tag=login:")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    # Events in the account's words: a login is listed, the key's creation is filtered out.
    assert "<td>Anmeldung</td>" in html
    assert "<td>Organisationsschlüssel erstellt</td>" not in html
    assert '<option value="login:" selected>' in html
    with intake_app.app_context():
        for event in db.session.scalars(select(AuditEvent)):
            assert admin.password not in repr(event.details) + event.summary
    # Numbers beyond the id range overflowed SQLite's integers (a 500); they name no one.
    for query, typed in (("actor=" + "9" * 30, "9" * 30), ("actor=zwei", "zwei"),
                         ("actor=-1", "-1"), ("after=" + "9" * 30, "")):  # fmt: skip
        refused = client.get(f"/moderation/admin/audit?{query}")
        assert refused.status_code == 400, query
        html = refused.get_data(as_text=True)
        assert "ist ungültig" in html
        assert f'name="actor" inputmode="numeric" value="{typed}"' in html
    own = client.get("/moderation/admin/audit?actor=1")
    assert own.status_code == 200


def test_own_settings_language_and_notifications(intake_app: Flask) -> None:
    with intake_app.app_context():
        moderator = make_staff(MODERATOR, intake_app.config["TEST_RECOVERY_KEY"])
    client = intake_app.test_client()
    assert login(client, moderator).status_code == 303
    csrf = hidden_value(client.get("/moderation/account").get_data(as_text=True), "csrf_token")
    saved = client.post("/moderation/account",
                        data={"csrf_token": csrf, "language": "en", "notify": "y"})  # fmt: skip
    assert saved.status_code == 303
    html = client.get("/moderation/account").get_data(as_text=True)
    assert '<html lang="en" dir="ltr">' in html
    with intake_app.app_context():
        user = db.session.scalars(select(User).where(User.email == moderator.email)).one()
        assert user.notify_new_reports is True
    assert client.post("/moderation/account",
                       data={"csrf_token": csrf, "language": "xx"}).status_code == 400  # fmt: skip


def test_reset_replaces_password_factor_and_slot(intake_app: Flask) -> None:
    client, _, csrf = admin_client(intake_app)
    with intake_app.app_context():
        moderator = make_staff(MODERATOR, intake_app.config["TEST_RECOVERY_KEY"])
        user_id = db.session.scalars(select(User.id).where(User.email == moderator.email)).one()
    old_session = intake_app.test_client()
    assert login(old_session, moderator).status_code == 303
    page = client.post(f"/moderation/admin/accounts/{user_id}/reset", data={"csrf_token": csrf})
    link = re.search(r"(http://[^<\s]+/moderation/invitation/[^<\s]+)", page.get_data(as_text=True))
    assert link
    path = urlsplit(link.group(1)).path
    person = intake_app.test_client()
    token = hidden_value(person.get(path).get_data(as_text=True), "csrf_token")
    new_password = "ein ganz neues Passwort"
    done = person.post(path, data={"csrf_token": token, "password": new_password,
                                   "password_again": new_password})  # fmt: skip
    assert done.status_code == 303
    assert old_session.get("/moderation/").status_code == 302  # old sessions ended
    assert login(intake_app.test_client(), moderator).status_code == 401  # old password gone
    with intake_app.app_context():
        slot = db.session.scalars(select(KeySlot).where(KeySlot.account_id == user_id)).one()
        assert slot.grants == []  # the old slot opened for nobody; the new one awaits a grant
    client.post("/moderation/admin/keys/grant", data={"csrf_token": csrf})
    with intake_app.app_context():
        slot = db.session.scalars(select(KeySlot).where(KeySlot.account_id == user_id)).one()
        assert keyring.unlock_with_password(slot, new_password)


def test_admin_lists_and_revokes_an_api_token(intake_app: Flask) -> None:
    client, admin, csrf = admin_client(intake_app)
    today = dt.datetime.now(dt.UTC).date()
    with intake_app.app_context():
        token, text = create_token("Beratungsstelle Nord", ["submit"], today=today)
        db.session.commit()
        token_id, prefix, token_hash = token.id, token.prefix, token.token_hash
        admin_id = db.session.scalars(select(User.id).where(User.email == admin.email)).one()
    partner = intake_app.test_client()
    assert post(partner, text, api_body()).status_code == 201

    assert 'href="/moderation/admin/tokens"' in client.get("/moderation/").get_data(as_text=True)
    page = client.get("/moderation/admin/tokens")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Beratungsstelle Nord" in html
    assert f"{prefix}…" in html
    assert "aktiv" in html
    assert 'visually-hidden">: Beratungsstelle Nord</span>' in html  # the button's name
    assert "flask tokens create --scope statistics --name NAME" in html
    assert text not in html
    assert text[len(prefix) :] not in html
    assert token_hash not in html

    revoke = f"/moderation/admin/tokens/{token_id}/revoke"
    assert client.post(revoke).status_code == 400  # no CSRF token: refused, nothing changes
    with intake_app.app_context():
        stored = db.session.get(ApiToken, token_id)
        assert stored is not None
        assert stored.revoked_on is None
    done = client.post(revoke, data={"csrf_token": csrf})
    assert done.status_code == 303
    assert done.headers["Location"].endswith(f"/moderation/admin/tokens?revoked={token_id}")
    html = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "Der API-Schlüssel „Beratungsstelle Nord“ ist widerrufen." in html
    revoked_on = f'<time datetime="{today.isoformat()}">{format_day(today, "de")}</time>'
    assert f"widerrufen am {revoked_on}" in html
    assert revoke not in html  # no button for a revoked token
    assert text not in html
    assert token_hash not in html
    assert client.post(revoke, data={"csrf_token": csrf}).status_code == 303  # twice: harmless

    with intake_app.app_context():
        stored = db.session.get(ApiToken, token_id)
        assert stored is not None
        assert stored.revoked_on == today
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.tag == "api_token:revoke")
        ).all()
        assert [(e.actor_id, e.target_type, e.target_id) for e in events] == [
            (admin_id, "api_token", token_id)
        ]
    refused = post(partner, text, api_body())
    assert refused.status_code == 401
    assert refused.get_json() == {"error": "unauthorized"}
    assert client.post("/moderation/admin/tokens/99999/revoke",
                       data={"csrf_token": csrf}).status_code == 404  # fmt: skip
