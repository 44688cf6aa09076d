"""The staff side under /moderation/: every route is closed unless it names the roles it admits."""

from flask import Blueprint

bp = Blueprint("moderation", __name__, url_prefix="/moderation")

from app.moderation import views  # noqa: E402,F401 - registers the routes on bp
from app.moderation import admin_views  # noqa: E402,F401
