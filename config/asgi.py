"""The ASGI entry point: the routing change stream's server (``uvicorn config.asgi:application``).

Everything else is served by gunicorn (``config.wsgi``); this process holds the stream's subscribers, each
an idle coroutine rather than a thread (``routing.stream``). It serves the whole application, so a proxy
may send it any path, but it is meant to get ``/api/v1/routing/stream/`` only.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_asgi_application()
