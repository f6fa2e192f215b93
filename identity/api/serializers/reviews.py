"""Access reviews over the API: campaigns with their counts, items with their decisions."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse

from identity.choices import ReviewDecision, ReviewItemKind, ReviewStatus
from identity.models import AccessReview, AccessReviewItem
from identity.reviews.permissions import decide_refusal
from registry.choices import MembershipSource, Role


class ReviewCountsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    pending = serializers.IntegerField(source="n_pending")
    confirmed = serializers.IntegerField(source="n_confirmed")
    revoked = serializers.IntegerField(source="n_revoked")
    not_reviewed = serializers.IntegerField(source="n_not_reviewed")
    escalated = serializers.IntegerField(source="n_escalated", help_text="Pending items escalated past the due date.")


class AccessReviewSerializer(serializers.ModelSerializer):
    started_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    closed_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    status = serializers.ChoiceField(choices=ReviewStatus.choices, read_only=True)
    counts = serializers.SerializerMethodField(
        help_text="Every item of the campaign (governance and auditors), else the items put to you."
    )
    items_url = serializers.SerializerMethodField(help_text="The campaign's items you may see (paginated).")
    exports = serializers.SerializerMethodField(
        help_text="The CSV and PDF exports' URLs once the campaign is closed (governance and auditors), else null."
    )

    class Meta:
        model = AccessReview
        fields = [
            "id",
            "name",
            "status",
            "started_by",
            "started_at",
            "due_at",
            "closed_by",
            "closed_at",
            "counts",
            "items_url",
            "exports",
        ]
        read_only_fields = fields

    @extend_schema_field(ReviewCountsSerializer)
    def get_counts(self, review):
        return ReviewCountsSerializer(review).data

    def get_items_url(self, review) -> str:
        return reverse("identity-api:access-review-item-list", request=self.context.get("request")) + (
            f"?review={review.pk}"
        )

    @extend_schema_field(serializers.DictField(child=serializers.URLField(), allow_null=True))
    def get_exports(self, review):
        from identity.reviews.permissions import can_export_reviews

        request = self.context.get("request")
        if review.status != ReviewStatus.CLOSED or request is None or not can_export_reviews(request.user):
            return None
        return {
            file_format: reverse(f"identity-api:access-review-export-{file_format}", args=[review.pk], request=request)
            for file_format in ("csv", "pdf")
        }


class AccessReviewStartSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120, help_text="e.g. “2026 Q4 access review”.")
    due_date = serializers.DateField(help_text="The campaign runs through the end of this day (server time zone).")


class AccessReviewCloseSerializer(serializers.Serializer):
    close_anyway = serializers.BooleanField(
        default=False,
        help_text="Close although items still await review: they are recorded as not reviewed. Without it, "
        "pending items answer 409.",
    )


class AccessReviewItemSerializer(serializers.ModelSerializer):
    review_name = serializers.CharField(source="review.name", read_only=True)
    kind = serializers.ChoiceField(choices=ReviewItemKind.choices, read_only=True)
    user = serializers.SlugRelatedField(slug_field="username", read_only=True)
    user_name = serializers.CharField(source="user.get_full_name", read_only=True)
    role = serializers.ChoiceField(choices=[("", "")] + list(Role.choices), read_only=True)
    team = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    team_name = serializers.CharField(source="team.name", read_only=True, allow_null=True, default=None)
    sources = serializers.ListField(
        child=serializers.ChoiceField(choices=MembershipSource.choices),
        read_only=True,
        help_text="Membership sources when the campaign started.",
    )
    reviewers = serializers.SerializerMethodField()
    decision = serializers.ChoiceField(choices=ReviewDecision.choices, read_only=True)
    decided_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    refusal = serializers.SerializerMethodField(
        help_text="Why you may not decide this item now (null: you may; also null once decided)."
    )

    class Meta:
        model = AccessReviewItem
        fields = [
            "id",
            "review",
            "review_name",
            "kind",
            "user",
            "user_name",
            "role",
            "team",
            "team_name",
            "sources",
            "reviewers",
            "decision",
            "decided_by",
            "decided_at",
            "note",
            "reminded_at",
            "escalated_at",
            "refusal",
        ]
        read_only_fields = fields

    def get_reviewers(self, item) -> list[str]:
        return sorted(reviewer.get_username() for reviewer in item.reviewers.all())

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_refusal(self, item):
        request = self.context.get("request")
        if request is None or item.decision != ReviewDecision.PENDING or item.review.status != ReviewStatus.OPEN:
            return None
        assigned = any(reviewer.pk == request.user.pk for reviewer in item.reviewers.all())
        refusal = decide_refusal(request.user, item, assigned=assigned)
        return str(refusal) if refusal else None


class ItemDecisionSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=[("confirm", "Confirm"), ("revoke", "Revoke")])
    note = serializers.CharField(
        max_length=500, required=False, allow_blank=True, default="", help_text="Required to revoke."
    )
