"""Configuration: defaults here, then ``instance/config.py``, then ``MELDEPORTAL_*`` variables.

Production has no secret defaults: a missing or development key stops start-up with a message that
names the setting (cookiecutter-flask's rule, SecureDrop's typed config).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from babel import Locale, UnknownLocaleError

DEVELOPMENT_SECRET_KEY = "development-only-not-secret"  # noqa: S105 - refused outside development
DEVELOPMENT_RECEIPT_SECRET = "development-only-receipt-secret"  # noqa: S105 - likewise
ENVIRONMENTS = ("development", "testing", "production")
# German is the source language: of the interface texts (gettext msgids), of the codebook and of
# the pages. A text missing in another language is shown in German, and German is always offered.
DEFAULT_LANGUAGE = "de"
DIRECTIONS = ("ltr", "rtl")
LANGUAGE_CODE = re.compile(r"[a-z]{2}")  # ISO 639-1; also what User.language (String(2)) holds


@dataclass(frozen=True)
class Language:
    """An interface language: its code in URLs and catalogs, its own name, its writing direction."""

    code: str
    name: str
    direction: str = "ltr"


# One line per language, in the order the language switch offers them. A new language also needs
# a catalog (app/translations/<code>), codebook texts and page files (app/pages/content/<code>).
LANGUAGES = (
    Language("de", "Deutsch"),
    Language("en", "English"),
    Language("tr", "Türkçe"),
    Language("ar", "العربية", "rtl"),
)


class ConfigurationError(RuntimeError):
    """The configuration cannot be used; the message says what to set."""


class BaseConfig:
    ENV_NAME = "production"
    SECRET_KEY: str | None = None
    # Keys the receipt-code lookup hash. Changing it makes every receipt code unfindable.
    RECEIPT_SECRET: str | None = None
    DATABASE_URL: str | None = None  # None: SQLite in the instance folder
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {"pool_pre_ping": True}
    # Whole request bodies above this size are refused with 413 (staff pages, status codes…).
    MAX_CONTENT_LENGTH = 1024 * 1024
    MAX_FORM_MEMORY_SIZE = 1024 * 1024
    # Forms that take images read bodies up to this size, so that a person who chose too many
    # or too large photos keeps their text; only the allowed files are held in memory, each up
    # to IMAGE_MAX_BYTES (app/requests.py). Above it, the answer is a bare 413.
    UPLOAD_BODY_LIMIT = 256 * 1024 * 1024
    # Evidence images (app/crypto/attachments.py): bytes of one file; pixels its header may
    # declare (phone cameras reach 200 million; Pillow refuses over 250 million, whatever is
    # set here); memory that decoding one may take; pixels of the cleaned image (larger ones
    # are made smaller); frames of an animation (only the first is kept).
    IMAGE_MAX_BYTES = 10 * 1024 * 1024
    IMAGE_MAX_PIXELS = 250_000_000
    IMAGE_MAX_DECODED_BYTES = 192 * 1024 * 1024
    IMAGE_MAX_OUTPUT_PIXELS = 16_000_000
    IMAGE_MAX_FRAMES = 1000
    # Images each worker process cleans at once; more wait their turn, so that memory stays
    # bounded when many people upload together (app/intake/evidence.py).
    IMAGE_CLEANING_SLOTS = 2
    # Abuse resistance without tracking: a form sent faster than this is refused (politely).
    INTAKE_MIN_FILL_SECONDS = 8
    REPORT_RATE_LIMIT = "10 per hour"
    STATUS_RATE_LIMIT = "10 per 15 minutes"
    STATUS_IDLE_MINUTES = 15
    STATUS_SESSION_HOURS = 2
    STAFF_IDLE_MINUTES = 30
    STAFF_SESSION_HOURS = 12
    LOGIN_RATE_LIMIT = "20 per 15 minutes"
    RATELIMIT_HEADERS_ENABLED = False
    # Reverse proxies in front of the app (e.g. 1 for nginx): their X-Forwarded-For/-Proto are
    # trusted so that rate limits see clients, not the proxy, and HTTPS is recognised.
    PROXY_HOPS = 0
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Strict"
    SESSION_COOKIE_SECURE = True
    PERMANENT_SESSION_LIFETIME = 30 * 60
    # Long enough to write a report calmly; an expired token re-shows the form with its text.
    WTF_CSRF_TIME_LIMIT: int | None = 8 * 3600
    LANGUAGES: tuple[Language, ...] = LANGUAGES
    BABEL_DEFAULT_LOCALE = DEFAULT_LANGUAGE
    # Argon2id cost for new passwords and key slots (stored with each, so raising it is safe).
    # One lane: derivations run one at a time per process anyway (app/crypto/kdf.py).
    SLOT_KDF_MEMORY_KIB = 64 * 1024
    SLOT_KDF_ITERATIONS = 3
    SLOT_KDF_LANES = 1
    # Operator details for the imprint (legally required where the service is public).
    OPERATOR_NAME = ""
    OPERATOR_ADDRESS = ""  # several lines allowed
    OPERATOR_EMAIL = ""
    OPERATOR_PHONE = ""
    OPERATOR_REPRESENTATIVE = ""
    OPERATOR_REGISTER = ""  # e.g. "Vereinsregister Amtsgericht Leipzig, VR 0000"
    # Days after a case is closed until its personal data (sealed fields, images, messages and
    # the report's keys) is destroyed by `flask retention purge`; the coded incident stays.
    RETENTION_DAYS = 180
    # Statistics (README, "Methodology"): every published number is perturbed by the cell-key
    # method; none is between 1 and STATISTICS_MIN_CELL - 1, a number of at least
    # STATISTICS_MIN_CELL + STATISTICS_MAX_DEVIATION moves by at most that deviation, and the
    # noise has this variance. Changing them changes published numbers: choose them once.
    STATISTICS_MIN_CELL = 5
    STATISTICS_MAX_DEVIATION = 3
    STATISTICS_NOISE_VARIANCE = 1.0
    # Tables each staff account or API token may have counted (research area and API together):
    # enough for real work, too few for the thousands of overlapping tables an attack needs.
    STATISTICS_TABLES_PER_HOUR = 60
    STATISTICS_TABLES_PER_DAY = 300
    # Content-free notices to moderators who opted in ("a new report arrived"). No server, no
    # mail. The request waits for the server while it sends: prefer a relay on the same host.
    MAIL_SERVER: str | None = None
    MAIL_PORT = 25
    MAIL_USE_STARTTLS = False
    MAIL_USERNAME: str | None = None
    MAIL_PASSWORD: str | None = None
    MAIL_FROM = "meldeportal@localhost"
    MAIL_TIMEOUT = 10  # seconds, for connecting and for each reply
    # Only for the link to the moderation queue in those mails, e.g. "https://melden.example.org/".
    PUBLIC_BASE_URL: str | None = None
    # The service's onion address, e.g. "http://<56 letters and digits>.onion", when tor also
    # publishes it as an onion service (README, "Reporting through Tor"). Tor Browser then offers
    # the onion address to visitors of the normal one (an Onion-Location header on every page).
    ONION_ADDRESS: str | None = None
    # Where "Leave this site quickly" (on every public page, and Escape) goes: a site so common
    # that a visit to it, in the history or on a shared network, says nothing. Google's search
    # page is the most visited site in Germany and everywhere else, in every language the
    # service offers, loads fast on a weak connection and asks nothing. An https URL.
    QUICK_EXIT_URL = "https://www.google.com/"


class DevelopmentConfig(BaseConfig):
    ENV_NAME = "development"
    SECRET_KEY = DEVELOPMENT_SECRET_KEY
    RECEIPT_SECRET = DEVELOPMENT_RECEIPT_SECRET
    SESSION_COOKIE_SECURE = False  # the development server speaks plain HTTP on loopback
    OPERATOR_NAME = "Meldeportal (Entwicklung)"
    OPERATOR_ADDRESS = "Musterstraße 1\n04109 Leipzig"
    OPERATOR_EMAIL = "kontakt@example.org"


class TestingConfig(DevelopmentConfig):
    ENV_NAME = "testing"
    TESTING = True
    INTAKE_MIN_FILL_SECONDS = 0
    REPORT_RATE_LIMIT = "1000 per hour"
    STATUS_RATE_LIMIT = "1000 per hour"
    LOGIN_RATE_LIMIT = "1000 per hour"
    STATISTICS_TABLES_PER_HOUR = 1000
    STATISTICS_TABLES_PER_DAY = 5000
    # Cheap key derivation keeps the suite fast; one test holds the production default.
    SLOT_KDF_MEMORY_KIB = 1024
    SLOT_KDF_ITERATIONS = 1
    SLOT_KDF_LANES = 1


class ProductionConfig(BaseConfig):
    ENV_NAME = "production"


CONFIG_CLASSES: dict[str, type[BaseConfig]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}

REQUIRED_IN_PRODUCTION = ("OPERATOR_NAME", "OPERATOR_ADDRESS", "OPERATOR_EMAIL")
MIN_SECRET_LENGTH = 32
# A version 3 onion service's origin (tor's hostname file holds the name).
ONION_ORIGIN = re.compile(r"(https?://[a-z2-7]{56}\.onion)/?")


def config_class_for(env_name: str) -> type[BaseConfig]:
    try:
        return CONFIG_CLASSES[env_name]
    except KeyError:
        raise ConfigurationError(
            f"MELDEPORTAL_ENV={env_name!r} is unknown; use one of: {', '.join(ENVIRONMENTS)}."
        ) from None


# `make run` marks its instance folder as a development setup, so that the `flask` commands a
# newcomer types in a second terminal use the same configuration as the server (README, "The
# first hour"). Only the `flask` command and the development server read the file: gunicorn
# (wsgi.py) and any other WSGI import never do, so a file left behind cannot turn a real
# installation into development.
DEVELOPMENT_FILE = "development.env"
DEVELOPMENT_SETTING = "MELDEPORTAL_ENV=development"
DEVELOPMENT_FILE_TEXT = f"""\
# Written by `make run`: this instance folder is a development setup. The `flask` commands run
# here read this file and use the development configuration, as the development server does.
# gunicorn (wsgi.py) never reads it. Delete it to leave development.
{DEVELOPMENT_SETTING}
"""
# The recovery key of the development organisation key, so that it can be found again after the
# server's console is gone. Only the development server writes it; production prints the key once.
DEVELOPMENT_RECOVERY_FILE = "development-recovery-key"


def development_file_present(instance_path: str | Path) -> bool:
    """Whether ``make run`` marked this instance folder as a development setup.

    Raises:
        ConfigurationError: when the file says anything but ``MELDEPORTAL_ENV=development``
            (it is a marker, not a place for settings: those go into instance/config.py).
    """
    path = Path(instance_path) / DEVELOPMENT_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return False
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigurationError(f"{path} cannot be read ({error}); delete it.") from None
    lines = [line.strip() for line in text.splitlines()]
    settings = [line for line in lines if line and not line.startswith("#")]
    if settings != [DEVELOPMENT_SETTING]:
        raise ConfigurationError(
            f"{path} may only say {DEVELOPMENT_SETTING} (`make run` writes it); put other "
            "settings into instance/config.py or MELDEPORTAL_* variables, or delete the file."
        )
    return True


def write_development_file(instance_path: str | Path) -> bool:
    """Mark the instance folder as a development setup; False if it was marked already."""
    path = Path(instance_path) / DEVELOPMENT_FILE
    if path.exists():
        return False
    path.write_text(DEVELOPMENT_FILE_TEXT, encoding="utf-8")
    return True


def write_development_recovery_key(instance_path: str | Path, code: str) -> Path:
    """Keep the development key's recovery key in the instance folder, readable by its owner only.

    Raises:
        FileExistsError: when one is there already (the caller removes one of an earlier key).
    """
    path = Path(instance_path) / DEVELOPMENT_RECOVERY_FILE
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(
            "# DEVELOPMENT ONLY: the recovery key of this development installation's organisation\n"
            "# key, written by `make run` when it created the key. A real installation never\n"
            "# writes its recovery key to disk.\n"
            f"{code}\n"
        )
    return path


def read_development_recovery_key(instance_path: str | Path) -> str | None:
    """The recovery key ``make run`` kept for its development key, or None."""
    try:
        text = (Path(instance_path) / DEVELOPMENT_RECOVERY_FILE).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    keys = [line.strip() for line in text.splitlines() if line.strip() and line[0] != "#"]
    return keys[0] if len(keys) == 1 else None


def check_config(config: dict[str, Any]) -> None:
    """Refuse settings that would be unsafe outside development, and a broken language list.

    ``LANGUAGES`` is stored back as a tuple of ``Language`` (an environment variable gives lists).

    Raises:
        ConfigurationError: with a message that names what to set.
    """
    config["LANGUAGES"] = parse_languages(config.get("LANGUAGES"))
    config["ONION_ADDRESS"] = parse_onion_address(config.get("ONION_ADDRESS"))
    local = config["ENV_NAME"] == "development" or bool(config.get("TESTING"))
    config["QUICK_EXIT_URL"] = check_quick_exit_url(config.get("QUICK_EXIT_URL"), local=local)
    if local:
        return
    _require_secret(config, "SECRET_KEY", DEVELOPMENT_SECRET_KEY, "")
    _require_secret(
        config,
        "RECEIPT_SECRET",
        DEVELOPMENT_RECEIPT_SECRET,
        " Never change it afterwards: it is needed to find reports by their receipt codes.",
    )
    missing = [name for name in REQUIRED_IN_PRODUCTION if not config.get(name)]
    if missing:
        settings = ", ".join(f"MELDEPORTAL_{name}" for name in missing)
        raise ConfigurationError(
            f"The imprint needs the operator's details. Set {settings} "
            "(or the same names without the prefix in instance/config.py)."
        )


def _require_secret(config: dict[str, Any], name: str, development_value: str, note: str) -> None:
    value = config.get(name)
    if not value or value == development_value or len(str(value)) < MIN_SECRET_LENGTH:
        raise ConfigurationError(
            f"No usable {name}. Set MELDEPORTAL_{name} (or {name} in instance/config.py) to a "
            f"random value of at least {MIN_SECRET_LENGTH} characters, e.g. the output of "
            "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`." + note
        )


def parse_onion_address(value: Any) -> str | None:
    """The onion service's origin, without a trailing slash; ``None`` when there is none.

    Raises:
        ConfigurationError: unless it is ``http://`` or ``https://`` and a version 3 onion name
            (56 characters of base32), with nothing after the name but an optional slash.
    """
    if value is None or value == "":
        return None
    match = ONION_ORIGIN.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise ConfigurationError(
            f"ONION_ADDRESS {value!r} is not an onion service's address; write it as "
            "http://<56 letters a-z and digits 2-7>.onion, as tor wrote it to the service's "
            "hostname file."
        )
    return match.group(1)


LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def check_quick_exit_url(value: Any, *, local: bool = False) -> str:
    """The quick exit's target: an absolute https URL with a host and nothing else in it.

    ``local`` (development and tests) also admits http on this machine, where no TLS is.

    Raises:
        ConfigurationError: for anything else, naming the setting.
    """
    problem = "is not a text"
    if isinstance(value, str):
        problem = _quick_exit_problem(value, local=local)
        if not problem:
            return value
    raise ConfigurationError(
        f"QUICK_EXIT_URL {problem}. Set MELDEPORTAL_QUICK_EXIT_URL (or QUICK_EXIT_URL in "
        "instance/config.py) to the https address of a neutral, widely used site, e.g. "
        "https://www.google.com/."
    )


def _quick_exit_problem(value: str, *, local: bool) -> str:
    if not value or any(character.isspace() or ord(character) < 32 for character in value):
        return "is empty or holds spaces or control characters"
    try:
        parts = urlsplit(value)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a port that is not one
    except ValueError:
        return f"{value!r} is not a URL"
    if not host:
        return f"{value!r} names no site (write it with https://)"
    if parts.username is not None or parts.password is not None:
        return f"{value!r} holds a user name or password"
    if parts.scheme == "https" or (local and parts.scheme == "http" and host in LOOPBACK_HOSTS):
        return ""
    return f"{value!r} is not an https address"


def parse_languages(value: Any) -> tuple[Language, ...]:
    """The configured languages, each a ``Language`` or ``[code, name, direction]``.

    Raises:
        ConfigurationError: for a malformed entry, a code that is not two lower-case letters or
            not known to Babel, an unknown direction, a code listed twice, or a list without German.
    """
    if isinstance(value, str | bytes) or not isinstance(value, Sequence) or not value:
        raise ConfigurationError(
            "LANGUAGES is a list of languages, e.g. "
            '[["de", "Deutsch", "ltr"], ["en", "English", "ltr"]].'
        )
    languages = tuple(_language(entry) for entry in value)
    codes = [language.code for language in languages]
    duplicates = sorted({code for code in codes if codes.count(code) > 1})
    if duplicates:
        raise ConfigurationError(f"LANGUAGES lists {', '.join(duplicates)} more than once.")
    if DEFAULT_LANGUAGE not in codes:
        raise ConfigurationError(
            f"LANGUAGES must include {DEFAULT_LANGUAGE!r}, the language every text is written in."
        )
    return languages


def _language(entry: Any) -> Language:
    if isinstance(entry, Language):
        language = entry
    elif (
        isinstance(entry, Sequence)
        and not isinstance(entry, str | bytes)
        and len(entry) in (2, 3)
        and all(isinstance(part, str) for part in entry)
    ):
        language = Language(*entry)
    else:
        raise ConfigurationError(
            f"LANGUAGES: {entry!r} is not a language; write [code, name, direction]."
        )
    if not isinstance(language.code, str) or not LANGUAGE_CODE.fullmatch(language.code):
        raise ConfigurationError(
            f"LANGUAGES: the code {language.code!r} is not two lower-case letters (ISO 639-1)."
        )
    try:
        Locale.parse(language.code)
    except UnknownLocaleError:
        # Dates, numbers and plural rules come from Babel's locale data: without it, every page
        # in this language would fail.
        raise ConfigurationError(
            f"LANGUAGES: {language.code!r} is not a language Babel knows (ISO 639-1)."
        ) from None
    if language.direction not in DIRECTIONS:
        raise ConfigurationError(
            f"LANGUAGES: the direction of {language.code!r} is {language.direction!r}; "
            f"use one of {', '.join(DIRECTIONS)}."
        )
    if not isinstance(language.name, str) or not language.name.strip():
        raise ConfigurationError(f"LANGUAGES: {language.code!r} needs its name.")
    return language
