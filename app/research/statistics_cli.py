"""`flask statistics rebuild|check`: the pre-aggregated counts behind every statistics table."""

from __future__ import annotations

import time

import click
from flask.cli import AppGroup

from app.extensions import db
from app.research import counts

statistics_cli = AppGroup("statistics", help="The statistics' pre-aggregated counts.")


@statistics_cli.command("rebuild")
def rebuild() -> None:
    """Count every grouping afresh from the incidents, and keep them current from then on.

    Needed only after a bulk load that suspended the counts and did not finish (an interrupted
    `flask demo generate`), or to repair them; safe while the service runs (changes wait).
    """
    started = time.monotonic()
    cells = counts.rebuild_statistics_counts()
    db.session.commit()
    click.echo(f"Counted {cells} cells afresh in {time.monotonic() - started:.1f} s.")


@statistics_cli.command("check")
def check() -> None:
    """Compare every stored cell with a fresh count of the incidents (slow on large data)."""
    differences = counts.statistics_count_differences()
    if differences:
        for line in differences:
            click.echo(line)
        raise click.ClickException(
            "The counts differ from the incidents; `flask statistics rebuild` counts them afresh."
        )
    click.echo("The counts agree with the incidents.")
