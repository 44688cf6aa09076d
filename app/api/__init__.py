"""The partner API at ``/api/v1``: counselling offices send reports in JSON with a scoped token.

The same codebook rules and the same sealing as the public form; JSON in and out, no cookies, no
CSRF token (it is no browser form, so ``register_blueprints`` exempts it), nothing cached.
"""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from app.api import views  # noqa: E402,F401 - registers the routes on bp
