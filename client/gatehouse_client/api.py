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
POST_ATTEMPTS = 3  # a POST that got no answer (or 503) is sent again, with the same Idempotency-Key
RETRY_PAUSES = (1.0, 2.0)  # seconds before the second and the third attempt


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

    # --- Pipelines ---------------------------------------------------------------------------------
    #
    # Each method is one API call and returns the decoded answer. A POST carries an Idempotency-Key (a new
    # UUID unless one is given) and is sent again with the same key, up to POST_ATTEMPTS times, when
    # Gatehouse did not answer or answered 503 ``unavailable``: the retry cannot write twice.

    def _post(self, path: str, body: Any = None, idempotency_key: str | None = None) -> Any:
        key = idempotency_key or str(uuid.uuid4())
        for attempt in range(1, POST_ATTEMPTS + 1):
            try:
                return self.request("POST", path, body, idempotency_key=key)
            except GatehouseError as error:
                transient = isinstance(error, Unreachable) or error.code == "unavailable"
                if not transient or attempt == POST_ATTEMPTS:
                    raise
            time.sleep(RETRY_PAUSES[min(attempt, len(RETRY_PAUSES)) - 1])
        raise AssertionError("not reached: the last attempt returns or raises")

    def _every(self, path: str, params: dict) -> Any:
        """Every row of a paginated list."""
        page_number = 1
        while True:
            page = self.request("GET", path, params={**params, "page_size": 200, "page": page_number})
            yield from page.get("results", [])
            if not page.get("next"):
                return
            page_number += 1

    def import_from_mlflow(
        self, model_uri: str, *, feature: str | None = None, idempotency_key: str | None = None
    ) -> dict:
        """A draft version made from an MLflow model version (``models:/name/3``) through the MLflow link of
        the feature its model feeds (``feature`` when it feeds several): lineage and mapped run metrics as
        evaluations. Asking again answers the version made the first time."""
        body: dict[str, Any] = {"model_uri": model_uri}
        if feature:
            body["feature"] = feature
        return self._post("/mlflow/imports/", body, idempotency_key)

    def create_version(
        self,
        feature: str,
        *,
        model: int,
        prompt: int,
        policy_pack: int,
        change_summary: str,
        fallback_models: list[int] | None = None,
        parameters: dict | None = None,
        tools: list[dict] | None = None,
        datasets: list[dict] | None = None,
        retrieval_index: str | None = None,
        parent: int | None = None,
        idempotency_key: str | None = None,
    ) -> dict:
        """A new draft version of ``feature`` (its slug). Catalog entries are named by their ids; ``parent``
        is a version number; ``tools`` are ``{"name", "scopes"}``, ``datasets`` ``{"dataset", "usage"}``."""
        body: dict[str, Any] = {
            "feature": feature,
            "model": model,
            "prompt": prompt,
            "policy_pack": policy_pack,
            "change_summary": change_summary,
        }
        optional = {
            "fallback_models": fallback_models,
            "parameters": parameters,
            "tools": tools,
            "datasets": datasets,
            "retrieval_index": retrieval_index,
            "parent": parent,
        }
        body.update({name: value for name, value in optional.items() if value is not None})
        return self._post("/versions/", body, idempotency_key)

    def find_version(self, feature: str, number: int) -> dict:
        """Version ``number`` of ``feature`` (needs the ``read`` scope); 404 ``not_found`` when there is none
        you may see."""
        for version in self._every("/versions/", {"feature": feature}):
            if version.get("number") == int(number):
                return version
        raise GatehouseError(404, "not_found", f"{feature} has no version {number} that you may see.")

    def submit_version(self, version_id: int, *, idempotency_key: str | None = None) -> dict:
        """Submit a draft: it becomes immutable and carries its configuration hash."""
        return self._post(f"/versions/{int(version_id)}/submit/", None, idempotency_key)

    def record_evaluation(self, evaluation: dict, *, idempotency_key: str | None = None) -> dict:
        """Record one evaluation (the API's fields; the version by ``version_id`` or ``feature`` and
        ``version``)."""
        return self._post("/evaluations/", evaluation, idempotency_key)

    def record_evaluations(
        self,
        evaluations: list[dict],
        *,
        feature: str | None = None,
        version: int | None = None,
        version_id: int | None = None,
        idempotency_key: str | None = None,
    ) -> list[dict]:
        """Record each evaluation, one call each, in order; returns the answers. ``feature``, ``version`` and
        ``version_id`` name the version for evaluations that do not name one. With ``idempotency_key``,
        evaluation *n* (from 1) is sent with the key ``<key>-<n>``. On an error, the error's ``recorded``
        lists the answers of the evaluations recorded before it."""
        recorded: list[dict] = []
        for number, evaluation in enumerate(evaluations, start=1):
            body = dict(evaluation)
            if not any(name in body for name in ("feature", "version", "version_id")):
                named = {"feature": feature, "version": version, "version_id": version_id}
                body.update({name: value for name, value in named.items() if value is not None})
            try:
                recorded.append(
                    self.record_evaluation(
                        body, idempotency_key=f"{idempotency_key}-{number}" if idempotency_key else None
                    )
                )
            except GatehouseError as error:
                error.recorded = recorded
                raise
        return recorded

    def request_gate(
        self,
        *,
        environment: str,
        regions: list[str],
        feature: str | None = None,
        version: int | None = None,
        version_id: int | None = None,
        note: str = "",
        idempotency_key: str | None = None,
    ) -> dict:
        """Request the gate for a submitted version (``version_id``, or ``feature`` and its number
        ``version``) in ``environment`` and ``regions``: the request, with its checks and sign-offs."""
        body: dict[str, Any] = {"environment": environment, "regions": list(regions), "note": note}
        named = {"feature": feature, "version": version, "version_id": version_id}
        body.update({name: value for name, value in named.items() if value is not None})
        return self._post("/approval-requests/", body, idempotency_key)

    def approval_request(self, request_id: int) -> dict:
        """A gate request as it is now: ``status``, ``checks`` and ``signoffs``."""
        return self.request("GET", f"/approval-requests/{int(request_id)}/")

    def wait_for_decision(
        self,
        request_id: int,
        *,
        timeout: float = 600.0,
        interval: float = 15.0,
        on_poll=None,
    ) -> dict:
        """Poll a gate request until it is no longer ``pending`` (``approved``, ``rejected``, ``withdrawn`` or
        ``expired``) and return it; the caller reads ``status``. Raises ``WaitTimeout`` (code ``timeout``,
        ``body`` the request as last seen) when ``timeout`` seconds pass first. Gatehouse not answering or
        answering 503/429 for a while does not end the wait; it is raised only if no answer came at all.
        ``on_poll(request)`` is called with each answer."""
        deadline = time.monotonic() + max(0.0, timeout)
        interval = max(0.1, interval)
        last: dict | None = None
        while True:
            try:
                last = self.approval_request(request_id)
            except GatehouseError as error:
                if not (isinstance(error, Unreachable) or error.code in {"unavailable", "throttled"}):
                    raise
                if time.monotonic() >= deadline and last is None:
                    raise
            else:
                if on_poll is not None:
                    on_poll(last)
                if last.get("status") != "pending":
                    return last
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise WaitTimeout(
                    f"Request #{request_id} is still pending after {timeout:g} s.",
                    last,
                )
            time.sleep(min(interval, remaining))

    def promote(self, request_id: int, *, reason: str = "", idempotency_key: str | None = None) -> list[dict]:
        """Promote an approved request: one deployment event per region."""
        return self._post(f"/approval-requests/{int(request_id)}/promote/", {"reason": reason}, idempotency_key)

    def rollback(
        self,
        feature: str,
        *,
        environment: str,
        region: str,
        reason: str,
        to_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> dict:
        """Return ``feature`` in ``environment``/``region`` to version number ``to_version`` (default: the last
        good one that served there): the deployment event."""
        body: dict[str, Any] = {"feature": feature, "environment": environment, "region": region, "reason": reason}
        if to_version is not None:
            body["to_version"] = to_version
        return self._post("/deployments/rollback/", body, idempotency_key)

    def decisions_for(self, request_id: str) -> list[dict]:
        """The decision ledger's records for one of your request ids (``record_decisions``)."""
        return self.request("GET", "/decisions/", params={"request_id": request_id})

    # --- Catalog names -----------------------------------------------------------------------------
    #
    # Versions name catalog entries by id; these find the id of a name (needs the ``read`` scope). An unknown
    # or ambiguous name raises ``GatehouseError`` with code ``invalid``, as an unknown id does.

    def model_id(self, name: str) -> int:
        """``vendor/identifier`` (or a bare identifier, if one vendor has it) → the catalog model's id."""
        vendor, _, identifier = name.rpartition("/")
        found = [m for m in self._every("/models/", {"q": identifier}) if m.get("identifier") == identifier]
        if vendor:
            found = [m for m in found if m.get("vendor") == vendor]
        return self._one("model", name, found)

    def prompt_id(self, name: str) -> int:
        """``name@version`` (or ``name``: its newest version) → the prompt version's id."""
        return self._versioned("prompt", "/prompts/", name, {"name": name.partition("@")[0]})

    def policy_pack_id(self, name: str) -> int:
        """``name@version`` (or ``name``: its newest version) → the policy pack's id."""
        return self._versioned("policy pack", "/policy-packs/", name, {"q": name.partition("@")[0]})

    def _versioned(self, what: str, path: str, name: str, params: dict) -> int:
        base, _, wanted = name.partition("@")
        found = [row for row in self._every(path, params) if row.get("name") == base]
        if wanted:
            found = [row for row in found if str(row.get("version")) == wanted]
        elif found:
            newest = max(int(row.get("version") or 0) for row in found)
            found = [row for row in found if int(row.get("version") or 0) == newest]
        return self._one(what, name, found)

    @staticmethod
    def _one(what: str, name: str, found: list[dict]) -> int:
        if len(found) == 1:
            return int(found[0]["id"])
        if not found:
            raise GatehouseError(400, "invalid", f"No {what} {name!r} in the catalog.")
        ids = ", ".join(str(row["id"]) for row in found)
        raise GatehouseError(
            400, "invalid", f"{len(found)} catalog entries match {what} {name!r} (ids {ids}); give the id."
        )


class WaitTimeout(GatehouseError):
    """``wait_for_decision`` ran out of time: ``body`` is the request as last seen, still pending."""

    def __init__(self, detail: str, body: Any = None):
        super().__init__(None, "timeout", detail, body)
