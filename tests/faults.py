"""Helpers for the fault tests: a port nobody listens on (a service that is down)."""

import socket


def closed_port() -> int:
    """A local port nobody listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
