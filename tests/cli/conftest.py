"""The ``gatehouse`` command against a live Gatehouse: the routing world (claims-triage v1 live in eu and us,
reviewers for every role), and a helper that runs the installed console script as a pipeline would."""

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from registry.services.tokens import api_token_create
from tests.routing.conftest import (  # noqa: F401  (fixtures)
    approved_request,
    backup_vendor,
    default_gates,
    feature,
    go_live,
    live,
    new_version,
    pins,
    record_evidence,
    releases,
    request_gate,
    reviewers,
    second_ml_engineer,
    second_security_reviewer,
    sign_all,
    uk,
)

GATEHOUSE = Path(sys.prefix) / "bin" / "gatehouse"


@dataclass
class Run:
    status: int
    stdout: str
    stderr: str


def token_for(user, *scopes, name="ci-pipeline"):
    _, raw = api_token_create(actor=user, user=user, name=name, scopes=list(scopes) or ["read", "ci_write"])
    return raw


@pytest.fixture
def gatehouse(live_server):
    """``gatehouse(*arguments, token=...)``: run the installed command with GATEHOUSE_URL set to the live
    server and GATEHOUSE_TOKEN to ``token`` (None: unset). Checks the token never shows in its output."""
    if not GATEHOUSE.exists():
        pytest.fail(f"{GATEHOUSE} is missing: install the client (pip install -e ./client).")

    def run(*arguments, token, url=None, stdin=None, timeout=120):
        env = {name: value for name, value in os.environ.items() if not name.startswith("GATEHOUSE_")}
        env["GATEHOUSE_URL"] = url or live_server.url
        if token is not None:
            env["GATEHOUSE_TOKEN"] = token
        done = subprocess.run(
            [str(GATEHOUSE), *map(str, arguments)],
            env=env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if token:
            assert token not in done.stdout and token not in done.stderr
        return Run(done.returncode, done.stdout, done.stderr)

    return run
