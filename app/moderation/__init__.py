"""The staff side under /moderation/: every route is closed unless it names the roles it admits."""

from flask import Blueprint

bp = Blueprint("moderation", __name__, url_prefix="/moderation")

from app.moderation.labels import label_of  # noqa: E402

bp.add_app_template_filter(label_of, "staff_label")

# Imported for their side effect: they register the routes on bp.
from app.moderation import admin_views, case_views, views  # noqa: E402,F401
