"""Operator commands: `flask keys init|status|rotate|recover`, `flask tokens create|list|revoke`,
`flask sessions purge`, `flask retention purge`."""

from __future__ import annotations

import datetime as dt
import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from app import retention
from app.api import tokens
from app.auth.staff_sessions import purge_expired_staff_sessions
from app.crypto import keyring
from app.crypto.errors import SealError
from app.crypto.kdf import KdfParams
from app.crypto.sessions import purge_expired_sessions
from app.extensions import db
from app.intake.followup import purge_status_sessions
from app.models import ApiToken
from app.moderation.throttle import purge_old_throttles
from app.research.budget import forget_old_usage

keys_cli = AppGroup("keys", help="The organisation key: create, inspect, rotate, recover.")

RECOVERY_INSTRUCTION = (
    "Write it on paper or store it offline, away from this server. It is shown only now and "
    "is the only way back to the reports if every password is lost."
)


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def _ask_secret(prompt: str, *, confirm: bool = False) -> str:
    # Interactive: hidden input; piped (scripts, tests): one line from standard input.
    value: str = click.prompt(
        prompt, hide_input=True, confirmation_prompt=confirm and sys.stdin.isatty()
    )
    return value


@keys_cli.command("init")
def init_keys() -> None:
    """Create the organisation key pair and print the recovery key once."""
    try:
        code = keyring.initialise_keys(_today())
    except SealError as error:
        raise click.ClickException(str(error)) from None
    db.session.commit()
    status = keyring.key_status()
    click.echo(f"Organisation key created, fingerprint {status.fingerprint}.")
    click.echo("")
    click.echo("RECOVERY KEY (shown once):")
    click.echo(f"    {code}")
    click.echo("")
    click.echo(RECOVERY_INSTRUCTION)
    click.echo("Next: give at least two people their own key slot, e.g. with")
    click.echo("    flask keys recover --holder NAME")


@keys_cli.command("status")
def show_status() -> None:
    """Fingerprint, key holders, reports per key, and warnings."""
    status = keyring.key_status()
    click.echo(f"Organisation key: {status.fingerprint or 'none'}")
    if status.incoming_fingerprint:
        click.echo(f"Incoming key (rotation under way): {status.incoming_fingerprint}")
    click.echo(f"Key slots: {len(status.slots)}")
    for slot in status.slots:
        mark = "" if slot.holds_active_key else "  (does not hold the current key)"
        click.echo(f"  - {slot.kind:<9} {slot.holder}  since {slot.created_on}{mark}")
    click.echo("Reports per key:")
    for fingerprint, count in sorted(status.reports_per_key.items()):
        click.echo(f"  - {fingerprint}: {count}")
    if not status.reports_per_key:
        click.echo("  (none yet)")
    for warning in status.warnings:
        click.echo(f"WARNING: {warning}", err=True)


def _unlock(holder: str | None) -> keyring.UnlockedKeys:
    if holder:
        slot = keyring.password_slot_of(holder)
        if slot is None:
            raise click.ClickException(f"no key slot for {holder!r}")
        return keyring.unlock_with_password(slot, _ask_secret(f"Password of {holder}"))
    return keyring.unlock_with_recovery(_ask_secret("Recovery key"))


@keys_cli.command("rotate")
@click.option("--holder", help="Unlock with this holder's password instead of the recovery key.")
@click.option("--batch-size", default=200, show_default=True, type=click.IntRange(1, 10_000))
def rotate(holder: str | None, batch_size: int) -> None:
    """Make a new key pair and rewrap every report key and slot. Safe to interrupt and rerun."""
    try:
        unlocked = _unlock(holder)
        progress = keyring.rotate_keys(
            unlocked, today=_today(), commit=db.session.commit, batch_size=batch_size
        )
    except SealError as error:
        raise click.ClickException(str(error)) from None
    click.echo(
        f"Rotated {progress.old_fingerprint} -> {progress.new_fingerprint}: "
        f"{progress.reports_rewrapped} reports rewrapped in {progress.batches} batches."
    )


@keys_cli.command("recover")
@click.option("--holder", required=True, help="Who gets a fresh key slot (name or e-mail).")
def recover(holder: str) -> None:
    """With the recovery key, give HOLDER a new slot and password (replacing an old one)."""
    code = _ask_secret("Recovery key")
    password = _ask_secret(f"New password for {holder}", confirm=True)
    if len(password) < 12:
        raise click.ClickException("the password needs at least 12 characters")
    try:
        keyring.recover_slot(
            code, holder, password, today=_today(), params=KdfParams.from_config(current_app.config)
        )
    except SealError as error:
        raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(f"{holder} holds a new key slot.")
    for warning in keyring.key_status().warnings:
        click.echo(f"WARNING: {warning}", err=True)


tokens_cli = AppGroup("tokens", help="Partner API tokens: create, list, revoke.")


@tokens_cli.command("create")
@click.option(
    "--scope",
    "scopes",
    required=True,
    multiple=True,
    type=click.Choice(tokens.SCOPES),
    help="What the token may do; give it more than once for several scopes.",
)
@click.option("--name", required=True, help="Who holds the token, e.g. the counselling office.")
@click.option(
    "--expires-in-days",
    type=click.IntRange(1, 3650),
    help="Refuse the token after this many days (default: no expiry).",
)
def create_token(scopes: tuple[str, ...], name: str, expires_in_days: int | None) -> None:
    """Make a token and print it once, alone on the last line (for scripts)."""
    today = _today()
    expires_on = today + dt.timedelta(days=expires_in_days) if expires_in_days else None
    try:
        token, text = tokens.create_token(name, scopes, today=today, expires_on=expires_on)
    except tokens.InvalidTokenRequest as error:
        raise click.ClickException(str(error)) from None
    db.session.commit()
    until = f"expires on {expires_on}" if expires_on else "no expiry"
    click.echo(f"API token {token.id} created for {token.name} (scopes: {token.scopes}; {until}).")
    click.echo("It is shown only now and stored only as a hash. Give it to the partner safely:")
    click.echo(text)


def _token_row(token: ApiToken) -> str:
    return (
        f"{token.id:<5} {token.prefix:<10} {token.scopes:<18} {token.created_on!s:<11} "
        f"{token.expires_on or 'never'!s:<11} {token.revoked_on or '-'!s:<11} "
        f"{token.last_used_on or 'never'!s:<11} {token.name}"
    )


@tokens_cli.command("list")
def list_tokens() -> None:
    """Every token with its prefix, scopes and dates (never the token itself)."""
    found = tokens.all_tokens()
    if not found:
        click.echo(
            "No API tokens yet. Make one with: flask tokens create --scope submit --name NAME"
        )
        return
    click.echo(
        f"{'ID':<5} {'PREFIX':<10} {'SCOPES':<18} {'CREATED':<11} {'EXPIRES':<11} "
        f"{'REVOKED':<11} {'LAST USED':<11} NAME"
    )
    for token in found:
        click.echo(_token_row(token))


@tokens_cli.command("revoke")
# Ids are 32-bit: a larger number names no token (and would overflow SQLite's integers).
@click.argument("token_id", metavar="ID", type=click.IntRange(1, 2**31 - 1))
def revoke_token(token_id: int) -> None:
    """Refuse the token ID from now on (see `flask tokens list`)."""
    token = db.session.get(ApiToken, token_id)
    if token is None:
        raise click.ClickException(f"no API token with id {token_id}")
    if not tokens.revoke_token(token, _today()):
        click.echo(
            f"API token {token.id} ({token.prefix}…) was already revoked on {token.revoked_on}."
        )
        return
    db.session.commit()
    click.echo(f"API token {token.id} ({token.prefix}…, {token.name}) revoked.")


sessions_cli = AppGroup("sessions", help="Unlocked staff and reporter sessions.")


@sessions_cli.command("purge")
def purge_sessions() -> None:
    """Delete expired sessions (safe to run from cron; live sessions are untouched).

    Status sessions keep no time in clear: they go once the last day they could last has passed.
    """
    now = dt.datetime.now(dt.UTC)
    idle = dt.timedelta(minutes=current_app.config["STAFF_IDLE_MINUTES"])
    staff = purge_expired_staff_sessions(now, idle)
    keys = purge_expired_sessions(now)  # the unlocked keys of logins that ended
    purge_old_throttles(now)
    forget_old_usage(now.date())
    reporters = purge_status_sessions(now.date())
    db.session.commit()
    click.echo(
        f"Removed {staff} expired staff sessions, {keys} sets of unlocked keys and {reporters} "
        "status sessions."
    )


retention_cli = AppGroup("retention", help="Personal data past its retention deadline.")


@retention_cli.command("purge")
@click.option("--dry-run", is_flag=True, help="Only say how many reports are due; change nothing.")
def purge_reports(dry_run: bool) -> None:
    """Destroy the personal data of reports past their deadline; the coded incidents stay.

    Safe to run from cron: each batch is committed with its audit event, so an interrupted run
    loses nothing and the next run continues.
    """
    today = _today()
    if dry_run:
        due = retention.count_due_reports(today)
        click.echo(f"{due} reports are due for purging (deadline on or before {today}).")
        click.echo("Dry run: nothing was changed.")
        return
    done = retention.purge_due_reports(today)
    click.echo(
        f"Purged {done.reports} reports ({done.fields} fields, {done.attachments} images, "
        f"{done.messages} messages)."
    )


def init_app(app: Flask) -> None:
    app.cli.add_command(keys_cli)
    app.cli.add_command(tokens_cli)
    app.cli.add_command(sessions_cli)
    app.cli.add_command(retention_cli)
