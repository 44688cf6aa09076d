"""Deny by default: every staff route (/moderation/, /research/) under every role, and the login."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient
from sqlalchemy import select

from app.api.tokens import create_token
from app.crypto.attachments import sanitise_image
from app.crypto.reports import Evidence
from app.extensions import db
from app.models import Incident, StaffSession, User
from app.models.user import ADMIN, MODERATOR, RESEARCHER
from tests.factories import store_sample_report
from tests.functional.conftest import hidden_value
from tests.integration.test_canary import image_with
from tests.staff import Staff, make_staff

STAFF_PREFIXES = ("/moderation", "/research")
STAFF_ROLES = {RESEARCHER, MODERATOR, ADMIN}
EVERYONE = {"anonymous"} | STAFF_ROLES
CASE_WORKERS = {MODERATOR, ADMIN}  # researchers never see a sealed field or a single report
# What each role may open (GET) — everything not listed must be closed to it.
EXPECTED_GET = {
    "moderation.login": EVERYONE,
    "moderation.invitation": EVERYONE,  # the link's token is the key; a wrong one is a 404
    "moderation.enrolment": EVERYONE,  # the enrolment ticket in the cookie is the key, else 404
    "moderation.home": STAFF_ROLES,
    "moderation.account": STAFF_ROLES,
    "moderation.accounts": {ADMIN},
    "moderation.audit_log": {ADMIN},
    "moderation.tokens": {ADMIN},
    "moderation.queue": CASE_WORKERS,
    "moderation.case": CASE_WORKERS,
    "moderation.case_attachment": CASE_WORKERS,
    "research.tables": STAFF_ROLES,
    "research.export": STAFF_ROLES,
}
# What each role may post to (with a valid CSRF token).
EXPECTED_POST = {
    "moderation.login": EVERYONE,
    "moderation.invitation": EVERYONE,
    "moderation.enrolment": EVERYONE,
    "moderation.account": STAFF_ROLES,
    "moderation.logout": STAFF_ROLES,
    "moderation.logout_everywhere": STAFF_ROLES,
    "moderation.create_invitation": {ADMIN},
    "moderation.remove": {ADMIN},
    "moderation.reset": {ADMIN},
    "moderation.grant_keys": {ADMIN},
    "moderation.revoke_token": {ADMIN},
    "moderation.case_open": CASE_WORKERS,
    "moderation.case_state": CASE_WORKERS,
    "moderation.case_assign": CASE_WORKERS,
    "moderation.case_code": CASE_WORKERS,
    "moderation.case_notes": CASE_WORKERS,
    "moderation.case_duplicate": CASE_WORKERS,
    "moderation.case_message": CASE_WORKERS,
    "moderation.case_deletion": CASE_WORKERS,
}
# Valid form data, so that the allowed roles really do what the route is for.
FORM_SAMPLES: dict[str, dict[str, Any]] = {
    "moderation.case_state": {"to": "in_review"},
    "moderation.case_assign": {"assignee": ""},
    "moderation.case_code": {"incident_types": ["threat"], "land": "sn", "place_type": "street",
                             "target": "person"},
    "moderation.case_notes": {"text": "Eine Notiz"},
    "moderation.case_duplicate": {"original": ""},
    "moderation.case_message": {"text": "Eine Nachricht"},
    "moderation.case_deletion": {"confirm": "y"},
}  # fmt: skip
# Routes that end the session go last, and are followed by a fresh login.
ENDS_SESSION = {"moderation.logout", "moderation.logout_everywhere"}


def login(client: FlaskClient, staff: Staff, *, totp: bool = False) -> Any:
    """Log in; a TOTP code is accepted once per 30 s, so repeated logins use recovery codes."""
    csrf = hidden_value(client.get("/moderation/login").get_data(as_text=True), "csrf_token")
    code = staff.code() if totp else staff.recovery_codes.pop()
    return client.post(
        "/moderation/login",
        data={"csrf_token": csrf, "email": staff.email, "password": staff.password, "code": code},
    )


@pytest.fixture
def staff(intake_app: Flask) -> dict[str, Staff]:
    with intake_app.app_context():
        recovery = intake_app.config["TEST_RECOVERY_KEY"]
        return {role: make_staff(role, recovery) for role in (RESEARCHER, MODERATOR, ADMIN)}


def moderation_rules(app: Flask, samples: dict[str, Any]) -> list[tuple[str, str, set[str]]]:
    """Every /moderation/ rule with a concrete URL (sample arguments filled in)."""
    rules = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(STAFF_PREFIXES):
            continue
        missing = set(rule.arguments) - set(samples)
        assert not missing, f"give {rule.endpoint} sample arguments {missing} in this test"
        with app.test_request_context():
            path = url_for(rule.endpoint, **{name: samples[name] for name in rule.arguments})
        rules.append((rule.endpoint, path, set(rule.methods or ()) - {"HEAD", "OPTIONS"}))
    return sorted(rules, key=lambda item: item[0] in ENDS_SESSION)


def test_every_moderation_route_is_in_the_matrix(intake_app: Flask) -> None:
    endpoints = {rule.endpoint for rule in intake_app.url_map.iter_rules()
                 if rule.rule.startswith(STAFF_PREFIXES)}  # fmt: skip
    assert endpoints == set(EXPECTED_GET) | set(EXPECTED_POST)


def test_role_matrix(intake_app: Flask, staff: dict[str, Staff]) -> None:
    with intake_app.app_context():
        target = make_staff(RESEARCHER, None)  # the account the admin actions act on
        target_id = db.session.scalars(select(User.id).where(User.email == target.email)).one()
        # A case with an image, for the case routes (<incident_id>, <position>).
        evidence = [Evidence(sanitise_image(image_with("Probe")), "probe.png")]
        store_sample_report(intake_app.config["RECEIPT_SECRET"].encode(), evidence=evidence)
        # A partner token for the token routes (<token_id>); the admin revokes it, later
        # roles would only revoke it again, which changes nothing.
        api_token, _text = create_token("Beratungsstelle Probe", ["statistics"],
                                        today=dt.datetime.now(dt.UTC).date())  # fmt: skip
        db.session.commit()
        case_id = db.session.scalars(select(Incident.id)).one()
        token_id = api_token.id
    samples: dict[str, object] = {"user_id": target_id, "token": "not-a-real-invitation",
                                  "incident_id": case_id, "position": 0,
                                  "token_id": token_id, "file_format": "csv"}  # fmt: skip
    for role in ("anonymous", RESEARCHER, MODERATOR, ADMIN):
        client = intake_app.test_client()
        if role != "anonymous":
            assert login(client, staff[role]).status_code == 303
        for endpoint, path, methods in moderation_rules(intake_app, samples):
            if endpoint == "moderation.login":
                continue  # logging in is tested on its own below
            csrf = hidden_value(client.get("/moderation/login").get_data(as_text=True),
                                "csrf_token")  # fmt: skip
            for method in sorted(methods):
                expected = EXPECTED_GET if method == "GET" else EXPECTED_POST
                data = {"csrf_token": csrf, **FORM_SAMPLES.get(endpoint, {})}
                response = client.open(path, method=method, data=data)
                allowed = role in expected.get(endpoint, set())
                where = (role, method, path)
                if allowed:
                    assert response.status_code in {200, 303, 404, 409, 422}, where
                elif role == "anonymous":
                    assert response.status_code == 302, where
                    assert response.headers["Location"].endswith("/moderation/login"), where
                else:
                    assert response.status_code == 403, where
                assert response.headers["Cache-Control"] == "no-store", where
            if endpoint in ENDS_SESSION and role != "anonymous":
                assert login(client, staff[role]).status_code == 303


def test_login_with_second_factor_and_logout(intake_app: Flask, staff: dict[str, Staff]) -> None:
    client = intake_app.test_client()
    moderator = staff[MODERATOR]
    assert client.get("/moderation/").status_code == 302
    csrf = hidden_value(client.get("/moderation/login").get_data(as_text=True), "csrf_token")
    refused = client.post("/moderation/login", data={
        "csrf_token": csrf, "email": moderator.email, "password": moderator.password,
        "code": "000000"})  # fmt: skip
    assert refused.status_code == 401
    assert "stimmen nicht" in refused.get_data(as_text=True)
    credentials = {"email": moderator.email, "password": moderator.password}
    no_csrf = client.post("/moderation/login", data={**credentials, "code": moderator.code()})
    assert no_csrf.status_code in {400, 422}
    assert login(client, moderator, totp=True).status_code == 303
    home = client.get("/moderation/")
    assert home.status_code == 200
    assert moderator.email in home.get_data(as_text=True)
    with client.session_transaction() as session:
        assert session["staff"]["keys"]  # a moderator's login unlocked the keys
    csrf = hidden_value(home.get_data(as_text=True), "csrf_token")
    assert client.post("/moderation/logout", data={"csrf_token": csrf}).status_code == 303
    assert client.get("/moderation/").status_code == 302


def test_researchers_never_hold_keys(intake_app: Flask, staff: dict[str, Staff]) -> None:
    client = intake_app.test_client()
    assert login(client, staff[RESEARCHER]).status_code == 303
    with client.session_transaction() as session:
        assert session["staff"]["keys"] is None


def _age_sessions(app: Flask, **moved: dt.timedelta) -> None:
    """Move every staff session's clocks into the past, as if time had passed."""
    with app.app_context():
        for row in db.session.scalars(select(StaffSession)):
            for column, delta in moved.items():
                setattr(row, column, getattr(row, column) - delta)
        db.session.commit()


def test_idle_and_absolute_timeouts(intake_app: Flask, staff: dict[str, Staff]) -> None:
    client = intake_app.test_client()
    assert login(client, staff[ADMIN]).status_code == 303
    _age_sessions(intake_app, last_seen_at=dt.timedelta(minutes=31))
    assert client.get("/moderation/").status_code == 302
    assert login(client, staff[ADMIN]).status_code == 303
    assert client.get("/moderation/").status_code == 200
    _age_sessions(intake_app, expires_at=dt.timedelta(hours=12, minutes=1))
    assert client.get("/moderation/").status_code == 302


def a_case(app: Flask) -> int:
    """The id of a new case with a sample report."""
    with app.app_context():
        store_sample_report(app.config["RECEIPT_SECRET"].encode())
        db.session.commit()
        return int(db.session.scalars(select(Incident.id)).one())


def _copy_cookies(source: FlaskClient, target: FlaskClient) -> None:
    for name in ("session",):
        cookie = source.get_cookie(name)
        assert cookie is not None
        target.set_cookie(name, cookie.value)


def test_a_copied_cookie_is_worthless_after_logout(
    intake_app: Flask, staff: dict[str, Staff]
) -> None:
    """The reproducer: a copy of the cookie taken before logout opened the queue afterwards."""
    case_id = a_case(intake_app)
    browser, thief = intake_app.test_client(), intake_app.test_client()
    assert login(browser, staff[ADMIN]).status_code == 303
    csrf = hidden_value(browser.get("/moderation/").get_data(as_text=True), "csrf_token")
    _copy_cookies(browser, thief)  # with the CSRF secret: the copy could post as the person
    pages = ["/moderation/", "/moderation/queue", f"/moderation/cases/{case_id}",
             "/research/", "/research/table.csv"]  # fmt: skip
    assert thief.get("/moderation/queue").status_code == 200  # the copy works while logged in
    assert browser.post("/moderation/logout", data={"csrf_token": csrf}).status_code == 303
    for path in pages:
        assert thief.get(path).status_code == 302, path
    changed = thief.post(f"/moderation/cases/{case_id}/state",
                         data={"csrf_token": csrf, "to": "in_review"})  # fmt: skip
    assert changed.status_code == 302
    with intake_app.app_context():
        incident = db.session.get(Incident, case_id)
        assert incident is not None
        assert incident.state == "received"
        assert db.session.scalars(select(StaffSession)).all() == []


def test_logout_everywhere_ends_other_sessions(intake_app: Flask, staff: dict[str, Staff]) -> None:
    phone, laptop = intake_app.test_client(), intake_app.test_client()
    assert login(phone, staff[MODERATOR]).status_code == 303
    assert login(laptop, staff[MODERATOR]).status_code == 303
    csrf = hidden_value(phone.get("/moderation/").get_data(as_text=True), "csrf_token")
    assert phone.post("/moderation/logout-everywhere", data={"csrf_token": csrf}).status_code == 303
    assert laptop.get("/moderation/").status_code == 302
    assert phone.get("/moderation/").status_code == 302


def test_moderation_language_follows_the_account(
    intake_app: Flask, staff: dict[str, Staff]
) -> None:
    client = intake_app.test_client()
    assert login(client, staff[RESEARCHER]).status_code == 303
    html = client.get("/moderation/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="de" dir="ltr">' in html
    assert re.search(r"Angemeldet als", html)


def test_every_staff_form_refuses_a_missing_csrf_token(
    intake_app: Flask, staff: dict[str, Staff]
) -> None:
    """CSRF protection on every POST route, checked as the admin who may use them all."""
    case_id = a_case(intake_app)
    samples: dict[str, object] = {"user_id": 1, "token": "not-a-real-invitation",
                                  "incident_id": case_id, "position": 0,
                                  "token_id": 1, "file_format": "csv"}  # fmt: skip
    client = intake_app.test_client()
    assert login(client, staff[ADMIN]).status_code == 303
    posts = [(endpoint, path) for endpoint, path, methods in moderation_rules(intake_app, samples)
             if "POST" in methods]  # fmt: skip
    assert len(posts) == len(EXPECTED_POST)
    for endpoint, path in posts:
        response = client.post(path, data=FORM_SAMPLES.get(endpoint, {}))
        assert response.status_code == 400, endpoint
    assert client.get("/moderation/").status_code == 200  # still logged in: nothing happened
