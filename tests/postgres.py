"""A throw-away PostgreSQL server for the test run, started from the binaries on PATH.

PostgreSQL refuses to run as root, so as root the data folder belongs to ``postgres`` and the
binaries run through ``runuser -u postgres --`` (DESIGN.md, "Storage").
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

SUPERUSER = "meldeportal"
PORT_ATTEMPTS = 5


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries are installed."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


def _run_as_server_user(command: list[str]) -> None:
    subprocess.run(
        _as_server_user(command), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=True
    )


def find_binaries() -> tuple[str, str]:
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if not initdb or not pg_ctl:
        candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
        for folder in candidates:
            if (folder / "initdb").exists():
                return str(folder / "initdb"), str(folder / "pg_ctl")
        raise PostgresUnavailable("initdb/pg_ctl not found (apt-get install postgresql)")
    return initdb, pg_ctl


class PostgresServer:
    def __init__(self, port: int, folder: Path) -> None:
        self.port = port
        self.folder = folder

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def _admin(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(
            f"host=127.0.0.1 port={self.port} user={SUPERUSER} dbname=postgres", autocommit=True
        )

    def create_database(self, template: str | None = None) -> str:
        """A new database, empty or a copy of ``template`` (see ``make_template``)."""
        name = f"test_{uuid.uuid4().hex[:12]}"
        # PostgreSQL 15's default strategy (WAL_LOG) copied the migrated template in half the
        # time of FILE_COPY here: its two checkpoints cost more than a small database's blocks.
        copy = f' TEMPLATE "{template}"' if template else ""
        with self._admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"{copy}')
        return name

    def make_template(self, name: str) -> None:
        """Let ``name`` be copied by ``create_database``; nobody may connect to it any more,
        because PostgreSQL copies no database that has a session open."""
        with self._admin() as conn:
            conn.execute(f'ALTER DATABASE "{name}" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false')

    def drop_database(self, name: str) -> None:
        with self._admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _start(pg_ctl: str, folder: Path) -> int:
    """Start the server in ``folder`` on a free port; return the port.

    Another process (a parallel test worker starting its own server) may take the port between
    the look and the start: a start refused for that reason is tried again on another port.
    """
    log = folder / "server.log"
    for attempt in range(1, PORT_ATTEMPTS + 1):
        port = _free_port()
        # fsync off: a test server's data may be lost in a crash, and it is faster.
        options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        command = [pg_ctl, "-D", str(folder / "data"), "-o", options, "-l", str(log), "-w", "start"]
        try:
            _run_as_server_user(command)
        except subprocess.CalledProcessError:
            taken = "could not bind" in log.read_text(errors="replace")
            if not taken or attempt == PORT_ATTEMPTS:
                raise
            log.unlink()
            continue
        return port
    raise AssertionError("unreachable")


@contextmanager
def running_postgres() -> Iterator[PostgresServer]:
    initdb, pg_ctl = find_binaries()
    folder = Path(tempfile.mkdtemp(prefix="meldeportal-pg-"))
    data = folder / "data"
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    try:
        _run_as_server_user([initdb, "-D", str(data), "-A", "trust", "-U", SUPERUSER, "-E", "UTF8"])
        yield PostgresServer(_start(pg_ctl, folder), folder)
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run(
                _as_server_user([pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"]),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                check=False,
            )
        shutil.rmtree(folder, ignore_errors=True)
