"""factory_boy factories. Objects with an audit trail are made through services in tests that care;
factories make the plain rows around them."""

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from registry.choices import DataClassification, RiskTier, VersionStatus
from registry.models import (
    AIFeature,
    CatalogModel,
    Dataset,
    Deployment,
    Evaluation,
    FeatureVersion,
    PolicyPack,
    PromptVersion,
    Region,
    Team,
    Vendor,
)
from registry.permissions import feature_grant_to_team

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.test")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        for role in extracted or []:
            group, _ = Group.objects.get_or_create(name=role)
            self.groups.add(group)

    @factory.post_generation
    def teams(self, create, extracted, **kwargs):
        for team in extracted or []:
            self.groups.add(team.group)


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("code",)

    code = factory.Iterator(["eu", "us", "uk", "apac"])
    name = factory.LazyAttribute(lambda region: region.code.upper())


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"team-{n}")
    name = factory.LazyAttribute(lambda team: team.slug.replace("-", " ").title())
    group = factory.LazyAttribute(lambda team: Group.objects.get_or_create(name=f"team:{team.slug}")[0])


class VendorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Vendor
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"vendor-{n}")
    name = factory.LazyAttribute(lambda vendor: vendor.slug.title())
    status = "approved"


class CatalogModelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CatalogModel
        skip_postgeneration_save = True

    vendor = factory.SubFactory(VendorFactory)
    identifier = factory.Sequence(lambda n: f"model-{n}")
    context_window = 128000

    @factory.post_generation
    def regions(self, create, extracted, **kwargs):
        self.regions.set(extracted if extracted is not None else [RegionFactory(code="eu"), RegionFactory(code="us")])


class PromptVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PromptVersion

    name = factory.Sequence(lambda n: f"prompt-{n}")
    version = 1
    template = "You are a careful assistant. {{ question }}"
    content_hash = factory.LazyAttribute(lambda prompt: PromptVersion.hash_template(prompt.template))


class PolicyPackFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PolicyPack
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"policy-{n}")
    version = 1
    safety_requirements = ["No medical advice"]
    allowed_tools = [{"tool": "crm.lookup", "authorisation": "user-delegated"}]
    data_classifications = ["internal"]

    @factory.post_generation
    def allowed_regions(self, create, extracted, **kwargs):
        self.allowed_regions.set(extracted if extracted is not None else [RegionFactory(code="eu")])


class DatasetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Dataset

    name = factory.Sequence(lambda n: f"dataset-{n}")
    version = "2026-01"
    uri = factory.LazyAttribute(lambda dataset: f"s3://datasets/{dataset.name}")
    classification = DataClassification.INTERNAL
    owner = factory.SubFactory(TeamFactory)


class FeatureFactory(factory.django.DjangoModelFactory):
    """A feature with its team's object permissions granted, as ``feature_create`` would leave it."""

    class Meta:
        model = AIFeature
        skip_postgeneration_save = True

    slug = factory.Sequence(lambda n: f"feature-{n}")
    name = factory.LazyAttribute(lambda feature: feature.slug.replace("-", " ").title())
    purpose = "Helps staff answer questions faster."
    team = factory.SubFactory(TeamFactory)
    accountable_owner = factory.SubFactory(UserFactory)
    incident_owner = factory.SelfAttribute("accountable_owner")
    created_by = factory.SelfAttribute("accountable_owner")
    risk_tier = RiskTier.MEDIUM
    intended_uses = "Drafting answers for staff to review."
    disallowed_uses = "Decisions about people without review."
    data_classification = DataClassification.INTERNAL

    @factory.post_generation
    def regions(self, create, extracted, **kwargs):
        self.regions.set(extracted if extracted is not None else [RegionFactory(code="eu")])

    @factory.post_generation
    def grant(self, create, extracted, **kwargs):
        feature_grant_to_team(feature=self, team=self.team)


class VersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FeatureVersion

    feature = factory.SubFactory(FeatureFactory)
    number = factory.Sequence(lambda n: n + 1)
    status = VersionStatus.DRAFT
    model = factory.SubFactory(CatalogModelFactory)
    prompt = factory.SubFactory(PromptVersionFactory)
    policy_pack = factory.SubFactory(PolicyPackFactory)
    change_summary = "First version."
    author = factory.SelfAttribute("feature.accountable_owner")


class DeploymentFactory(factory.django.DjangoModelFactory):
    """A live pointer written as a row (no gate, no audit event): pass ``version`` and ``region``."""

    class Meta:
        model = Deployment

    version = factory.SubFactory(VersionFactory)
    feature = factory.SelfAttribute("version.feature")
    environment = "production"
    updated_at = factory.LazyFunction(timezone.now)
    updated_by = factory.SelfAttribute("feature.accountable_owner")


class EvaluationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Evaluation

    version = factory.SubFactory(VersionFactory)
    kind = "benchmark"
    suite = "helpfulness-v3"
    metric = "accuracy"
    score = 0.9
    threshold = 0.8
    higher_is_better = True
    passed = factory.LazyAttribute(
        lambda evaluation: Evaluation.score_passes(
            score=evaluation.score, threshold=evaluation.threshold, higher_is_better=evaluation.higher_is_better
        )
    )
    run_at = factory.LazyFunction(timezone.now)
    recorded_by = factory.SelfAttribute("version.author")
