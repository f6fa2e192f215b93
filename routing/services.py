"""Resolve, decision lookups and the decision ledger: what the router and support call."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from core.exceptions import Conflict
from registry.choices import Environment
from registry.models import AIFeature, CatalogModel, Deployment, Vendor
from registry.permissions import is_governance
from registry.services.audit import audit_record, audit_record_many
from routing import cache, tokens
from routing.auth import may_see
from routing.engine import UnknownTarget, decide, facts_without_deployment, load_facts_many, unknown_feature
from routing.impact import REINSTATE, SUSPEND, route_changes
from routing.models import DecisionRecord

LEDGER_BATCH_LIMIT = 10_000


@dataclass(frozen=True)
class Cached:
    """A decision as the process keeps it: the JSON body less its closing brace, and the token's claims."""

    feature_id: int
    restricted: bool
    status: int
    body_prefix: bytes
    version_id: int | None
    region_id: int
    model_id: int | None


@dataclass(frozen=True)
class Resolution:
    status: int  # 200 served, 409 refused
    body: bytes  # JSON
    token: str


Key = tuple[str, str, str]  # (environment, feature slug, region code)


def _cached(decision) -> tuple[Key, Cached, datetime | None]:
    facts = decision.facts
    body = json.dumps(decision.as_json(), cls=DjangoJSONEncoder, separators=(",", ":"), ensure_ascii=False)
    cached = Cached(
        feature_id=facts.feature_id,
        restricted=facts.restricted,
        status=200 if decision.ok else 409,
        body_prefix=body[:-1].encode(),
        version_id=facts.version_id,
        region_id=facts.region_id,
        model_id=decision.served.id if decision.ok else None,
    )
    return (facts.environment, facts.feature_slug, facts.region), cached, decision.valid_until()


Computed = dict[Key, tuple[Cached | UnknownTarget, float, str]]


def _compute_many(deployments, now: datetime, stamps: dict[str, str]) -> Computed:
    """The decisions of every deployment in a queryset (eight queries), each with how long to keep it, its
    feature's stamp (read before the database: ``stamps`` by slug)."""
    computed = {}
    for facts in load_facts_many(deployments, now=now):
        key, cached, valid_until = _cached(decide(facts))
        left = cache.lifetime(None if valid_until is None else (valid_until - now).total_seconds())
        computed[key] = cached, left, stamps.get(facts.feature_slug)
    return computed


def _compute(key: Key, stamp, now: datetime) -> Computed:
    """The decision asked for, with every other route of the feature (its other regions and environments
    cost the same queries): the router asks for them next. Also an unknown target, kept like a decision
    (in this process only: ``cache.shared_put_many``).

    ``stamp`` as read for the request: when the feature had none, one is made before reading the database
    (and dropped again if the slug names no feature, whose answer is kept under the stamp read)."""
    environment, feature_slug, region_code = key
    feature_stamp = cache.feature_stamp(feature_slug, stamp)
    computed = _compute_many(Deployment.objects.filter(feature__slug=feature_slug), now, {feature_slug: feature_stamp})
    if key not in computed:  # not deployed there (refused with reasons), or no such feature or region
        try:
            _, cached, valid_until = _cached(decide(facts_without_deployment(feature_slug, region_code, environment)))
            valid_for = None if valid_until is None else (valid_until - now).total_seconds()
        except UnknownTarget as unknown:
            cached, valid_for = unknown, None
        left = cache.lifetime(valid_for, unknown=isinstance(cached, UnknownTarget))
        if isinstance(cached, UnknownTarget) and cached.feature_id is None:
            if feature_stamp != stamp:
                cache.forget_stamp(feature_slug)
            computed[key] = cached, left, stamp
        else:
            computed[key] = cached, left, feature_stamp
    return computed


def _keep(epoch, computed: Computed, clock: float) -> None:
    """Into this process's memory and the shared cache, under the epoch and stamps read before computing."""
    for key, (cached, left, stamp) in computed.items():
        cache.decisions.put(epoch, key, cached, clock + left, stamp=stamp)
    cache.shared_put_many(epoch, computed)


def _known(epoch, stamp, key: Key, clock: float):
    """The decision if this process holds it, or another process shared it (kept in memory from now on),
    under this epoch and feature stamp; else None."""
    cached = cache.decisions.get(epoch, key, clock, stamp=stamp)
    if cached is not None:
        return cached
    shared = cache.shared_get(epoch, key, stamp)
    if shared is None:
        return None
    cached, left = shared
    cache.decisions.put(epoch, key, cached, clock + left, stamp=stamp)
    return cached


def resolve(
    *,
    user,
    feature_slug: str,
    region_code: str,
    environment: str = Environment.PRODUCTION,
    stamps: tuple | None = None,
    now: datetime | None = None,
) -> Resolution:
    """The configuration that serves ``feature_slug`` in ``region_code`` now, or a refusal with reasons.

    Raises ``UnknownTarget`` for an unknown feature or region, and for a feature the user may not see
    (the same answer: a restricted feature's existence is not revealed). No query when cached.
    ``stamps``: the (epoch, feature stamp) already read for this request, if any.
    """
    if environment not in tokens.ENVIRONMENT_CODES:
        raise ValidationError({"environment": f"Choose one of: {', '.join(tokens.ENVIRONMENT_CODES)}."})
    now = now or timezone.now()
    key = (environment, feature_slug, region_code)
    clock = time.monotonic()
    epoch, stamp = stamps if stamps is not None else cache.current_stamps(feature_slug)
    cached = _known(epoch, stamp, key, clock)
    if cached is None:
        computed = _compute(key, stamp, now)
        _keep(epoch, computed, clock)
        cached = computed[key][0]
    if not may_see(user, feature_id=cached.feature_id, restricted=cached.restricted):
        # Whatever else was asked (an unknown region too): the answer for a feature that does not exist.
        raise unknown_feature(feature_slug)
    if isinstance(cached, UnknownTarget):
        raise cached
    return _answer(cached, environment, now)


def decisions_warm(*, chunk: int = 500, now: datetime | None = None, feature_slugs=None) -> int:
    """Compute every deployment's decision (of these features only, when given) and share it, ``chunk``
    features at a time (eight queries each): after a deploy or a change, routers find them ready. Returns
    how many. Reads only; changes nothing a user sees."""
    now = now or timezone.now()
    epoch = cache.current_epoch()  # before reading: a change committed meanwhile starts a new epoch
    if epoch is None:
        return 0
    deployed = AIFeature.objects.filter(deployments__isnull=False)
    if feature_slugs is not None:
        deployed = deployed.filter(slug__in=list(feature_slugs))
    features = list(deployed.distinct().order_by("pk").values_list("pk", "slug"))
    done = 0
    for start in range(0, len(features), chunk):
        batch = dict(features[start : start + chunk])
        stamps = cache.feature_stamps(batch.values())  # before reading, as above
        if not stamps:
            break
        computed = _compute_many(Deployment.objects.filter(feature_id__in=batch), now, stamps)
        cache.shared_put_many(epoch, computed)
        done += len(computed)
    return done


def _answer(cached: Cached, environment: str, now: datetime) -> Resolution:
    token = tokens.sign(
        feature_id=cached.feature_id,
        version_id=cached.version_id,
        region_id=cached.region_id,
        environment=environment,
        model_id=cached.model_id,
        at=now,
    )
    body = cached.body_prefix + f',"decision":"{token}","resolved_at":"{now.isoformat()}"}}'.encode()
    return Resolution(cached.status, body, token)


def cached_answer(*, identity, feature_slug: str, region_code: str, environment: str, stamps):
    """The answer if this process holds it under ``stamps`` (epoch, feature stamp), or the shared cache
    does (one round trip), and the caller may see it; else None (the caller then takes the full path).
    Never queries the database."""
    epoch, stamp = stamps
    cached = _known(epoch, stamp, (environment, feature_slug, region_code), time.monotonic())
    if not isinstance(cached, Cached) or not identity.may_see(cached.feature_id, cached.restricted):
        return None
    return _answer(cached, environment, timezone.now())


# --- The ledger -------------------------------------------------------------------------------


def ledger_record(*, actor, records: list[dict]) -> dict:
    """Record request id → decision token pairs, up to ``LEDGER_BATCH_LIMIT`` per call, all or none.

    Every token must verify and name a feature the caller may see. A request id already recorded for
    the feature is skipped (a retried batch is harmless). One audit event per call.
    """
    if not records:
        raise ValidationError({"records": "Send at least one record."})
    if len(records) > LEDGER_BATCH_LIMIT:
        raise ValidationError({"records": f"At most {LEDGER_BATCH_LIMIT:,} records per call; got {len(records):,}."})
    errors, claims = {}, []
    for index, record in enumerate(records):
        request_id = str(record.get("request_id", "")).strip()
        if not request_id or len(request_id) > 200:
            errors[str(index)] = "request_id must be 1 to 200 characters."
            continue
        try:
            claims.append((request_id, record["decision"].strip(), tokens.read(record["decision"])))
        except (tokens.BadToken, KeyError, AttributeError):
            errors[str(index)] = "decision is not a Gatehouse decision token, or it was altered."
        if len(errors) >= 20:
            break
    if errors:
        raise ValidationError({"records": [f"record {index}: {message}" for index, message in errors.items()]})
    feature_ids = {claim.feature_id for _, _, claim in claims}
    features = {
        feature.pk: feature for feature in AIFeature.objects.filter(pk__in=feature_ids).only("pk", "restricted")
    }
    for feature_id in feature_ids:
        feature = features.get(feature_id)
        if feature is None or not may_see(actor, feature_id=feature_id, restricted=feature.restricted):
            raise PermissionDenied("A decision names a feature you may not see; nothing was recorded.")
    now = timezone.now()
    unique = {(claim.feature_id, request_id): (request_id, token, claim) for request_id, token, claim in claims}
    with transaction.atomic():
        known = set(
            DecisionRecord.objects.filter(request_id__in={request_id for _, request_id in unique}).values_list(
                "feature_id", "request_id"
            )
        )
        rows = [
            DecisionRecord(
                request_id=request_id,
                token=token,
                feature_id=claim.feature_id,
                version_id=claim.version_id,
                region_id=claim.region_id,
                environment=claim.environment,
                served=claim.served,
                decided_at=claim.at,
                recorded_by=actor,
                recorded_at=now,
            )
            for pair, (request_id, token, claim) in unique.items()
            if pair not in known
        ]
        # 5,000 rows of 11 columns stay under PostgreSQL's 65,535 parameters per statement; a pair
        # recorded by a concurrent call since the read above is skipped by the unique constraint.
        DecisionRecord.objects.bulk_create(rows, batch_size=5000, ignore_conflicts=True)
        audit_record_many(
            [
                {
                    "actor": actor,
                    "action": "decision.ledger_recorded",
                    "object_type": "decisionrecord",
                    "object_id": "batch",
                    "object_repr": f"{len(rows)} decision records",
                    "payload": {"received": len(claims), "recorded": len(rows)},
                }
            ]
        )
    return {"received": len(claims), "recorded": len(rows), "duplicates": len(claims) - len(rows)}


# --- Catalog suspension -----------------------------------------------------------------------


def catalog_status_change(*, actor, suspend: bool, reason: str, vendor=None, model=None):
    """Suspend or reinstate a vendor or one model (governance admins). Audited with the live routes it
    changes: a suspension moves them to an eligible fallback or leaves them without a route (409)."""
    if (vendor is None) == (model is None):
        raise ValueError("give a vendor or a model")
    kind = "vendor" if vendor is not None else "model"
    if not is_governance(actor):
        raise PermissionDenied(f"Only governance admins suspend or reinstate a {kind}.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why: owners of the affected features read it."})
    status = (SUSPEND if suspend else REINSTATE)[kind]
    with transaction.atomic():
        target = (
            Vendor.objects.select_for_update().get(pk=vendor.pk)
            if vendor is not None
            else CatalogModel.objects.select_for_update().get(pk=model.pk)
        )
        if target.status == status:
            raise Conflict(f"{target} is already {target.get_status_display().lower()}.")
        changes = [change for change in route_changes(**{kind: target}, status=status) if change.changed]
        previous = target.status
        target.status = status
        target.save(update_fields=["status"])
        audit_record(
            actor=actor,
            action=f"{kind}.{'suspended' if suspend else 'reinstated'}",
            target=target,
            payload={
                "status": [previous, status],
                "reason": reason,
                "routes_changed": [
                    {
                        "feature": change.facts.feature_slug,
                        "environment": change.facts.environment,
                        "region": change.facts.region,
                        "change": change.summary,
                    }
                    for change in changes
                ],
            },
        )
    return target, changes
