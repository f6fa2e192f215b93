"""A closed campaign as evidence: CSV (one row per item) and PDF (WeasyPrint, a summary then every item).

The PDF is rendered from a self-contained HTML document (its stylesheet inline, nothing fetched), as the
evidence packs are; it is a download, never served as a page, so the app's style policy does not apply.
"""

from __future__ import annotations

import csv
import io

from django.template.loader import render_to_string
from django.utils import timezone

from core.exports import spreadsheet_text, utc_stamp
from identity.choices import ReviewDecision, ReviewItemKind
from identity.models import AccessReview, AccessReviewItem
from registry.choices import MembershipSource, Role

CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "pdf": "application/pdf"}
CSV_COLUMNS = (
    "person",
    "name",
    "kind",
    "role_or_team",
    "sources",
    "reviewers",
    "decision",
    "decided_by",
    "decided_at",
    "note",
    "escalated_at",
)
SOURCE_LABELS = dict(MembershipSource.choices)


def _items(review: AccessReview):
    return (
        AccessReviewItem.objects.filter(review=review)
        .select_related("user", "team", "decided_by")
        .prefetch_related("reviewers")
        .order_by("user__username", "kind", "role", "team__name", "pk")
    )


def what(item: AccessReviewItem) -> str:
    return Role(item.role).label if item.kind == ReviewItemKind.ROLE else item.team.name


def item_row(item: AccessReviewItem) -> dict[str, str]:
    return {
        "person": item.user.get_username(),
        "name": item.user.get_full_name(),
        "kind": item.get_kind_display(),
        "role_or_team": what(item),
        "sources": ", ".join(SOURCE_LABELS.get(source, source) for source in item.sources),
        "reviewers": ", ".join(sorted(reviewer.get_username() for reviewer in item.reviewers.all())),
        "decision": item.get_decision_display(),
        "decided_by": item.decided_by.get_username() if item.decided_by else "",
        "decided_at": utc_stamp(item.decided_at),
        "note": item.note,
        "escalated_at": utc_stamp(item.escalated_at),
    }


def render_csv(review: AccessReview, *, generated_by=None) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for item in _items(review):
        writer.writerow({key: spreadsheet_text(value) for key, value in item_row(item).items()})
    return out.getvalue().encode("utf-8")


def summary_of(review: AccessReview, items: list[AccessReviewItem]) -> dict:
    counts = {decision: 0 for decision in ReviewDecision.values}
    for item in items:
        counts[item.decision] += 1
    return {
        "items": len(items),
        "people": len({item.user_id for item in items}),
        "role_grants": sum(1 for item in items if item.kind == ReviewItemKind.ROLE),
        "team_memberships": sum(1 for item in items if item.kind == ReviewItemKind.TEAM),
        "confirmed": counts[ReviewDecision.CONFIRMED],
        "revoked": counts[ReviewDecision.REVOKED],
        "not_reviewed": counts[ReviewDecision.NOT_REVIEWED] + counts[ReviewDecision.PENDING],
        "escalated": sum(1 for item in items if item.escalated_at),
        "reviewers": len({reviewer.pk for item in items for reviewer in item.reviewers.all()}),
        "deciders": len({item.decided_by_id for item in items if item.decided_by_id}),
    }


def render_html(review: AccessReview, *, generated_by=None) -> str:
    items = list(_items(review))
    return render_to_string(
        "identity/review_document.html",
        {
            "review": review,
            "summary": summary_of(review, items),
            "rows": [{"item": item, **item_row(item)} for item in items],
            "generated_at": timezone.now(),
            "generated_by": generated_by,
        },
    )


def render_pdf(review: AccessReview, *, generated_by=None) -> bytes:
    from weasyprint import HTML  # imported when needed: it loads pango and its fonts

    return HTML(
        string=render_html(review, generated_by=generated_by), base_url=None, url_fetcher=_refuse_fetch
    ).write_pdf()


def _refuse_fetch(url, *args, **kwargs):
    raise ValueError(f"An access review export fetches nothing: {url}")


RENDERERS = {"csv": render_csv, "pdf": render_pdf}


def render(review: AccessReview, file_format: str, *, generated_by=None) -> bytes:
    return RENDERERS[file_format](review, generated_by=generated_by)
