"""The README's "first hour", done literally on a throw-away instance: `make test` runs it.

Each step runs the README's own command (the same text: tests/functional/test_readme_commands.py
compares them) or visits its address over HTTP, as a newcomer would, and checks what they would
see. Only the instance folder (a temporary one) and the port (a free one) differ, through the
environment. Nothing of the newcomer's own instance/ is touched.

    .venv/bin/python scripts/first_hour.py
"""

from __future__ import annotations

import base64
import datetime as dt
import http.cookiejar
import os
import re
import secrets
import select
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.crypto import credentials  # noqa: E402 - needs ROOT on the path

# The README's commands, word for word (its "The first hour" section).
START = "make run"
CREATE_ADMIN = ".venv/bin/flask --app app users create --email admin@example.org --role admin"
GENERATE_DEMO = ".venv/bin/flask --app app demo generate --incidents 1000"
COMMANDS = (START, CREATE_ADMIN, GENERATE_DEMO)
# The addresses it names, on the README's http://127.0.0.1:5000.
README_BASE = "http://127.0.0.1:5000"
REPORT_FORM = "/de/report"
LOGIN = "/moderation/login"
QUEUE = "/moderation/queue"
STATISTICS = "/de/statistics"
ADDRESSES = (REPORT_FORM, LOGIN, QUEUE, STATISTICS)

ADMIN_EMAIL = "admin@example.org"
MIN_FILL_SECONDS = 8  # DevelopmentConfig.INTAKE_MIN_FILL_SECONDS: a faster form is refused
SERVER_START_SECONDS = 90
COMMAND_SECONDS = 120
PROMPT_QUIET_SECONDS = 0.3  # output quiet this long after a line ending in ":": a prompt
DESCRIPTION = "Erste Stunde: In der Straßenbahn wurde sie wegen ihres Kopftuchs beschimpft."


class StepFailed(Exception):
    """A step did not show what the README promises."""


def check(condition: bool, what: str) -> None:
    if not condition:
        raise StepFailed(what)


def found(match: re.Match[str] | None, what: str) -> re.Match[str]:
    if match is None:
        raise StepFailed(what)
    return match


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def newcomer_environment(instance: Path, port: int) -> dict[str, str]:
    """A shell as a newcomer has it: nothing of ours set, but the throw-away folder and port."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("MELDEPORTAL_", "FLASK_")) and name not in ("HOST", "PORT")
    }
    env.update(MELDEPORTAL_INSTANCE_PATH=str(instance), HOST="127.0.0.1", PORT=str(port))
    return env


@dataclass
class Page:
    status: int
    location: str
    text: str


class NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # every answer is checked as it comes, 303s included


class Browser:
    """One person's browser: its own cookies, no JavaScript, no redirects followed silently."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirects()
        )

    def _send(self, request: urllib.request.Request) -> Page:
        try:
            with self.opener.open(request, timeout=60) as response:
                status, headers, body = response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            status, headers, body = error.code, error.headers, error.read()
        return Page(status, headers.get("Location", ""), body.decode("utf-8", "replace"))

    def get(self, path: str) -> Page:
        return self._send(urllib.request.Request(self.base + path))  # noqa: S310 - our http://

    def post(self, path: str, fields: dict[str, str | list[str]]) -> Page:
        body = urllib.parse.urlencode(fields, doseq=True).encode()
        return self._send(urllib.request.Request(self.base + path, data=body, method="POST"))  # noqa: S310

    def follow(self, page: Page) -> Page:
        check(page.status == 303, f"expected a redirect, got {page.status}: {page.text[:300]}")
        target = urllib.parse.urlsplit(page.location)
        return self.get(target.path + (f"?{target.query}" if target.query else ""))


def hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}"[^>]*value="([^"]*)"', html) or re.search(
        rf'value="([^"]*)"[^>]*name="{name}"', html
    )
    return found(match, f"no hidden field {name!r} on the page").group(1)


def totp_now(secret_base32: str, not_before_step: int = 0) -> tuple[str, int]:
    """The code an authenticator app shows now (or, if that one was used, the next one)."""
    secret = base64.b32decode(secret_base32 + "=" * (-len(secret_base32) % 8))
    step = max(credentials.totp_step(time.time()), not_before_step)
    return credentials.totp_code(secret, step), step


@dataclass
class Admin:
    email: str
    password: str
    totp_secret: str
    last_step: int  # the TOTP step used at enrolment, if a code was asked for (else 0)


def run_dialog(
    command: str, env: dict[str, str], answer: Callable[[str, str], str | None]
) -> tuple[int, str]:
    """Run a README command, answering its prompts as a person types them.

    A prompt is a last line ending in ":" after which the command waits for input.
    ``answer(prompt, output_so_far)`` returns the line to type, or None when it is no prompt
    that step expects: then the command is stopped and the step fails, rather than hang.
    """
    # A session of its own has no terminal: hidden prompts (getpass) read the pipe, not the
    # terminal of whoever runs `make test`.
    process = subprocess.Popen(  # noqa: S603 - the README's command, split as a shell does
        shlex.split(command), cwd=ROOT, env=env, stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    if process.stdin is None or process.stdout is None:
        raise StepFailed("no pipes")  # cannot happen: both were asked for
    fd = process.stdout.fileno()
    output = b""
    answered_at = -1  # the length of the output when the last prompt was answered
    deadline = time.monotonic() + COMMAND_SECONDS
    try:
        while True:
            check(time.monotonic() < deadline, f"`{command}` took over {COMMAND_SECONDS} s")
            if select.select([fd], [], [], PROMPT_QUIET_SECONDS)[0]:
                chunk = os.read(fd, 4096)
                if not chunk:
                    break
                output += chunk
                continue
            text = output.decode("utf-8", "replace")
            last = text.rsplit("\n", 1)[-1].strip()
            if not last.endswith(":") or len(output) == answered_at:
                continue  # still working, or waiting for the answer just typed to arrive
            line = answer(last, text)
            if line is None:
                raise StepFailed(f"`{command}` asked {last!r}, which this step does not expect")
            process.stdin.write(line.encode() + b"\n")
            process.stdin.flush()
            answered_at = len(output)
        process.stdin.close()
        return process.wait(timeout=COMMAND_SECONDS), output.decode("utf-8", "replace")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def create_first_admin(env: dict[str, str]) -> Admin:
    """README step 2, the one place that knows the dialog of `flask users create`.

    Piped, the command asks for the password once (interactively: twice), then, since the
    enrolment shows a QR code, for the code the authenticator app shows. The secret comes from
    the otpauth:// address printed for the app (or a plain "secret" line below the QR code).
    """
    password = secrets.token_urlsafe(18)
    used_step = 0

    def answer(prompt: str, output: str) -> str | None:
        nonlocal used_step
        lowered = prompt.lower()
        if "password" in lowered or "passwort" in lowered:
            return password
        if "code" in lowered:
            code, used_step = totp_now(secret_in(output))
            return code
        return None

    status, output = run_dialog(CREATE_ADMIN, env, answer)
    check(status == 0, f"`{CREATE_ADMIN}` failed:\n{output}")
    check(f"Account {ADMIN_EMAIL} (admin) created" in output, f"no account created:\n{output}")
    check("development-recovery-key" in output, "the recovery key was not taken from its file")
    return Admin(ADMIN_EMAIL, password, secret_in(output), used_step)


def secret_in(output: str) -> str:
    match = re.search(r"secret=([A-Z2-7]+)", output) or re.search(
        r"(?im)^\W*secret\W*([A-Z2-7 ]{16,})$", output
    )
    return found(match, f"no TOTP secret in:\n{output}").group(1).replace(" ", "").upper()


@contextmanager
def development_server(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """README step 1: `make run`, in its own process group, stopped at the end."""
    with log.open("wb") as output:
        server = subprocess.Popen(  # noqa: S603
            shlex.split(START), cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        yield server
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def wait_until_serving(server: subprocess.Popen[bytes], base: str, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise StepFailed(f"`{START}` ended ({server.returncode}):\n{log.read_text()}")
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=5) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise StepFailed(f"`{START}` did not serve within {SERVER_START_SECONDS} s:\n{log.read_text()}")


def step_fields(page: Page) -> dict[str, str | list[str]]:
    """What pressing a button on a step sends: its hidden fields and every answer (a step keeps
    those it asks for)."""
    tokens = {name: hidden(page.text, name) for name in ("csrf_token", "form_state")}
    return {**tokens, **report_fields()}


def walk_the_steps(person: Browser, page: Page) -> Page:
    """Press "Weiter" on each step of the form, as a person does, up to the one that sends."""
    for _ in range(20):
        if 'value="send"' in page.text:
            return page
        page = person.post(REPORT_FORM, {**step_fields(page), "action": "next"})
        check(page.status == 200, f"a step of {REPORT_FORM} answered {page.status}")
    raise StepFailed(f"{REPORT_FORM} never reached the step that sends")


def report_fields() -> dict[str, str | list[str]]:
    incident_day = dt.date.today() - dt.timedelta(days=3)
    return {
        "role": "affected", "date_kind": "exact", "incident_date": incident_day.isoformat(),
        "land": "sn", "town": "leipzig", "place_type": "public_transport",
        "incident_types": ["verbal_abuse", "threat"], "description": DESCRIPTION,
        "perceived_because": ["headscarf"], "target": "person", "gender": "woman",
        "age_band": "age_30_44", "perpetrator_count": "one", "perpetrator_known": "stranger",
        "bystanders": ["did_nothing"], "impact": ["psychological"],
        "support_wished": "no_support", "reported_elsewhere": ["none"], "why_not": ["no_trust"],
        "consent_special_categories": "y",
    }  # fmt: skip


def published_total(page: Page) -> int:
    """The statistics page's first total ("Insgesamt"): all verified incidents, all years."""
    check(page.status == 200, f"{STATISTICS} answered {page.status}")
    match = re.search(r"<tfoot><tr><th[^>]*>Insgesamt</th><td>([\d.]+)</td>", page.text)
    return int(found(match, f"{STATISTICS} shows no total").group(1).replace(".", ""))


def first_hour() -> None:
    started = time.monotonic()

    def done(step: str) -> None:
        print(f"first hour: {step} ({time.monotonic() - started:.0f} s)", flush=True)

    with tempfile.TemporaryDirectory(prefix="meldeportal-first-hour-") as folder:
        instance = Path(folder) / "instance"
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = newcomer_environment(instance, port)
        log = Path(folder) / "make-run.log"
        with development_server(env, log) as server:
            wait_until_serving(server, base, log)
            banner = log.read_text()
            check("DEVELOPMENT ONLY" in banner, f"no development banner:\n{banner}")
            kept = instance / "development-recovery-key"
            check(kept.exists() and kept.stat().st_mode & 0o077 == 0, f"{kept} is not private")
            check((instance / "development.env").exists(), "instance/development.env is missing")
            done(f"`{START}` serves on {base}")

            person = Browser(base)
            form = person.get(REPORT_FORM)
            check(form.status == 200, f"{REPORT_FORM} answered {form.status}")
            opened_at = time.monotonic()

            admin = create_first_admin(env)
            done(f"`{CREATE_ADMIN}` made the first admin")

            last_step = walk_the_steps(person, form)
            time.sleep(max(0.0, opened_at + MIN_FILL_SECONDS + 0.5 - time.monotonic()))
            receipt = person.post(REPORT_FORM, {**step_fields(last_step), "action": "send"})
            check(receipt.status == 200, f"the report was refused ({receipt.status})")
            code = re.search(r'id="receipt-code"[^>]*>(.+?)</strong>', receipt.text)
            found(code, "no receipt code")
            done(f"a report was sent at {REPORT_FORM}, receipt code shown")

            staff = Browser(base)
            login_form = staff.get(LOGIN).text
            totp, _ = totp_now(admin.totp_secret, not_before_step=admin.last_step + 1)
            home = staff.follow(staff.post(LOGIN, {
                "csrf_token": hidden(login_form, "csrf_token"), "email": admin.email,
                "password": admin.password, "code": totp,
            }))  # fmt: skip
            check(home.status == 200 and "/moderation/logout" in home.text, "not logged in")
            done(f"logged in at {LOGIN} with the authenticator code")

            queue = staff.get(QUEUE)
            cases = re.findall(r'href="/moderation/cases/(\d+)"', queue.text)
            check(queue.status == 200 and len(cases) == 1, f"the queue shows {cases}")
            path = f"/moderation/cases/{cases[0]}"
            csrf = hidden(staff.get(path).text, "csrf_token")
            opened = staff.post(f"{path}/open", {"csrf_token": csrf})
            check(DESCRIPTION in opened.text, "the opened case does not show the description")
            staff.follow(staff.post(f"{path}/state", {"csrf_token": csrf, "to": "in_review"}))
            coded = staff.follow(staff.post(f"{path}/code", {
                "csrf_token": csrf, "incident_types": ["verbal_abuse", "threat"], "land": "sn",
                "place_type": "public_transport", "target": "person",
            }))  # fmt: skip
            check("Die Kodierung ist gespeichert." in coded.text, "the coding was not saved")
            verified = staff.follow(staff.post(f"{path}/state", {"csrf_token": csrf,
                                                                  "to": "verified"}))  # fmt: skip
            check("<dt>Bestätigt am</dt>" in verified.text, "the case is not verified")
            done(f"the case was opened, coded and verified at {QUEUE}")

            status, output = run_dialog(GENERATE_DEMO, env, lambda prompt, output: None)
            check(status == 0 and "Generated 1000 demo incidents" in output, output)
            total = published_total(person.get(STATISTICS))
            check(total > 100, f"{STATISTICS} counts {total} incidents in all")
            queue = staff.get(QUEUE)
            check(len(re.findall(r'href="/moderation/cases/\d+"', queue.text)) > 1, "no demo cases")
            done(f"`{GENERATE_DEMO}` filled {QUEUE} and {STATISTICS}")
    done("all steps passed")


if __name__ == "__main__":
    try:
        first_hour()
    except StepFailed as failure:
        sys.exit(f"first hour FAILED: {failure}")
