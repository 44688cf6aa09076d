"""Public supporting pages: home, network, help, about reports, privacy, imprint, accessibility."""

from flask import Blueprint

bp = Blueprint("pages", __name__)

from app.pages import views  # noqa: E402,F401 - registers the routes on bp
from app.pages.quick_exit import quick_exit_context  # noqa: E402
from app.pages.services import isolate_left_to_right  # noqa: E402

bp.app_context_processor(quick_exit_context)
bp.add_app_template_filter(isolate_left_to_right, "left_to_right_isolated")
