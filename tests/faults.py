"""Helpers for the fault tests: a port nobody listens on (a service that is down), a server that accepts
and never answers (one that hangs), and the production cache settings pointed at either."""

import socket
import threading


def closed_port() -> int:
    """A local port nobody listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Silent:
    """A server that accepts connections and never answers: a Redis that hangs."""

    def __init__(self):
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(64)
        self.port = self.server.getsockname()[1]
        self.held: list[socket.socket] = []
        self.thread = threading.Thread(target=self.accept, daemon=True)
        self.thread.start()

    def accept(self):
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            self.held.append(connection)

    def close(self):
        self.server.close()
        for connection in self.held:
            connection.close()


def redis_caches(url: str, timeout: float = 0.2) -> dict:
    """The production cache settings (config.settings) on ``url``."""
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "OPTIONS": {
                "pool_class": "config.cache.FailFastConnectionPool",
                "socket_connect_timeout": timeout,
                "socket_timeout": timeout,
            },
        }
    }
