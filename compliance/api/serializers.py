"""Compliance over the API. Read serializers render; input serializers only parse for the services."""

from rest_framework import serializers

from compliance.choices import AnnexIIIArea, Category, HighRiskBasis, Role, TransparencyDuty
from compliance.models import DocumentRevision, RegulatoryProfile
from registry.api.serializers import UsernameField


class ProfileSerializer(serializers.ModelSerializer):
    feature = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    markets = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    in_force = serializers.CharField(read_only=True, help_text="The category whose rules apply now.")
    required_documents = serializers.ListField(child=serializers.CharField(), read_only=True)
    proposed_by = UsernameField(read_only=True)
    confirmed_by = UsernameField(read_only=True)

    class Meta:
        model = RegulatoryProfile
        fields = [
            "feature",
            "category",
            "in_force",
            "status",
            "high_risk_basis",
            "annex_iii_area",
            "annex_i_product",
            "transparency_duties",
            "role",
            "markets",
            "rationale",
            "conformity_reference",
            "retention_years",
            "required_documents",
            "proposed_by",
            "proposed_at",
            "confirmed_by",
            "confirmed_at",
        ]
        read_only_fields = fields


class ProfileInput(serializers.Serializer):
    category = serializers.ChoiceField(choices=Category.choices)
    high_risk_basis = serializers.ChoiceField(choices=HighRiskBasis.choices, required=False, allow_blank=True)
    annex_iii_area = serializers.ChoiceField(choices=AnnexIIIArea.choices, required=False, allow_blank=True)
    annex_i_product = serializers.CharField(required=False, allow_blank=True, max_length=200)
    transparency_duties = serializers.ListField(
        child=serializers.ChoiceField(choices=TransparencyDuty.choices), required=False, max_length=10
    )
    role = serializers.ChoiceField(choices=Role.choices, default=Role.PROVIDER)
    markets = serializers.ListField(
        child=serializers.SlugField(), required=False, max_length=100, help_text="Region codes."
    )
    rationale = serializers.CharField(max_length=4000)
    conformity_reference = serializers.CharField(required=False, allow_blank=True, max_length=200)
    retention_years = serializers.IntegerField(required=False, min_value=10, max_value=50, default=10)
    confirm = serializers.BooleanField(required=False, default=False, help_text="Governance: confirm it now.")


class ConfirmInput(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000)


class RevisionSerializer(serializers.ModelSerializer):
    kind = serializers.CharField(source="document.kind", read_only=True)
    author = UsernameField(read_only=True)
    reviewed_by = UsernameField(read_only=True)

    class Meta:
        model = DocumentRevision
        fields = [
            "kind",
            "number",
            "status",
            "body",
            "author",
            "created_at",
            "submitted_at",
            "reviewed_by",
            "reviewed_at",
            "review_note",
            "sha256",
        ]
        read_only_fields = fields


class DocumentSerializer(serializers.Serializer):
    kind = serializers.CharField()
    title = serializers.CharField()
    current = RevisionSerializer(allow_null=True, help_text="The approved revision in force.")
    open = RevisionSerializer(allow_null=True, help_text="A draft or a revision in review.")


class DraftInput(serializers.Serializer):
    body = serializers.CharField(max_length=20_000)


class ReviewInput(serializers.Serializer):
    approve = serializers.BooleanField()
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)
