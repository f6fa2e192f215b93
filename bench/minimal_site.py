"""The benchmark's baselines for resolve (``bench/resolve.py``), served by the same gunicorn as Gatehouse.

- ``bare``: a WSGI function returning a body of resolve's size: the ceiling of gunicorn and Python here.
- ``django``: Django's handler with this module as settings (the project's, with ``ROOT_URLCONF`` here) and
  one view that reads the query and returns the same body: what the smallest Django view costs on this
  stack. ``BENCH_MIDDLEWARE=project`` keeps the project's middleware (what any Gatehouse API view pays);
  otherwise none (the minimal view, the issue's comparison).

``BENCH_BODY_BYTES`` sets the body's size (the benchmark passes the size of a real resolve answer).
"""

import os

from config.settings import *  # noqa: F403  (the project's settings, then what the baseline changes)

ROOT_URLCONF = "minimal_site"
if os.environ.get("BENCH_MIDDLEWARE") != "project":
    MIDDLEWARE = []

BODY = (b'{"answer":"' + b"x" * max(0, int(os.environ.get("BENCH_BODY_BYTES", "3500")) - 14) + b'"}')[:]
HEADERS = [
    ("Content-Type", "application/json"),
    ("Cache-Control", "no-store"),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
    ("Content-Length", str(len(BODY))),
]


def bare(environ, start_response):
    start_response("200 OK", list(HEADERS))
    return [BODY]


def view(request):
    from django.http import HttpResponse

    request.GET.get("feature"), request.GET.get("region")  # as resolve reads its query
    response = HttpResponse(BODY, content_type="application/json")
    response["Cache-Control"] = "no-store"
    return response


def _urlpatterns():
    from django.contrib.auth.decorators import login_not_required
    from django.urls import path

    return [path("bench/minimal/", login_not_required(view))]


def __getattr__(name):  # urlpatterns only when Django asks for them (after settings are loaded)
    if name == "urlpatterns":
        return _urlpatterns()
    raise AttributeError(name)


def django_application():
    from django.core.wsgi import get_wsgi_application

    return get_wsgi_application()
