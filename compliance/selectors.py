"""Reads the compliance pages and API share, restricted to what the user may see."""

from __future__ import annotations

from django.db.models import QuerySet

from compliance.models import ComplianceDocument, DocumentRevision, RegulatoryProfile
from registry.selectors import features_visible_to


def profiles_visible_to(user) -> QuerySet[RegulatoryProfile]:
    return (
        RegulatoryProfile.objects.filter(feature__in=features_visible_to(user))
        .select_related("feature__team", "proposed_by", "confirmed_by")
        .prefetch_related("markets")
        .order_by("feature__name")
    )


def profile_of(feature) -> RegulatoryProfile | None:
    return RegulatoryProfile.objects.filter(feature=feature).select_related("proposed_by", "confirmed_by").first()


def documents_of(feature) -> dict[str, ComplianceDocument]:
    documents = ComplianceDocument.objects.filter(feature=feature).select_related(
        "current__author", "current__reviewed_by"
    )
    return {document.kind: document for document in documents}


def open_revisions(feature) -> dict[str, DocumentRevision]:
    """Each document's draft or revision in review, by kind."""
    revisions = DocumentRevision.objects.filter(
        document__feature=feature, status__in=("draft", "in_review")
    ).select_related("document", "author")
    return {revision.document.kind: revision for revision in revisions}


def revisions_of(document: ComplianceDocument) -> QuerySet[DocumentRevision]:
    return document.revisions.select_related("author", "reviewed_by").order_by("-number")


def revision(*, feature, kind: str, number: int) -> DocumentRevision | None:
    return (
        DocumentRevision.objects.filter(document__feature=feature, document__kind=kind, number=number)
        .select_related("document__feature", "author", "reviewed_by")
        .first()
    )
