"""Operator commands: `flask keys init|status|rotate|recover`."""

from __future__ import annotations

import datetime as dt
import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from app.crypto import keyring
from app.crypto.errors import SealError
from app.crypto.slots import KdfParams
from app.extensions import db

keys_cli = AppGroup("keys", help="The organisation key: create, inspect, rotate, recover.")

RECOVERY_INSTRUCTION = (
    "Write it on paper or store it offline, away from this server. It is shown only now and "
    "is the only way back to the reports if every password is lost."
)


def kdf_params(app: Flask) -> KdfParams:
    return KdfParams(
        memory_kib=int(app.config["SLOT_KDF_MEMORY_KIB"]),
        iterations=int(app.config["SLOT_KDF_ITERATIONS"]),
        lanes=int(app.config["SLOT_KDF_LANES"]),
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
        keyring.recover_slot(code, holder, password, today=_today(), params=kdf_params(current_app))
    except SealError as error:
        raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(f"{holder} holds a new key slot.")
    for warning in keyring.key_status().warnings:
        click.echo(f"WARNING: {warning}", err=True)


def init_app(app: Flask) -> None:
    app.cli.add_command(keys_cli)
