"""The application factory: load configuration, bind extensions, register blueprints."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from app.codebook import current_codebook
from app.config import (
    DEVELOPMENT_FILE,
    DEVELOPMENT_RECEIPT_SECRET,
    DEVELOPMENT_SECRET_KEY,
    ConfigurationError,
    Language,
    check_config,
    config_class_for,
    development_file_present,
)
from app.reporter_logs import init_reporter_logs
from app.requests import InMemoryUploadsRequest
from app.research.disclosure import statistics_perturbation

PROJECT_ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger("meldeportal.config")
_announced_development_files: set[str] = set()


def create_app(
    config: Mapping[str, Any] | None = None, *, development_file: bool | None = None
) -> Flask:
    """Build the application.

    Configuration is layered: the class for ``MELDEPORTAL_ENV`` (default ``production``), then
    ``instance/config.py``, then ``MELDEPORTAL_*`` environment variables, then ``config``.

    Without ``MELDEPORTAL_ENV``, an instance folder that ``make run`` marked as a development
    setup (``instance/development.env``) chooses development — but only where
    ``development_file`` allows it: by default under the ``flask`` command alone, never for
    gunicorn (wsgi.py passes False).

    Raises:
        ConfigurationError: when the result is unsafe outside development, or the development
            file meets a secret of its own (a real installation's).
    """
    overrides = dict(config or {})
    instance_path = overrides.pop("INSTANCE_PATH", None) or os.environ.get(
        "MELDEPORTAL_INSTANCE_PATH", str(PROJECT_ROOT / "instance")
    )
    env_name = str(overrides.get("ENV_NAME") or os.environ.get("MELDEPORTAL_ENV") or "")
    if development_file is None:
        # Flask's command line sets this before it loads the app (flask.cli.FlaskGroup).
        development_file = os.environ.get("FLASK_RUN_FROM_CLI") == "true"
    from_development_file = (
        not env_name and development_file and development_file_present(instance_path)
    )
    env_name = "development" if from_development_file else env_name or "production"
    app = Flask(
        __name__,
        instance_path=str(Path(instance_path).resolve()),
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.request_class = InMemoryUploadsRequest
    app.jinja_env.add_extension("jinja2.ext.do")
    app.config.from_object(config_class_for(env_name))
    app.config.from_pyfile(str(Path(app.instance_path) / "config.py"), silent=True)
    app.config.from_prefixed_env("MELDEPORTAL")
    app.config.update(overrides)
    app.config["ENV_NAME"] = env_name
    if from_development_file:
        _check_development_file(app)
    check_config(app.config)
    check_codebook_languages(app.config["LANGUAGES"])
    statistics_perturbation(app)  # a perturbation setting out of range stops the start here
    _configure_database(app)
    hops = int(app.config["PROXY_HOPS"])
    if hops:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops
        )
    init_reporter_logs(app)

    register_extensions(app)
    register_blueprints(app)
    register_security(app)
    register_errorhandlers(app)
    register_commands(app)
    return app


def _check_development_file(app: Flask) -> None:
    """Refuse the development file beside a real installation's secrets; say once that it is used.

    A development setup never needs a secret of its own: one configured means that this folder
    belongs to a real installation and `make run` was started in it by mistake.
    """
    path = Path(app.instance_path) / DEVELOPMENT_FILE
    own = [
        name
        for name, development_value in (
            ("SECRET_KEY", DEVELOPMENT_SECRET_KEY),
            ("RECEIPT_SECRET", DEVELOPMENT_RECEIPT_SECRET),
        )
        if app.config.get(name) != development_value
    ]
    if own:
        raise ConfigurationError(
            f"{path} marks this as a development setup, but {' and '.join(own)} "
            "is configured as for a real installation. Delete that file on a real installation "
            "(and set MELDEPORTAL_ENV=production), or set MELDEPORTAL_ENV=development."
        )
    if str(path) not in _announced_development_files:
        _announced_development_files.add(str(path))
        log.warning("Development configuration, because %s exists (written by `make run`).", path)


def check_codebook_languages(configured: tuple[Language, ...]) -> None:
    """Every configured language needs its codebook texts; the codebook may hold more.

    Raises:
        ConfigurationError: naming the configured languages the codebook has no texts in.
    """
    missing = [lang.code for lang in configured if lang.code not in current_codebook().languages]
    if missing:
        raise ConfigurationError(
            f"LANGUAGES lists {', '.join(missing)}, but app/codebook/codebook.yaml has no texts "
            "in it: add them beside every 'de:' text (and release a new codebook version)."
        )


def _configure_database(app: Flask) -> None:
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    url = app.config.get("DATABASE_URL")
    if not url:
        url = f"sqlite:///{Path(app.instance_path) / 'meldeportal.sqlite3'}"
    elif url.startswith(("postgres://", "postgresql://")):
        # psycopg 3 is the driver; accept the plain URL forms operators copy from elsewhere.
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    app.config["SQLALCHEMY_DATABASE_URI"] = url


def register_extensions(app: Flask) -> None:
    from app.database import configure_engines, init_request_transactions
    from app.extensions import babel, csrf, db, limiter, migrate
    from app.i18n import init_i18n, select_locale
    from app.notifications import init_notifications

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=str(Path(__file__).parent / "translations"),
    )
    configure_engines(app)
    init_notifications(app)  # before the commit hook, so that its mail goes out after the commit
    init_request_transactions(app)
    init_i18n(app)


def register_blueprints(app: Flask) -> None:
    from app.api import bp as api_bp
    from app.extensions import csrf
    from app.intake import bp as intake_bp
    from app.moderation import bp as moderation_bp
    from app.pages import bp as pages_bp
    from app.research.views import bp as research_bp

    app.register_blueprint(pages_bp)
    app.register_blueprint(intake_bp)
    app.register_blueprint(moderation_bp)
    app.register_blueprint(research_bp)
    app.register_blueprint(api_bp)
    # Partners authenticate with a bearer token, not a browser session: no CSRF token to send.
    csrf.exempt(api_bp)


def register_security(app: Flask) -> None:
    from app.security import init_security

    init_security(app)


def register_errorhandlers(app: Flask) -> None:
    from app.errors import init_errorhandlers

    init_errorhandlers(app)


def register_commands(app: Flask) -> None:
    from app import cli
    from app.demo.cli import demo_cli
    from app.moderation.cli import users_cli
    from app.research.statistics_cli import statistics_cli

    cli.init_app(app)
    app.cli.add_command(users_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(statistics_cli)
