"""The report form under every kind of input: nothing typed is lost, nothing answers 500."""

from __future__ import annotations

import io
import logging
import re
import tempfile
from typing import Any

import pytest
from flask import Flask, request
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from sqlalchemy import func, select
from werkzeug import formparser
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from app.codebook import current_codebook
from app.extensions import db
from app.intake.steps import step_of_question, steps_of
from app.models import Attachment, Base, Report
from app.requests import upload_was_kept
from tests.factories import report_form_data
from tests.functional.conftest import (
    kept_answers,
    post_report,
    receipt_code,
    shown_step,
    walk_to_last_step,
)

REQUIRED = [q.id for q in current_codebook().questions.values() if q.required and q.show_if is None]


def report_count(app: Flask) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count(Report.id))) or 0)


def png(size: tuple[int, int] = (40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (10, 120, 90)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("question", REQUIRED)
def test_each_missing_required_answer_is_shown_and_nothing_is_lost(
    intake_app: Flask, question: str
) -> None:
    client = intake_app.test_client()
    description = "Mein Text bleibt erhalten – auch mit <Zeichen> & Umlauten."
    changes: dict[str, Any] = {"description": description, question: None}
    response = post_report(client, report_form_data(**changes))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'class="error-summary" role="alert"' in html
    assert re.search(rf'id="{question}(-0)?"[^>]*aria-invalid="true"|aria-invalid="true"[^>]*'
                     rf'id="{question}(-0)?"', html), question  # fmt: skip
    # The page is the step that asks the question; every answer sent so far is still there:
    # this step's in its fields, the earlier steps' in the signed state.
    steps = steps_of(current_codebook())
    asked_on = step_of_question(steps, question)
    assert shown_step(response) == asked_on.number
    kept = kept_answers(response)
    sent = report_form_data(**changes)
    for earlier in steps[: asked_on.number]:
        for asked in earlier.questions:
            if asked.id in sent and asked.kind not in {"consent", "flag"}:
                assert kept[asked.id] == sent[asked.id], asked.id
    if asked_on.number == 3 and question != "description":
        assert "Mein Text bleibt erhalten – auch mit &lt;Zeichen&gt; &amp; Umlauten." in html
    if asked_on.number == 2 and question != "land":
        assert '<option selected value="sn">' in html
    if asked_on.number == 1 and question != "role":
        assert re.search(r'checked[^>]*value="affected"|value="affected"[^>]*checked', html)
    assert report_count(intake_app) == 0


def test_english_form_speaks_english(intake_app: Flask) -> None:
    client = intake_app.test_client()
    response = post_report(client, report_form_data(role=None), lang="en")
    html = response.get_data(as_text=True)
    assert "Please check these answers" in html
    assert "Please choose an answer." in html
    ok = post_report(client, report_form_data(), lang="en")
    assert ok.status_code == 200
    assert "This is your code:" in ok.get_data(as_text=True)


@pytest.mark.parametrize(
    "changes",
    [
        {"description": "x" * 20000},
        {"description": "\x00\u200b\ufeff"},  # nothing visible is not a description
        {"land": "zz"},
        {"incident_types": ["nonsense"]},
        {"role": "affected\u202e"},
        {"incident_date": "2026-99-99"},
        {"incident_date": "'; DROP TABLE report; --"},
        {"contact_email": "@@@"},
        {"online_link": "https://ex ample.org", "place_type": "online", "platform": "x_twitter"},
        {"consent_special_categories": None},
    ],
)
def test_hostile_input_gets_a_clear_4xx(intake_app: Flask, changes: dict[str, Any]) -> None:
    response = post_report(intake_app.test_client(), report_form_data(**changes))
    assert response.status_code == 422
    assert 'role="alert"' in response.get_data(as_text=True)
    assert report_count(intake_app) == 0


def test_script_in_text_comes_back_escaped(intake_app: Flask) -> None:
    script = "<script>alert(1)</script>"
    data = report_form_data(description=script, incident_types=None)  # an error on its step
    response = post_report(intake_app.test_client(), data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert script not in html


def test_tampered_state_keeps_what_was_typed(intake_app: Flask) -> None:
    """A state the server did not sign cannot bring answers in; what the page itself sent stays."""
    client = intake_app.test_client()
    page, sending = walk_to_last_step(client, report_form_data(contact_email="ich@example.org"))
    sending["form_state"] = sending["form_state"][:-3] + "abc"
    response = client.post("/de/report", data=sending, content_type="multipart/form-data")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'value="ich@example.org"' in html
    assert 'role="alert"' in html
    assert "Angaben aus den anderen Schritten" in html
    assert kept_answers(response) == {"contact_email": "ich@example.org",
                                      "consent_special_categories": True}  # fmt: skip
    assert report_count(intake_app) == 0


def test_missing_csrf_token_keeps_what_was_typed(intake_app: Flask) -> None:
    client = intake_app.test_client()
    response = post_report(client, report_form_data(description="Noch da"),
                           tokens={"csrf_token": None})  # fmt: skip
    assert response.status_code == 400
    assert kept_answers(response)["description"] == "Noch da"
    retry = post_report(client, report_form_data())  # with a fresh token it goes through
    assert retry.status_code == 200


def test_honeypot_refuses_politely(intake_app: Flask) -> None:
    client = intake_app.test_client()
    response = post_report(client, report_form_data(website="http://spam.example"))
    assert response.status_code == 400
    assert "leer" in response.get_data(as_text=True)
    assert report_count(intake_app) == 0


def test_too_fast_is_refused_and_kept(intake_app: Flask) -> None:
    intake_app.config["INTAKE_MIN_FILL_SECONDS"] = 60
    response = post_report(intake_app.test_client(), report_form_data(description="Schnell"))
    assert response.status_code == 400
    assert kept_answers(response)["description"] == "Schnell"
    assert report_count(intake_app) == 0


def test_rate_limit_answers_429_and_keeps_the_text(intake_app: Flask) -> None:
    intake_app.config["REPORT_RATE_LIMIT"] = "2 per hour"
    client = intake_app.test_client()
    environ = {"REMOTE_ADDR": "198.51.100.77"}
    statuses = []
    for n in range(3):
        response = post_report(client, report_form_data(description=f"Versuch {n}"),
                               environ_base=environ)  # fmt: skip
        statuses.append(response.status_code)
    assert statuses == [200, 200, 429]  # going from step to step is not counted, sending is
    assert kept_answers(response)["description"] == "Versuch 2"
    assert report_count(intake_app) == 2


def test_images_are_cleaned_sealed_and_counted(intake_app: Flask) -> None:
    client = intake_app.test_client()
    data = report_form_data()
    data["images"] = [(io.BytesIO(png()), "beweis.png"), (io.BytesIO(png((8, 8))), "zwei.png")]
    response = post_report(client, data)
    assert response.status_code == 200
    with intake_app.app_context():
        assert db.session.scalar(select(func.count(Attachment.id))) == 2


def test_a_non_image_is_refused_with_its_name(intake_app: Flask) -> None:
    data = report_form_data(description="Text bleibt")
    data["images"] = [(io.BytesIO(b"<html><script>x</script></html>"), "seite.png")]
    response = post_report(intake_app.test_client(), data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "„\u2068seite.png\u2069“ ist kein Bild." in html
    assert "noch einmal aus" in html  # the person is told to choose the images again
    assert kept_answers(response)["description"] == "Text bleibt"


def test_a_file_name_with_direction_controls_cannot_reorder_the_message(intake_app: Flask) -> None:
    data = report_form_data()
    # Shown left to right, the override would make this read "bild" + "exe.png" reversed.
    data["images"] = [(io.BytesIO(b"kein Bild"), "bild\u202egnp.exe\x00")]
    response = post_report(intake_app.test_client(), data)
    assert response.status_code == 422
    assert "„\u2068bild\u202egnp.exe\u2069“ ist kein Bild." in response.get_data(as_text=True)


def test_more_than_five_images_are_named_and_the_text_kept(intake_app: Flask) -> None:
    data = report_form_data(description="Mein Text bleibt")
    data["images"] = [(io.BytesIO(png()), f"{n}.png") for n in range(6)]
    response = post_report(intake_app.test_client(), data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "höchstens 5 Bilder (Sie hatten 6 gewählt)" in html
    assert kept_answers(response)["description"] == "Mein Text bleibt"
    assert "noch einmal aus" in html
    assert report_count(intake_app) == 0


def test_too_large_photos_over_the_old_body_limit_keep_the_text(intake_app: Flask) -> None:
    """The reproducer: six 9 MB photos got a bare 413 and lost everything typed. Scaled down:
    a limit of 50 KB per image, one photo of 60 KB and five of 40 KB, over a body limit of
    100 KB that applies to other pages."""
    intake_app.config.update(IMAGE_MAX_BYTES=50_000, MAX_CONTENT_LENGTH=100_000)
    data = report_form_data(description="Alles, was ich geschrieben habe")
    data["images"] = [(io.BytesIO(b"\xff" * 60_000), "riesig.jpg")] + [
        (io.BytesIO(b"\xff" * 40_000), f"{n}.jpg") for n in range(5)
    ]
    response = post_report(intake_app.test_client(), data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert kept_answers(response)["description"] == "Alles, was ich geschrieben habe"
    assert "„\u2068riesig.jpg\u2069“ ist größer als" in html
    assert "höchstens 5 Bilder (Sie hatten 6 gewählt)" in html


def test_uploads_beyond_the_limits_are_counted_but_never_kept(intake_app: Flask) -> None:
    """Memory stays bounded: of each file at most the limit (and one byte) is held, and files
    beyond the allowed number are not held at all."""
    intake_app.config["IMAGE_MAX_BYTES"] = 1000
    files = [(io.BytesIO(b"a" * 5000), f"{n}.jpg") for n in range(7)]
    with intake_app.test_request_context(
        "/de/report", method="POST", data={"images": files}, content_type="multipart/form-data"
    ):
        uploads = request.files.getlist("images")
        kept = [len(upload.stream.getvalue()) for upload in uploads]  # type: ignore[attr-defined]
        assert kept == [1001] * 5 + [0, 0]
        assert [upload_was_kept(upload) for upload in uploads] == [False] * 7


def test_a_body_beyond_every_limit_gets_a_413_that_names_the_limits(intake_app: Flask) -> None:
    intake_app.config["UPLOAD_BODY_LIMIT"] = 50_000
    data = report_form_data()
    data["images"] = [(io.BytesIO(b"\0" * 60_000), "gross.png")]
    response = post_report(intake_app.test_client(), data)
    assert response.status_code == 413
    html = response.get_data(as_text=True)
    assert "höchstens 5 Bilder mit je höchstens 10 MB" in html


def test_other_pages_keep_the_small_body_limit(intake_app: Flask) -> None:
    client = intake_app.test_client()
    big = {"code": "x" * 2_000_000}
    assert client.post("/de/report/status", data=big).status_code == 413


def test_uploads_never_touch_the_disk(intake_app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """Werkzeug would spool an upload over 500 KB to a temporary file; ours stays in memory."""
    client = intake_app.test_client()
    _page, data = walk_to_last_step(client, report_form_data())
    photo = png((900, 700))
    padded = photo + b"\0" * (700_000 - len(photo))  # trailing bytes after the PNG's end
    data["images"] = FileStorage(io.BytesIO(padded), filename="gross.png")
    boundary, body = encode_multipart(data)  # built in memory, not by the test client's spool

    def refuse(*args: object, **kwargs: object) -> object:
        raise AssertionError("an upload went to a temporary file")

    for module in (tempfile, formparser):
        for name in ("TemporaryFile", "SpooledTemporaryFile", "NamedTemporaryFile", "mkstemp"):
            if hasattr(module, name):
                monkeypatch.setattr(module, name, refuse)
    response = client.post(
        "/de/report", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )
    assert len(body) > 600_000
    assert response.status_code == 200
    with intake_app.app_context():
        assert db.session.scalar(select(func.count(Attachment.id))) == 1


def test_no_client_address_in_any_table_or_log(
    intake_app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    address = "203.0.113.199"
    client = intake_app.test_client()
    environ = {"REMOTE_ADDR": address}
    _page, sending = walk_to_last_step(client, report_form_data(), environ_base=environ,
                                       headers={"X-Forwarded-For": address})  # fmt: skip
    response = client.post("/de/report", data=sending, environ_base=environ,
                           headers={"X-Forwarded-For": address})  # fmt: skip
    assert response.status_code == 200
    code = receipt_code(response)
    csrf = sending["csrf_token"]
    client.post("/de/report/status", data={"csrf_token": csrf, "code": code}, environ_base=environ)
    with intake_app.app_context():
        for table in Base.metadata.sorted_tables:
            for row in db.session.execute(select(table)):
                assert address not in repr(row), table.name
    assert address not in caplog.text


FIELD_VALUES = st.one_of(
    st.text(max_size=300),
    st.lists(st.text(max_size=40), max_size=4),
    st.sampled_from(["", "y", "sn", "online", "other", "2026-01-01", "13.13.2026", "\x00"]),
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    changes=st.dictionaries(
        st.sampled_from([*current_codebook().questions, "website", "unknown_field"]),
        FIELD_VALUES,
        max_size=8,
    )
)
def test_fuzzed_forms_never_break_the_server(intake_app: Flask, changes: dict[str, Any]) -> None:
    client: FlaskClient = intake_app.test_client()
    data = report_form_data()
    data.update(changes)
    data.pop("images", None)
    response = post_report(client, data)
    assert response.status_code in {200, 400, 422}
