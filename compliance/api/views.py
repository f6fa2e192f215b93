"""The compliance API: a feature's regulatory profile, its technical file, its documents and their sign-off.

Every write goes through the same services as the pages (``compliance.services``). A feature the caller
may not see answers 404, as everywhere.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from compliance import selectors
from compliance.api.serializers import (
    ConfirmInput,
    DocumentSerializer,
    DraftInput,
    ProfileInput,
    ProfileSerializer,
    ReviewInput,
    RevisionSerializer,
)
from compliance.choices import DocumentKind
from compliance.permissions import can_confirm_profile, can_propose_profile, can_review_document, can_write_document
from compliance.services.documents import document_review, document_save_draft, document_submit
from compliance.services.profile import profile_confirm, profile_propose
from compliance.technical_file import technical_file
from registry.models import AIFeature, FeatureVersion, Region
from registry.selectors import feature_detail


def _feature(request, slug: str) -> AIFeature:
    try:
        return feature_detail(user=request.user, slug=slug)
    except AIFeature.DoesNotExist:
        raise Http404("No such feature, or it is restricted.") from None


def _kind(kind: str) -> str:
    if kind not in DocumentKind.values:
        raise Http404("No such document.")
    return kind


class ProfileView(APIView):
    """A feature's regulatory profile under the EU AI Act. PUT proposes it (the feature's team or
    governance); governance may confirm in the same call (``confirm: true``)."""

    @extend_schema(responses={200: ProfileSerializer})
    def get(self, request, slug):
        feature = _feature(request, slug)
        profile = selectors.profile_of(feature)
        if profile is None:
            raise Http404(f"{feature.slug} has no regulatory profile yet.")
        return Response(ProfileSerializer(profile).data)

    @extend_schema(request=ProfileInput, responses={200: ProfileSerializer})
    def put(self, request, slug):
        feature = _feature(request, slug)
        if not can_propose_profile(request.user, feature):
            raise PermissionDenied("Only the feature's team and governance propose its regulatory profile.")
        data = ProfileInput(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        codes = fields.pop("markets", [])
        confirm = fields.pop("confirm", False)
        markets = list(Region.objects.filter(code__in=codes))
        unknown = sorted(set(codes) - {region.code for region in markets})
        if unknown:
            raise serializers.ValidationError({"markets": [f"Unknown regions: {', '.join(unknown)}."]})
        profile = profile_propose(actor=request.user, feature=feature, markets=markets, confirm=confirm, **fields)
        return Response(ProfileSerializer(selectors.profile_of(profile.feature)).data)


class ProfileConfirmView(APIView):
    """Governance confirms the proposed profile: its category's rules apply from now."""

    @extend_schema(request=ConfirmInput, responses={200: ProfileSerializer})
    def post(self, request, slug):
        feature = _feature(request, slug)
        if not can_confirm_profile(request.user, feature):
            raise PermissionDenied("Only governance confirms a regulatory profile.")
        data = ConfirmInput(data=request.data)
        data.is_valid(raise_exception=True)
        profile_confirm(actor=request.user, feature=feature, reason=data.validated_data.get("reason", ""))
        return Response(ProfileSerializer(selectors.profile_of(feature)).data)


class TechnicalFileView(APIView):
    """The technical file (EU AI Act Annex IV) as JSON: the nine sections, their content, checks and
    completeness. ``version`` picks a version (default: live in production, else the newest). For a file
    kept with its SHA-256 and the audit chain's verification, export it as an evidence pack of kind
    ``technical_file`` (``POST /api/v1/evidence-packs/``)."""

    @extend_schema(
        parameters=[OpenApiParameter("version", int, required=False)],
        responses={200: inline_serializer("TechnicalFile", {"schema": serializers.CharField()})},
    )
    def get(self, request, slug):
        feature = _feature(request, slug)
        version = None
        number = request.query_params.get("version", "")
        if number:
            if not number.isdigit():
                raise serializers.ValidationError({"version": ["A version number."]})
            version = FeatureVersion.objects.filter(feature=feature, number=int(number)).first()
            if version is None:
                raise Http404("No such version.")
        return Response(technical_file(feature, version))


class DocumentListView(APIView):
    """A feature's compliance documents: each kind with its approved revision and the one open, if any."""

    @extend_schema(responses={200: DocumentSerializer(many=True)})
    def get(self, request, slug):
        feature = _feature(request, slug)
        documents = selectors.documents_of(feature)
        open_ones = selectors.open_revisions(feature)
        rows = [
            {
                "kind": kind.value,
                "title": kind.label,
                "current": documents[kind.value].current if kind.value in documents else None,
                "open": open_ones.get(kind.value),
            }
            for kind in DocumentKind
        ]
        return Response(DocumentSerializer(rows, many=True).data)


class DraftView(APIView):
    """Write a new revision of a document as a draft, or change your open draft (201)."""

    @extend_schema(request=DraftInput, responses={201: RevisionSerializer})
    def post(self, request, slug, kind):
        feature = _feature(request, slug)
        if not can_write_document(request.user, feature):
            raise PermissionDenied("Only the feature's team, legal reviewers and governance write its documents.")
        data = DraftInput(data=request.data)
        data.is_valid(raise_exception=True)
        revision = document_save_draft(
            actor=request.user, feature=feature, kind=_kind(kind), body=data.validated_data["body"]
        )
        return Response(RevisionSerializer(revision).data, status=status.HTTP_201_CREATED)


def _revision(request, slug, kind, number):
    feature = _feature(request, slug)
    found = selectors.revision(feature=feature, kind=_kind(kind), number=number)
    if found is None:
        raise Http404("No such revision.")
    return found


class RevisionView(APIView):
    @extend_schema(responses={200: RevisionSerializer})
    def get(self, request, slug, kind, number):
        return Response(RevisionSerializer(_revision(request, slug, kind, number)).data)


class RevisionSubmitView(APIView):
    """Send a draft for review: its text and SHA-256 are fixed from now."""

    @extend_schema(request=None, responses={200: RevisionSerializer})
    def post(self, request, slug, kind, number):
        revision = document_submit(actor=request.user, revision=_revision(request, slug, kind, number))
        return Response(RevisionSerializer(revision).data)


class RevisionReviewView(APIView):
    """Approve a revision in review, or send it back with a note (legal or governance; never its author)."""

    @extend_schema(request=ReviewInput, responses={200: RevisionSerializer})
    def post(self, request, slug, kind, number):
        revision = _revision(request, slug, kind, number)
        if not can_review_document(request.user, revision.document.feature):
            raise PermissionDenied("Only legal reviewers and governance sign a compliance document off.")
        data = ReviewInput(data=request.data)
        data.is_valid(raise_exception=True)
        revision = document_review(
            actor=request.user,
            revision=revision,
            approve=data.validated_data["approve"],
            note=data.validated_data.get("note", ""),
        )
        return Response(RevisionSerializer(revision).data)
