"""Extension instances, created bare here and bound to the app in the factory."""

from __future__ import annotations

from flask_babel import Babel
from flask_limiter import Limiter
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from app.models.base import Base
from app.ratelimit import hashed_client

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
csrf = CSRFProtect()
babel = Babel()
# In memory only (one process); several nodes move the storage to Redis (README).
limiter = Limiter(key_func=hashed_client, storage_uri="memory://")
