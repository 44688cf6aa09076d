"""Checks before serving requests: what `make run` and gunicorn do once at start."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from app.config import (
    DEVELOPMENT_FILE,
    DEVELOPMENT_RECOVERY_FILE,
    ConfigurationError,
    write_development_file,
    write_development_recovery_key,
)
from app.crypto.keyring import initialise_keys, keys_initialised
from app.extensions import db

DEVELOPMENT_BANNER = """
======================================================================
 DEVELOPMENT ONLY - a development organisation key was just created.
 Its recovery key (never use this installation for real reports):

     {code}

 It is kept in {path}
 (readable by you only); `flask users create` takes it from there.
 A real installation runs `flask --app app keys init` once and keeps
 the recovery key it prints offline, away from the server.
======================================================================
"""


def mark_development(app: Flask, announce: Callable[[str], None] = print) -> None:
    """Mark the instance folder as a development setup, for the `flask` commands run beside it.

    Only for the development configuration, and only a folder whose organisation key the
    development server made itself (its recovery key is kept beside it): a real installation's
    folder, where someone started `make run` by mistake, is never marked.
    """
    if app.config["ENV_NAME"] != "development":
        return
    if not (Path(app.instance_path) / DEVELOPMENT_RECOVERY_FILE).exists():
        announce(
            f"Not writing {DEVELOPMENT_FILE}: the organisation key in this database was not made "
            f"by the development server here (no {DEVELOPMENT_RECOVERY_FILE}). Set "
            "MELDEPORTAL_ENV=development for `flask` commands, or remove the database to start "
            "afresh."
        )
        return
    if write_development_file(app.instance_path):
        path = Path(app.instance_path) / DEVELOPMENT_FILE
        announce(
            f"Wrote {path}: `flask` commands run with this instance folder now use the "
            "development configuration too (delete the file to stop that)."
        )


def prepare_to_serve(app: Flask, announce: Callable[[str], None] = print) -> None:
    """Make sure reports can be sealed before the first request arrives.

    In development a missing organisation key is created and its recovery key announced;
    anywhere else the service refuses to start without one.

    Raises:
        ConfigurationError: saying which command to run.
    """
    with app.app_context():
        try:
            ready = keys_initialised()
        except SQLAlchemyError:
            raise ConfigurationError(
                "The database is not set up: run `flask --app app db upgrade` first."
            ) from None
        if ready:
            return
        if app.config["ENV_NAME"] != "development":
            raise ConfigurationError(
                "No organisation key: run `flask --app app keys init` once and store the "
                "recovery key it prints offline."
            )
        code = initialise_keys(dt.datetime.now(dt.UTC).date())
        # Kept before the commit: a key whose recovery key is lost would be useless in
        # development too. A file left from an earlier key is replaced, never read as this one's.
        kept = Path(app.instance_path) / DEVELOPMENT_RECOVERY_FILE
        kept.unlink(missing_ok=True)
        write_development_recovery_key(app.instance_path, code)
        db.session.commit()
        announce(DEVELOPMENT_BANNER.format(code=code, path=kept))
