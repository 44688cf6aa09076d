"""Routes of the supporting pages; each one only loads and renders."""

from __future__ import annotations

import datetime as dt

from flask import abort, current_app, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

from app.dates import EARLIEST_DATE, LATEST_DATE, iso_year
from app.extensions import db
from app.i18n import preferred_language
from app.pages import bp
from app.pages.services import PageNotFound, load_contacts, load_page, operator_from_config
from app.research.charts import bar_chart, column_chart, land_tile_grid
from app.research.public import ALL_YEARS, public_page, public_statistics


def render_content_page(slug: str, template: str = "pages/content.html", **context: object) -> str:
    try:
        page = load_page(current_app.instance_path, g.lang, slug)
    except PageNotFound:
        abort(404)
    return render_template(template, page=page, **context)


@bp.get("/")
def choose_language() -> Response:
    """Send the browser to its language; no cookie remembers the choice."""
    response = redirect(url_for("pages.home", lang=preferred_language()))
    response.vary.add("Accept-Language")
    return response


@bp.get("/<lang:lang>/")
def home() -> str:
    return render_content_page("home", "pages/home.html")


@bp.get("/<lang:lang>/network")
def network() -> str:
    return render_content_page("network")


@bp.get("/<lang:lang>/help")
def help_after_incident() -> str:
    contacts = load_contacts(current_app.instance_path, g.lang)
    return render_content_page("help", contact_groups=contacts)


@bp.get("/<lang:lang>/about-reports")
def about_reports() -> str:
    return render_content_page("about-reports")


@bp.get("/<lang:lang>/privacy")
def privacy() -> str:
    return render_content_page("privacy")


@bp.get("/<lang:lang>/accessibility")
def accessibility() -> str:
    return render_content_page("accessibility")


@bp.get("/de/leichte-sprache")
def plain_language() -> str:
    """The service in Leichte Sprache: German only, so the language is fixed, not in the rule.

    The language switch then leads to the other languages' home pages.
    """
    g.lang = "de"
    return render_content_page("leichte-sprache")


@bp.get("/<lang:lang>/statistics")
def statistics() -> tuple[str, int]:
    """Charts and tables of verified incidents; ``?year=`` picks the year of the splits.

    A year that is not one (400) or has no published numbers (404) gets all years, and a
    notice that says so.
    """
    counted = public_statistics(current_app, today=dt.date.today())
    asked = request.args.get("year") or None
    year, notice, status = ALL_YEARS, None, 200
    if asked is not None and iso_year(asked) is None:
        notice = _(
            "„year“ ist ein Jahr von %(first)s bis %(last)s (JJJJ). Gezeigt werden alle Jahre.",
            first=EARLIEST_DATE.year,
            last=LATEST_DATE.year,
        )
        status = 400
    elif asked is not None and asked not in counted.years:
        notice = _(
            "Für %(year)s gibt es keine veröffentlichten Zahlen. Gezeigt werden alle Jahre.",
            year=asked,
        )
        status = 404
    elif asked is not None:
        year = asked
    page = render_content_page(
        "statistics",
        "pages/statistics.html",
        statistics=counted,
        view=public_page(counted, year, g.lang),
        notice=notice,
        bar_chart=bar_chart,
        column_chart=column_chart,
        land_tile_grid=land_tile_grid,
    )
    return page, status


@bp.get("/<lang:lang>/imprint")
def imprint() -> str:
    return render_template("pages/imprint.html", operator=operator_from_config(current_app.config))


@bp.get("/healthz")
def healthz() -> tuple[str, int, dict[str, str]]:
    """Liveness for load balancers: can we reach the database at all (no table is read)."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return "database unavailable\n", 503, {"Content-Type": "text/plain"}
    return "ok\n", 200, {"Content-Type": "text/plain"}
