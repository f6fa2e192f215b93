"""Serializers of the people and teams API: who holds which role and team, through which source."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.pagination import PageSerializer
from identity import selectors
from identity.views.people_forms import REASON_REQUIRED
from registry.choices import MembershipSource, Role
from registry.models import Team

REASON_ERRORS = {"required": REASON_REQUIRED, "blank": REASON_REQUIRED}


def reason_field(**kwargs) -> serializers.CharField:
    kwargs.setdefault("help_text", "Why; kept in the audit trail.")
    return serializers.CharField(max_length=2000, error_messages=REASON_ERRORS, **kwargs)


class SourceSerializer(serializers.Serializer):
    source = serializers.ChoiceField(
        choices=MembershipSource.choices,
        help_text="manual: granted in Gatehouse; idp: the identity provider's group mapping, at sign-in; "
        "scim: the identity provider's provisioning.",
    )
    reason = serializers.CharField()
    granted_by = serializers.SerializerMethodField(help_text="Username of who granted it; null for idp and scim.")
    granted_at = serializers.DateTimeField(allow_null=True)
    recorded = serializers.BooleanField(
        help_text="false: held since before sources were recorded; it counts as manual."
    )

    def get_granted_by(self, source) -> str | None:
        return source.granted_by.get_username() if source.granted_by else None


class RoleHoldingSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices, source="key")
    label = serializers.CharField()
    sources = SourceSerializer(many=True)


class TeamHoldingSerializer(serializers.Serializer):
    slug = serializers.CharField(source="key")
    name = serializers.CharField(source="label")
    sources = SourceSerializer(many=True)


def _holdings(person):
    if not hasattr(person, "_holdings"):
        person._holdings = selectors.holdings_of(person)
    return person._holdings


class PersonSerializer(serializers.Serializer):
    username = serializers.CharField()
    name = serializers.SerializerMethodField()
    email = serializers.EmailField()
    is_active = serializers.BooleanField(help_text="false: deactivated; cannot sign in, tokens revoked.")
    last_login = serializers.DateTimeField(allow_null=True, help_text="The latest sign-in; null if never.")
    date_joined = serializers.DateTimeField()
    is_superuser = serializers.BooleanField(help_text="A Django superuser acts as a governance admin.")
    roles = serializers.SerializerMethodField()
    teams = serializers.SerializerMethodField()
    live_sessions = serializers.IntegerField(help_text="Browsers signed in as this person now.")
    active_tokens = serializers.IntegerField(help_text="API tokens neither revoked nor expired.")

    def get_name(self, person) -> str:
        return person.get_full_name()

    @extend_schema_field(RoleHoldingSerializer(many=True))
    def get_roles(self, person):
        return RoleHoldingSerializer(_holdings(person)[0], many=True).data

    @extend_schema_field(TeamHoldingSerializer(many=True))
    def get_teams(self, person):
        return TeamHoldingSerializer(_holdings(person)[1], many=True).data


class RoleChangeSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)
    reason = reason_field()


class AccountChangeSerializer(serializers.Serializer):
    reason = reason_field()


class TeamSerializer(serializers.ModelSerializer):
    member_count = serializers.IntegerField(read_only=True, help_text="Active people in the team.")

    class Meta:
        model = Team
        fields = ["slug", "name", "description", "member_count", "created_at"]
        read_only_fields = ["created_at"]


class TeamCreateSerializer(serializers.Serializer):
    slug = serializers.SlugField(max_length=60, help_text="In addresses and the API; it never changes.")
    name = serializers.CharField(max_length=120)
    description = serializers.CharField(required=False, allow_blank=True, default="")


class TeamUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, help_text="Optional; audited.")


class MemberSerializer(serializers.Serializer):
    username = serializers.CharField()
    name = serializers.SerializerMethodField()
    is_active = serializers.BooleanField()
    sources = serializers.SerializerMethodField(
        help_text="Why they are in the team; null unless you are a governance admin or an auditor."
    )

    def get_name(self, member) -> str:
        return member.get_full_name()

    @extend_schema_field(SourceSerializer(many=True, allow_null=True))
    def get_sources(self, member):
        if not self.context.get("show_sources"):
            return None
        return SourceSerializer(selectors.member_sources(member, self.context["team"]), many=True).data


class MemberPageSerializer(PageSerializer):
    """One page of a team's members (``count``/``next``/``previous``/``results``), active first."""

    results = serializers.SerializerMethodField()

    @extend_schema_field(MemberSerializer(many=True))
    def get_results(self, page):
        return MemberSerializer(page, many=True, context=self.context).data


class MemberChangeSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    reason = reason_field()
