"""Routes of the partner API: JSON in, JSON out — never an HTML page, never a cache.

Each request commits once at its end (``app.database``) and only when it succeeded, so a refused
report leaves nothing behind. No audit event and no log line is written per report: an exact time
next to a report would date it more precisely than the report itself does.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from flask import Response, abort, current_app, jsonify, request, url_for
from flask_babel import force_locale
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.routing import RequestRedirect

from app.api import bp
from app.api.openapi import NOT_IN_API, openapi_json
from app.api.tokens import STATISTICS, SUBMIT, find_valid_token
from app.codebook import Codebook, current_codebook
from app.codebook.answers import Answers, InvalidAnswers, parse_answers
from app.config import DEFAULT_LANGUAGE
from app.crypto.receipts import new_receipt_code
from app.database import write_now
from app.extensions import db, limiter
from app.i18n import language_codes
from app.intake.services import submit_report, take_report_id
from app.notifications import NEW_REPORT, queue_notification
from app.research.budget import BudgetSpent, Limits, charge_table, token_requester
from app.research.exports import FORMATS, export_response, record_export
from app.research.statistics import (
    QUERY_PARAMETERS,
    InvalidStatisticsQuery,
    build_table,
    parse_query,
)
from app.security import forbid_caching

# The longest valid report (about 16,000 characters of free text), every character escaped as
# a JSON surrogate pair, stays under 200 KiB: a larger body is not a report.
MAX_BODY_BYTES = 256 * 1024
LANGUAGE_KEY = "language"
# Unknown keys are named back to the sender, but never a flood of them.
MAX_LISTED_KEYS = 20
MAX_LISTED_KEY_LENGTH = 64


class Refused(Exception):
    """A request the API answers with a 4xx JSON body; raised by the helpers below."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(body["error"])
        self.status = status
        self.body = body


def _bad_request(message: str, **extra: Any) -> Refused:
    return Refused(400, {"error": "bad_request", "message": message, **extra})


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def _receipt_secret() -> bytes:
    return str(current_app.config["RECEIPT_SECRET"]).encode()


# --- Every response: JSON errors, no cache ------------------------------------------------------


def json_error(error: HTTPException) -> Response:
    """``{"error": "not_found"}`` and the like; no description that could help an attacker."""
    code = error.code or 500
    response = jsonify(error="_".join(error.name.lower().split()))
    response.status_code = code
    if code == 401:
        response.headers["WWW-Authenticate"] = "Bearer"
    for name, value in error.get_headers():
        if name in {"Allow", "Retry-After"}:
            response.headers[name] = value
    return response


@bp.errorhandler(HTTPException)
def answer_http_error(error: HTTPException) -> Response:
    return json_error(error)


@bp.errorhandler(InternalServerError)
def answer_unexpected_error(error: InternalServerError) -> Response:
    # Whatever failed, nothing half-done may be committed by a later use of the session.
    db.session.rollback()
    return json_error(error)


@bp.errorhandler(Refused)
def answer_refusal(refusal: Refused) -> tuple[Response, int]:
    return jsonify(refusal.body), refusal.status


@bp.before_app_request
def answer_routing_errors_in_json() -> Response | None:
    """Unknown paths and methods under /api/v1 fail before any blueprint is chosen, so the
    handlers above never see them and the app would answer with an HTML page."""
    error = request.routing_exception
    prefix = bp.url_prefix or ""
    if (
        not isinstance(error, HTTPException)
        or isinstance(error, RequestRedirect)
        or not (request.path == prefix or request.path.startswith(prefix + "/"))
    ):
        return None
    return forbid_caching(json_error(error))


@bp.before_request
def limit_body_size() -> None:
    request.max_content_length = MAX_BODY_BYTES


# Receipt codes and tokens must not stay in a proxy's or client library's cache.
bp.after_request(forbid_caching)


# --- Routes -------------------------------------------------------------------------------------


@bp.get("/openapi.json")
def openapi_document() -> Response:
    """The OpenAPI 3.1 document, made from the codebook once per process."""
    return current_app.response_class(openapi_json(language_codes()), mimetype="application/json")


@bp.post("/reports")
@limiter.limit(lambda: current_app.config["REPORT_RATE_LIMIT"])
def post_report() -> tuple[Response, int]:
    """Check one report against the codebook, seal and store it, answer its receipt code."""
    today = _today()
    if find_valid_token(_bearer_token(), SUBMIT, today) is None:
        abort(401)
    data, language = _split_body(_json_object())
    codebook = current_codebook()
    _refuse_unknown_keys(codebook, data)
    stored = submit_report(
        _read_answers(codebook, data, language, today),
        [],
        codebook=codebook,
        receipt=new_receipt_code(),
        today=today,
        receipt_secret=_receipt_secret(),
        source="api",
        report_id=take_report_id(),  # sealed with no write lock held
    )
    write_now([stored.report, stored.incident])  # the write lock, held to the request's commit
    queue_notification(NEW_REPORT)  # sent after the commit, to staff who opted in
    body = {
        "receipt_code": stored.receipt.display,
        "codebook_version": codebook.version,
        "status_url": url_for("intake.status", lang=language),
    }
    return jsonify(body), 201


STATISTICS_PARAMETERS = QUERY_PARAMETERS | {"format", "lang"}


@bp.get("/statistics")
def get_statistics() -> Response:
    """One protected table, as JSON or (``format=csv``) CSV; every call is an audited export."""
    today = _today()
    token = find_valid_token(_bearer_token(), STATISTICS, today)
    if token is None:
        abort(401)
    unknown = sorted(set(request.args) - STATISTICS_PARAMETERS)
    if unknown:
        raise _bad_request("Unknown query parameters.", unknown_fields=unknown[:MAX_LISTED_KEYS])
    file_format = request.args.get("format", "json")
    language = request.args.get("lang", DEFAULT_LANGUAGE)
    if file_format not in FORMATS or language not in language_codes():
        raise _bad_request(
            "`format` is json or csv; `lang` is one of " + ", ".join(language_codes())
        )
    with force_locale(language):
        try:
            query = parse_query(request.args, strict=True)
        except InvalidStatisticsQuery as error:
            raise _bad_request(error.message, parameter=error.parameter) from None
        _charge_table(token_requester(token.id))
        table = build_table(query, today=today, lang=language)
        record_export(table, file_format, actor_id=None, token_id=token.id)
        return export_response(table, file_format)


def _charge_table(requester: str) -> None:
    """Count the table against the token's hourly limit and daily budget.

    Raises:
        Refused: 429 when it is used up.
    """
    try:
        charge_table(requester, Limits.from_config(current_app.config), now=dt.datetime.now(dt.UTC))
    except BudgetSpent as spent:
        message = f"This token has used its {spent.limit} tables per {spent.window}."
        raise Refused(429, {"error": "too_many_requests", "message": message}) from None


def _bearer_token() -> str:
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" else ""


def _json_object() -> dict[str, Any]:
    if not request.is_json:
        raise _bad_request("Send a JSON object with the header Content-Type: application/json.")
    try:
        body = json.loads(request.get_data(cache=False))
    except (ValueError, RecursionError):  # deep nesting is hostile input, not a server error
        raise _bad_request("The body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise _bad_request("The body must be a JSON object of question ids and answers.")
    return body


def _split_body(body: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The answers, and the language of the error messages."""
    language = body.get(LANGUAGE_KEY, DEFAULT_LANGUAGE)
    if not isinstance(language, str) or language not in language_codes():
        raise _bad_request(f"`{LANGUAGE_KEY}` is one of: {', '.join(language_codes())}.")
    return {key: value for key, value in body.items() if key != LANGUAGE_KEY}, language


def _refuse_unknown_keys(codebook: Codebook, data: dict[str, Any]) -> None:
    if NOT_IN_API & set(data):
        raise _bad_request(
            "Images are not accepted by the API in this version; the person can add them on "
            "the status page with the receipt code."
        )
    unknown = sorted(set(data) - set(codebook.questions))
    if unknown:
        raise _bad_request(
            "Unknown keys: the body takes the question ids of the codebook and `language`.",
            unknown_fields=[key[:MAX_LISTED_KEY_LENGTH] for key in unknown[:MAX_LISTED_KEYS]],
        )


def _read_answers(
    codebook: Codebook, data: dict[str, Any], language: str, today: dt.date
) -> Answers:
    # The same rules as the form, with the JSON types of the OpenAPI document; the messages are
    # meant for the person, in their language.
    with force_locale(language):
        try:
            return parse_answers(codebook, data, today, strict=True)
        except InvalidAnswers as invalid:
            raise Refused(422, {"error": "invalid", "fields": invalid.errors}) from None
