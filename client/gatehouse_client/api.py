"""A small client of the Gatehouse API (``/api/v1/``), on the standard library only.

Every error answer of the API carries a stable ``code`` beside its human ``detail``; ``GatehouseError``
keeps both, so a caller branches on ``error.code``. A Gatehouse that cannot be reached raises
``Unreachable`` (code ``unreachable``), never a bare socket error.
"""

from __future__ import annotations

import json
import os
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from typing import Any

LEDGER_BATCH = 10_000  # the most records the ledger takes in one call


class GatehouseError(Exception):
    """An error answer of the API: ``status`` (HTTP), ``code`` (stable), ``detail`` (for people), ``body``."""

    def __init__(self, status: int | None, code: str, detail: str, body: Any = None):
        super().__init__(f"{code}: {detail}")
        self.status = status
        self.code = code
        self.detail = detail
        self.body = body


class Unreachable(GatehouseError):
    """Gatehouse did not answer (refused, timed out, DNS): no answer to trust."""

    def __init__(self, detail: str):
        super().__init__(None, "unreachable", detail)


class Client:
    """``Client(url, token)``; both default to the ``GATEHOUSE_URL`` and ``GATEHOUSE_TOKEN`` environment
    variables. ``resolve`` keeps each answer for ``cache_seconds`` (0: ask every time)."""

    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        *,
        timeout: float = 10.0,
        cache_seconds: float = 30.0,
    ):
        self.url = (url or os.environ.get("GATEHOUSE_URL") or "http://127.0.0.1:8000").rstrip("/")
        self.token = token if token is not None else os.environ.get("GATEHOUSE_TOKEN", "")
        self.timeout = timeout
        self.cache_seconds = cache_seconds
        self._cache: dict[tuple[str, str, str], tuple[float, dict]] = {}
        self._lock = threading.Lock()

    # --- Transport ---------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        params: dict | None = None,
        idempotency_key: str | None = None,
    ) -> Any:
        """Call ``/api/v1`` + ``path``; return the decoded answer (None when empty) or raise."""
        query = f"?{urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})}" if params else ""
        headers = {"Accept": "application/json", "User-Agent": "gatehouse-client/0.1"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        request = urllib.request.Request(f"{self.url}/api/v1{path}{query}", data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                raw = response.read()
                return json.loads(raw) if raw else None
        except urllib.error.HTTPError as error:
            raw = error.read()
            try:
                answer = json.loads(raw) if raw else {}
            except ValueError:
                answer = {}
            if not isinstance(answer, dict):
                answer = {"detail": str(answer)}
            code = answer.get("code") or {401: "not_authenticated", 403: "permission_denied", 404: "not_found"}.get(
                error.code, "error"
            )
            raise GatehouseError(error.code, code, str(answer.get("detail") or error.reason), answer) from None
        except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise Unreachable(f"Gatehouse at {self.url} did not answer: {reason}") from None

    # --- Routers -----------------------------------------------------------------------------------

    def resolve(self, feature: str, region: str, environment: str = "production", *, use_cache: bool = True) -> dict:
        """Which configuration serves ``feature`` in ``region``: the API's resolve answer. A refusal raises
        ``GatehouseError`` (409 ``no_eligible_route`` or ``withdrawn``, 404 for an unknown feature)."""
        key = (feature, environment, region)
        now = time.monotonic()
        if use_cache and self.cache_seconds > 0:
            with self._lock:
                hit = self._cache.get(key)
            if hit is not None and now - hit[0] < self.cache_seconds:
                return hit[1]
        answer = self.request(
            "GET", "/resolve/", params={"feature": feature, "region": region, "environment": environment}
        )
        if self.cache_seconds > 0:
            with self._lock:
                self._cache[key] = (now, answer)
        return answer

    def forget(self) -> None:
        """Drop every cached resolve answer."""
        with self._lock:
            self._cache.clear()

    def decision(self, token: str) -> dict:
        """What a decision token says and whether it still matches the history."""
        return self.request("GET", f"/decisions/{urllib.parse.quote(token, safe='')}/")

    def record_decisions(self, records: list[dict]) -> dict:
        """Record ``{"request_id", "decision"}`` pairs in the decision ledger, in calls of at most 10,000;
        recording a pair twice is harmless. Returns the summed ``received``/``recorded``/``duplicates``."""
        total = {"received": 0, "recorded": 0, "duplicates": 0}
        for start in range(0, len(records), LEDGER_BATCH):
            answer = self.request(
                "POST",
                "/decisions/ledger/",
                {"records": records[start : start + LEDGER_BATCH]},
                idempotency_key=str(uuid.uuid4()),
            )
            for name in total:
                total[name] += int((answer or {}).get(name, 0))
        return total
