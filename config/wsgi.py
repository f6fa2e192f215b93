"""The WSGI application for gunicorn: Django's, with resolve's front door ahead of its handler
(``routing.middleware.ResolveFront``: a resolve this process can answer from memory never reaches Django)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_application = get_wsgi_application()

from routing.middleware import ResolveFront  # noqa: E402  (after Django is set up)

application = ResolveFront(django_application)
