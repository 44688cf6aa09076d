"""Public supporting pages: home, network, help, about reports, privacy, imprint, accessibility."""

from flask import Blueprint

bp = Blueprint("pages", __name__)

from app.pages import views  # noqa: E402,F401 - registers the routes on bp
from app.pages.quick_exit import quick_exit_context  # noqa: E402

bp.app_context_processor(quick_exit_context)
