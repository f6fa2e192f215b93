"""Where a webhook may be sent: never into a network of ``WEBHOOKS_BLOCKED_NETWORKS`` (by default loopback,
link-local, where the cloud metadata service answers, and "this network"). Whoever may create a subscription
could otherwise make the server POST signed bodies to its own admin ports, a local Redis or PostgreSQL, or
169.254.169.254.

Two checks. When a target is saved, a host that is a literal address in a blocked network, or localhost, is
refused with a field error; names are not resolved then (the web host may not resolve the receiver, and what a
name resolves to can change). When a delivery is sent, the check that holds: the host is resolved once, refused
if *any* of its addresses is blocked, and the connection goes to the addresses just checked, never to a second
resolution (a DNS rebinding answer), keeping the name for the Host header, TLS SNI and certificate verification.
IPv4-mapped IPv6 addresses (``::ffff:127.0.0.1``) are checked as the IPv4 address they reach.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import urllib.request
from functools import lru_cache

from django.conf import settings

SETTING = "WEBHOOKS_BLOCKED_NETWORKS"
PRIVATE_SETTING = "GATEHOUSE_WEBHOOK_ALLOW_PRIVATE"
# Refused as well unless GATEHOUSE_WEBHOOK_ALLOW_PRIVATE (default: on with DJANGO_DEBUG, off in production):
# RFC 1918, carrier-grade NAT and IPv6 unique local ranges, and this server's own addresses.
PRIVATE_NETWORKS = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class BlockedDestination(OSError):
    """Raised where the connection would open: urllib reports it like any failure to connect (a URLError),
    so a refused delivery is a failed attempt, retried and notified like an unreachable receiver."""


@lru_cache(maxsize=8)
def _parsed(networks: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(network, strict=False) for network in networks)


def blocked_networks() -> tuple[Network, ...]:
    """The setting, parsed (a bad entry raises ValueError; the app's ready() makes that fail at start-up)."""
    return _parsed(tuple(str(network).strip() for network in settings.WEBHOOKS_BLOCKED_NETWORKS or ()))


def normalised(address: str | Address) -> Address:
    """An address as it is reached: ``::ffff:a.b.c.d`` is a.b.c.d, and a zone (``fe80::1%eth0``) is dropped."""
    ip = ipaddress.ip_address(str(address).split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def blocking_network(address: str | Address) -> Network | None:
    ip = normalised(address)
    return next((network for network in blocked_networks() if ip in network), None)


@lru_cache(maxsize=1)
def own_addresses() -> frozenset[Address]:
    """The addresses this server's host name resolves to (read once: ``WebhooksConfig.ready``; no reverse
    lookup, which could stall start-up). Loopback is in ``WEBHOOKS_BLOCKED_NETWORKS`` already; these catch the
    host's other addresses (its LAN or public IP)."""
    try:
        return frozenset(normalised(sockaddr[0]) for *_, sockaddr in socket.getaddrinfo(socket.gethostname(), None))
    except (OSError, ValueError):
        return frozenset()


def refusal(address: str | Address) -> str:
    """Why a connection to this address is refused ("is in ..."), or "" when it is allowed."""
    ip = normalised(address)
    if (network := blocking_network(ip)) is not None:
        return f"is in a blocked network ({SETTING})"
    if not settings.GATEHOUSE_WEBHOOK_ALLOW_PRIVATE:
        if network := next((network for network in _parsed(PRIVATE_NETWORKS) if ip in network), None):
            return f"is in {network}, a private network ({PRIVATE_SETTING} is off)"
        if ip in own_addresses():
            return f"is this server's own address ({PRIVATE_SETTING} is off)"
    return ""


def _is_localhost(host: str) -> bool:
    return host == "localhost" or host.endswith(".localhost")  # RFC 6761: always the loopback interface


def literal_host_refusal(host: str | None) -> str:
    """Why a target with this host may not be saved, or "" when it may (a name is checked at delivery)."""
    host = (host or "").rstrip(".").lower()
    if _is_localhost(host):
        loopback = blocking_network("127.0.0.1") or blocking_network("::1")
        if loopback is None:
            return ""
        return f"Webhooks are not sent to {host}: it is this server, in {loopback}, a blocked network ({SETTING})."
    try:
        network = blocking_network(host)
        reason = refusal(host)
    except ValueError:  # not an address: a name
        return ""
    if network is not None:
        return f"Webhooks are not sent to {host}: it is in {network}, a blocked network ({SETTING})."
    return f"Webhooks are not sent to {host}: it {reason}." if reason else ""


def checked_addresses(host: str, port: int) -> list[tuple]:
    """Resolve ``host`` once; every address it gave, or BlockedDestination if any of them is blocked (a name
    with one good and one blocked address is refused, whichever the connection would have tried first)."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    for *_, sockaddr in found:
        if reason := refusal(sockaddr[0]):
            named = "" if _is_address(host) else f" ({host})"
            raise BlockedDestination(f"{sockaddr[0]}{named} {reason}")
    return found


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return True


def connect_checked(host: str, port: int, timeout, source_address=None) -> socket.socket:
    """``socket.create_connection`` to the addresses ``checked_addresses`` allowed, in order, without resolving
    the name again."""
    last_error: OSError | None = None
    for family, kind, proto, _name, sockaddr in checked_addresses(host, port):
        sock = socket.socket(family, kind, proto)
        try:
            if isinstance(timeout, (int, float)):
                sock.settimeout(timeout)
            if source_address:
                sock.bind(source_address)
            sock.connect(sockaddr)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as http.client does: no Nagle delay
            return sock
        except OSError as error:
            sock.close()
            last_error = error
    raise last_error or OSError(f"{host} resolves to no address")


class CheckedHTTPConnection(http.client.HTTPConnection):
    def connect(self):
        self.sock = connect_checked(self.host, self.port, self.timeout, self.source_address)


class CheckedHTTPSConnection(http.client.HTTPSConnection):
    """TLS over the checked connection, with the URL's host as SNI and as the name the certificate must bear."""

    def connect(self):
        sock = connect_checked(self.host, self.port, self.timeout, self.source_address)
        try:
            self.sock = self._context.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise


class CheckedHTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req):
        return self.do_open(CheckedHTTPConnection, req)


class CheckedHTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req):
        return self.do_open(CheckedHTTPSConnection, req, context=self._context)
