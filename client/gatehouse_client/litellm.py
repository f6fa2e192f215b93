"""LiteLLM traffic that obeys Gatehouse: each request is served by the model resolve names, its fallbacks in order.

``GatehouseRouter`` stands in front of a ``litellm.Router`` in the same process. For a request tagged with a
feature and a region (``metadata={"gatehouse_feature": ..., "gatehouse_region": ...}``) it asks resolve
(through ``Client``, with its cache), sends the request to the LiteLLM model group Gatehouse names and hands the
Router the remaining models resolve allowed as the request's own fallbacks, which replace the Router's. A
LiteLLM callback (``async_pre_call_deployment_hook``) refuses any deployment outside that list, whatever the
Router is configured to do. The decision token travels in the response's headers and metadata, and
``request_id → decision`` pairs go to the decision ledger in batches (``DecisionLedger``).

LiteLLM is imported only when a ``GatehouseRouter`` is made: ``gatehouse_client`` imports without it.
"""

from __future__ import annotations

import asyncio
import atexit
import fnmatch
import logging
import math
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from gatehouse_client.api import LEDGER_BATCH, Client, GatehouseError

log = logging.getLogger("gatehouse_client.litellm")

# The request's metadata keys the caller sets.
FEATURE_KEY = "gatehouse_feature"
REGION_KEY = "gatehouse_region"
ENVIRONMENT_KEY = "gatehouse_environment"
REQUEST_ID_KEY = "gatehouse_request_id"
# The keys the integration adds to the metadata LiteLLM (and its loggers) see.
DECISION_KEY = "gatehouse_decision"
MODELS_KEY = "gatehouse_models"
# The response headers (``response._hidden_params["additional_headers"]``).
DECISION_HEADER = "x-gatehouse-decision"
REQUEST_ID_HEADER = "x-gatehouse-request-id"
STALE_HEADER = "x-gatehouse-stale"

FAIL_CLOSED = "fail_closed"
LAST_KNOWN = "last_known"
POLICIES = (FAIL_CLOSED, LAST_KNOWN)

# Parameters Gatehouse decides: a caller that sets them is refused rather than silently overridden.
DECIDED_PARAMETERS = ("model", "fallbacks", "context_window_fallbacks", "content_policy_fallbacks")


class RouteRefused(GatehouseError):
    """No model may serve the request: Gatehouse refused it (``code`` and ``detail`` are Gatehouse's, e.g.
    409 ``no_eligible_route`` or ``withdrawn``, 404 ``not_found`` for an unknown feature), or one of the
    subclasses below."""

    def __init__(
        self,
        status: int | None,
        code: str,
        detail: str,
        *,
        feature: str,
        region: str,
        environment: str,
        body: Any = None,
    ):
        super().__init__(status, code, detail, body)
        self.feature = feature
        self.region = region
        self.environment = environment
        self.args = (f"Gatehouse refused {feature} in {region} ({environment}): {code}: {detail}",)


class GatehouseUnavailable(RouteRefused):
    """Gatehouse could not answer and the unreachable policy allows no answer (``fail_closed``, or a
    ``last_known`` answer that is missing or too old). ``code`` is ``unreachable`` (or the API's ``unavailable``
    or ``throttled``)."""


class NoDeployment(RouteRefused):
    """Gatehouse named models, but the Router has a deployment for none of them (code ``no_deployment``)."""


class ModelNotNamed(RuntimeError):
    """A deployment outside the request's Gatehouse decision was about to be called; the call was refused."""


def default_model_name(model: Mapping[str, Any]) -> str:
    """The LiteLLM model name of a Gatehouse model: ``vendor/identifier`` (``anthropic/claude-sonnet-4``)."""
    return f"{model['vendor']}/{model['identifier']}"


ModelMap = Mapping[str, str] | Callable[[Mapping[str, Any]], str]


@dataclass(frozen=True)
class Route:
    """A request's decision: which LiteLLM models may serve it, in order, and the token that proves it."""

    feature: str
    region: str
    environment: str
    request_id: str
    decision: str
    version: int | None
    route: str  # resolve's "route": primary or a fallback
    models: tuple[str, ...]  # LiteLLM model names: the one to serve first, then the fallbacks in order
    stale_seconds: float | None = None  # a last-known answer served while Gatehouse was unreachable
    answer: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def headers(self) -> dict[str, str]:
        headers = {DECISION_HEADER: self.decision, REQUEST_ID_HEADER: self.request_id}
        if self.stale_seconds is not None:
            headers[STALE_HEADER] = str(int(self.stale_seconds))
        return headers

    def as_dict(self) -> dict[str, Any]:
        return {
            "feature": self.feature,
            "region": self.region,
            "environment": self.environment,
            "request_id": self.request_id,
            "decision": self.decision,
            "version": self.version,
            "route": self.route,
            "models": list(self.models),
            "stale_seconds": self.stale_seconds,
        }


class GatehouseRouting:
    """The decision for one request: resolve through ``client`` (with its cache), the unreachable policy, and
    the mapping of Gatehouse models to LiteLLM model names. Thread-safe; needs no LiteLLM.

    ``unreachable``: ``fail_closed`` refuses when Gatehouse cannot answer; ``last_known`` serves the last
    answer for the same feature, region and environment while it is younger than ``last_known_seconds``
    (counted from when Gatehouse gave it), and refuses after that. A refusal from Gatehouse (409, 404) forgets
    the last answer at once: a withdrawn route is never served from memory.
    """

    def __init__(
        self,
        client: Client,
        *,
        unreachable: str = FAIL_CLOSED,
        last_known_seconds: float | None = None,
        model_map: ModelMap | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        if unreachable not in POLICIES:
            raise ValueError(f"unreachable must be one of {', '.join(POLICIES)}, not {unreachable!r}")
        if unreachable == LAST_KNOWN and (
            last_known_seconds is None or not math.isfinite(last_known_seconds) or last_known_seconds <= 0
        ):
            raise ValueError("The last_known policy needs last_known_seconds: a positive, finite number of seconds.")
        self.client = client
        self.unreachable = unreachable
        self.last_known_seconds = last_known_seconds if unreachable == LAST_KNOWN else None
        self.model_map = model_map
        self._clock = clock
        self._last_known: dict[tuple[str, str, str], tuple[float, dict]] = {}
        self._lock = threading.Lock()

    def model_name(self, model: Mapping[str, Any]) -> str:
        """The LiteLLM model name of a Gatehouse model (``model_map`` first, then ``vendor/identifier``)."""
        if callable(self.model_map):
            return self.model_map(model)
        if self.model_map is not None:
            key = default_model_name(model)
            return self.model_map.get(key, key)
        return default_model_name(model)

    def decide(
        self, feature: str, region: str, environment: str = "production", *, request_id: str | None = None
    ) -> Route:
        """The route for one request, or ``RouteRefused`` (or a subclass) saying why there is none."""
        key = (feature, region, environment)
        stale_seconds = None
        try:
            answer = self.client.resolve(feature, region, environment)
        except GatehouseError as error:
            if not _unavailable(error):
                with self._lock:
                    self._last_known.pop(key, None)
                raise RouteRefused(
                    error.status,
                    error.code,
                    error.detail,
                    feature=feature,
                    region=region,
                    environment=environment,
                    body=error.body,
                ) from None
            answer, stale_seconds = self._last_known_answer(key, error)
        else:
            with self._lock:
                known = self._last_known.get(key)
                if known is None or known[1] is not answer:  # a cached answer keeps the time Gatehouse gave it
                    self._last_known[key] = (self._clock(), answer)
        chain = [answer["model"], *answer.get("fallbacks", [])]
        names: list[str] = []
        for model in chain:
            name = self.model_name(model)
            if name not in names:
                names.append(name)
        return Route(
            feature=feature,
            region=region,
            environment=environment,
            request_id=request_id or uuid.uuid4().hex,
            decision=answer["decision"],
            version=(answer.get("version") or {}).get("number"),
            route=answer.get("route", ""),
            models=tuple(names),
            stale_seconds=stale_seconds,
            answer=answer,
        )

    def _last_known_answer(self, key: tuple[str, str, str], error: GatehouseError) -> tuple[dict, float]:
        feature, region, environment = key
        reason = f"{error.code}: {error.detail}"
        if self.unreachable == FAIL_CLOSED:
            detail = f"Gatehouse could not answer and the policy is fail_closed ({reason})"
        else:
            with self._lock:
                known = self._last_known.get(key)
            if known is not None:
                age = self._clock() - known[0]
                if age < self.last_known_seconds:
                    log.warning(
                        "Gatehouse unreachable: serving the last answer for %s in %s (%s), %.0f s old",
                        feature,
                        region,
                        environment,
                        age,
                    )
                    return known[1], age
                detail = (
                    f"Gatehouse could not answer and its last answer is {age:.0f} s old, older than the "
                    f"{self.last_known_seconds:g} s the last_known policy allows ({reason})"
                )
            else:
                detail = f"Gatehouse could not answer and there is no last answer to serve ({reason})"
        raise GatehouseUnavailable(
            error.status, error.code, detail, feature=feature, region=region, environment=environment
        ) from None

    def forget(self) -> None:
        """Drop the client's cached answers (the next request asks Gatehouse); last-known answers stay."""
        self.client.forget()


def _unavailable(error: GatehouseError) -> bool:
    """No answer to trust: Gatehouse unreachable, overloaded (429) or failing (5xx)."""
    return error.status is None or error.status == 429 or error.status >= 500


class DecisionLedger:
    """``request_id → decision`` pairs sent to the decision ledger in batches, from a background thread.

    A batch goes when ``batch_size`` records wait, or every ``interval`` seconds, and on ``close()`` (also
    run at interpreter exit). A failed call keeps its records and is retried an interval later; at most
    ``max_pending`` records wait, the oldest dropped beyond that (counted in ``dropped``). A batch Gatehouse
    refuses as invalid (400) cannot succeed on a retry: it is dropped and counted in ``rejected``.
    """

    def __init__(
        self,
        client: Client,
        *,
        batch_size: int = 100,
        interval: float = 5.0,
        max_pending: int = 10_000,
    ):
        if batch_size < 1 or max_pending < batch_size or interval <= 0:
            raise ValueError("The ledger needs batch_size >= 1, max_pending >= batch_size and interval > 0.")
        self.client = client
        self.batch_size = batch_size
        self.interval = interval
        self.max_pending = max_pending
        self.recorded = 0  # records the ledger took (recorded or already there)
        self.dropped = 0
        self.rejected = 0
        self.failed_calls = 0
        self._pending: list[dict[str, str]] = []  # oldest first
        self._lock = threading.Lock()
        self._flushing = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="gatehouse-ledger", daemon=True)
        self._thread.start()
        atexit.register(self.close)

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._pending)

    def add(self, request_id: str, decision: str) -> None:
        with self._lock:
            self._pending.append({"request_id": request_id, "decision": decision})
            self._bound()
            full = len(self._pending) >= self.batch_size
        if full:
            self._wake.set()

    def _bound(self) -> None:
        overflow = len(self._pending) - self.max_pending
        if overflow > 0:
            del self._pending[:overflow]
            self.dropped += overflow
            log.warning("Decision ledger: %d records dropped (more than %d waiting)", overflow, self.max_pending)

    def flush(self) -> bool:
        """Send every waiting record now; True when none is left waiting."""
        with self._flushing:
            while True:
                with self._lock:
                    batch = self._pending[:LEDGER_BATCH]
                    del self._pending[: len(batch)]
                if not batch:
                    return True
                try:
                    self.client.record_decisions(batch)
                except GatehouseError as error:
                    if error.status == 400:
                        self.rejected += len(batch)
                        log.error("Decision ledger refused %d records: %s", len(batch), error)
                        continue
                    with self._lock:
                        self._pending[:0] = batch
                        self._bound()
                    self.failed_calls += 1
                    log.warning("Decision ledger: %d records kept for a retry: %s", len(batch), error)
                    return False
                self.recorded += len(batch)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.interval)
            self._wake.clear()
            if self._stop.is_set():
                return
            if not self.flush():
                self._stop.wait(self.interval)  # a failing Gatehouse is asked once an interval, not per record

    def close(self, timeout: float = 10.0) -> None:
        """Stop the thread and send what waits (once); what cannot be sent is logged."""
        if self._closed:
            return
        self._closed = True
        atexit.unregister(self.close)
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)
        if not self.flush():
            log.error("Decision ledger: %d records could not be recorded before shutdown", self.pending)


_guard_class: type | None = None


def deployment_guard():
    """The LiteLLM callback that refuses a deployment outside the request's decision (installed once)."""
    global _guard_class
    import litellm
    from litellm.integrations.custom_logger import CustomLogger

    if _guard_class is None:

        class GatehouseDeploymentGuard(CustomLogger):
            """Before each deployment call: a request routed by Gatehouse goes only to a model it named."""

            async def async_pre_call_deployment_hook(self, kwargs, call_type):
                metadata = kwargs.get("metadata") or {}
                allowed = metadata.get(MODELS_KEY)
                if allowed is None:
                    return None  # not a Gatehouse request
                group = metadata.get("model_group")
                if group not in allowed:
                    raise ModelNotNamed(
                        f"{group!r} is not among the models Gatehouse named for this request ({', '.join(allowed)})."
                    )
                return None

        _guard_class = GatehouseDeploymentGuard
    for callback in litellm.callbacks:
        if isinstance(callback, _guard_class):
            return callback
    guard = _guard_class()
    litellm.callbacks.append(guard)
    return guard


class GatehouseRouter:
    """A ``litellm.Router`` whose requests obey Gatehouse.

    ``await gatehouse.acompletion(messages=[...], metadata={"gatehouse_feature": "claims-triage",
    "gatehouse_region": "eu"})`` answers LiteLLM's response, served by the model resolve named (or its
    fallbacks, in order), with ``x-gatehouse-decision`` in ``response._hidden_params["additional_headers"]``
    and the route in ``response._hidden_params["gatehouse"]``. See docs/litellm.md.
    """

    def __init__(
        self,
        router: Any,
        client: Client | None = None,
        *,
        unreachable: str = FAIL_CLOSED,
        last_known_seconds: float | None = None,
        model_map: ModelMap | None = None,
        default_environment: str = "production",
        ledger: bool = True,
        ledger_batch_size: int = 100,
        ledger_interval: float = 5.0,
        ledger_max_pending: int = 10_000,
    ):
        self.guard = deployment_guard()  # first: without LiteLLM nothing else is started
        self.router = router
        self.routing = GatehouseRouting(
            client or Client(), unreachable=unreachable, last_known_seconds=last_known_seconds, model_map=model_map
        )
        self.default_environment = default_environment
        self.ledger = (
            DecisionLedger(
                self.routing.client,
                batch_size=ledger_batch_size,
                interval=ledger_interval,
                max_pending=ledger_max_pending,
            )
            if ledger
            else None
        )

    @property
    def client(self) -> Client:
        return self.routing.client

    def forget(self) -> None:
        self.routing.forget()

    def deployed(self, name: str) -> bool:
        """Whether the Router has a deployment for the model name (its model groups, wildcards included)."""
        registry = getattr(self.router, "registry", None)
        groups = registry().names() if callable(registry) else self.router.get_model_names()
        return any(name == group or ("*" in group and fnmatch.fnmatchcase(name, group)) for group in groups)

    def route(self, metadata: Mapping[str, Any]) -> Route:
        """The route of a request with these metadata tags, limited to the models the Router deploys."""
        feature, region = metadata.get(FEATURE_KEY), metadata.get(REGION_KEY)
        if not feature or not region:
            raise ValueError(
                f"A Gatehouse request names its feature and region: metadata {FEATURE_KEY!r} and {REGION_KEY!r}."
            )
        environment = metadata.get(ENVIRONMENT_KEY) or self.default_environment
        route = self.routing.decide(feature, region, environment, request_id=metadata.get(REQUEST_ID_KEY))
        models = tuple(name for name in route.models if self.deployed(name))
        if not models:
            raise NoDeployment(
                None,
                "no_deployment",
                f"the Router deploys none of the models Gatehouse named ({', '.join(route.models)})",
                feature=feature,
                region=region,
                environment=environment,
            )
        if models != route.models:
            log.warning(
                "Gatehouse named %s for %s in %s; the Router deploys only %s",
                ", ".join(route.models),
                feature,
                region,
                ", ".join(models),
            )
        return replace(route, models=models)

    async def acompletion(self, messages: list, *, metadata: Mapping[str, Any], **kwargs: Any) -> Any:
        """``Router.acompletion`` with the model and fallbacks Gatehouse decides for the tagged request."""
        decided = [name for name in DECIDED_PARAMETERS if name in kwargs]
        if decided:
            raise TypeError(f"Gatehouse decides {', '.join(decided)}; tag the request with its feature and region.")
        route = await asyncio.to_thread(self.route, metadata)
        primary, *fallbacks = route.models
        chain = [{primary: fallbacks}]
        request_metadata = {
            **metadata,
            REQUEST_ID_KEY: route.request_id,
            DECISION_KEY: route.decision,
            MODELS_KEY: list(route.models),
        }
        try:
            response = await self.router.acompletion(
                model=primary,
                messages=messages,
                metadata=request_metadata,
                fallbacks=chain,
                context_window_fallbacks=chain,
                content_policy_fallbacks=chain,
                **kwargs,
            )
        finally:
            if self.ledger is not None:
                self.ledger.add(route.request_id, route.decision)
        stamp(response, route)
        return response

    def close(self) -> None:
        """Send the decisions waiting for the ledger; call at shutdown (also run at interpreter exit)."""
        if self.ledger is not None:
            self.ledger.close()

    async def __aenter__(self) -> GatehouseRouter:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await asyncio.to_thread(self.close)


def stamp(response: Any, route: Route) -> None:
    """Put the decision in a LiteLLM response: its headers and ``_hidden_params["gatehouse"]``."""
    hidden = getattr(response, "_hidden_params", None)
    if hidden is None:
        hidden = {}
        try:
            response._hidden_params = hidden
        except AttributeError:
            return
    headers = hidden.setdefault("additional_headers", {})
    headers.update(route.headers())
    hidden["gatehouse"] = {**route.as_dict(), "served_by": headers.get("x-litellm-model-group")}


def route_of(response: Any) -> dict[str, Any] | None:
    """The Gatehouse route a response was served under (``None`` for a response the integration did not route)."""
    return (getattr(response, "_hidden_params", None) or {}).get("gatehouse")
