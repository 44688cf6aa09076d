"""Configuration: defaults here, then ``instance/config.py``, then ``MELDEPORTAL_*`` variables.

Production has no secret defaults: a missing or development key stops start-up with a message that
names the setting (cookiecutter-flask's rule, SecureDrop's typed config).
"""

from __future__ import annotations

from typing import Any

DEVELOPMENT_SECRET_KEY = "development-only-not-secret"  # noqa: S105 - refused outside development
ENVIRONMENTS = ("development", "testing", "production")
LANGUAGES = ("de", "en")
DEFAULT_LANGUAGE = "de"


class ConfigurationError(RuntimeError):
    """The configuration cannot be used; the message says what to set."""


class BaseConfig:
    ENV_NAME = "production"
    SECRET_KEY: str | None = None
    DATABASE_URL: str | None = None  # None: SQLite in the instance folder
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {"pool_pre_ping": True}
    # Whole request bodies above this size are refused with 413 (uploads come later).
    MAX_CONTENT_LENGTH = 30 * 1024 * 1024
    MAX_FORM_MEMORY_SIZE = 1024 * 1024
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Strict"
    SESSION_COOKIE_SECURE = True
    PERMANENT_SESSION_LIFETIME = 30 * 60
    WTF_CSRF_TIME_LIMIT: int | None = 3600
    BABEL_DEFAULT_LOCALE = DEFAULT_LANGUAGE
    # Operator details for the imprint (legally required where the service is public).
    OPERATOR_NAME = ""
    OPERATOR_ADDRESS = ""  # several lines allowed
    OPERATOR_EMAIL = ""
    OPERATOR_PHONE = ""
    OPERATOR_REPRESENTATIVE = ""
    OPERATOR_REGISTER = ""  # e.g. "Vereinsregister Amtsgericht Leipzig, VR 0000"


class DevelopmentConfig(BaseConfig):
    ENV_NAME = "development"
    SECRET_KEY = DEVELOPMENT_SECRET_KEY
    SESSION_COOKIE_SECURE = False  # the development server speaks plain HTTP on loopback
    OPERATOR_NAME = "Meldeportal (Entwicklung)"
    OPERATOR_ADDRESS = "Musterstraße 1\n04109 Leipzig"
    OPERATOR_EMAIL = "kontakt@example.org"


class TestingConfig(DevelopmentConfig):
    ENV_NAME = "testing"
    TESTING = True


class ProductionConfig(BaseConfig):
    ENV_NAME = "production"


CONFIG_CLASSES: dict[str, type[BaseConfig]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}

REQUIRED_IN_PRODUCTION = ("OPERATOR_NAME", "OPERATOR_ADDRESS", "OPERATOR_EMAIL")


def config_class_for(env_name: str) -> type[BaseConfig]:
    try:
        return CONFIG_CLASSES[env_name]
    except KeyError:
        raise ConfigurationError(
            f"MELDEPORTAL_ENV={env_name!r} is unknown; use one of: {', '.join(ENVIRONMENTS)}."
        ) from None


def check_config(config: dict[str, Any]) -> None:
    """Refuse settings that would be unsafe outside development.

    Raises:
        ConfigurationError: with a message that names what to set.
    """
    if config["ENV_NAME"] == "development" or config.get("TESTING"):
        return
    secret = config.get("SECRET_KEY")
    if not secret or secret == DEVELOPMENT_SECRET_KEY or len(str(secret)) < 32:
        raise ConfigurationError(
            "No usable secret key. Set MELDEPORTAL_SECRET_KEY (or SECRET_KEY in "
            "instance/config.py) to a random value of at least 32 characters, e.g. the output of "
            "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`."
        )
    missing = [name for name in REQUIRED_IN_PRODUCTION if not config.get(name)]
    if missing:
        settings = ", ".join(f"MELDEPORTAL_{name}" for name in missing)
        raise ConfigurationError(
            f"The imprint needs the operator's details. Set {settings} "
            "(or the same names without the prefix in instance/config.py)."
        )
