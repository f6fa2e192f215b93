"""Exporting a feature's decision ledger for a range of days, as CSV or JSON, streamed: the deployer's own
record of which decision served which of its requests (EU AI Act Art. 26(6)).

The page and the API share this: the same range rules, the same rights (the feature's team, governance
admins and auditors; a 404 for whoever may not see the feature, decided by the caller's lookup), the
same audit event (``decisions.exported``), the same rows.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from core.exports import spreadsheet_text
from registry.models import AIFeature
from registry.permissions import can_edit_feature, sees_everything
from registry.services import audit_record_many
from routing.models import DecisionRecord

MAX_SPAN_DAYS = 366
FORMATS = ("csv", "json")
CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json"}
COLUMNS = (
    "request_id",
    "decided_at",
    "environment",
    "region",
    "version",
    "served",
    "decision",
    "recorded_at",
    "recorded_by",
)
REFUSAL = "Only the {team} team, governance admins and auditors export the decision log of {feature}."


def can_export_decisions(user, feature: AIFeature) -> bool:
    """The deployer (the feature's team), governance admins and auditors: the log is theirs to keep."""
    return can_edit_feature(user, feature) or sees_everything(user)


@dataclass(frozen=True)
class ExportRange:
    first_day: date
    last_day: date
    format: str

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first_day, time.min, tzinfo=UTC)

    @property
    def end(self) -> datetime:
        """Exclusive: the start of the day after the last one."""
        return datetime.combine(self.last_day + timedelta(days=1), time.min, tzinfo=UTC)


def _day(text: str, field: str, errors: dict) -> date | None:
    text = (text or "").strip()
    if not text:
        errors[field] = "Give a day as YYYY-MM-DD."
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors[field] = f"{text[:40]!r} is not a day: give it as YYYY-MM-DD."
        return None


def export_range(*, first: str, last: str, fmt: str) -> ExportRange:
    """The range asked for, checked: both days given (UTC, inclusive), the first not after the last, at most
    ``MAX_SPAN_DAYS`` days, a known format. Raises ``ValidationError`` by field."""
    errors: dict[str, str] = {}
    first_day, last_day = _day(first, "from", errors), _day(last, "to", errors)
    fmt = (fmt or "csv").strip().lower()
    if fmt not in FORMATS:
        errors["format"] = f"Choose one of: {', '.join(FORMATS)}."
    if first_day and last_day:
        if first_day > last_day:
            errors["to"] = f"The last day ({last_day}) is before the first ({first_day})."
        elif (last_day - first_day).days + 1 > MAX_SPAN_DAYS:
            errors["to"] = f"At most {MAX_SPAN_DAYS} days per export; export longer periods in parts."
    if errors:
        raise ValidationError(errors)
    return ExportRange(first_day, last_day, fmt)


@dataclass(frozen=True)
class DecisionExport:
    feature: AIFeature
    range: ExportRange
    count: int

    @property
    def filename(self) -> str:
        return f"decisions-{self.feature.slug}-{self.range.first_day}-{self.range.last_day}.{self.range.format}"

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.range.format]

    def records(self):
        return (
            DecisionRecord.objects.filter(
                feature=self.feature, decided_at__gte=self.range.start, decided_at__lt=self.range.end
            )
            .select_related("region", "version", "recorded_by")
            .order_by("decided_at", "pk")
        )

    def stream(self) -> Iterator[str]:
        return _csv(self) if self.range.format == "csv" else _json(self)


def decisions_export(*, actor, feature: AIFeature, export: ExportRange) -> DecisionExport:
    """Start an export of ``feature``'s ledger over ``export``: checks the right and records
    ``decisions.exported`` (range, format, how many records); the caller streams ``.stream()``. The caller
    found ``feature`` among those ``actor`` may see."""
    if not can_export_decisions(actor, feature):
        raise PermissionDenied(REFUSAL.format(team=feature.team, feature=feature))
    with transaction.atomic():
        count = DecisionRecord.objects.filter(
            feature=feature, decided_at__gte=export.start, decided_at__lt=export.end
        ).count()
        audit_record_many(
            [
                dict(
                    actor=actor,
                    action="decisions.exported",
                    object_type="aifeature",
                    object_id=feature.pk,
                    object_repr=f"Decision log of {feature}",
                    feature=feature,
                    payload={
                        "from": export.first_day,
                        "to": export.last_day,
                        "format": export.format,
                        "records": count,
                    },
                )
            ]
        )[0]
    return DecisionExport(feature=feature, range=export, count=count)


def _when(moment) -> str:
    return moment.astimezone(UTC).isoformat() if moment else ""


def _row(record: DecisionRecord) -> dict:
    return {
        "request_id": record.request_id,
        "decided_at": _when(record.decided_at),
        "environment": record.environment,
        "region": record.region.code,
        "version": record.version.number if record.version_id else None,
        "served": record.served,
        "decision": record.token,
        "recorded_at": _when(record.recorded_at),
        "recorded_by": record.recorded_by.get_username(),
    }


class _Echo:
    def write(self, value):
        return value


def _csv(export: DecisionExport) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(COLUMNS)
    for record in export.records().iterator(chunk_size=2000):
        row = _row(record)
        row["served"] = "yes" if row["served"] else "no"
        yield writer.writerow([spreadsheet_text(row[column]) for column in COLUMNS])


def _json(export: DecisionExport) -> Iterator[str]:
    head = {
        "feature": export.feature.slug,
        "from": export.range.first_day.isoformat(),
        "to": export.range.last_day.isoformat(),
        "exported_at": timezone.now().astimezone(UTC).isoformat(),
        "count": export.count,
    }
    yield json.dumps(head, ensure_ascii=False)[:-1] + ', "records": ['
    first = True
    for record in export.records().iterator(chunk_size=2000):
        yield ("" if first else ",") + "\n" + json.dumps(_row(record), ensure_ascii=False)
        first = False
    yield "\n]}\n"
