"""What gunicorn serves: ``gunicorn -c gunicorn.conf.py wsgi:app``.

Refuses to start until the database is migrated and the organisation key exists. Never reads
instance/development.env: only MELDEPORTAL_ENV chooses the configuration here.
"""

from app import create_app
from app.startup import prepare_to_serve

app = create_app(development_file=False)
prepare_to_serve(app)
