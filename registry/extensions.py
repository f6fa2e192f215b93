"""Where the apps built on the registry plug in, without the registry importing them.

- ``promotion_guards``: callables ``(feature, *, version=None, environment=None) -> str | None``. A
  string is a reason promotions of the feature are refused right now (e.g. an open SEV1 incident).
  ``version`` and ``environment`` say which promotion is asked for, when one is (a guard may let a
  promotion through that fixes what it guards against); without them, the answer is for promotions
  in general. Rollbacks are never guarded.
- ``rollback_preparers``: callables ``(feature, deployment, *, actor, to_version, reason, incident_id) -> None``
  called by ``deployment_rollback`` inside its transaction, once the pointer is locked and the rollback
  checked, before anything changes (``deployment.version`` is still the version being left): the place to
  keep what the rollback is about to change. ``incident_id`` names the incident the rollback is made from,
  if any (incidents: an evidence snapshot of a serious incident). A preparer never refuses a rollback.
- ``feature_panels``: callables ``(request, feature, version=None) -> dict | None`` returning
  ``{"title": ..., "template": ..., "context": {...}}``: extra sections on the feature and version pages.
- ``catalog_panels``: callables ``(request, kind, entry) -> dict | None`` (kind ``"vendor"``, ``"model"``,
  ``"prompt"``, ``"policy"`` or ``"dataset"``), returning a panel as ``feature_panels`` do: extra sections
  on the catalog pages. A provider returns None for kinds it has nothing to say about.
- ``audit_listeners``: callables ``(events) -> None`` given the ``AuditEvent`` rows just appended, inside
  the transaction that made the change (after the chain lock: a listener inserts, it never locks).
  Every audited write passes here, whatever its path (page, API, task, command): the place to derive
  work that must commit with the change or not at all (an outbox of webhook deliveries) or to
  schedule work after the commit (cache invalidation, with ``transaction.on_commit``).
- ``checkpoint_listeners``: callables ``(checkpoint) -> None`` given each signed audit checkpoint
  (``registry.services.audit.Checkpoint``) inside the transaction that stores it: the place to publish it
  further (the webhook stream).
- ``badge_providers``: callables ``(kind, ids, user) -> {id: [badge, ...]}`` where kind is ``"feature"``
  or ``"version"`` (a provider returns nothing about features ``user`` may not see) and a badge is ``{"label", "tone", "title", "url"}`` (tone: ``warn`` or ``bad``). One
  call per page for all its rows, so a list stays a constant number of queries.

- ``route_previews``: callables ``(version, *, environment, regions) -> {region code: answer}``: what
  resolve would answer were ``version`` live in ``environment`` in each region, all else as it is now. An
  answer is ``{"serves": bool, "summary": str, "refusal": str, "reasons": [str], "warnings": [str]}``;
  ``refusal`` is resolve's reason the version itself could not serve there (its policy pack's residency,
  no model hosted there, a suspended vendor or model), "" when it could (a paused feature serves nothing,
  but that is no reason to refuse the version a region). Routing registers the one provider; without it
  nothing is refused.
- ``route_checks``: callables ``(deployments) -> {deployment id: refusal}``: the live pointers among
  ``deployments`` that resolve refuses now for the version live there (a suspension or a policy change
  since it went live), with resolve's reason.
- ``route_screens``: callables ``(deployments, *, viewer=None) -> [deployment id]``: the ids of the live
  pointers among ``deployments`` that resolve refuses now (what ``route_checks`` flag), by feature name,
  environment and region code, without resolve's words: a count and a first page of them (the dashboard)
  whatever their number. ``viewer`` (``registry.selectors.visibility_key``) says the queryset is every
  live pointer of the features that viewer sees: a provider may then keep the answer for the next visit of
  anyone who sees the same.
- ``membership_listeners``: callables ``(user, *, actor, reason, removed_roles, joined_team_ids,
  left_team_ids) -> None`` called inside the transaction that changed a person's roles or teams, after
  the change: the place to make sure no open work of that person is left one they may no longer do
  (approvals withdraws, audited, a sign-off its signer could no longer give).
- ``membership_consequence_providers``: callables ``(user, *, removed_roles, joined_team_ids,
  left_team_ids) -> [str]``: what such a change would do, in sentences, for the page that asks to
  confirm it.
- ``sign_in_methods``: callables ``(request) -> dict | None`` returning ``{"label": ..., "url": ...}``: another
  way to sign in, offered as a button on the sign-in page (identity: single sign-on).
- ``password_sign_in_guards``: callables ``(request, username) -> str | None``. A string refuses a password
  sign-in as ``username`` with that reason, before the password is checked, on the app's sign-in page and
  Django admin's alike; asked with ``username=""``, it says whether the password form is offered at all
  (identity: password sign-in switched off but for break-glass accounts).
- ``home_panels``: callables ``(request) -> dict | None`` returning ``{"template": ..., "context": {...}}``
  and optionally ``"position"`` (lower first; 50 by default): extra sections of the dashboard
  (``registry:home``), each template a whole section. A provider returns None when the signed-in
  person's role has no use for it (approvals: a reviewer's queue with due dates and governance's
  sign-offs by role and age; incidents: open incidents for support and governance; readiness: an
  owner's features and what blocks them, governance's readiness by tier; identity: deactivated people
  whose open work still names them).
- ``posture_figures``: callables ``(request) -> list[dict]``, each dict ``{"label", "value", "href", "tone",
  "position"}``: the headline figures of the organisation's posture at the top of the dashboard of
  those who see every feature (governance, auditors); ``tone`` is ``ok``, ``warn`` or ``bad``. A provider
  that also has a home panel reads its counts once per request (``core.memo.once_per_request``).
- ``audit_object_links``: ``{object type: callable (ids, user) -> {id: url}}``: where the audit trail links
  the object an event is about (object types are model names: ``"approvalrequest"``), for a page of ids of
  one type at once, as strings. A provider answers only the ids whose object ``user`` may open; the others
  are shown by the name the event recorded, unlinked. Registry registers its own types; an app registers
  those of its models (``register_audit_object_links``).

Apps register in ``AppConfig.ready``.
"""

from __future__ import annotations

from collections.abc import Callable

promotion_guards: list[Callable] = []
rollback_preparers: list[Callable] = []
feature_panels: list[Callable] = []
badge_providers: list[Callable] = []
audit_listeners: list[Callable] = []
checkpoint_listeners: list[Callable] = []
catalog_panels: list[Callable] = []
route_previews: list[Callable] = []
route_checks: list[Callable] = []
route_screens: list[Callable] = []
membership_listeners: list[Callable] = []
membership_consequence_providers: list[Callable] = []
sign_in_methods: list[Callable] = []
password_sign_in_guards: list[Callable] = []


def sign_in_methods_for(request) -> list[dict]:
    return [method for provider in sign_in_methods if (method := provider(request))]


def password_sign_in_refusal(request, username: str) -> str | None:
    """The first guard's reason to refuse a password sign-in as ``username`` (``""``: anyone), or None."""
    return next((reason for guard in password_sign_in_guards if (reason := guard(request, username))), None)


home_panels: list[Callable] = []
audit_object_links: dict[str, Callable] = {}


def register_audit_object_links(object_type: str, provider: Callable) -> None:
    audit_object_links[object_type] = provider


def home_panels_for(request) -> list[dict]:
    panels = [panel for provider in home_panels if (panel := provider(request))]
    return sorted(panels, key=lambda panel: panel.get("position", 50))


posture_figures: list[Callable] = []


def posture_figures_for(request) -> list[dict]:
    figures = [figure for provider in posture_figures for figure in provider(request)]
    return sorted(figures, key=lambda figure: figure.get("position", 50))


def register(point: list[Callable], *providers: Callable) -> None:
    """Add providers to an extension point once, however often an app's ``ready`` runs."""
    for provider in providers:
        if provider not in point:
            point.append(provider)


def membership_changed(user, **change) -> None:
    for listener in membership_listeners:
        listener(user, **change)


def membership_consequences(user, **change) -> list[str]:
    return [line for provider in membership_consequence_providers for line in provider(user, **change)]


def audit_appended(events) -> None:
    for listener in audit_listeners:
        listener(events)


def audit_checkpointed(checkpoint) -> None:
    for listener in checkpoint_listeners:
        listener(checkpoint)


def rollback_prepare(feature, deployment, **rollback) -> None:
    for preparer in rollback_preparers:
        preparer(feature, deployment, **rollback)


def promotion_blockers(feature, *, version=None, environment=None) -> list[str]:
    """Every reason promotions of ``feature`` (of ``version`` to ``environment``, if given) are refused now."""
    return [
        reason for guard in promotion_guards if (reason := guard(feature, version=version, environment=environment))
    ]


def panels_for(request, feature, version=None) -> list[dict]:
    return [panel for provider in feature_panels if (panel := provider(request, feature, version))]


def catalog_panels_for(request, kind: str, entry) -> list[dict]:
    return [panel for provider in catalog_panels if (panel := provider(request, kind, entry))]


def badges_for(kind: str, ids, *, user) -> dict[int, list[dict]]:
    """Every provider's badges for these features or versions, by id, as ``user`` may see them."""
    ids = [pk for pk in ids if pk is not None]
    found: dict[int, list[dict]] = {}
    if not ids:
        return found
    for provider in badge_providers:
        for pk, badges in provider(kind, ids, user).items():
            found.setdefault(pk, []).extend(badges)
    return found


def attach_badges(kind: str, objects, *, user, attr: str = "pk") -> None:
    """Set ``.badges`` on each object (a feature or version, or anything whose ``attr`` is its id)."""
    objects = list(objects)
    badges = badges_for(kind, [getattr(obj, attr) for obj in objects], user=user)
    for obj in objects:
        obj.badges = badges.get(getattr(obj, attr), [])


def route_preview(version, *, environment: str, regions) -> dict[str, dict]:
    """What resolve would answer, per region code, were ``version`` live there (see ``route_previews``)."""
    regions = list(regions)
    found: dict[str, dict] = {}
    if not regions:
        return found
    for provider in route_previews:
        for code, answer in provider(version, environment=environment, regions=regions).items():
            found.setdefault(code, answer)
    return found


def route_refusals(version, *, environment: str, regions) -> dict[str, str]:
    """The regions, by code, where ``version`` could not serve, with resolve's reason (none: {})."""
    return {
        code: answer["refusal"]
        for code, answer in route_preview(version, environment=environment, regions=regions).items()
        if answer["refusal"]
    }


def refused_routes(deployments) -> dict[int, str]:
    """The live pointers among ``deployments`` (a queryset) that resolve now refuses, by id, with its reason."""
    found: dict[int, str] = {}
    for check in route_checks:
        for pk, refusal in check(deployments).items():
            found.setdefault(pk, refusal)
    return found


def refused_route_ids(deployments, *, viewer: str | None = None) -> list[int]:
    """The ids of the live pointers among ``deployments`` that resolve refuses now, in the providers' order
    (feature name, environment, region code), without their reasons (``refused_routes`` gives those).
    ``viewer``: as for ``route_screens``."""
    found: dict[int, None] = {}
    for screen in route_screens:
        found.update(dict.fromkeys(screen(deployments, viewer=viewer)))
    return list(found)
