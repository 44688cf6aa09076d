"""`flask users create`: staff accounts from the command line."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from app.config import DEFAULT_LANGUAGE, DEVELOPMENT_RECOVERY_FILE, read_development_recovery_key
from app.crypto.errors import SealError
from app.crypto.kdf import KdfParams
from app.crypto.keyring import unlock_with_recovery
from app.extensions import db
from app.i18n import language_codes
from app.models.user import ADMIN, MODERATOR, ROLES
from app.moderation.accounts import AccountError, create_user

users_cli = AppGroup("users", help="Staff accounts.")


def _read_secret(prompt: str, *, confirm: bool) -> str:
    # Interactive: hidden and asked twice; piped (scripts, tests): one line from standard input.
    value: str = click.prompt(
        prompt, hide_input=True, confirmation_prompt=confirm and sys.stdin.isatty()
    )
    return value


def _recovery_key() -> str:
    """The recovery key, asked for; in development taken from the file `make run` kept."""
    if current_app.config["ENV_NAME"] == "development":
        kept = read_development_recovery_key(current_app.instance_path)
        if kept is not None:
            path = Path(current_app.instance_path) / DEVELOPMENT_RECOVERY_FILE
            click.echo(f"Recovery key: the development key's, from {path}.")
            return kept
    return _read_secret("Recovery key", confirm=False)


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option(
    "--language",
    default=DEFAULT_LANGUAGE,
    show_default=True,
    help="Interface language: one of the configured codes (LANGUAGES).",
)
def create(email: str, role: str, language: str) -> None:
    """Create an account; prints the authenticator URI and one-time recovery codes once."""
    codes = language_codes()  # the configured ones: known only inside the app context
    if language not in codes:
        raise click.BadParameter(
            f"{language!r} is not one of {', '.join(codes)}.", param_hint="--language"
        )
    password = _read_secret(f"Password for {email}", confirm=True)
    unlocked = None
    if role in (ADMIN, MODERATOR):
        # A key holder's slot is granted the organisation key, which only a holder can open.
        try:
            unlocked = unlock_with_recovery(_recovery_key())
        except SealError as error:
            raise click.ClickException(str(error)) from None
    try:
        enrolment = create_user(
            email, role, password, today=dt.datetime.now(dt.UTC).date(),
            params=KdfParams.from_config(current_app.config), unlocked=unlocked, language=language,
        )  # fmt: skip
    except AccountError as error:
        raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(f"Account {enrolment.user.email} ({role}) created.")
    click.echo("One-time recovery codes (store them offline; each works once):")
    for code in enrolment.recovery_codes:
        click.echo(f"    {code}")
    click.echo("Add this to an authenticator app (shown once):")
    click.echo(enrolment.provisioning_uri)
