"""Reads of the identity app that pages share."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model

from approvals.choices import RequestStatus, SignOffStatus
from approvals.models import SignOff
from incidents.choices import ACTIVE_STATUSES
from incidents.models import Incident
from registry.choices import FeatureStatus, MembershipSource
from registry.models import AuditEvent
from registry.selectors import features_visible_to

DEACTIVATION_SOURCES = {
    MembershipSource.MANUAL: "by governance",
    MembershipSource.IDP: "by the identity provider at sign-in",
    MembershipSource.SCIM: "by the identity provider (SCIM)",
}


@dataclass
class DeactivatedPerson:
    """A deactivated person and the open work that still names them."""

    user: object
    deactivated_at: object = None
    deactivated_how: str = ""
    reason: str = ""
    signoffs: list = field(default_factory=list)  # approvals they gave on requests still pending
    features: list = field(default_factory=list)  # (feature, ["accountable owner", "incident owner"])
    incidents: list = field(default_factory=list)  # active incidents they own

    @property
    def count(self) -> int:
        return len(self.signoffs) + len(self.features) + len(self.incidents)


def deactivated_people_with_open_work(viewer, *, limit: int = 50) -> list[DeactivatedPerson]:
    """Deactivated people whose approvals on pending requests, features (not retired) or active incidents
    still name them, for governance to hand over. Only what ``viewer`` may see counts: a restricted feature
    ``viewer`` may not see leaves no trace here, not even the person."""
    visible = features_visible_to(viewer)
    people: dict[int, DeactivatedPerson] = {}
    users = get_user_model().objects.filter(is_active=False)

    def person(user) -> DeactivatedPerson:
        return people.setdefault(user.pk, DeactivatedPerson(user=user))

    signoffs = (
        SignOff.objects.filter(
            status=SignOffStatus.APPROVED,
            request__status=RequestStatus.PENDING,
            signer__in=users,
            request__version__feature__in=visible,
        )
        .select_related("signer", "request__version__feature")
        .order_by("request__created_at", "pk")
    )
    for signoff in signoffs:
        person(signoff.signer).signoffs.append(signoff)
    open_features = visible.exclude(status=FeatureStatus.RETIRED).select_related("accountable_owner", "incident_owner")
    for feature in open_features.filter(accountable_owner__in=users) | open_features.filter(incident_owner__in=users):
        for owner, role in (
            (feature.accountable_owner, "accountable owner"),
            (feature.incident_owner, "incident owner"),
        ):
            if not owner.is_active:
                entry = person(owner)
                for held in entry.features:
                    if held[0].pk == feature.pk:
                        held[1].append(role)
                        break
                else:
                    entry.features.append((feature, [role]))
    incidents = (
        Incident.objects.filter(owner__in=users, status__in=ACTIVE_STATUSES, feature__in=visible)
        .select_related("owner", "feature")
        .order_by("-impact_start", "-pk")
    )
    for incident in incidents:
        person(incident.owner).incidents.append(incident)

    found = sorted(people.values(), key=lambda entry: entry.user.get_username())[:limit]
    events = AuditEvent.objects.filter(
        action="person.deactivated", object_type="user", object_id__in=[str(entry.user.pk) for entry in found]
    ).order_by("sequence")
    latest = {event.object_id: event for event in events}  # the last one wins
    for entry in found:
        event = latest.get(str(entry.user.pk))
        if event is not None:
            entry.deactivated_at = event.at
            entry.deactivated_how = DEACTIVATION_SOURCES.get(event.payload.get("source"), "")
            entry.reason = event.payload.get("reason", "")
    return found
