"""The routing snapshot: every live route's decision, for the features one caller may resolve, in one
document a router can answer from in its own process (``gatehouse_client.local``).

Each entry is exactly what resolve would answer for that route now (the same body, less the per-request
time), with a decision token the server can look up and the moment the answer stops holding
(``valid_until``: evidence going stale). The snapshot's ``version`` is a digest of its entries without the
tokens: it changes when, and only when, some answer changes, and is the ``ETag``. The ``signature`` is an
HMAC-SHA256 of the canonical JSON of ``version``, ``generated_at`` and ``entries``: keyed with the SHA-256 of
the caller's API token (hex), so a library holding the token can check nothing was altered on the way; a
session's snapshot is keyed with a server secret instead.

**Kept until a decision may change.** The entries are kept in the shared cache under the routing
generation (``routing.cache.current_generation``: renewed with the epoch and with any feature's stamp, so by
every change resolve's own cache obeys) and the caller's visibility (which restricted features they may
see), and never past the first ``valid_until`` among them. Routers polling an unchanged snapshot cost a read
of their visibility and of the kept entries (a 304 when they send the version back), not a computation. The generation is read
before the database, so a change committed meanwhile leaves what was computed under a generation already
gone.

**Renewed, not rebuilt.** A new generation does not mean every answer changed: the newest document of each
visibility is kept with the epoch and every feature's stamp it was computed under (``_renewed``). The next
one decides again only the features whose stamp changed or whose answer stopped holding, and takes the
others' entries as they are (0.4 s against 5.5 s at 5,000 features). The decision tokens of entries carry
the moment they were decided, which may be before ``generated_at``.

**Sent as prepared bytes.** A full fetch of a kept document is its canonical JSON, made once per process,
led by its signature, made once per key (``signed_body``): 10 ms against 166 ms for 8,979 routes (8.4 MB)
when each fetch serialized and signed the document again.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import datetime, timedelta

from django.core.cache import cache as shared
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import salted_hmac

from registry.models import AIFeature, ApiToken, Deployment, DeploymentEvent
from registry.permissions import sees_everything
from registry.selectors import features_visible_to
from routing import cache, tokens
from routing.engine import decide, facts_without_deployment, load_facts_many

SIGNATURE_SALT = "gatehouse.routing.snapshot"
KEY_PREFIX = "gatehouse:routing:snapshot:"
LONGEST_KEPT = 24 * 3600


def canonical(value) -> bytes:
    return json.dumps(value, cls=DjangoJSONEncoder, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _visible(user):
    """The features ``user`` may see, and the restricted ones among them as a sorted tuple of ids (None: all):
    the snapshot's content and the key it is kept under come from this one reading."""
    restricted = restricted_visible(user)
    return visible_for(restricted), restricted


def restricted_visible(user) -> tuple[int, ...] | None:
    """Which restricted features ``user`` may see, as a sorted tuple of ids; None when they see everything."""
    if sees_everything(user):
        return None
    return tuple(sorted(features_visible_to(user).filter(restricted=True).values_list("pk", flat=True)))


def visible_for(restricted: tuple[int, ...] | None):
    """The features of a reader who may see these restricted ones (None: all)."""
    if restricted is None:
        return AIFeature.objects.all()
    return AIFeature.objects.filter(Q(restricted=False) | Q(pk__in=restricted))


def _decisions(visible, now: datetime):
    """Every route that is or was live, of the features ``user`` may see: a live one decided from its
    deployment, one whose pointer came down (withdrawn, or live once) as resolve decides it there."""
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


def entries_for(user, *, now: datetime, visible=None) -> list[dict]:
    """Every route of the features ``user`` may see that is or was live, decided now, in a stable order."""
    visible = visible if visible is not None else _visible(user)[0]
    entries = []
    for decision in _decisions(visible, now):
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


def feature_digest(entries: list[dict]) -> str:
    """A digest of one feature's answers, not of their tokens (new every time)."""
    return hashlib.sha256(canonical([{k: v for k, v in e.items() if k != "decision"} for e in entries])).hexdigest()


def version_from(digests: dict[str, str]) -> str:
    """The snapshot's version from each feature's digest: a change of one feature costs its own digest, not
    the whole snapshot's (the change stream keeps the version this way, ``routing.stream``)."""
    lines = "\n".join(f"{slug}:{digest}" for slug, digest in sorted(digests.items()))
    return hashlib.sha256(lines.encode()).hexdigest()[:32]


def by_feature(entries: list[dict]) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = {}
    for entry in entries:
        grouped.setdefault(entry["feature"], []).append(entry)
    return grouped


def signature_key(auth) -> bytes | None:
    """The key a token's holder can compute (SHA-256 of the raw token, hex); None for a session."""
    return auth.key_hash.encode() if isinstance(auth, ApiToken) else None


def sign(document: dict, key: bytes | None) -> str:
    return _signature(_payload(document), key)


def _signature(payload: bytes, key: bytes | None) -> str:
    if key is None:
        return salted_hmac(SIGNATURE_SALT, payload, algorithm="sha256").hexdigest()
    return hmac.new(key, payload, hashlib.sha256).hexdigest()


def _payload(document: dict) -> bytes:
    return canonical({name: document[name] for name in ("version", "generated_at", "entries")})


def signed_body(document: dict, key: bytes | None) -> bytes:
    """``document`` with its signature under ``key``, as a response body: the canonical JSON of what is
    signed, led by the signature. A kept document is the same object from request to request in a process,
    so its canonical JSON is made once there, and its signature once per key: a full fetch of an unchanged
    snapshot of thousands of routes costs copying bytes, not serializing and signing megabytes each time."""
    with _prepared_lock:
        prepared = _prepared.get(id(document))
        if prepared is not None and prepared[0] is document:
            _keep_newest(_prepared, id(document), prepared, HELD)  # sent again: the newest
        else:
            prepared = None  # not sent yet, or another document once had this id
    if prepared is None:
        prepared = (document, _payload(document), {})
        with _prepared_lock:  # holding the document keeps its id from being reused
            _keep_newest(_prepared, id(document), prepared, HELD)
    _, payload, signatures = prepared
    signature = signatures.get(key)
    if signature is None:
        signature = _signature(payload, key)
        with _prepared_lock:
            _keep_newest(signatures, key, signature, SIGNATURES_HELD)
    return b'{"signature":"%s",%s' % (signature.encode(), payload[1:])


def _key_part(restricted) -> str:
    """What decides which routes a snapshot holds: everything, or which restricted features."""
    if restricted is None:
        return "all"
    return hashlib.sha256(",".join(map(str, restricted)).encode()).hexdigest()[:24]


def unsigned(user, *, now: datetime | None = None) -> dict:
    """``version``, ``generated_at`` and ``entries`` for ``user``: kept, or computed and kept."""
    now = now or timezone.now()
    generation = cache.current_generation()  # before the database: see the module's docstring
    return kept(restricted_visible(user), now=now, generation=generation)


def kept(restricted: tuple[int, ...] | None, *, now: datetime, generation) -> dict:
    """The snapshot of a reader who may see these restricted features (None: all), kept under ``generation``
    (read before the database; None: the shared cache is unreachable, compute and keep nothing)."""
    visible = visible_for(restricted)
    if generation is None:
        return _whole(now, visible)[0]
    part = _key_part(restricted)
    key = f"{KEY_PREFIX}{generation}:{part}"
    found = _find(key, now)
    if found is not None:
        return found
    document = _renewed(part, key, now, visible)
    until = _kept_until(document, now)
    seconds = (until - now).total_seconds()
    if seconds >= 1:
        _hold(key, document, until)
        try:
            shared.set(key, document, timeout=int(seconds))
        except Exception:
            pass  # kept next time
    return document


def _find(key: str, now: datetime) -> dict | None:
    """The document kept under ``key`` (this process's copy, else the shared cache's), if still current."""
    held = _held.get(key)
    if held is not None and held[1] > now:
        return held[0]
    try:
        found = shared.get(key)
    except Exception:
        found = None
    if found is not None:
        until = _kept_until(found, now)
        if until <= now:
            return None
        _hold(key, found, until)
    return found


# What the newest document of a visibility was computed from: the epoch and every feature's stamp (read
# before the database, as resolve reads them), and where that document is kept.
BASE_KEY = KEY_PREFIX + "base:{part}"


def _renewed(part: str, key: str, now: datetime, visible) -> dict:
    """The snapshot after a change: the features whose stamp is not the one the newest document was computed
    under (a promotion, a suspension's routes, a new feature), or whose answer has stopped holding, are
    decided again; every other feature's entries are taken as they are. After a new epoch, without a
    newest document, or when most features changed, everything is computed. Either way the document is the
    one ``_whole`` would make now (its entries, its version), but for the tokens of the entries kept,
    which carry the moment they were decided."""
    epoch = cache.current_epoch()
    slugs = list(visible.order_by().values_list("slug", flat=True))
    stamps = cache.feature_stamps(slugs) if epoch is not None else {}
    base = _base(part, epoch) if stamps else None
    if base is None:
        document, digests = _whole(now, visible)
    else:
        previous, kept_stamps, digests = base
        grouped = by_feature(previous["entries"])
        due = {slug for slug in slugs if stamps[slug] != kept_stamps.get(slug)}
        due |= {slug for slug, entries in grouped.items() if (end := first_end(entries)) is not None and end <= now}
        if len(due) * 2 > len(slugs):
            document, digests = _whole(now, visible)
        else:
            fresh = by_feature(entries_for(None, now=now, visible=visible.filter(slug__in=list(due)))) if due else {}
            names = set(slugs)
            merged = {slug: entries for slug, entries in grouped.items() if slug in names and slug not in due}
            merged.update(fresh)
            digests = {
                slug: digests[slug] if slug not in fresh and slug in digests else feature_digest(entries)
                for slug, entries in merged.items()
            }
            entries = [entry for slug in sorted(merged) for entry in merged[slug]]
            document = _document(entries, digests, now)
    if stamps:
        base = {
            "epoch": epoch,
            "stamps": stamps,
            "digests": digests,
            "key": key,
            "document": (document["version"], document["generated_at"]),
        }
        try:
            shared.set(BASE_KEY.format(part=part), base, LONGEST_KEPT)
        except Exception:
            pass  # the next change computes everything
    return document


def _whole(now: datetime, visible) -> tuple[dict, dict[str, str]]:
    """The document of every route of ``visible`` decided now, and each feature's digest its version (equal
    answers, equal version: a digest of every feature's digest) was made from."""
    entries = entries_for(None, now=now, visible=visible)
    digests = {slug: feature_digest(group) for slug, group in by_feature(entries).items()}
    return _document(entries, digests, now), digests


def _document(entries: list[dict], digests: dict[str, str], now: datetime) -> dict:
    return {"version": version_from(digests), "generated_at": now.isoformat(), "entries": entries}


def _base(part: str, epoch) -> tuple[dict, dict[str, str], dict[str, str]] | None:
    """The newest document of this visibility, the stamps it was computed under and each feature's digest,
    if it was computed under ``epoch`` and is still held somewhere; else None. Two processes renewing at
    once may leave one's description beside the other's document: the description names its document
    (version and time), and one that does not match is not used."""
    try:
        base = shared.get(BASE_KEY.format(part=part))
    except Exception:
        return None
    if not base or base.get("epoch") != epoch:
        return None
    held = _held.get(base["key"])
    if held is not None:
        previous = held[0]
    else:
        try:
            previous = shared.get(base["key"])
        except Exception:
            return None
    if previous is None or (previous["version"], previous["generated_at"]) != base.get("document"):
        return None
    return previous, base["stamps"], base["digests"]


def feature_entries(restricted: tuple[int, ...] | None, slugs, *, now: datetime) -> dict[str, list[dict]]:
    """The entries of these features (as the snapshot holds them) for a reader who may see these restricted
    features: a feature they may not see, or with no route that is or was live, has none (``[]``)."""
    visible = visible_for(restricted).filter(slug__in=list(slugs))
    found = by_feature(entries_for(None, now=now, visible=visible))
    return {slug: found.get(slug, []) for slug in slugs}


# This process's copies (a snapshot of the whole registry is megabytes: a poll should not fetch it from the
# shared cache each time), under the same keys, until their first ``valid_until``; the newest few only.
_held: dict[str, tuple[dict, datetime]] = {}
HELD = 8


_held_lock = threading.Lock()

# The canonical JSON of the documents recently sent, by the document's identity, and each one's signature
# under the keys it was recently sent with (a router's token each).
_prepared: dict[int, tuple[dict, bytes, dict[bytes | None, str]]] = {}
SIGNATURES_HELD = 64
_prepared_lock = threading.Lock()


def first_end(entries: list[dict]) -> datetime | None:
    """The first moment one of these entries stops holding (its evidence goes stale); None: none does."""
    ends = [datetime.fromisoformat(entry["valid_until"]) for entry in entries if entry["valid_until"]]
    return min(ends) if ends else None


def _kept_until(document: dict, now: datetime) -> datetime:
    """How long a snapshot may be kept: until its first entry stops holding, a day at most."""
    longest, end = now + timedelta(seconds=LONGEST_KEPT), first_end(document["entries"])
    return longest if end is None else min(longest, end)


def _hold(key: str, document: dict, until: datetime) -> None:
    with _held_lock:  # requests of one process share it
        _keep_newest(_held, key, (document, until), HELD)


def _keep_newest(table: dict, key, value, most: int) -> None:
    """``table[key] = value``, forgetting the oldest entries beyond ``most`` (the caller holds its lock)."""
    table.pop(key, None)
    table[key] = value
    while len(table) > most:
        del table[next(iter(table))]


def build(user, *, auth=None, now: datetime | None = None) -> dict:
    """The snapshot ``user`` may have, signed for ``auth`` (their API token, or None for a session)."""
    document = dict(unsigned(user, now=now))
    document["signature"] = sign(document, signature_key(auth))
    return document
