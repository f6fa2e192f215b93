"""No server-side request forgery through webhooks. A target whose host is a literal loopback, link-local
(cloud metadata) or "this network" address, IPv4-mapped ones included, or localhost, is refused when saved,
by the service, the API and the form, naming WEBHOOKS_BLOCKED_NETWORKS; names are not resolved then. At
delivery the name is resolved once, refused (a failed attempt, in the log) when any address is blocked, and
the connection goes to the address checked, never to a second answer; TLS keeps the name for SNI and the
certificate. Private ranges and this server's own addresses are refused the same way unless
GATEHOUSE_WEBHOOK_ALLOW_PRIVATE (on with debug only); an empty WEBHOOKS_BLOCKED_NETWORKS blocks nothing else."""

import os
import shutil
import socket
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.urls import reverse

from config import settings as configured
from tests.webhooks.test_api import SUBSCRIPTIONS, as_user
from webhooks import delivery as sender
from webhooks.destinations import CheckedHTTPSConnection, CheckedHTTPSHandler
from webhooks.models import WebhookDelivery, WebhookSubscription
from webhooks.services import subscription_create, subscription_ping, subscription_update
from webhooks.tasks import deliver_webhook

DEFAULT_BLOCKS = ["127.0.0.0/8", "::1/128", "169.254.0.0/16", "fe80::/10", "0.0.0.0/8", "::/128"]

FORBIDDEN = [
    "http://127.0.0.1:6379/",
    "https://127.8.9.10/hooks",
    "http://[::1]:5432/",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::ffff:127.0.0.1]:8000/admin/",
    "http://[::ffff:169.254.169.254]/latest/meta-data/",
    "http://[fe80::1]/",
    "http://0.0.0.0:8000/",
    "http://localhost:8000/admin/",
    "https://api.localhost/hooks",
]


@pytest.fixture(autouse=True)
def default_blocks(settings):
    """What ships, whatever the environment says (the receiver fixture, asked for after this, lifts it)."""
    settings.WEBHOOKS_BLOCKED_NETWORKS = DEFAULT_BLOCKS
    settings.GATEHOUSE_WEBHOOK_ALLOW_PRIVATE = False


def create(actor, url, **overrides):
    return subscription_create(actor=actor, name="bridge", target_url=url, events=["incident.opened"], **overrides)


def send(delivery):
    return deliver_webhook.delay(str(delivery.pk)).get()


@pytest.fixture
def resolve(monkeypatch):
    """``resolve({"receiver.test": [["127.0.0.1"], ["127.0.0.2"]]})``: each lookup of a name gets the next answer
    (the last repeats); other names resolve for real. Returns the names looked up, in order."""
    real, lookups = socket.getaddrinfo, []

    def install(answers):
        def getaddrinfo(host, port, *args, **kwargs):
            if host not in answers:
                return real(host, port, *args, **kwargs)
            lookups.append(host)
            addresses = answers[host][min(lookups.count(host), len(answers[host])) - 1]
            return [
                (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port, 0, 0))
                if ":" in address
                else (socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))
                for address in addresses
            ]

        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
        return lookups

    return install


def named_url(receiver, name="receiver.test"):
    """The receiver's URL with a name instead of 127.0.0.1."""
    return receiver.url.replace("127.0.0.1", name)


# --- When a target is saved ---------------------------------------------------------------------------


def test_the_default_blocks_loopback_link_local_and_this_network_but_not_private_ranges():
    if "WEBHOOKS_BLOCKED_NETWORKS" in os.environ:
        pytest.skip("WEBHOOKS_BLOCKED_NETWORKS is set in the environment: the default is not in use")
    assert configured.WEBHOOKS_BLOCKED_NETWORKS == DEFAULT_BLOCKS  # no private range among them


@pytest.mark.parametrize("url", FORBIDDEN)
def test_a_loopback_metadata_or_localhost_target_is_refused_when_created(governance_admin, url):
    with pytest.raises(ValidationError) as refused:
        create(governance_admin, url)

    [message] = refused.value.message_dict["target_url"]
    assert "blocked network" in message and "WEBHOOKS_BLOCKED_NETWORKS" in message
    assert not WebhookSubscription.objects.exists()


def test_changing_a_target_to_the_metadata_address_is_refused(governance_admin):
    hook, _ = create(governance_admin, "https://hooks.example.test/in")

    with pytest.raises(ValidationError) as refused:
        subscription_update(actor=governance_admin, subscription=hook, target_url="http://169.254.169.254/")

    assert "169.254.0.0/16" in refused.value.message_dict["target_url"][0]
    assert WebhookSubscription.objects.get().target_url == "https://hooks.example.test/in"


PRIVATE = [
    "https://10.0.0.5/hooks",
    "http://192.168.1.20:8080/in",
    "https://[fd00::5]/in",
    "http://172.16.3.4/in",
    "http://100.64.0.9/in",
    "http://[::ffff:10.1.2.3]/in",
]


@pytest.mark.parametrize("url", PRIVATE)
def test_a_private_address_is_refused_when_saved_naming_the_setting(governance_admin, url):
    with pytest.raises(ValidationError) as refused:
        create(governance_admin, url)

    assert "GATEHOUSE_WEBHOOK_ALLOW_PRIVATE is off" in refused.value.message_dict["target_url"][0]
    assert not WebhookSubscription.objects.exists()


@pytest.mark.parametrize("url", [*PRIVATE, "https://hooks.internal.example/in"])
def test_a_private_address_or_an_internal_name_is_accepted_when_private_targets_are_allowed(
    governance_admin, url, settings
):
    settings.GATEHOUSE_WEBHOOK_ALLOW_PRIVATE = True
    hook, _ = create(governance_admin, url)

    assert hook.target_url == url


def test_an_internal_name_is_accepted_when_saved_and_checked_at_delivery(governance_admin):
    assert create(governance_admin, "https://hooks.internal.example/in")[0].pk


def test_a_name_resolving_to_a_private_address_is_refused_at_delivery(named_ping, receiver, resolve, settings):
    ping = named_ping()
    settings.GATEHOUSE_WEBHOOK_ALLOW_PRIVATE = False
    resolve({"receiver.test": [["10.20.30.40"]]})

    send(ping)

    assert receiver.requests == []
    assert WebhookDelivery.objects.get(pk=ping.pk).last_error == (
        "Refused: 10.20.30.40 (receiver.test) is in 10.0.0.0/8, a private network "
        "(GATEHOUSE_WEBHOOK_ALLOW_PRIVATE is off)"
    )


def test_a_name_resolving_to_this_servers_own_address_is_refused_at_delivery(
    named_ping, receiver, resolve, settings, monkeypatch
):
    from webhooks import destinations

    ping = named_ping()
    settings.GATEHOUSE_WEBHOOK_ALLOW_PRIVATE = False
    monkeypatch.setattr(destinations, "own_addresses", lambda: frozenset({destinations.normalised("203.0.113.7")}))
    resolve({"receiver.test": [["203.0.113.7"]]})

    send(ping)

    assert receiver.requests == []
    assert (
        "203.0.113.7 (receiver.test) is this server's own address" in WebhookDelivery.objects.get(pk=ping.pk).last_error
    )


def test_the_operator_may_block_private_ranges_or_nothing_at_all(governance_admin, settings):
    settings.GATEHOUSE_WEBHOOK_ALLOW_PRIVATE = True
    settings.WEBHOOKS_BLOCKED_NETWORKS = [*DEFAULT_BLOCKS, "10.0.0.0/8"]
    with pytest.raises(ValidationError):
        create(governance_admin, "https://10.0.0.5/hooks")

    settings.WEBHOOKS_BLOCKED_NETWORKS = []  # development only
    assert create(governance_admin, "http://localhost:8000/in")[0].pk
    assert create(governance_admin, "http://127.0.0.1:8000/in")[0].pk


def test_a_name_is_not_resolved_when_saved(governance_admin, resolve):
    lookups = resolve({"sneaky.example.test": [["127.0.0.1"]]})

    create(governance_admin, "https://sneaky.example.test/in")

    assert lookups == []  # it is checked, with what it resolves to then, at each delivery


def test_the_api_refuses_the_metadata_address_with_a_field_error(product_owner, team):
    response = as_user(product_owner).post(
        SUBSCRIPTIONS,
        {
            "name": "bridge",
            "target_url": "http://169.254.169.254/latest/meta-data/",
            "events": ["incident.opened"],
            "team": "claims",
        },
        format="json",
    )

    assert response.status_code == 400, response.content
    assert "WEBHOOKS_BLOCKED_NETWORKS" in str(response.json()["target_url"])
    assert not WebhookSubscription.objects.exists()


def test_the_api_refuses_changing_a_target_to_loopback(product_owner, team):
    hook, _ = create(product_owner, "https://hooks.example.test/in", team=team)

    response = as_user(product_owner).patch(
        f"{SUBSCRIPTIONS}{hook.pk}/", {"target_url": "http://[::1]:6379/"}, format="json"
    )

    assert response.status_code == 400 and "WEBHOOKS_BLOCKED_NETWORKS" in str(response.json()["target_url"])
    assert WebhookSubscription.objects.get().target_url == "https://hooks.example.test/in"


def test_the_form_shows_the_refusal_and_keeps_what_was_typed(client, governance_admin):
    client.force_login(governance_admin)

    response = client.post(
        reverse("webhooks:subscription_create"),
        {
            "name": "bridge",
            "target_url": "http://127.0.0.1:6379/",
            "events": ["incident.opened"],
            "active": "on",
        },
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "WEBHOOKS_BLOCKED_NETWORKS" in page and 'value="http://127.0.0.1:6379/"' in page
    assert not WebhookSubscription.objects.exists()


# --- When a delivery is sent ----------------------------------------------------------------------------


@pytest.fixture
def named_ping(governance_admin, receiver):
    """A ping queued to the receiver under the name receiver.test (accepted: names are checked at delivery)."""

    def make(name="receiver.test"):
        hook, _ = create(governance_admin, named_url(receiver, name))
        return subscription_ping(actor=governance_admin, subscription=hook)

    return make


def test_a_name_resolving_to_loopback_is_refused_at_delivery_and_nothing_is_sent(
    named_ping,
    receiver,
    resolve,
    settings,
):
    ping = named_ping()
    settings.WEBHOOKS_BLOCKED_NETWORKS = DEFAULT_BLOCKS
    resolve({"receiver.test": [["127.0.0.1"]]})

    assert send(ping) == "retrying"  # a failed attempt, like an unreachable receiver

    assert receiver.requests == []
    delivery = WebhookDelivery.objects.get(pk=ping.pk)
    error = "Refused: 127.0.0.1 (receiver.test) is in a blocked network (WEBHOOKS_BLOCKED_NETWORKS)"
    assert (delivery.attempts, delivery.last_status_code, delivery.last_error) == (1, None, error)
    attempt = delivery.attempt_log.get()
    assert (attempt.succeeded, attempt.error) == (False, error)


def test_an_ipv4_mapped_answer_is_refused_as_the_address_it_reaches(named_ping, receiver, resolve, settings):
    ping = named_ping()
    settings.WEBHOOKS_BLOCKED_NETWORKS = DEFAULT_BLOCKS
    resolve({"receiver.test": [["::ffff:127.0.0.1"]]})

    send(ping)

    assert receiver.requests == []
    assert WebhookDelivery.objects.get(pk=ping.pk).last_error.startswith("Refused: ::ffff:127.0.0.1 (receiver.test)")


def test_one_blocked_address_among_good_ones_refuses_the_delivery(named_ping, receiver, resolve, settings):
    ping = named_ping()
    settings.WEBHOOKS_BLOCKED_NETWORKS = ["169.254.0.0/16"]  # the receiver's loopback stays reachable
    resolve({"receiver.test": [["127.0.0.1", "169.254.169.254"]]})

    send(ping)

    assert receiver.requests == []
    assert (
        "169.254.169.254 (receiver.test) is in a blocked network" in WebhookDelivery.objects.get(pk=ping.pk).last_error
    )


def test_a_literal_blocked_target_saved_before_the_setting_is_refused_at_delivery(named_ping, receiver, settings):
    ping = named_ping("127.0.0.1")  # saved while loopback was allowed
    settings.WEBHOOKS_BLOCKED_NETWORKS = DEFAULT_BLOCKS

    send(ping)

    assert receiver.requests == []
    assert WebhookDelivery.objects.get(pk=ping.pk).last_error == (
        "Refused: 127.0.0.1 is in a blocked network (WEBHOOKS_BLOCKED_NETWORKS)"
    )


def test_the_delivery_connects_to_the_address_it_checked_not_to_a_second_answer(
    named_ping,
    receiver,
    resolve,
    settings,
):
    """DNS rebinding: the first answer passes the check, a later one points somewhere blocked. The delivery
    must reach the first; resolving again would connect to 127.0.0.2, where nothing listens and which is blocked."""
    ping = named_ping()
    settings.WEBHOOKS_BLOCKED_NETWORKS = ["127.0.0.2/32"]
    lookups = resolve({"receiver.test": [["127.0.0.1"], ["127.0.0.2"]]})

    assert send(ping) == "succeeded"

    assert lookups == ["receiver.test"]
    [request] = receiver.requests
    assert request.headers["Host"] == named_url(receiver).split("/")[2]  # the name, not the address


def test_another_scheme_saved_behind_the_services_back_is_not_opened(governance_admin, tmp_path):
    secret_file = tmp_path / "secret.txt"
    secret_file.write_text("do not leak")

    response = sender.post(secret_file.as_uri(), b"{}", {})

    assert response.status_code is None and "unknown url type" in response.error and "leak" not in response.excerpt


# --- TLS keeps the name -------------------------------------------------------------------------------


def test_https_is_wrapped_with_the_urls_host_for_sni_and_certificate_checks(receiver, resolve):
    """Unit level: the socket connects to the checked address and TLS is told the name."""
    resolve({"receiver.test": [["127.0.0.1"]]})
    port = int(receiver.url.split(":")[2].split("/")[0])
    wrapped = []

    class Spy(ssl.SSLContext):
        def wrap_socket(self, sock, server_hostname=None, **kwargs):
            wrapped.append((sock.getpeername(), server_hostname))
            return sock

    connection = CheckedHTTPSConnection("receiver.test", port, context=Spy(ssl.PROTOCOL_TLS_CLIENT))
    connection.connect()
    connection.close()

    assert wrapped == [(("127.0.0.1", port), "receiver.test")]
    [https] = [handler for handler in sender._opener.handlers if isinstance(handler, CheckedHTTPSHandler)]
    assert https._context.verify_mode == ssl.CERT_REQUIRED and https._context.check_hostname


@pytest.fixture
def tls_receiver(tmp_path):
    """A TLS receiver on 127.0.0.1 whose self-signed certificate is for receiver.test; yields (port, cert)."""
    if not shutil.which("openssl"):
        pytest.skip("needs the openssl command to make a certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=receiver.test",
            "-addext",
            "subjectAltName=DNS:receiver.test",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], cert
    server.shutdown()
    server.server_close()


def test_https_to_a_name_verifies_the_certificate_against_that_name(tls_receiver, resolve, settings, monkeypatch):
    port, cert = tls_receiver
    settings.WEBHOOKS_BLOCKED_NETWORKS = []
    settings.GATEHOUSE_WEBHOOK_ALLOW_PRIVATE = True
    resolve({"receiver.test": [["127.0.0.1"]], "impostor.test": [["127.0.0.1"]]})
    monkeypatch.setattr(sender, "_opener", sender.build_opener(tls_context=ssl.create_default_context(cafile=cert)))

    reached = sender.post(f"https://receiver.test:{port}/in", b"{}", {})
    impostor = sender.post(f"https://impostor.test:{port}/in", b"{}", {})

    assert (reached.status_code, reached.error) == (200, "")
    assert impostor.status_code is None and "CERTIFICATE_VERIFY_FAILED" in impostor.error


def test_a_bad_entry_in_the_setting_stops_the_app_from_starting(settings):
    settings.WEBHOOKS_BLOCKED_NETWORKS = ["127.0.0.0/8", "loopback"]

    with pytest.raises(ImproperlyConfigured, match="WEBHOOKS_BLOCKED_NETWORKS"):
        apps.get_app_config("webhooks").ready()
