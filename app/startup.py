"""Checks before serving requests: what `make run` and gunicorn do once at start."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from app.config import ConfigurationError
from app.crypto.keyring import initialise_keys, keys_initialised
from app.extensions import db

DEVELOPMENT_BANNER = """
======================================================================
 DEVELOPMENT ONLY - a development organisation key was just created.
 Its recovery key (never use this installation for real reports):

     {code}

 A real installation runs `flask --app app keys init` once and keeps
 the recovery key it prints offline, away from the server.
======================================================================
"""


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
        db.session.commit()
        announce(DEVELOPMENT_BANNER.format(code=code))
