"""Public intake: the report form, the receipt and the follow-up with the receipt code."""

from flask import Blueprint

bp = Blueprint("intake", __name__)

from app.intake import views  # noqa: E402,F401 - registers the routes on bp
