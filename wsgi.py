"""What gunicorn serves: ``gunicorn -c gunicorn.conf.py wsgi:app``.

Refuses to start until the database is migrated and the organisation key exists.
"""

from app import create_app
from app.startup import prepare_to_serve

app = create_app()
prepare_to_serve(app)
