"""What sealing costs: a typical report (every free-text question filled, one 2 MB photo) sealed
and its keys wrapped, against the same rows inserted unsealed (coded incident included), and
against a bare Flask endpoint, in the same run."""

from __future__ import annotations

import datetime as dt
import io
import os
import secrets
import tempfile
from functools import partial
from typing import Any

import flask_migrate
from PIL import Image

from app import create_app
from app.codebook import current_codebook
from app.crypto.attachments import sanitise_image
from app.crypto.keyring import initialise_keys, sealing_key
from app.crypto.reports import Evidence
from app.extensions import db
from app.intake.services import code_incident
from app.models import Attachment, Report, ReportField
from bench.harness import bare_client, per_call_seconds
from tests.factories import sample_answers, store_sample_report

TODAY = dt.date(2026, 11, 26)
FIELD_LENGTHS = {
    "description": 2400, "town_other": 40, "district": 30, "online_link": 120,
    "contact_email": 30, "perpetrator_description": 300, "why_not_text": 400, "other_type": 60,
}  # fmt: skip


def typical_answers() -> dict[str, Any]:
    """Every free-text question filled to a typical length (the rest from the sample report)."""
    words = "Am Nachmittag wurde sie an der Haltestelle beschimpft und bedroht "
    texts = {name: (words * (length // len(words) + 1))[:length] for name, length in
             FIELD_LENGTHS.items()}  # fmt: skip
    texts["online_link"] = "https://example.org/" + texts["online_link"][:100].replace(" ", "-")
    texts["contact_email"] = "person@example.org"
    return {**texts, "town": "other", "place_type": "online", "platform": "facebook",
            "incident_types": ["other", "threat"], "reported_elsewhere": ["none"]}  # fmt: skip


def two_megabyte_photo() -> bytes:
    """A noisy 3-megapixel JPEG of about 2 MB (noise does not compress, like a real photo)."""
    image = Image.frombytes("RGB", (2000, 1500), os.urandom(2000 * 1500 * 3))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


def insert_unsealed(answers: dict[str, Any], photo: bytes) -> None:
    """The yardstick: the same rows with the plaintext where the envelopes would be."""
    report = Report(
        receipt_lookup=secrets.token_hex(32), submitted_on=TODAY,
        org_key_id=sealing_key().id, receipt_salt=os.urandom(16),
    )  # fmt: skip
    db.session.add(report)
    db.session.flush()
    for name in FIELD_LENGTHS:
        report.fields.append(ReportField(name=name, envelope=str(answers[name]).encode()))
    report.attachments.append(Attachment(position=0, sealed_image=photo, sealed_metadata=b"{}"))
    incident = code_incident(
        sample_answers(**answers), current_codebook(), today=TODAY, source="form"
    )
    incident.report_id = report.id
    db.session.add(incident)
    db.session.commit()


def insert_sealed(answers: dict[str, Any], evidence: Evidence, secret: bytes) -> None:
    store_sample_report(secret, evidence=[evidence], **answers)
    db.session.commit()


def main() -> None:
    with tempfile.TemporaryDirectory() as instance:
        app = create_app(
            {"ENV_NAME": "testing", "INSTANCE_PATH": instance,
             "SECRET_KEY": secrets.token_hex(), "RECEIPT_SECRET": secrets.token_hex()}
        )  # fmt: skip
        bare = bare_client()
        with app.app_context():
            flask_migrate.upgrade()
            initialise_keys(TODAY)
            db.session.commit()
            answers, raw_photo = typical_answers(), two_megabyte_photo()
            image = sanitise_image(raw_photo)
            evidence = Evidence(image, "IMG_2041.jpg")
            secret = secrets.token_bytes(32)
            baseline = per_call_seconds(lambda: bare.get("/"), repeat=5, number=200)
            unsealed = per_call_seconds(
                partial(insert_unsealed, answers, image.data), repeat=5, number=10
            )
            sealed = per_call_seconds(
                partial(insert_sealed, answers, evidence, secret), repeat=5, number=10
            )
            cleaning = per_call_seconds(partial(sanitise_image, raw_photo), repeat=3, number=3)
            db.engine.dispose()
    characters = sum(FIELD_LENGTHS.values())
    print(f"photo: {len(raw_photo) / 1e6:.1f} MB as uploaded, {len(image.data) / 1e6:.1f} MB "
          f"re-encoded; {len(FIELD_LENGTHS)} sealed fields, {characters} characters")  # fmt: skip
    print(f"{'measurement':<44} {'ms/call':>9} {'× unsealed':>11} {'× bare Flask':>13}")
    for name, seconds in (
        ("bare Flask endpoint", baseline),
        ("unsealed insert (same rows, plaintext)", unsealed),
        ("sealed submit (seal + wrap + insert)", sealed),
        ("image cleaning (decode + re-encode)", cleaning),
    ):
        print(f"{name:<44} {seconds * 1e3:>9.2f} {seconds / unsealed:>11.2f} "
              f"{seconds / baseline:>13.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
