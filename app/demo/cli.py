"""`flask demo generate`: realistic coded demo incidents for development and trials."""

from __future__ import annotations

import datetime as dt
import time

import click
from flask.cli import AppGroup

from app import demo

demo_cli = AppGroup("demo", help="Demo data for development and trials; refused in production.")


@demo_cli.command("generate")
@click.option(
    "--incidents",
    "count",
    default=1000,
    show_default=True,
    type=click.IntRange(1, 10_000_000),
    help="How many incidents to add.",
)
@click.option(
    "--seed",
    default=1,
    show_default=True,
    type=int,
    help="The same seed (and day) gives the same incidents.",
)
def generate(count: int, seed: int) -> None:
    """Add coded demo incidents of the last three years, spread like the published reports.

    A second run adds more (ids continue). The newest open cases (at most 200) get a report with
    sealed placeholder text, if the organisation key exists (`flask keys init`); older ones are
    left as retention leaves a closed case, without a report. Refused (nothing is written) when
    the app runs with the production configuration: demo data must never mix with real reports.
    """
    started = time.monotonic()
    try:
        result = demo.generate_demo_incidents(count, today=dt.date.today(), seed=seed)
    except demo.DemoRefused as error:
        raise click.ClickException(str(error)) from None
    seconds = time.monotonic() - started
    click.echo(
        f"Generated {result.incidents} demo incidents (ids {result.first_id}-{result.last_id}, "
        f"seed {seed}) in {seconds:.1f} s."
    )
    if result.keys:
        click.echo(f"The newest {result.reports} have a report with sealed placeholder text.")
    else:
        click.echo(
            "No organisation key: the incidents have no reports, so no case can be opened. "
            "Run `flask keys init` first to get some."
        )
