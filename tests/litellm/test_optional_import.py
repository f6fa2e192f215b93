"""The client package imports without LiteLLM, its LiteLLM module too; only a GatehouseRouter needs it."""

import subprocess
import sys
from pathlib import Path

import gatehouse_client

SCRIPT = """
import sys
sys.modules["litellm"] = None  # as if LiteLLM were not installed
import gatehouse_client
from gatehouse_client.litellm import GatehouseRouter, GatehouseRouting, RouteRefused
from gatehouse_client import Client
routing = GatehouseRouting(Client("http://127.0.0.1:9", "gh_x"))
assert routing.model_name({"vendor": "anthropic", "identifier": "claude-sonnet-4"}) == "anthropic/claude-sonnet-4"
try:
    GatehouseRouter(object(), Client("http://127.0.0.1:9", "gh_x"), ledger=False)
except ImportError:
    print("needs litellm")
"""


def test_the_client_imports_without_litellm():
    client_dir = str(Path(gatehouse_client.__file__).resolve().parent.parent)
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONPATH": client_dir, "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "needs litellm"
