"""The routing snapshot: every live route's decision, for the features one caller may resolve, in one
document a router can answer from in its own process (``gatehouse_client.local``).

Each entry is exactly what resolve would answer for that route now (the same body, less the per-request
time), with a decision token the server can look up and the moment the answer stops holding
(``valid_until``: evidence going stale). The snapshot's ``version`` is a digest of its entries without the
tokens: it changes when, and only when, some answer changes, and is the ``ETag``. The ``signature`` is an
HMAC-SHA256 of the canonical JSON of ``version``, ``generated_at`` and ``entries``: keyed with the SHA-256 of
the caller's API token (hex), so a library holding the token can check nothing was altered on the way; a
session's snapshot is keyed with a server secret instead.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone
from django.utils.crypto import salted_hmac

from registry.models import ApiToken, Deployment, DeploymentEvent
from registry.selectors import features_visible_to
from routing import tokens
from routing.engine import decide, facts_without_deployment, load_facts_many

SIGNATURE_SALT = "gatehouse.routing.snapshot"


def _canonical(value) -> bytes:
    return json.dumps(value, cls=DjangoJSONEncoder, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _decisions(user, now: datetime):
    """Every route that is or was live, of the features ``user`` may see: a live one decided from its
    deployment, one whose pointer came down (withdrawn, or live once) as resolve decides it there."""
    visible = features_visible_to(user)
    deployments = Deployment.objects.filter(feature__in=visible).order_by(
        "feature__slug", "environment", "region__code"
    )
    live = set()
    for facts in load_facts_many(deployments, now=now):
        live.add((facts.environment, facts.feature_slug, facts.region))
        yield decide(facts)
    former = (
        DeploymentEvent.objects.filter(feature__in=visible)
        .values_list("environment", "feature__slug", "region__code")
        .distinct()
    )
    for environment, slug, region in sorted(set(former) - live):
        yield decide(facts_without_deployment(slug, region, environment))


def entries_for(user, *, now: datetime) -> list[dict]:
    """Every route of the features ``user`` may see that is or was live, decided now, in a stable order."""
    entries = []
    for decision in _decisions(user, now):
        facts = decision.facts
        valid_until = decision.valid_until()
        entries.append(
            {
                "feature": facts.feature_slug,
                "region": facts.region,
                "environment": facts.environment,
                "status": 200 if decision.ok else 409,
                "answer": decision.as_json(),
                "valid_until": valid_until.isoformat() if valid_until else None,
                "decision": tokens.sign(
                    feature_id=facts.feature_id,
                    version_id=facts.version_id,
                    region_id=facts.region_id,
                    environment=facts.environment,
                    model_id=decision.served.id if decision.ok else None,
                    at=now,
                ),
            }
        )
    entries.sort(key=lambda entry: (entry["feature"], entry["environment"], entry["region"]))
    return entries


def version_of(entries: list[dict]) -> str:
    """A digest of the answers, not of the tokens (new every time): equal answers, equal version."""
    return hashlib.sha256(_canonical([{k: v for k, v in e.items() if k != "decision"} for e in entries])).hexdigest()[
        :32
    ]


def signature_key(auth) -> bytes | None:
    """The key a token's holder can compute (SHA-256 of the raw token, hex); None for a session."""
    return auth.key_hash.encode() if isinstance(auth, ApiToken) else None


def sign(document: dict, key: bytes | None) -> str:
    payload = _canonical({name: document[name] for name in ("version", "generated_at", "entries")})
    if key is None:
        return salted_hmac(SIGNATURE_SALT, payload, algorithm="sha256").hexdigest()
    return hmac.new(key, payload, hashlib.sha256).hexdigest()


def build(user, *, auth=None, now: datetime | None = None) -> dict:
    """The snapshot ``user`` may have, signed for ``auth`` (their API token, or None for a session)."""
    now = now or timezone.now()
    entries = entries_for(user, now=now)
    document = {
        "version": version_of(entries),
        "generated_at": now.isoformat(),
        "entries": entries,
    }
    document["signature"] = sign(document, signature_key(auth))
    return document
