"""The change stream's server (uvicorn in a thread, on the test database) and a subscriber that reads it."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import queue
import socket
import threading
import time
from urllib.parse import urlsplit

import pytest


def signed_by(body: dict, raw_token: str) -> bool:
    """Whether ``body``'s signature is the HMAC its token's holder computes (the SHA-256 of the token, hex)."""
    rest = {key: value for key, value in body.items() if key != "signature"}
    payload = json.dumps(rest, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    key = hashlib.sha256(raw_token.encode()).hexdigest().encode()
    return hmac.compare_digest(body["signature"], hmac.new(key, payload, hashlib.sha256).hexdigest())


class Subscriber:
    """One ``GET /api/v1/routing/stream/``, its events read by a thread into a queue."""

    def __init__(self, url: str, raw_token: str):
        parts = urlsplit(url)
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        self.connection.request(
            "GET",
            "/api/v1/routing/stream/",
            headers={"Authorization": f"Bearer {raw_token}", "Accept": "text/event-stream"},
        )
        self.response = self.connection.getresponse()
        self.status = self.response.status
        self.events: queue.Queue = queue.Queue()
        self.ended = threading.Event()
        if self.status == 200:
            threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        name, data = "message", []
        try:
            for raw in self.response:
                line = raw.decode().rstrip("\r\n")
                if not line:
                    if data:
                        self.events.put((name, json.loads("\n".join(data)), time.time()))
                    name, data = "message", []
                elif line.startswith("event:"):
                    name = line.partition(":")[2].strip()
                elif line.startswith("data:"):
                    data.append(line.partition(":")[2].strip())
        except (OSError, ValueError, AttributeError, http.client.HTTPException):
            pass
        finally:
            self.ended.set()

    def next(self, timeout: float = 15) -> tuple[str, dict]:
        name, body, _ = self.events.get(timeout=timeout)
        return name, body

    def next_changes(self, timeout: float = 15) -> dict:
        name, body = self.next(timeout)
        assert name == "changes", (name, body)
        return body

    def close(self) -> None:
        self.connection.close()


def serve(live_server_url: str):
    """Start uvicorn with the ASGI application on a free loopback port; returns (url, stop)."""
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config("config.asgi:application", log_level="warning", lifespan="off", timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the stream server did not start")
        time.sleep(0.02)

    def stop():
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()

    # By the live server's host name: the one it made an allowed host.
    return f"http://{urlsplit(live_server_url).hostname}:{sock.getsockname()[1]}", stop
