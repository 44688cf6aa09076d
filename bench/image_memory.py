"""What ten people uploading photos at once cost the gunicorn workers in memory.

Starts gunicorn with gunicorn.conf.py (its default workers and threads) on a throw-away instance,
SQLite and, where the server binaries are installed, PostgreSQL. Ten clients each open the form
and send a report with one phone-like photo at the same moment: first a 40-megapixel JPEG, then a
12-megapixel one (both stored upright with an EXIF orientation, as phones store portrait photos).
A third round sends the hostile file of issue 12: a 280 KB PNG declaring 6000 x 6000 pixels at
16 bits per channel. The summed resident memory (RSS) of the workers is sampled from /proc during
each round and once the workers are idle again, with the CPU seconds they spent. Goal: the peak
stays under 1.5 GiB.

Run: `python -m bench.image_memory` (add `--sqlite` to skip PostgreSQL).
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import secrets
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import flask_migrate
import requests
from PIL import Image

from app import create_app
from app.crypto.keyring import initialise_keys
from app.extensions import db
from tests.factories import TODAY, report_form_data
from tests.postgres import PostgresUnavailable, running_postgres

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PEOPLE = 10
GOAL_BYTES = 1.5 * 2**30
PHOTOS = {"40 MP JPEG": (7300, 5475), "12 MP JPEG": (4000, 3000)}


def phone_photo(width: int, height: int) -> bytes:
    """A JPEG like a phone's: smooth detail (so 40 MP stay under 10 MB), EXIF orientation 6."""
    detail = Image.effect_noise((width // 8, height // 8), 64).convert("RGB")
    photo = detail.resize((width, height), Image.Resampling.BICUBIC)
    exif = Image.Exif()
    exif[0x0112] = 6
    buffer = io.BytesIO()
    photo.save(buffer, format="JPEG", quality=85, exif=exif)
    return buffer.getvalue()


def sixteen_bit_png(width: int = 6000, height: int = 6000) -> bytes:
    """RGBA at 16 bits per channel, all zeros: 280 KB that inflate to 288 MB."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    packer = zlib.compressobj(9)
    row = bytes(1 + width * 8)
    pixels = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 16, 6, 0, 0, 0)
    chunks = chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + chunks


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prepare_instance(settings: dict[str, str]) -> None:
    """Migrate the database and make the organisation key, as `flask db upgrade; keys init` do."""
    saved = dict(os.environ)
    os.environ.update(settings)
    try:
        app = create_app()
        with app.app_context():
            flask_migrate.upgrade()
            initialise_keys(TODAY)
            db.session.commit()
            db.engine.dispose()
    finally:
        os.environ.clear()
        os.environ.update(saved)


@contextlib.contextmanager
def gunicorn(settings: dict[str, str], log: Path) -> Iterator[tuple[str, int]]:
    """Serve wsgi:app with gunicorn.conf.py; yield the base URL and the master's process id."""
    port = free_port()
    env = {**os.environ, **settings, "HOST": "127.0.0.1", "PORT": str(port)}
    with log.open("wb") as output:
        master = subprocess.Popen(  # noqa: S603 - our own interpreter and gunicorn
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
            cwd=PROJECT_ROOT, env=env, stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                with contextlib.suppress(requests.RequestException):
                    if requests.get(f"{base}/de/report", timeout=30).status_code == 200:
                        break
                if master.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn did not start; see {log}")
                time.sleep(0.2)
            yield base, master.pid
        finally:
            master.terminate()
            master.wait(timeout=30)


def worker_pids(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return [int(pid) for pid in children]


def cpu_seconds(pids: list[int]) -> float:
    """User and system time the processes have spent so far."""
    ticks = 0
    for pid in pids:
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def rss_bytes(pid: int) -> int:
    with contextlib.suppress(FileNotFoundError, ProcessLookupError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


class RssSampler:
    """Samples the workers' summed RSS every 20 ms in a thread; keeps the highest value."""

    def __init__(self, pids: list[int]) -> None:
        self.pids = pids
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def now(self) -> int:
        return sum(rss_bytes(pid) for pid in self.pids)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.now())
            time.sleep(0.02)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def hidden_value(html: str, name: str) -> str:
    match = re.search(rf'name="{name}"[^>]*value="([^"]*)"', html) or re.search(
        rf'value="([^"]*)"[^>]*name="{name}"', html
    )
    if not match:
        raise RuntimeError(f"no hidden field {name} on the form")
    return match.group(1)


def send_report(
    base: str, photo: tuple[str, bytes], start: threading.Barrier, outcome: list[str]
) -> None:
    """One person: open the form, wait for the others, send the report with the photo."""
    with requests.Session() as browser:
        page = browser.get(f"{base}/de/report", timeout=60).text
        tokens = {name: hidden_value(page, name) for name in ("csrf_token", "form_token")}
        start.wait()
        response = browser.post(
            f"{base}/de/report",
            data={**report_form_data(), **tokens},
            files={"images": (*photo, "application/octet-stream")},
            timeout=600,
        )
        receipt = 'id="receipt-code"' in response.text
        outcome.append("receipt" if receipt else f"HTTP {response.status_code}")


@dataclass
class Round:
    photo: str
    seconds: float
    cpu: float
    peak: int
    after: int
    outcomes: list[str]


def upload_round(base: str, pids: list[int], name: str, photo: tuple[str, bytes]) -> Round:
    outcome: list[str] = []
    start = threading.Barrier(PEOPLE)
    people = [
        threading.Thread(target=send_report, args=(base, photo, start, outcome))
        for _ in range(PEOPLE)
    ]
    with RssSampler(pids) as sampler:
        began, cpu = time.monotonic(), cpu_seconds(pids)
        for person in people:
            person.start()
        for person in people:
            person.join()
        seconds, cpu = time.monotonic() - began, cpu_seconds(pids) - cpu
    time.sleep(3)  # let the workers settle
    return Round(name, seconds, cpu, sampler.peak, sampler.now(), outcome)


def measure(
    label: str, settings: dict[str, str], photos: dict[str, tuple[str, bytes]], folder: Path
) -> None:
    prepare_instance(settings)
    with gunicorn(settings, folder / f"gunicorn-{label}.log") as (base, master):
        pids = worker_pids(master)
        idle = sum(rss_bytes(pid) for pid in pids)
        rounds = [upload_round(base, pids, name, photo) for name, photo in photos.items()]
    print(f"{label}: {len(pids)} workers, {idle / 2**20:.0f} MiB idle before the uploads")
    print(f"  {'round':<30} {'seconds':>8} {'CPU s':>6} {'peak MiB':>9} {'after MiB':>10} "
          f"{'peak/goal':>10}  answers")  # fmt: skip
    for done in rounds:
        answers = ", ".join(f"{done.outcomes.count(o)} {o}" for o in sorted(set(done.outcomes)))
        print(f"  {PEOPLE} × {done.photo:<25} {done.seconds:>8.1f} {done.cpu:>6.1f} "
              f"{done.peak / 2**20:>9.0f} {done.after / 2**20:>10.0f} "
              f"{done.peak / GOAL_BYTES:>10.2f}  {answers}")  # fmt: skip


def main() -> None:
    photos = {name: ("IMG_2041.jpg", phone_photo(*size)) for name, size in PHOTOS.items()}
    photos["16-bit PNG, 36 MP"] = ("bunt.png", sixteen_bit_png())
    sizes = ", ".join(f"{name} {len(data) / 1e6:.2f} MB" for name, (_, data) in photos.items())
    print(f"image memory: {PEOPLE} reports sent at once, one image each ({sizes})")
    with tempfile.TemporaryDirectory() as folder:
        settings = {
            "MELDEPORTAL_ENV": "testing",
            "MELDEPORTAL_SECRET_KEY": secrets.token_hex(32),
            "MELDEPORTAL_RECEIPT_SECRET": secrets.token_hex(32),
            "MELDEPORTAL_INTAKE_MIN_FILL_SECONDS": "0",
            "MELDEPORTAL_REPORT_RATE_LIMIT": "100000 per hour",
        }
        sqlite = {**settings, "MELDEPORTAL_INSTANCE_PATH": str(Path(folder) / "sqlite")}
        measure("SQLite", sqlite, photos, Path(folder))
        if "--sqlite" in sys.argv[1:]:
            return
        try:
            with running_postgres() as server:
                url = server.url(server.create_database())
                postgres = {
                    **settings,
                    "MELDEPORTAL_INSTANCE_PATH": str(Path(folder) / "postgresql"),
                    "MELDEPORTAL_DATABASE_URL": url,
                }
                measure("PostgreSQL", postgres, photos, Path(folder))
        except PostgresUnavailable as missing:
            print(f"PostgreSQL skipped: {missing}")


if __name__ == "__main__":
    main()
