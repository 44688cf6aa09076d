"""The public statistics page: current, protected, readable without JavaScript."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.extensions import db
from tests.integration.test_statistics import many
from tests.pages import is_on_site, linked_urls, visible_text


@pytest.fixture
def counted(db_app: Flask) -> FlaskClient:
    with db_app.test_request_context():
        this_month = dt.date.today().replace(day=1)
        many(40, day=dt.date(this_month.year - 1, 6, 3), coded_land="nw")
        many(12, day=this_month, coded_land="be", types=("threat",))
        many(3, day=this_month, coded_land="hb")  # too few to publish
        db.session.commit()
    return db_app.test_client()


@pytest.mark.parametrize("lang", ["de", "en"])
def test_the_page_shows_protected_charts_and_tables(counted: FlaskClient, lang: str) -> None:
    response = counted.get(f"/{lang}/statistics")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    html = response.get_data(as_text=True)
    assert f'<html lang="{lang}">' in html
    assert html.count("<h1") == 1
    assert "<script" not in html
    assert html.count('role="img"') == 4
    for chart in ("chart-years", "chart-months", "chart-types", "chart-lands"):
        assert f'<title id="{chart}-title">' in html
        assert f'<desc id="{chart}-desc">' in html
    assert html.count("<table") == 4
    text = visible_text(html)
    assert "55" in text  # all years together
    numbers = {int(n) for n in re.findall(r"<td>(\d+)</td>", html)}
    assert not numbers & {1, 2, 3, 4}
    assert [url for url in linked_urls(html) if not is_on_site(url)] == []
    assert not re.search(r"https?://", html)


def test_a_year_narrows_the_splits(counted: FlaskClient) -> None:
    last_year = str(dt.date.today().year - 1)
    html = counted.get(f"/de/statistics?year={last_year}").get_data(as_text=True)
    assert f"Nach Bundesland ({last_year})" in html
    assert '<th scope="row">Nordrhein-Westfalen</th><td>40</td>' in html
    for year, status in (("1900", 400), ("0000", 400), ("9999", 400), ("abc", 400),
                         ("_total", 400), ("2015", 404)):  # fmt: skip
        unknown = counted.get(f"/de/statistics?year={year}")
        assert unknown.status_code == status, year
        html = unknown.get_data(as_text=True)
        assert "alle Jahre" in html
        assert 'role="alert"' in html
    assert "„year“ ist ein Jahr von 1990 bis 2099" in counted.get(
        "/de/statistics?year=1900"
    ).get_data(as_text=True)
    assert counted.get("/de/statistics?year=").status_code == 200


def test_an_empty_database_shows_zeros(db_client: FlaskClient) -> None:
    response = db_client.get("/en/statistics")
    assert response.status_code == 200
    assert "<td>0</td>" in response.get_data(as_text=True)
