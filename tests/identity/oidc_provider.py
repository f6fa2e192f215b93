"""A real OpenID provider for the single sign-on tests: node-oidc-provider (tests/oidc_provider/), run with
Node.js on a free loopback port, and the steps a browser takes through it."""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import requests

PROVIDER_DIR = Path(__file__).resolve().parents[1] / "oidc_provider"
CLIENT_ID = "gatehouse"
CLIENT_SECRET = "gatehouse-test-secret"


def unavailable(reason: str):
    """Skip on a laptop without Node.js; fail in CI, where nothing may be skipped for want of a tool."""
    if os.environ.get("GATEHOUSE_REQUIRE_SERVICES"):
        pytest.fail(f"GATEHOUSE_REQUIRE_SERVICES is set but {reason}", pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    return free_port()


def _install(npm: str) -> None:
    """`npm ci` once, if `make oidc-provider` has not run; test workers wait for each other."""
    with open(PROVIDER_DIR / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
            return
        result = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=PROVIDER_DIR,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if result.returncode:
            unavailable(f"`npm ci` for the test OpenID provider failed: {result.stderr[-2000:]}")


@dataclass
class Provider:
    issuer: str
    accounts_file: Path
    process: subprocess.Popen

    def set_accounts(self, accounts: dict) -> None:
        """The provider reads this file at every sign-in: a test changes someone's groups by rewriting it."""
        temporary = self.accounts_file.with_suffix(".tmp")
        temporary.write_text(json.dumps(accounts))
        temporary.replace(self.accounts_file)


def start_provider(workdir: Path):
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        unavailable("Node.js and npm are needed for the test OpenID provider (apt install nodejs npm)")
    version = subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip()
    if int(re.sub(r"^v(\d+).*", r"\1", version) or 0) < 20:
        unavailable(f"the test OpenID provider (oidc-provider 9) needs Node.js 20 or newer, not {version}")
    _install(npm)
    accounts = workdir / "accounts.json"
    accounts.write_text("{}")
    port = free_port()
    log = open(workdir / "provider.log", "w")  # noqa: SIM115 (closed with the process)
    process = subprocess.Popen(
        [node, "provider.mjs", str(port), str(accounts)], cwd=PROVIDER_DIR, stdout=log, stderr=subprocess.STDOUT
    )
    issuer = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if requests.get(f"{issuer}/.well-known/openid-configuration", timeout=1).status_code == 200:
                break
        except requests.RequestException:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            log.close()
            pytest.fail(f"the test OpenID provider did not start: {(workdir / 'provider.log').read_text()[-3000:]}")
        time.sleep(0.1)
    return Provider(issuer=issuer, accounts_file=accounts, process=process), log


def stop_provider(provider: Provider, log) -> None:
    provider.process.terminate()
    try:
        provider.process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        provider.process.kill()
        provider.process.wait(timeout=5)
    log.close()


LOGIN_FORM = re.compile(
    r'<form[^>]*action="([^"]+)"[^>]*method="post"[^>]*>\s*<input type="hidden" name="prompt" value="login"'
)


def through_provider(authorization_url: str, login: str, *, app_host: str = "http://testserver") -> str:
    """What a browser does at the provider: follow it to its sign-in form, sign in as ``login`` (the
    development form takes any password), and follow on until it sends the browser back to the app.
    Returns that address (the callback, with its code and state)."""
    browser = requests.Session()
    url = authorization_url
    response = browser.get(url, allow_redirects=False, timeout=10)
    for _ in range(10):
        if response.is_redirect:
            url = urljoin(url, response.headers["Location"])
            if url.startswith(app_host):
                return url
            response = browser.get(url, allow_redirects=False, timeout=10)
            continue
        form = LOGIN_FORM.search(response.text)
        assert form, f"no sign-in form at the provider ({response.status_code}): {response.text[:500]}"
        url = urljoin(url, form.group(1))
        response = browser.post(
            url, data={"prompt": "login", "login": login, "password": "any"}, allow_redirects=False, timeout=10
        )
    raise AssertionError(f"the provider never sent the browser back to the app (last: {url})")


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")
