"""`flask users create`: staff accounts from the command line, second factor confirmed."""

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
from app.moderation.accounts import (
    AccountError,
    ConfirmedSecret,
    WeakPassword,
    WrongCode,
    check_new_account,
    check_password_strength,
    confirm_new_secret,
    create_user,
    new_secret_for,
)
from app.moderation.qr import qr_terminal

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


def _read_password(email: str) -> str:
    """The new password, checked by the rules of the staff pages before anything else is asked.

    Interactive: a refused password is asked again, with the rule it broke; piped: refused.
    """
    while True:
        password = _read_secret(f"Password for {email}", confirm=True)
        try:
            check_password_strength(password, email)
        except WeakPassword as weak:
            if not sys.stdin.isatty():
                raise click.ClickException(str(weak)) from None
            click.echo(f"Refused: {weak}", err=True)
            continue
        return password


def _show_second_factor(uri: str, secret_text: str) -> None:
    click.echo("Add this account to an authenticator app: scan the QR code,")
    click.echo(qr_terminal(uri), nl=False)
    click.echo("or type this key (time-based, 6 digits, 30 seconds):")
    click.echo(f"    {secret_text}")
    click.echo("or use this address:")
    click.echo(f"    {uri}")


def _confirm_code(secret: bytes) -> ConfirmedSecret:
    """Asks until the app's current code fits; Ctrl-C (or the end of piped input) stops the
    command before anything is written."""
    while True:
        code: str = click.prompt("Code the app shows now (6 digits)")
        try:
            return confirm_new_secret(secret, code, now=dt.datetime.now(dt.UTC))
        except WrongCode as wrong:
            click.echo(f"Refused: {wrong} Check the phone's clock and try again.", err=True)


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
    """Create an account: asks for the password (checked first), the recovery key for key
    holders, then shows the authenticator QR code and asks for one current code from it.

    Nothing is written before that code fits, so an interrupted command leaves no account.
    The one-time recovery codes are printed at the end.
    """
    codes = language_codes()  # the configured ones: known only inside the app context
    if language not in codes:
        raise click.BadParameter(
            f"{language!r} is not one of {', '.join(codes)}.", param_hint="--language"
        )
    email = email.strip().lower()
    try:
        check_new_account(email, role)
    except AccountError as error:
        raise click.ClickException(str(error)) from None
    password = _read_password(email)
    unlocked = None
    if role in (ADMIN, MODERATOR):
        # A key holder's slot is granted the organisation key, which only a holder can open.
        try:
            unlocked = unlock_with_recovery(_recovery_key())
        except SealError as error:
            raise click.ClickException(str(error)) from None
    db.session.rollback()  # no transaction stays open while a person reads their phone
    secret, uri, secret_text = new_secret_for(email)
    _show_second_factor(uri, secret_text)
    confirmed = _confirm_code(secret)
    try:
        enrolment = create_user(
            email, role, password, today=dt.datetime.now(dt.UTC).date(),
            params=KdfParams.from_config(current_app.config), unlocked=unlocked, language=language,
            second_factor=confirmed,
        )  # fmt: skip
    except (AccountError, SealError) as error:
        raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(f"Account {enrolment.user.email} ({role}) created; the authenticator app is "
               "confirmed.")  # fmt: skip
    click.echo("One-time recovery codes (store them offline; each works once, shown only now):")
    for code in enrolment.recovery_codes:
        click.echo(f"    {code}")
