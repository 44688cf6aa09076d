"""The staff side under /moderation/: every route is closed unless it names the roles it admits."""

from flask import Blueprint

bp = Blueprint("moderation", __name__, url_prefix="/moderation")

# Imported for their side effect: they register the routes on bp.
from app.moderation import admin_views, case_views, views  # noqa: E402,F401
