"""A real MLflow tracking server on loopback (``make mlflow`` installs it in var/mlflow-venv), driven through
MLflow's own Python client in that virtualenv; and the approvals world for features that go live."""

import json
import os
import socket
import subprocess
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from tests.approvals.conftest import (  # noqa: F401  (fixtures)
    approved_request,
    default_gates,
    feature,
    go_live,
    new_version,
    pins,
    record_evidence,
    releases,
    request_gate,
    reviewers,
    second_ml_engineer,
    second_security_reviewer,
    sign_all,
)

ROOT = Path(__file__).resolve().parents[2]
MLFLOW_VENV = Path(os.environ.get("GATEHOUSE_MLFLOW_VENV", ROOT / "var" / "mlflow-venv"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Mlflow:
    """A running server and MLflow's own client to act on it, as a data scientist would."""

    def __init__(self, url: str, python: Path):
        self.url = url
        self.python = python

    def run(self, script: str, **values) -> dict:
        """Run ``script`` with MLflow's client (``client``, ``mlflow`` and ``values`` in scope); it sets
        ``result`` (a JSON-able value), which is returned."""
        program = (
            "import json, sys, mlflow\n"
            "from mlflow import MlflowClient\n"
            f"mlflow.set_tracking_uri({self.url!r})\n"
            "client = MlflowClient()\n"
            "values = json.loads(sys.stdin.read())\n"
            "result = None\n" + script + "\nprint('RESULT' + json.dumps(result))\n"
        )
        done = subprocess.run(
            [str(self.python), "-c", program],
            input=json.dumps(values),
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "MLFLOW_TRACKING_URI": self.url, "GIT_PYTHON_REFRESH": "quiet"},
        )
        if done.returncode != 0:
            raise AssertionError(f"MLflow client failed:\n{done.stderr[-3000:]}")
        line = [line for line in done.stdout.splitlines() if line.startswith("RESULT")][-1]
        return json.loads(line[len("RESULT") :])

    def register(self, name: str, metrics: dict, *, source: str = "") -> dict:
        """Log a run with ``metrics`` and register a new version of ``name`` from it."""
        return self.run(
            """
from mlflow.exceptions import MlflowException
try:
    client.create_registered_model(values["name"])
except MlflowException:
    pass
with mlflow.start_run() as run:
    for key, value in values["metrics"].items():
        mlflow.log_metric(key, value)
version = client.create_model_version(values["name"], values["source"] or f"runs:/{run.info.run_id}/model", run_id=run.info.run_id)
result = {"version": version.version, "run_id": run.info.run_id, "source": version.source}
""",
            name=name,
            metrics=metrics,
            source=source,
        )

    def set_alias(self, name: str, alias: str, version) -> None:
        self.run(
            'client.set_registered_model_alias(values["n"], values["a"], str(values["v"]))', n=name, a=alias, v=version
        )

    def delete_model(self, name: str) -> None:
        self.run('client.delete_registered_model(values["n"])', n=name)


@pytest.fixture(scope="session")
def mlflow_server(tmp_path_factory):
    python, executable = MLFLOW_VENV / "bin" / "python", MLFLOW_VENV / "bin" / "mlflow"
    if not executable.exists():
        message = f"MLflow is not installed in {MLFLOW_VENV} (`make mlflow` installs it)"
        if os.environ.get("GATEHOUSE_REQUIRE_SERVICES"):
            pytest.fail(message)
        pytest.skip(message)
    home = tmp_path_factory.mktemp("mlflow")
    port = free_port()
    env = {
        **os.environ,
        # Webhooks to Gatehouse's test server: plain HTTP on loopback, and seen at once.
        "MLFLOW_WEBHOOK_ALLOWED_SCHEMES": "http,https",
        "MLFLOW_WEBHOOK_ALLOW_PRIVATE_IPS": "true",
        "MLFLOW_WEBHOOK_CACHE_TTL": "1",
        "GIT_PYTHON_REFRESH": "quiet",
    }
    log = open(home / "server.log", "w")  # noqa: SIM115 (closed at teardown)
    process = subprocess.Popen(
        [
            str(executable),
            "server",
            "--backend-store-uri",
            f"sqlite:///{home / 'mlflow.db'}",
            "--default-artifact-root",
            str(home / "artifacts"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=home,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"mlflow server stopped:\n{(home / 'server.log').read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as answer:
                if answer.status == 200:
                    break
        except OSError:
            time.sleep(0.5)
    else:
        process.kill()
        raise AssertionError(f"mlflow server did not start:\n{(home / 'server.log').read_text()[-3000:]}")
    yield Mlflow(url, python)
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()


@pytest.fixture
def model_name():
    """A registered model name of this test's own: the server is shared by the session."""
    return f"claims-classifier-{uuid.uuid4().hex[:8]}"
