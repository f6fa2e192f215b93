"""The few calls Gatehouse makes to an MLflow tracking server's REST API (``/api/2.0/mlflow/``).

Errors are raised as ``MlflowError`` with a sentence for the connector's page: the server down, a token
refused, a model that no longer exists. Nothing of a response body but MLflow's own ``message`` is kept.
"""

from __future__ import annotations

import base64
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

TIMEOUT_SECONDS = 10
PAGE_SIZE = 200
MAX_PAGES = 50  # 10,000 versions of one model


class MlflowError(Exception):
    """Something the connector's page shows as it is."""


class MlflowUnreachable(MlflowError):
    pass


class MlflowAuthFailed(MlflowError):
    pass


class MlflowNotFound(MlflowError):
    pass


def token_of(server) -> str:
    if server.token_env:
        return os.environ.get(server.token_env, "")
    return server.token or ""


class MlflowClient:
    def __init__(self, url: str, token: str = "", *, timeout: float = TIMEOUT_SECONDS):
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout

    @classmethod
    def for_server(cls, server) -> MlflowClient:
        return cls(server.url, token_of(server))

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json", "User-Agent": "Gatehouse-MLflow-connector/1"}
        if self.token:
            if ":" in self.token:  # user:password, for a server behind basic authentication
                headers["Authorization"] = "Basic " + base64.b64encode(self.token.encode()).decode()
            else:
                headers["Authorization"] = f"Bearer {self.token}"
        return headers

    def get(self, path: str, **params: Any) -> dict:
        query = urllib.parse.urlencode({key: value for key, value in params.items() if value not in (None, "")})
        request = urllib.request.Request(
            f"{self.url}/api/2.0/mlflow/{path}?{query}", headers=self._headers(), method="GET"
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            message = _message(error)
            if error.code in (401, 403):
                raise MlflowAuthFailed(
                    f"MLflow refused the token ({error.code}): check the token or its environment variable."
                ) from None
            if error.code == 404 or "RESOURCE_DOES_NOT_EXIST" in message:
                raise MlflowNotFound(message or "Not found in MLflow.") from None
            raise MlflowError(f"MLflow answered {error.code}: {message or error.reason}") from None
        except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as error:
            raise MlflowUnreachable(f"MLflow at {self.url} did not answer: {getattr(error, 'reason', error)}") from None
        except ValueError:
            raise MlflowError(f"MLflow at {self.url} did not answer JSON: is this a tracking server?") from None

    # --- What the connector reads -----------------------------------------------------------------

    def ping(self) -> None:
        """One cheap call: the server answers, and takes the token."""
        self.get("registered-models/search", max_results=1)

    def model_versions(self, name: str) -> list[dict]:
        """Every version of a registered model (``MlflowNotFound`` if the model is gone)."""
        self.get("registered-models/get", name=name)  # a missing model is an error, not an empty list
        found: list[dict] = []
        token = None
        for _page in range(MAX_PAGES):
            answer = self.get(
                "model-versions/search",
                filter=f"name='{_quoted(name)}'",
                max_results=PAGE_SIZE,
                page_token=token,
            )
            found.extend(answer.get("model_versions", []))
            token = answer.get("next_page_token")
            if not token:
                break
        return found

    def model_version(self, name: str, version: str) -> dict:
        """One version of a registered model (``MlflowNotFound`` if it is not there)."""
        return self.get("model-versions/get", name=name, version=version).get("model_version", {})

    def prompts(self) -> list[dict]:
        """The prompts of MLflow's prompt registry (registered models tagged as prompts)."""
        found: list[dict] = []
        token = None
        for _page in range(MAX_PAGES):
            answer = self.get(
                "registered-models/search",
                filter="tags.`mlflow.prompt.is_prompt` = 'true'",
                max_results=PAGE_SIZE,
                page_token=token,
            )
            found.extend(answer.get("registered_models", []))
            token = answer.get("next_page_token")
            if not token:
                break
        return found

    def prompt_versions(self, name: str) -> list[dict]:
        """Every version of a prompt, each with its template in the ``mlflow.prompt.text`` tag."""
        # MLflow leaves prompt versions out of a version search unless the filter asks for prompts.
        answer = self.get(
            "model-versions/search",
            filter=f"name='{_quoted(name)}' AND tags.`mlflow.prompt.is_prompt` = 'true'",
            max_results=PAGE_SIZE,
        )
        return answer.get("model_versions", [])

    def alias_version(self, name: str, alias: str) -> dict | None:
        """The version ``alias`` points at, or None when the alias is not set."""
        try:
            return self.get("registered-models/alias", name=name, alias=alias).get("model_version")
        except MlflowNotFound:
            return None

    def run(self, run_id: str) -> dict:
        return self.get("runs/get", run_id=run_id).get("run", {})

    def run_link(self, run: dict) -> str:
        info = run.get("info", {})
        return f"{self.url}/#/experiments/{info.get('experiment_id', '0')}/runs/{info.get('run_id', '')}"


def _quoted(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


def _message(error: urllib.error.HTTPError) -> str:
    try:
        body = json.loads(error.read() or b"{}")
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    return f"{body.get('error_code', '')}: {body.get('message', '')}".strip(": ")[:300]
