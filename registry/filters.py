"""FilterSets shared by the list pages and the API list endpoints."""

import django_filters
from django import forms
from django.db import connection
from django.db.models import Q
from django.utils.html import format_html, format_html_join

from core.audit_context import AuditSource
from core.filters import Column, SearchFilterSet, SortFilter, rank
from core.widgets import PlainSelect
from registry.choices import (
    RISK_TIER_ORDER,
    DataClassification,
    DeploymentEventKind,
    Environment,
    EvaluationKind,
    FeatureStatus,
    ModelStatus,
    RiskTier,
    VendorStatus,
    VersionStatus,
)
from registry.models import (
    AIFeature,
    AuditEvent,
    CatalogModel,
    Dataset,
    Deployment,
    DeploymentEvent,
    Evaluation,
    FeatureVersion,
    PolicyPack,
    PromptVersion,
    ReadRecord,
    Region,
    Team,
    Vendor,
)


def team_filter(**options) -> django_filters.ModelChoiceFilter:
    """The team filter of a list: every team by name, chosen by slug (``options``: ``field_name``, ``method``,
    ``label``). Its select is written in Python (``PlainSelect``): with hundreds of teams Django's per-option
    templates were a third of a list page's time."""
    return django_filters.ModelChoiceFilter(
        queryset=Team.objects.order_by("name").only("pk", "slug", "name"),
        to_field_name="slug",
        empty_label="All teams",
        widget=PlainSelect,
        **options,
    )


class FeatureFilter(SearchFilterSet):
    search_fields = ("name", "slug", "purpose", "team__name")
    team = team_filter()
    risk_tier = django_filters.ChoiceFilter(choices=RiskTier.choices, empty_label="All tiers")
    region = django_filters.ModelChoiceFilter(
        field_name="regions", queryset=Region.objects.order_by("code"), to_field_name="code", empty_label="All regions"
    )
    status = django_filters.ChoiceFilter(choices=FeatureStatus.choices, empty_label="All statuses")
    ordering = SortFilter(
        Column("name", "Feature"),
        Column("team", "Team", "team__name"),
        Column("risk_tier", "Risk tier", rank("risk_tier", RISK_TIER_ORDER), descending_first=True),
        Column("status", "Status"),
        Column("owner", "Accountable owner", "accountable_owner__first_name"),
        Column("updated", "Updated", "updated_at", descending_first=True),
        default="name",
    )

    class Meta:
        model = AIFeature
        fields = ["q", "team", "risk_tier", "region", "status"]


class VersionFilter(SearchFilterSet):
    search_fields = ("feature__name", "feature__slug", "change_summary", "model__identifier")
    feature = django_filters.CharFilter(field_name="feature__slug", label="Feature (slug)")
    status = django_filters.ChoiceFilter(choices=VersionStatus.choices)
    model = django_filters.ModelChoiceFilter(queryset=CatalogModel.objects.all())

    class Meta:
        model = FeatureVersion
        fields = ["q", "feature", "status", "model"]


class EvaluationFilter(SearchFilterSet):
    search_fields = ("suite", "metric", "version__feature__name")
    feature = django_filters.CharFilter(field_name="version__feature__slug", label="Feature (slug)")
    version = django_filters.NumberFilter(
        field_name="version_id", label="Version id", min_value=1, max_value=2**63 - 1
    )  # an id beyond the column's range is a 400, not a database error
    kind = django_filters.ChoiceFilter(choices=EvaluationKind.choices)
    passed = django_filters.TypedChoiceFilter(
        choices=[("true", "Passed"), ("false", "Failed")],
        coerce=lambda value: value == "true",
        help_text="true or false; anything else is an error, not 'everything'.",
    )

    class Meta:
        model = Evaluation
        fields = ["q", "feature", "version", "kind", "passed"]


def distinct_values(model, field: str) -> list[str]:
    """The distinct non-null values of an indexed column, in order, read one value at a time along its
    index (a recursive "skip scan": each step asks for the first value after the last one) instead of
    sorting every row: a few dozen index lookups for a million audit events. PostgreSQL and SQLite."""
    table = connection.ops.quote_name(model._meta.db_table)
    column = connection.ops.quote_name(model._meta.get_field(field).column)
    sql = (
        f"WITH RECURSIVE found(value) AS ("
        f"SELECT * FROM (SELECT {column} FROM {table} WHERE {column} IS NOT NULL ORDER BY {column} LIMIT 1) first "
        f"UNION ALL SELECT (SELECT {column} FROM {table} WHERE {column} > found.value ORDER BY {column} LIMIT 1) "
        f"FROM found WHERE found.value IS NOT NULL"
        f") SELECT value FROM found WHERE value IS NOT NULL"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return [value for (value,) in cursor.fetchall()]


def _audit_action_choices():
    from registry.audit_display import action_label

    actions = distinct_values(AuditEvent, "action")
    return sorted(((action, action_label(action)) for action in actions), key=lambda pair: pair[1])


def _audit_object_type_choices():
    from registry.audit_display import type_label

    types = distinct_values(AuditEvent, "object_type")
    return sorted(((object_type, type_label(object_type)) for object_type in types), key=lambda pair: pair[1])


RECENT_ACTORS = 50  # the "Who" box's suggestions: the people who acted most recently
RECENT_ACTORS_WINDOW = 1000  # ... among the newest events, read backwards along the sequence index


def recent_actors(events, *, limit: int | None = None, window: int | None = None) -> list[tuple[str, str]]:
    """The actors of the newest ``window`` of ``events`` (a queryset of the events the reader may see, so a
    name only hidden events hold is never suggested), most recent first, at most ``limit`` of them, as
    ``(actor name, full name or "")``. Two queries whatever the size of the trail or the number of people."""
    limit = limit or RECENT_ACTORS
    window = window or RECENT_ACTORS_WINDOW
    names: list[str] = []
    seen: set[str] = set()
    for name in events.order_by("-sequence").values_list("actor_name", flat=True)[:window]:
        if name not in seen:
            seen.add(name)
            names.append(name)
            if len(names) == limit:
                break
    if not names:
        return []
    from django.contrib.auth import get_user_model

    full = {
        username: f"{first} {last}".strip()
        for username, first, last in get_user_model()
        .objects.filter(username__in=names)
        .values_list("username", "first_name", "last_name")
    }
    return [(name, full.get(name, "")) for name in names]


class ActorInput(forms.TextInput):
    """The "Who" box: a name typed (matched exactly, along the index on ``actor_name``), with a ``<datalist>``
    of a bounded number of suggestions. A ``<select>`` of every actor the trail holds grew with it (1,532
    people: most of the page's time at a million events). ``suggestions`` is a list of ``(value, label)`` or
    a callable giving one, called only when the box is drawn (never for the CSV or the API)."""

    def __init__(self, attrs=None):
        super().__init__({"autocomplete": "off", "spellcheck": "false", **(attrs or {})})
        self.suggestions = ()

    def render(self, name, value, attrs=None, renderer=None):
        attrs = dict(attrs or {})
        list_id = f"{attrs.get('id') or 'id_' + name}-suggestions"
        attrs["list"] = list_id
        suggestions = self.suggestions() if callable(self.suggestions) else self.suggestions
        options = format_html_join("\n", '<option value="{}">{}</option>', suggestions)
        return format_html(
            '{}<datalist id="{}">{}</datalist>', super().render(name, value, attrs, renderer), list_id, options
        )


class AuditEventFilter(SearchFilterSet):
    """The audit trail's filters, shared by its page, its CSV download and the API. Actions and object types
    are chosen among those the trail holds; the actor is typed (its username), with the most recent ones
    suggested from the events the reader may see."""

    search_fields = ("action", "object_repr", "actor_name", "request_id")
    actor = django_filters.CharFilter(
        field_name="actor_name",
        label="Who",
        max_length=150,
        widget=ActorInput(attrs={"placeholder": "Anyone"}),
        help_text='A username, exactly as the trail records it ("system" for Gatehouse itself).',
    )
    action = django_filters.ChoiceFilter(label="Action", choices=_audit_action_choices, empty_label="Any action")
    object_type = django_filters.ChoiceFilter(
        label="Object type", choices=_audit_object_type_choices, empty_label="Any object"
    )
    object = django_filters.CharFilter(
        method="filter_object", label="Object (id or name)", help_text="Its id, or part of its name."
    )
    feature = django_filters.CharFilter(field_name="feature__slug", label="Feature (slug)")
    source = django_filters.ChoiceFilter(choices=AuditSource.choices, empty_label="All sources")
    since = django_filters.DateFilter(
        field_name="at", lookup_expr="date__gte", label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    until = django_filters.DateFilter(
        field_name="at", lookup_expr="date__lte", label="To", widget=forms.DateInput(attrs={"type": "date"})
    )
    sequence = django_filters.NumberFilter(label="Event #", min_value=1)
    ordering = SortFilter(
        Column("sequence", "#", descending_first=True),
        Column("when", "When", "at", descending_first=True),
        Column("who", "Who", "actor_name"),
        Column("action", "Action"),
        Column("object", "Object", ["object_type", "object_repr"]),
        default="-sequence",
    )

    class Meta:
        model = AuditEvent
        fields = ["q", "actor", "action", "object_type", "object", "feature", "source", "since", "until", "sequence"]

    @property
    def form(self):
        form = super().form
        widget = form.fields["actor"].widget
        if isinstance(widget, ActorInput) and not widget.suggestions:
            events = self.queryset  # the events the reader may see: the page's own reader
            widget.suggestions = lambda: recent_actors(events)
        return form

    def filter_object(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(object_id=value) | Q(object_repr__icontains=value))


class ReadRecordFilter(SearchFilterSet):
    search_fields = ("username", "feature__slug", "feature__name", "request_id")
    feature = django_filters.CharFilter(field_name="feature__slug", label="Feature (slug)")
    user = django_filters.CharFilter(field_name="username", label="Person (username)")
    source = django_filters.ChoiceFilter(choices=AuditSource.choices, empty_label="All sources")
    since = django_filters.DateFilter(
        field_name="at", lookup_expr="date__gte", label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    until = django_filters.DateFilter(
        field_name="at", lookup_expr="date__lte", label="To", widget=forms.DateInput(attrs={"type": "date"})
    )

    class Meta:
        model = ReadRecord
        fields = ["q", "feature", "user", "source", "since", "until"]


class VendorFilter(SearchFilterSet):
    search_fields = ("name", "slug", "notes")
    status = django_filters.ChoiceFilter(choices=VendorStatus.choices, empty_label="All statuses")

    class Meta:
        model = Vendor
        fields = ["q", "status"]


class CatalogModelFilter(SearchFilterSet):
    search_fields = ("identifier", "display_name", "vendor__name")
    vendor = django_filters.ModelChoiceFilter(
        queryset=Vendor.objects.order_by("name"), to_field_name="slug", empty_label="All vendors"
    )
    status = django_filters.ChoiceFilter(choices=ModelStatus.choices, empty_label="All statuses")
    region = django_filters.ModelChoiceFilter(
        field_name="regions", queryset=Region.objects.order_by("code"), to_field_name="code", empty_label="All regions"
    )

    class Meta:
        model = CatalogModel
        fields = ["q", "vendor", "status", "region"]


class PromptVersionFilter(SearchFilterSet):
    search_fields = ("name", "template", "notes")
    name = django_filters.CharFilter(label="Prompt name")

    class Meta:
        model = PromptVersion
        fields = ["q", "name"]


class PolicyPackFilter(SearchFilterSet):
    search_fields = ("name", "description")
    region = django_filters.ModelChoiceFilter(
        field_name="allowed_regions",
        queryset=Region.objects.order_by("code"),
        to_field_name="code",
        empty_label="All regions",
    )

    class Meta:
        model = PolicyPack
        fields = ["q", "region"]


class DatasetFilter(SearchFilterSet):
    search_fields = ("name", "uri", "description")
    classification = django_filters.ChoiceFilter(choices=DataClassification.choices, empty_label="All classifications")
    owner = team_filter()

    class Meta:
        model = Dataset
        fields = ["q", "classification", "owner"]


class DeploymentFilter(django_filters.FilterSet):
    feature = django_filters.CharFilter(field_name="feature__slug", label="Feature (slug)")
    environment = django_filters.ChoiceFilter(choices=Environment.choices)
    region = django_filters.CharFilter(field_name="region__code", label="Region code")

    class Meta:
        model = Deployment
        fields = ["feature", "environment", "region"]


class DeploymentEventFilter(DeploymentFilter):
    kind = django_filters.ChoiceFilter(choices=DeploymentEventKind.choices)

    class Meta:
        model = DeploymentEvent
        fields = ["feature", "environment", "region", "kind"]
