"""Tables are limited per account and per API token — not per address — with an hourly limit and
a daily budget that admins see; periods stay on the grid of whole periods."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from app.api.tokens import create_token
from app.extensions import db
from app.models import StatisticsUsage
from app.models.user import ADMIN, RESEARCHER
from app.research.budget import BudgetSpent, Limits, charge_table, tables_today, token_requester
from tests.functional.test_moderation_access import login
from tests.staff import make_staff

NOW = dt.datetime(2026, 12, 1, 13, 30, tzinfo=dt.UTC)


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def test_the_hour_and_the_day_are_counted_apart(intake_app: Flask) -> None:
    limits = Limits(per_hour=2, per_day=3)
    with intake_app.app_context():
        charge_table("user:1", limits, now=NOW)
        charge_table("user:1", limits, now=NOW)
        db.session.commit()
        with pytest.raises(BudgetSpent) as hour:
            charge_table("user:1", limits, now=NOW)
        assert (hour.value.window, hour.value.limit) == ("hour", 2)
        db.session.rollback()  # the request that was refused counts nothing
        charge_table("user:1", limits, now=NOW + dt.timedelta(hours=1))
        db.session.commit()
        with pytest.raises(BudgetSpent) as day:
            charge_table("user:1", limits, now=NOW + dt.timedelta(hours=2))
        assert day.value.window == "day"
        db.session.rollback()
        charge_table("user:2", limits, now=NOW)  # another account has its own budget
        db.session.commit()
        assert tables_today(NOW.date()) == {"user:1": 3, "user:2": 1}


def test_parallel_tables_are_all_counted(intake_app: Flask) -> None:
    limits = Limits(per_hour=1000, per_day=1000)

    def one(_: int) -> None:
        with intake_app.app_context():
            charge_table("token:7", limits, now=NOW)
            db.session.commit()

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(one, range(40)))
    with intake_app.app_context():
        assert tables_today(NOW.date()) == {"token:7": 40}


@pytest.fixture
def tight(intake_app: Flask) -> Flask:
    intake_app.config.update(STATISTICS_TABLES_PER_HOUR=10, STATISTICS_TABLES_PER_DAY=2)
    return intake_app


def _researcher(app: Flask) -> FlaskClient:
    with app.app_context():
        staff = make_staff(RESEARCHER, None)
    client = app.test_client()
    assert login(client, staff).status_code == 303
    return client


def test_a_researcher_gets_so_many_tables_and_then_a_clear_429(tight: Flask) -> None:
    client = _researcher(tight)
    assert client.get("/research/?rows=land").status_code == 200
    assert client.get("/research/table.csv?rows=land").status_code == 200
    refused = client.get("/research/?rows=land")
    assert refused.status_code == 429
    assert "2 Tabellen des heutigen Tages" in refused.get_data(as_text=True)
    assert client.get("/research/table.json?rows=land").status_code == 429
    assert client.get("/research/").status_code == 200  # the empty form counts nothing
    other = _researcher(tight)  # from the same address, another account: its own budget
    assert other.get("/research/?rows=land").status_code == 200


def test_a_token_gets_so_many_tables_and_then_a_429(tight: Flask) -> None:
    with tight.app_context():
        first_token, first = create_token("Institut A", ["statistics"], today=today())
        _second, second = create_token("Institut B", ["statistics"], today=today())
        db.session.commit()
        first_id = first_token.id
    client = tight.test_client()
    for _ in range(2):
        answer = client.get("/api/v1/statistics?rows=land",
                            headers={"Authorization": f"Bearer {first}"})  # fmt: skip
        assert answer.status_code == 200
    refused = client.get("/api/v1/statistics?rows=land",
                         headers={"Authorization": f"Bearer {first}"})  # fmt: skip
    assert refused.status_code == 429
    assert refused.get_json()["error"] == "too_many_requests"
    # A bad query is refused before it is counted.
    bad = client.get(
        "/api/v1/statistics?rows=nonsense", headers={"Authorization": f"Bearer {second}"}
    )
    assert bad.status_code == 400
    again = client.get(
        "/api/v1/statistics?rows=land", headers={"Authorization": f"Bearer {second}"}
    )
    assert again.status_code == 200
    with tight.app_context():
        assert tables_today(today())[token_requester(first_id)] == 2


def test_admins_see_the_tables_of_the_day(tight: Flask) -> None:
    client = _researcher(tight)
    client.get("/research/?rows=land")
    with tight.app_context():
        admin = make_staff(ADMIN, tight.config["TEST_RECOVERY_KEY"])
        create_token("Institut", ["statistics"], today=today())
        db.session.commit()
        assert db.session.scalars(select(StatisticsUsage)).all()
    admin_client = tight.test_client()
    assert login(admin_client, admin).status_code == 303
    accounts = admin_client.get("/moderation/admin/accounts").get_data(as_text=True)
    assert "Tabellen heute" in accounts
    assert "1 von 2" in accounts
    tokens = admin_client.get("/moderation/admin/tokens").get_data(as_text=True)
    assert "Tabellen heute" in tokens
    assert "0 von 2" in tokens


@pytest.mark.parametrize(
    ("parameters", "refused"),
    [
        ({"period": "year", "from": "2025-03"}, "from"),
        ({"period": "year", "to": "2025-06"}, "to"),
        ({"period": "quarter", "from": "2025-02"}, "from"),
        ({"period": "quarter", "to": "2025-04"}, "to"),
    ],
)
def test_ranges_stay_on_the_grid_of_whole_periods(
    tight: Flask, parameters: dict[str, str], refused: str
) -> None:
    with tight.app_context():
        _token, text = create_token("Institut", ["statistics"], today=today())
        db.session.commit()
    answer = tight.test_client().get(
        "/api/v1/statistics", query_string={"rows": "period", **parameters},
        headers={"Authorization": f"Bearer {text}"},
    )  # fmt: skip
    assert answer.status_code == 400
    assert answer.get_json()["parameter"] == refused


def test_ranges_on_the_grid_are_taken(tight: Flask) -> None:
    client = _researcher(tight)
    for query in ("period=year&from=2025-01&to=2025-12", "period=quarter&from=2025-04&to=2025-09"):
        assert client.get(f"/research/table.json?rows=period&{query}").status_code == 200
