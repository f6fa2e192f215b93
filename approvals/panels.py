"""Approvals' sections of the dashboard (registered in ``ApprovalsConfig.ready``): a reviewer's queue with
due dates, and, for governance, every pending sign-off by role and age with those past their gate's
review SLA."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from approvals import selectors
from approvals.choices import RequestStatus, SignOffStatus
from approvals.models import SignOff
from core.memo import once_per_request
from registry.choices import Role
from registry.permissions import sees_everything, user_roles
from registry.selectors import features_visible_to

DEFAULT_SLA_HOURS = 48
QUEUE_ROWS = 8
AGES = (("Under a day", 0, 1), ("1–3 days", 1, 3), ("3–7 days", 3, 7), ("Over a week", 7, None))


def _due(signoff, now):
    hours = (signoff.request.requirements or {}).get("review_sla_hours", DEFAULT_SLA_HOURS)
    due = signoff.created_at + timedelta(hours=hours)
    return due, due < now


def queue_panel(request) -> dict | None:
    """The sign-offs waiting for this reviewer, nearest due first, overdue ones flagged."""
    user = request.user
    if not user.is_authenticated or not (user_roles(user) & {Role.SECURITY, Role.LEGAL, Role.ML, Role.PRODUCT}):
        return None
    now = timezone.now()
    queue = selectors.queue_for(user)
    rows = []
    for signoff in queue[:50]:  # oldest first: the nearest due among them
        due, overdue = _due(signoff, now)
        rows.append({"signoff": signoff, "request": signoff.request, "due": due, "overdue": overdue})
    if not rows and not (user_roles(user) & {Role.SECURITY, Role.LEGAL}):
        return None  # owners and engineers who sign now and then: the panel only when something waits
    rows.sort(key=lambda row: row["due"])
    return {
        "template": "approvals/partials/home_queue.html",
        "position": 10,
        "context": {
            "rows": rows[:QUEUE_ROWS],
            "total": queue.count() if len(rows) >= QUEUE_ROWS else len(rows),
            "overdue": sum(row["overdue"] for row in rows),
            "queue_url": reverse("approvals:queue"),
        },
    }


def _pending_signoffs(user):
    pending = SignOff.objects.filter(status=SignOffStatus.PENDING, request__status=RequestStatus.PENDING)
    if sees_everything(user):
        return pending  # every feature: no join to say which
    return pending.filter(request__version__feature__in=features_visible_to(user))


def _hours(sla_hours) -> int:
    return int(sla_hours) if sla_hours not in (None, "") else DEFAULT_SLA_HOURS


def pending_by_role(user, now) -> dict[str, dict]:
    """role -> ``{"ages": [count per band of AGES], "total", "breached"}`` of the pending sign-offs on pending
    requests of features ``user`` may see, counted in the database (two queries however many): grouped by
    role and by the review SLA the request's gate set, each age band and each SLA's breach a filtered count."""
    sla = "request__requirements__review_sla_hours"
    pending = _pending_signoffs(user).order_by()
    slas = {_hours(value) for value in pending.values_list(sla, flat=True).distinct()}
    if not slas:
        return {}
    counts = {"total": Count("pk")}
    for index, (_label, low, high) in enumerate(AGES):
        band = Q(created_at__lte=now - timedelta(days=low))
        if high is not None:
            band &= Q(created_at__gt=now - timedelta(days=high))
        counts[f"age_{index}"] = Count("pk", filter=band)
    for hours in slas:
        counts[f"breached_{hours}"] = Count("pk", filter=Q(created_at__lt=now - timedelta(hours=hours)))
    roles: dict[str, dict] = {}
    for row in pending.values("role", sla).annotate(**counts).order_by():
        entry = roles.setdefault(row["role"], {"ages": [0] * len(AGES), "total": 0, "breached": 0})
        for index in range(len(AGES)):
            entry["ages"][index] += row[f"age_{index}"]
        entry["total"] += row["total"]
        entry["breached"] += row[f"breached_{_hours(row[sla])}"]
    return roles


def _pending_by_role(request) -> dict[str, dict]:
    """``pending_by_role`` of the request's user, once per request (the panel and the posture show it)."""
    return once_per_request(request, "approvals.pending_by_role", lambda: pending_by_role(request.user, timezone.now()))


def signoffs_by_role_panel(request) -> dict | None:
    """Governance: pending sign-offs per role and age, and how many are past their gate's review SLA."""
    user = request.user
    if not (user.is_authenticated and sees_everything(user)):
        return None
    roles = _pending_by_role(request)
    rows = [
        {"role": Role(role).label, "code": role, **entry} for role, entry in sorted(roles.items(), key=lambda i: i[0])
    ]
    return {
        "template": "approvals/partials/home_signoffs.html",
        "position": 20,
        "context": {
            "rows": rows,
            "ages": [label for label, _low, _high in AGES],
            "total": sum(row["total"] for row in rows),
            "breached": sum(row["breached"] for row in rows),
            "requests_url": reverse("approvals:request_list"),
        },
    }


def posture(request) -> list[dict]:
    if not sees_everything(request.user):
        return []
    roles = _pending_by_role(request)
    pending = sum(entry["total"] for entry in roles.values())
    breached = sum(entry["breached"] for entry in roles.values())
    url = reverse("approvals:request_list") + "?status=pending"
    return [
        {
            "label": "sign-offs pending",
            "value": pending,
            "href": url,
            "tone": "warn" if pending else "ok",
            "position": 20,
        },
        {
            "label": "past their review SLA",
            "value": breached,
            "href": url + "&ordering=created",
            "tone": "bad" if breached else "ok",
            "position": 21,
        },
    ]
