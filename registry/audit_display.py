"""An audit event as people read it: who, the action in words, the object by name (linked when the reader
may open it), the reason, and the change field by field.

The trail stores what a service wrote (``payload``); nothing here changes it, it only reads it. Links come
from ``extensions.audit_object_links`` (registry registers its own object types, higher apps theirs): a
provider answers, for one object type and a page of ids, the URLs the reader may open. An object the reader
may not open is shown by the name the event itself recorded, unlinked.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model

from registry import extensions

TRUNCATE_AT = 140  # characters of a value shown before "more"
FIELDS_SHOWN = 6  # fields of an event shown before the rest are folded

# Payload keys that are the reason for the change (the first present wins).
REASON_KEYS = ("reason", "note")
# Payload keys that hold a change as [old, new].
TRANSITION_KEYS = ("status", "owner")
# Payload keys read for the diff or the reason, not repeated among the details.
STRUCTURAL_KEYS = {"changes", "before", "new", "old", *REASON_KEYS}

# Words for the parts of action codes that a plain split would spell badly.
WORDS = {
    "signoff": "sign-off",
    "api": "API",
    "api_token": "API token",
    "two_factor": "two-factor",
    "scim_group": "SCIM group",
    "sso": "SSO",
    "aifeature": "feature",
    "featureversion": "version",
    "approvalrequest": "approval request",
    "catalogmodel": "model",
    "promptversion": "prompt",
    "policypack": "policy pack",
    "policy_pack": "policy pack",
    "gate_policy": "gate policy",
    "evidence_pack": "evidence pack",
    "access_review": "access review",
    "reviewer_grant": "reviewer grant",
    "freshness_finding": "freshness finding",
    "ledger": "ledger",
    "mlflow": "MLflow",
    "mlflow_server": "MLflow server",
    "mlflow_link": "MLflow model link",
    "mlflow_mapping": "MLflow metric mapping",
    "drift_opened": "drift found (moved outside Gatehouse)",
    "drift_closed": "drift resolved",
    "secret_rotated": "secret replaced",
    "time_zone_set": "time zone set",
}

# Object types by a human name, when the model that made them cannot say (a type no app defines now).
TYPE_LABELS = {
    "aifeature": "Feature",
    "featureversion": "Version",
    "catalogmodel": "Model",
    "promptversion": "Prompt",
    "user": "Person",
}


def _words(code: str) -> str:
    return WORDS.get(code) or code.replace("_", " ")


def action_label(action: str) -> str:
    """``feature.updated`` → "Feature updated", ``signoff.approved`` → "Sign-off approved"."""
    subject, _, verb = action.partition(".")
    text = " ".join(part for part in (_words(subject), _words(verb)) if part)
    return text[:1].upper() + text[1:]


def _model_for(object_type: str):
    for model in apps.get_models():
        if model._meta.model_name == object_type:
            return model
    return None


def type_label(object_type: str) -> str:
    if object_type in TYPE_LABELS:
        return TYPE_LABELS[object_type]
    model = _model_for(object_type)
    label = str(model._meta.verbose_name) if model is not None else _words(object_type)
    return label[:1].upper() + label[1:]


def _in_field_order(object_type: str, keys) -> list:
    """The keys in the order of the model's fields, then the others alphabetically: the same on every
    database (PostgreSQL's jsonb does not keep a payload's key order)."""
    model = _model_for(object_type)
    order = (
        {field.name: index for index, field in enumerate([*model._meta.fields, *model._meta.many_to_many])}
        if model is not None
        else {}
    )
    return sorted(keys, key=lambda key: (order.get(key, len(order)), key))


def field_label(object_type: str, name: str) -> str:
    model = _model_for(object_type)
    if model is not None:
        try:
            label = str(model._meta.get_field(name).verbose_name)
        except Exception:  # noqa: BLE001 - not a model field: a derived key of the payload
            label = WORDS.get(name) or name.replace("_", " ")
    else:
        label = WORDS.get(name) or name.replace("_", " ")
    label = label.replace("mlflow", "MLflow")
    return label[:1].upper() + label[1:]


# --- Values ----------------------------------------------------------------------------------------------


@dataclass
class Shown:
    """A value as text: ``short`` always, ``full`` when the text was cut."""

    short: str
    full: str = ""
    empty: bool = False


def as_text(value: Any) -> str:
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        if all(not isinstance(item, (dict, list)) for item in value):
            return ", ".join(as_text(item) for item in value)
        return "\n".join(as_text(item) for item in value)
    if isinstance(value, dict):
        return "; ".join(f"{key.replace('_', ' ')}: {as_text(item)}" for key, item in value.items())
    return str(value)


def shown(value: Any) -> Shown:
    text = as_text(value)
    empty = text == "—"
    if len(text) > TRUNCATE_AT:
        return Shown(text[:TRUNCATE_AT].rstrip() + "…", full=text, empty=empty)
    return Shown(text, empty=empty)


@dataclass
class ChangeRow:
    label: str
    key: str
    old: Shown | None  # None: the event records no earlier value (a creation, a plain fact)
    new: Shown


def change_rows(event) -> tuple[list[ChangeRow], list[ChangeRow]]:
    """(the changes as field → old → new, the other facts the payload records as field → value)."""
    payload = event.payload if isinstance(event.payload, dict) else {}
    object_type = event.object_type
    rows: list[ChangeRow] = []
    changes = payload.get("changes")
    before = payload.get("before") if isinstance(payload.get("before"), dict) else {}
    if isinstance(changes, dict):
        for key in _in_field_order(object_type, changes):
            value = changes[key]
            pair = isinstance(value, list) and len(value) == 2 and not key.endswith(("_added", "_removed"))
            if pair and not before:
                old, new = value
            else:
                old, new = before.get(key), value
            rows.append(ChangeRow(field_label(object_type, key), key, shown(old), shown(new)))
    old_state, new_state = payload.get("old"), payload.get("new")
    if isinstance(new_state, dict):
        old_state = old_state if isinstance(old_state, dict) else None
        for key in _in_field_order(object_type, new_state):
            value = new_state[key]
            if old_state is not None and old_state.get(key) == value:
                continue
            rows.append(
                ChangeRow(
                    field_label(object_type, key),
                    key,
                    shown(old_state.get(key)) if old_state is not None else None,
                    shown(value),
                )
            )
    for key in TRANSITION_KEYS:
        value = payload.get(key)
        if isinstance(value, list) and len(value) == 2 and not isinstance(changes, dict):
            rows.append(ChangeRow(field_label(object_type, key), key, shown(value[0]), shown(value[1])))
    details = [
        ChangeRow(field_label(object_type, key), key, None, shown(value))
        for key, value in payload.items()
        if key not in STRUCTURAL_KEYS and not (key in TRANSITION_KEYS and isinstance(value, list) and len(value) == 2)
    ]
    return rows, details


def reason_of(event) -> str:
    payload = event.payload if isinstance(event.payload, dict) else {}
    for key in REASON_KEYS:
        value = payload.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


# --- Objects ---------------------------------------------------------------------------------------------


def object_name(event) -> str:
    """The object by the name the event recorded; never "approvalrequest 19"."""
    if event.object_repr:
        return event.object_repr
    payload = event.payload if isinstance(event.payload, dict) else {}
    if event.object_type == "user" and isinstance(payload.get("user"), str):
        return payload["user"]
    return f"{type_label(event.object_type)} #{event.object_id}"


def object_links(events, user) -> dict[tuple[str, str], str]:
    """The URLs ``user`` may open, by (object type, object id), for a page of events: one call per type."""
    wanted: dict[str, set[str]] = {}
    for event in events:
        wanted.setdefault(event.object_type, set()).add(str(event.object_id))
    links: dict[tuple[str, str], str] = {}
    for object_type, ids in wanted.items():
        provider = extensions.audit_object_links.get(object_type)
        if provider is None:
            continue
        for object_id, url in provider(sorted(ids), user).items():
            if url:
                links[(object_type, str(object_id))] = url
    return links


# --- The whole event -------------------------------------------------------------------------------------


@dataclass
class ShownEvent:
    event: Any
    action_label: str
    actor_label: str
    actor_username: str
    object_label: str
    object_type_label: str
    object_url: str
    reason: str
    changes: list[ChangeRow] = field(default_factory=list)
    details: list[ChangeRow] = field(default_factory=list)
    raw: str = ""
    more: list[ChangeRow] = field(default_factory=list)  # the rest of a long list of fields, folded


def present(events, user) -> list[ShownEvent]:
    """The events as people read them, for ``user`` (who may see these events already). A constant number
    of queries whatever the number of events: the actors in one, each linked object type in one."""
    events = list(events)
    actor_field = events[0]._meta.get_field("actor") if events else None
    people = {event.actor_id: event.actor for event in events if event.actor_id and actor_field.is_cached(event)}
    actor_ids = {event.actor_id for event in events if event.actor_id and event.actor_id not in people}
    if actor_ids:
        people.update(
            (person.pk, person)
            for person in get_user_model()
            .objects.filter(pk__in=actor_ids)
            .only("pk", "username", "first_name", "last_name")
        )
    links = object_links(events, user)
    shown_events = []
    for event in events:
        person = people.get(event.actor_id)
        full_name = person.get_full_name().strip() if person is not None else ""
        rows, details = change_rows(event)
        more: list[ChangeRow] = []
        if len(rows) + len(details) > FIELDS_SHOWN + 2:  # a creation records every field: fold the rest
            more = (rows + details)[FIELDS_SHOWN:]
            rows, details = rows[:FIELDS_SHOWN], details[: max(0, FIELDS_SHOWN - len(rows))]
        shown_events.append(
            ShownEvent(
                event=event,
                action_label=action_label(event.action),
                actor_label=full_name or event.actor_name,
                actor_username=event.actor_name,
                object_label=object_name(event),
                object_type_label=type_label(event.object_type),
                object_url=links.get((event.object_type, str(event.object_id)), ""),
                reason=reason_of(event),
                changes=rows,
                details=details,
                more=more,
                raw=json.dumps(event.payload, indent=2, ensure_ascii=False, sort_keys=True) if event.payload else "",
            )
        )
    return shown_events
