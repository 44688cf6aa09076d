"""The researchers' area: build a protected table, read it, download it as CSV or JSON.

Open to every staff role (researchers above all); the staff gate (app.auth) denies everyone else.
Nothing here shows a single incident: every number has gone through ``protect_table`` (perturbed).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, current_app, g, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from app.auth.gate import gate, requires_role
from app.codebook import current_codebook
from app.models.user import ADMIN, MODERATOR, RESEARCHER
from app.research.budget import BudgetSpent, Limits, charge_table, user_requester
from app.research.exports import export_response, record_export
from app.research.statistics import (
    DIMENSIONS,
    FILTERS,
    InvalidStatisticsQuery,
    StatisticsTable,
    build_table,
    category_label,
    dimension_codes,
    parse_query,
)
from app.security import forbid_caching

bp = Blueprint("research", __name__, url_prefix="/research")
bp.before_request(gate)
bp.after_request(forbid_caching)
STAFF = (RESEARCHER, MODERATOR, ADMIN)


def query_arguments(args: MultiDict[str, str]) -> dict[str, str]:
    """URL parameters as the parser reads them: a repeated parameter (a multiple select)
    becomes one comma-separated value, as the API takes it."""
    return {name: ",".join(args.getlist(name)) for name in args}


def _table(args: dict[str, str]) -> StatisticsTable:
    """The protected table ``args`` ask for, counted against the account's limits.

    Raises:
        InvalidStatisticsQuery: for parameters that are not understood (nothing is counted).
        BudgetSpent: when the account's tables of the hour or the day are used up.
    """
    query = parse_query(args)
    limits = Limits.from_config(current_app.config)
    charge_table(user_requester(g.staff.id), limits, now=dt.datetime.now(dt.UTC))
    return build_table(query, today=dt.date.today(), lang=g.lang)


def budget_message(spent: BudgetSpent) -> str:
    if spent.window == "hour":
        return str(_("Sie haben die %(limit)s Tabellen dieser Stunde abgerufen. Bitte warten Sie "
                     "bis zur nächsten vollen Stunde.", limit=spent.limit))  # fmt: skip
    return str(_("Sie haben die %(limit)s Tabellen des heutigen Tages abgerufen. Morgen geht "
                 "es weiter.", limit=spent.limit))  # fmt: skip


@bp.get("/")
@requires_role(*STAFF)
def tables() -> ResponseReturnValue:
    args = query_arguments(request.args)
    codebook = current_codebook()
    context: dict[str, Any] = {
        "args": args,
        "chosen": {name: set(value.split(",")) for name, value in args.items()},
        "dimensions": DIMENSIONS,
        "filters": FILTERS,
        "codebook": codebook,
        "dimension_codes": dimension_codes,
        "code_label": lambda dimension, code: category_label(dimension, code, codebook, g.lang),
    }
    if "rows" not in args:
        return render_template("research/tables.html", table=None, **context)
    try:
        table = _table(args)
    except InvalidStatisticsQuery as error:
        return render_template("research/tables.html", table=None, error=error, **context), 400
    except BudgetSpent as spent:
        return render_template("research/tables.html", table=None, spent=budget_message(spent),
                               **context), 429  # fmt: skip
    return render_template("research/tables.html", table=table, **context)


@bp.get("/table.<any(csv, json):file_format>")
@requires_role(*STAFF)
def export(file_format: str) -> ResponseReturnValue:
    try:
        table = _table(query_arguments(request.args))
    except InvalidStatisticsQuery as error:
        return {"error": error.message, "parameter": error.parameter}, 400
    except BudgetSpent as spent:
        return {"error": budget_message(spent)}, 429
    record_export(table, file_format, actor_id=g.staff.id, token_id=None)
    return export_response(table, file_format)
