from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe

register = template.Library()

_STATUS_STYLE = {
    "active": "ok",
    "approved": "ok",
    "submitted": "info",
    "passed": "ok",
    "draft": "muted",
    "proposed": "muted",
    "under_review": "warn",
    "paused": "warn",
    "deprecated": "warn",
    "retired": "muted",
    "suspended": "bad",
    "failed": "bad",
}


@register.simple_tag
def tier_badge(tier: str, label: str = ""):
    return format_html('<span class="badge tier-{}">{}</span>', tier, label or tier.title())


@register.simple_tag
def status_badge(status: str, label: str = ""):
    style = _STATUS_STYLE.get(status, "muted")
    return format_html('<span class="badge badge-{}">{}</span>', style, label or status.replace("_", " ").capitalize())


@register.simple_tag
def pass_badge(evaluation):
    if evaluation.passed:
        return mark_safe('<span class="badge badge-ok">passed</span>')
    return mark_safe('<span class="badge badge-bad">failed</span>')


@register.filter
def age_days(moment) -> int | None:
    if moment is None:
        return None
    return (timezone.now() - moment).days


@register.filter
def comparison(evaluation) -> str:
    sign = "≥" if evaluation.higher_is_better else "≤"
    return (
        f"{evaluation.score:g} {sign} {evaluation.threshold:g}"
        if evaluation.passed
        else f"{evaluation.score:g} vs {sign} {evaluation.threshold:g}"
    )


@register.filter
def number(value) -> str:
    """A score as recorded (no rounding that could make a failure look like a pass)."""
    return "—" if value is None else f"{value:g}"


@register.simple_tag
def person(user):
    """A person as every page names them: the full name, with the username on hover (the username alone
    when no name is recorded).

    Never an error, whatever it is given: nobody (None, or the empty string a template gives for a lookup
    through a missing object, e.g. ``event.actor`` when there is no event) is "—"; a name recorded as text
    (a system or source such as "system" or "alertmanager") is shown as it is.
    """
    if user is None or user == "":
        return "—"
    if not hasattr(user, "get_username"):
        return format_html('<span class="person">{}</span>', user)
    username = user.get_username()
    name = user.get_full_name()
    if not name:
        return format_html('<span class="person">{}</span>', username)
    return format_html('<span class="person" title="{}">{}</span>', username, name)
