"""Build the demo organisation: people, teams, catalog, AI features, versions, evidence and releases.

Idempotent: whatever already exists (by username, slug, name and version, feature and number) is
left alone, and nothing is deleted. Every write goes through the apps' services under a CLI audit
context, so the demo's history is in the audit trail like any other change. The data lives in
``demo.data``; the release history (gate requests, sign-offs, promotions, a rollback) in
``demo.releases``, applied through the approvals services; the incidents (one in each state,
one of them rolled back from the incident) in ``demo.incidents``, through the incidents services.

The history is spread over the past ten weeks: each step runs at its moment through the demo's clock
(``demo.clock``), in time order, so ages, times to mitigate and charts show real figures and the audit
chain is written in order, with past times, and verifies.
"""

from __future__ import annotations

import logging
import os
import unicodedata
from collections import Counter
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.test.utils import override_settings

from core.audit_context import audit_context
from demo import access_reviews as demo_access_reviews
from demo import data as demo_data
from demo import freshness as demo_freshness
from demo import incidents as demo_incidents
from demo import monitoring as demo_monitoring
from demo import readiness as demo_readiness
from demo import releases as demo_releases
from demo.clock import Agenda, DemoClock
from demo.compliance import seed_compliance, seed_standards
from demo.drills import seed_drills
from demo.packs import seed_packs
from demo.routing import seed_routing
from demo.webhooks import seed_webhooks
from registry.choices import MembershipSource, Role, VersionStatus
from registry.models import (
    AIFeature,
    AuditEvent,
    CatalogModel,
    Dataset,
    Evaluation,
    FeatureVersion,
    Membership,
    PolicyPack,
    PromptVersion,
    Region,
    Team,
    Vendor,
)
from registry.permissions import forget_cached_rights
from registry.services import (
    audit_record,
    catalog_model_create,
    dataset_create,
    feature_create,
    policy_pack_create,
    prompt_version_create,
    role_grant,
    team_create,
    team_member_add,
    vendor_create,
    version_create,
    version_submit,
)
from routing import cache as routing_cache

DEFAULT_PASSWORD = "gatehouse-demo"
FEATURE_TEXT_FIELDS = (
    "slug",
    "name",
    "purpose",
    "risk_tier",
    "status",
    "intended_uses",
    "disallowed_uses",
    "data_classification",
    "slos",
    "monitors",
    "operational_fallback",
    "rollback_path",
    "stop_expansion_criteria",
    "restricted",
)


def demo_email(first: str, last: str) -> str:
    """``Tomás Silva`` -> ``tomas.silva@example.com``."""
    ascii_name = unicodedata.normalize("NFKD", f"{first}.{last}").encode("ascii", "ignore").decode()
    return f"{ascii_name.lower()}@example.com"


@contextmanager
def quiet_notifications():
    """The seeded history notifies reviewers ~100 times. Keep the in-app notices, but with the in-process
    Celery of the demo don't print each email (console backend) or log each task: the summary would drown."""
    trace = logging.getLogger("celery.app.trace")
    level = trace.level
    trace.setLevel(logging.WARNING)
    try:
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
            yield
    finally:
        trace.setLevel(level)


class Command(BaseCommand):
    help = (
        "Create the demo people, teams, catalog, AI features and their releases. "
        "Safe to run again: it only adds what is missing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--password",
            help=f"Password for new demo users (default: $DEMO_PASSWORD, else {DEFAULT_PASSWORD!r}).",
        )
        parser.add_argument(
            "--reset-passwords", action="store_true", help="Also set that password on demo users that already exist."
        )

    def handle(self, *args, password=None, reset_passwords=False, **options):
        if not settings.DEBUG:
            raise CommandError(
                "seed_demo creates people with a known password and a router token: it runs only with debug on "
                "(DJANGO_DEBUG=1), never against a production database."
            )
        password = password or os.environ.get("DEMO_PASSWORD") or DEFAULT_PASSWORD
        seeder = DemoSeeder(password=password, reset_passwords=reset_passwords)
        # One transaction: a failure half-way leaves nothing behind, so a rerun starts clean.
        with quiet_notifications(), audit_context(source="cli"), transaction.atomic():
            seeder.run()
        self.print_summary(seeder.created, password, kept_passwords=seeder.kept_passwords, skipped=seeder.skipped)
        if seeder.router_token:
            self.stdout.write(
                "\nA router's token for ml (shown once; revoke it on the API tokens page):\n"
                f"  curl -H 'Authorization: Bearer {seeder.router_token}' "
                f"'{settings.GATEHOUSE_BASE_URL.rstrip('/')}/api/v1/resolve/?feature=claims-triage&region=eu'\n"
                "Support can look up request id demo-req-0001 on the Look up a decision page."
            )

    def print_summary(self, created: Counter, password: str, *, kept_passwords: int, skipped: list[str]) -> None:
        added = ", ".join(f"{count} {kind}" for kind, count in created.items() if count) or "nothing (all present)"
        self.stdout.write(self.style.SUCCESS(f"Demo data in place. Added this run: {added}."))
        for note in skipped:
            self.stdout.write(self.style.WARNING(f"  skipped {note}"))
        versions = FeatureVersion.objects.all()
        evaluations = Evaluation.objects.all()
        totals = [
            ("users", get_user_model().objects.count()),
            ("teams", Team.objects.count()),
            ("vendors", Vendor.objects.count()),
            ("models", CatalogModel.objects.count()),
            ("prompt versions", PromptVersion.objects.count()),
            ("policy packs", PolicyPack.objects.count()),
            ("datasets", Dataset.objects.count()),
            ("features", AIFeature.objects.count()),
            ("versions", versions.count()),
            ("  submitted", versions.filter(status=VersionStatus.SUBMITTED).count()),
            ("  draft", versions.filter(status=VersionStatus.DRAFT).count()),
            ("evaluations", evaluations.count()),
            ("  failing", evaluations.filter(passed=False).count()),
            *demo_releases.release_totals(),
            *demo_incidents.incident_totals(),
            ("audit events", AuditEvent.objects.count()),
        ]
        for label, count in totals:
            self.stdout.write(f"  {label:<16}{count:>6}")
        self.stdout.write(f"\nDemo logins (password: {password}):")
        if kept_passwords:
            self.stdout.write(
                f"  ({kept_passwords} existed already and kept their password; --reset-passwords sets it.)"
            )
        role_labels = dict(Role.choices)
        for username, first, last, roles in demo_data.USERS:
            described = ", ".join(role_labels[role] for role in roles) or "no role"
            self.stdout.write(f"  {username:<12} {described:<20} {first} {last}")


class DemoSeeder:
    """Applies ``demo.data`` through the services at its moments, skipping what exists; counts what it adds."""

    def __init__(self, *, password: str, reset_passwords: bool):
        self.password = password
        self.reset_passwords = reset_passwords
        self.created: Counter = Counter()
        self.kept_passwords = 0
        self.clock = DemoClock()
        self.agenda = Agenda(self.clock)
        self.now = self.clock.real_now
        self.feature_specs = {spec["slug"]: spec for spec in demo_data.FEATURES}
        self.new_versions: dict[tuple[str, int], FeatureVersion] = {}
        self.users: dict = {}
        self.teams: dict[str, Team] = {}
        self.team_specs = {spec["slug"]: spec for spec in demo_data.TEAMS}
        self.regions: dict[str, Region] = {}
        self.governance = None
        self.skipped: list[str] = []
        self.router_token = None

    def run(self) -> None:
        """Put every step on the agenda at its moment of the past weeks, then run them in time order."""
        self.regions = {region.code: region for region in Region.objects.all()}
        clock, agenda = self.clock, self.agenda
        for part, step in (
            ("people", lambda: (self.seed_users(), self.seed_roles())),
            ("teams", self.seed_teams),
            ("catalog", self.seed_vendors_and_models),
            ("prompts", self.seed_prompts),
            ("policy packs", self.seed_policy_packs),
            ("datasets", self.seed_datasets),
        ):
            agenda.add(clock.workday(*demo_data.SETUP[part]), step)
        for spec in demo_data.FEATURES:
            self.plan_feature(spec)
        engineers = {slug: spec["engineer"] for slug, spec in self.team_specs.items()}
        releases = demo_releases.ReleaseSeeder(
            created=self.created, regions=self.regions, engineers=engineers, clock=clock
        )
        releases.plan(agenda, extra_steps=[demo_incidents.RERANKER_V2_TO_PRODUCTION])
        incidents = demo_incidents.IncidentSeeder(created=self.created, regions=self.regions, clock=clock)
        incidents.plan(agenda)
        demo_freshness.plan_freshness(agenda, clock, created=self.created, engineers=engineers)
        demo_monitoring.plan_monitoring(agenda, clock, created=self.created)
        agenda.add(clock.workday(8, "15:00"), lambda: seed_drills(created=self.created))
        agenda.add(clock.workday(2, "11:00"), lambda: seed_compliance(created=self.created))
        agenda.add(clock.workday(1, "16:30"), lambda: seed_packs(created=self.created))
        agenda.add(clock.workday(1, "17:00"), lambda: seed_standards(created=self.created))
        demo_access_reviews.plan_access_reviews(agenda, clock, created=self.created)
        agenda.add(clock.real_now, lambda: seed_webhooks(created=self.created))  # now: seeding delivers nothing
        agenda.add(clock.real_now, self.seed_routing)
        demo_readiness.plan_readiness(agenda, clock, created=self.created)  # last: today's snapshot
        agenda.run()
        self.skipped.extend(releases.skipped + incidents.skipped)
        # Decisions and checklists computed at a past moment must not be served now: start a new epoch.
        transaction.on_commit(routing_cache.invalidate, robust=True)

    def seed_routing(self) -> None:
        self.router_token = seed_routing(created=self.created)

    # --- People ------------------------------------------------------------------------------

    def seed_users(self) -> None:
        User = get_user_model()
        for username, first, last, _roles in demo_data.USERS:
            user = User.objects.filter(username=username).first()
            if user is None:
                user = User.objects.create_user(
                    username=username,
                    email=demo_email(first, last),
                    password=self.password,
                    first_name=first,
                    last_name=last,
                )
                self.created["users"] += 1
            elif self.reset_passwords:
                user.set_password(self.password)
                user.save(update_fields=["password"])
            else:
                self.kept_passwords += 1
            self.users[username] = user

    def seed_roles(self) -> None:
        for role in Role.values:
            Group.objects.get_or_create(name=role)
        self.governance = self.users["governance"]
        self._bootstrap_governance(self.governance)
        for username, _first, _last, roles in demo_data.USERS:
            user = self.users[username]
            for role in roles:
                if not user.groups.filter(name=role).exists():
                    role_grant(actor=self.governance, user=user, role=role, reason="Demo data: the persona's role.")
                    self.created["role grants"] += 1

    def _bootstrap_governance(self, user) -> None:
        """role_grant needs a governance actor; the first one is added to the group directly, and recorded."""
        group = Group.objects.get(name=Role.GOVERNANCE)
        if group.user_set.filter(pk=user.pk).exists():
            return
        group.user_set.add(user)
        Membership.objects.get_or_create(
            user=user, group=group, source=MembershipSource.MANUAL, defaults={"reason": "seed_demo bootstrap"}
        )
        forget_cached_rights(user)
        audit_record(
            actor=None,
            action="role.granted",
            object_type="user",
            object_id=user.pk,
            payload={"user": user.get_username(), "role": Role.GOVERNANCE, "via": "seed_demo bootstrap"},
        )
        self.created["role grants"] += 1

    def seed_teams(self) -> None:
        for spec in demo_data.TEAMS:
            team = Team.objects.filter(slug=spec["slug"]).first()
            if team is None:
                team = team_create(
                    actor=self.governance, slug=spec["slug"], name=spec["name"], description=spec["description"]
                )
                self.created["teams"] += 1
            for username in spec["members"]:
                user = self.users[username]
                if not team.group.user_set.filter(pk=user.pk).exists():
                    team_member_add(
                        actor=self.governance, team=team, user=user, reason="Demo data: the persona's team."
                    )
                    self.created["team memberships"] += 1
            self.teams[spec["slug"]] = team

    # --- Catalog -----------------------------------------------------------------------------

    def seed_vendors_and_models(self) -> None:
        for spec in demo_data.VENDORS:
            if not Vendor.objects.filter(slug=spec["slug"]).exists():
                vendor_create(actor=self.governance, **spec)
                self.created["vendors"] += 1
        for spec in demo_data.MODELS:
            vendor = Vendor.objects.get(slug=spec["vendor"])
            if CatalogModel.objects.filter(vendor=vendor, identifier=spec["identifier"]).exists():
                continue
            days = spec.get("deprecated_in_days")
            catalog_model_create(
                actor=self.governance,
                vendor=vendor,
                identifier=spec["identifier"],
                display_name=spec["display_name"],
                context_window=spec["context_window"],
                regions=self._regions(spec["regions"]),
                modality=spec.get("modality", "text"),
                status=spec.get("status", "approved"),
                deprecation_date=(self.now + timedelta(days=days)).date() if days is not None else None,
                notes=spec.get("notes", ""),
            )
            self.created["models"] += 1

    def seed_prompts(self) -> None:
        for name, (author, templates) in demo_data.PROMPTS.items():
            for number, template in enumerate(templates, start=1):
                if PromptVersion.objects.filter(name=name, version=number).exists():
                    continue
                prompt = prompt_version_create(actor=self.users[author], name=name, template=template)
                self._expect_number(prompt, prompt.version, number)
                self.created["prompt versions"] += 1

    def seed_policy_packs(self) -> None:
        for name, versions in demo_data.POLICY_PACKS.items():
            for number, spec in enumerate(versions, start=1):
                if PolicyPack.objects.filter(name=name, version=number).exists():
                    continue
                pack = policy_pack_create(
                    actor=self.governance,
                    name=name,
                    allowed_regions=self._regions(spec["regions"]),
                    description=spec["description"],
                    safety_requirements=spec["safety"],
                    allowed_tools=spec["tools"],
                    data_classifications=spec["classifications"],
                )
                self._expect_number(pack, pack.version, number)
                self.created["policy packs"] += 1

    def seed_datasets(self) -> None:
        for name, version, team_slug, classification, uri, description in demo_data.DATASETS:
            if Dataset.objects.filter(name=name, version=version).exists():
                continue
            dataset_create(
                actor=self.users[self.team_specs[team_slug]["engineer"]],
                name=name,
                version=version,
                uri=uri,
                classification=classification,
                owner=self.teams[team_slug],
                description=description,
            )
            self.created["datasets"] += 1

    # --- Features, versions, evidence --------------------------------------------------------------

    def plan_feature(self, spec: dict) -> None:
        """The registration on its day, each version on its own, its evaluations on the mornings after
        their nightly runs, and its submission once they are in."""
        registered, created = demo_data.FEATURE_TIMELINE[spec["slug"]]
        clock = self.clock
        self.agenda.add(
            clock.jitter(clock.workday(registered, "09:20"), spec["slug"], 90), lambda: self.seed_feature(spec)
        )
        for number, (ago, version_spec) in enumerate(zip(created, spec["versions"], strict=True), start=1):
            key = (spec["slug"], number)
            made = clock.jitter(clock.workday(ago, "10:15"), f"{key}", 200)
            self.agenda.add(made, lambda key=key, version_spec=version_spec: self.seed_version(key, version_spec))
            evaluations = version_spec.get("evals", [])
            for evaluation in evaluations:
                days = evaluation[5]
                if days >= ago:
                    raise ValueError(f"{spec['slug']} v{number}: an evaluation runs before the version is made")
                recorded = clock.jitter(clock.workday(days, "09:20"), f"{key} {evaluation[:3]}", 60)
                run_at = clock.jitter(clock.workday(days, "01:30"), f"{key} {evaluation[:3]} run", 90)
                self.agenda.add(
                    recorded,
                    lambda key=key, evaluation=evaluation, run_at=run_at: self.seed_evaluation(
                        key, evaluation, run_at=run_at
                    ),
                )
            if not version_spec.get("draft"):
                last_evaluated = min((evaluation[5] for evaluation in evaluations), default=None)
                submitted = (
                    clock.workday(last_evaluated, "11:30")
                    if last_evaluated is not None
                    else clock.workday(ago, "16:00")
                )
                self.agenda.add(submitted, lambda key=key: self.submit_version(key))

    def _team_people(self, spec: dict):
        team_spec = self.team_specs[spec["team"]]
        return team_spec, self.users[team_spec["owner"]], self.users[team_spec["engineer"]]

    def seed_feature(self, spec: dict) -> None:
        team_spec, owner, engineer = self._team_people(spec)
        if AIFeature.objects.filter(slug=spec["slug"]).exists():
            return
        fields = {name: spec[name] for name in FEATURE_TEXT_FIELDS if name in spec}
        feature_create(
            actor=owner,
            regions=self._regions(spec["regions"]),
            team=self.teams[spec["team"]],
            accountable_owner=owner,
            incident_owner=engineer,
            escalation_path=spec.get("escalation_path") or self._escalation(team_spec),
            **fields,
        )
        self.created["features"] += 1

    def seed_version(self, key: tuple[str, int], spec: dict) -> None:
        slug, number = key
        feature = AIFeature.objects.get(slug=slug)
        if feature.versions.filter(number=number).exists():
            return  # present already: its evidence and status are left as they are
        _team_spec, _owner, engineer = self._team_people(self.feature_specs[slug])
        version = version_create(
            actor=engineer,
            feature=feature,
            model=self._model(spec["model"]),
            fallback_models=[self._model(ref) for ref in spec.get("fallbacks", [])],
            prompt=self._prompt(spec["prompt"]),
            policy_pack=self._policy_pack(spec["policy"]),
            retrieval_index=spec.get("index", ""),
            tools=[{"name": name, "scopes": scopes} for name, scopes in spec.get("tools", {}).items()],
            datasets=[
                (Dataset.objects.get(name=name, version=v), usage) for name, v, usage in spec.get("datasets", [])
            ],
            parameters=spec.get("params", {}),
            change_summary=spec["summary"],
        )
        self._expect_number(version, version.number, number)
        self.created["versions"] += 1
        self.new_versions[key] = version

    def seed_evaluation(self, key: tuple[str, int], evaluation: tuple, *, run_at) -> None:
        version = self.new_versions.get(key)
        if version is None:
            return  # the version was there before this run: its evidence is left as it is
        _team_spec, _owner, engineer = self._team_people(self.feature_specs[key[0]])
        demo_releases.record_demo_evaluation(
            actor=engineer, version=version, spec=evaluation, regions=self.regions, run_at=run_at
        )
        self.created["evaluations"] += 1

    def submit_version(self, key: tuple[str, int]) -> None:
        version = self.new_versions.get(key)
        if version is None:
            return
        _team_spec, _owner, engineer = self._team_people(self.feature_specs[key[0]])
        version_submit(actor=engineer, version=version)

    # --- Look-ups ----------------------------------------------------------------------------------

    def _regions(self, codes: list[str]) -> list[Region]:
        return [self.regions[code] for code in codes]

    @staticmethod
    def _model(reference: str) -> CatalogModel:
        vendor_slug, identifier = reference.split("/", 1)
        return CatalogModel.objects.select_related("vendor").get(vendor__slug=vendor_slug, identifier=identifier)

    @staticmethod
    def _prompt(reference: str) -> PromptVersion:
        name, number = reference.split("@")
        return PromptVersion.objects.get(name=name, version=int(number))

    @staticmethod
    def _policy_pack(reference: str) -> PolicyPack:
        name, number = reference.split("@")
        return PolicyPack.objects.get(name=name, version=int(number))

    def _escalation(self, team_spec: dict) -> str:
        engineer, owner = self.users[team_spec["engineer"]], self.users[team_spec["owner"]]
        return (
            f"1. {team_spec['name']} on-call (PagerDuty: {team_spec['slug']}-ai)\n"
            f"2. {engineer.get_full_name()}, ML engineer\n"
            f"3. {owner.get_full_name()}, product owner\n"
            f"4. Head of {team_spec['name']}"
        )

    @staticmethod
    def _expect_number(instance, got: int, expected: int) -> None:
        """Numbers are assigned by the services; the demo's references assume they match the data order."""
        if got != expected:
            raise RuntimeError(f"{instance} was numbered {got}, expected {expected}: existing data is out of step.")
