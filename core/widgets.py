"""Form widgets whose size does not grow with the data."""

from __future__ import annotations

import json

from django import forms
from django.forms.utils import flatatt
from django.utils import timezone
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import mark_safe


class SuggestionsInput(forms.TextInput):
    """A text box for a natural key (a feature's slug, a username) that suggests matches as you type.

    It stands in for a ``<select>`` of every row: at 5,000 features such a select is 280 kB of HTML and a
    quarter of a second of rendering on every view of the page, and it grows with the data. This renders
    the one value; when the box gets focus and as the user types, htmx asks ``suggestions_url`` (a
    ``SuggestionsView``) for a few ``<option>``s and puts them in the box's ``<datalist>``. htmx sends the
    box's value under the field's own name. Without JavaScript it is a plain text box: type the key.

    ``suggestions_url`` may be set after construction (a form sets it per object, e.g. per incident).
    """

    def __init__(self, attrs=None, *, suggestions_url: str = ""):
        super().__init__({"autocomplete": "off", **(attrs or {})})
        self.suggestions_url = suggestions_url

    def render(self, name, value, attrs=None, renderer=None):
        if not self.suggestions_url:
            return super().render(name, value, attrs, renderer)
        attrs = dict(attrs or {})
        list_id = f"{attrs.get('id') or 'id_' + name}-suggestions"
        attrs.update(
            {
                "list": list_id,
                "hx-get": str(self.suggestions_url),
                "hx-trigger": "focus once, input changed delay:200ms",
                "hx-target": f"#{list_id}",
                "hx-sync": "this:replace",
            }
        )
        return format_html('{}<datalist id="{}"></datalist>', super().render(name, value, attrs, renderer), list_id)


class PlainSelect(forms.Select):
    """A ``<select>`` written in Python: the same markup as Django's, without a template include and an
    option dictionary per option.

    For a list filter of every team: Django renders each option through its own template, about 40 µs
    each, so 250 teams cost 11 ms of every view of the page. Here an option costs a string format."""

    def render(self, name, value, attrs=None, renderer=None):
        chosen = set(self.format_value(value))
        parts = [format_html('<select name="{}"{}>', name, flatatt(self.build_attrs(self.attrs, attrs)))]
        for option_value, label in self.choices:
            if isinstance(label, (list, tuple)):  # a group
                parts.append(format_html('<optgroup label="{}">', option_value))
                parts.extend(_option(inner, inner_label, chosen) for inner, inner_label in label)
                parts.append("</optgroup>")
            else:
                parts.append(_option(option_value, label, chosen))
        parts.append("</select>")
        return mark_safe("\n".join(parts))  # every value and label is escaped in _option


def _option(value, label, chosen: set[str]) -> str:
    value = "" if value is None else str(value)
    selected = " selected" if value in chosen else ""
    return f'<option value="{escape(value)}"{selected}>{escape(label)}</option>'


class RadioGroup(forms.RadioSelect):
    """Radio buttons for choices that must be read whole (a long label wraps; a menu option is cut), wrapped
    in a ``role="radiogroup"`` named ``label``: the field's own ``<label>`` has no single input to point to."""

    def __init__(self, attrs=None, choices=(), *, label: str = ""):
        super().__init__(attrs, choices)
        self.label = label

    def render(self, name, value, attrs=None, renderer=None):
        return format_html(
            '<div class="radio-group" role="radiogroup" aria-label="{}">{}</div>',
            self.label,
            super().render(name, value, attrs, renderer),
        )


def in_time_zone(field: forms.Field, note: str = "") -> forms.Field:
    """A date-time field reads its value in the person's time zone (set on their account): its help says which."""
    zone = f"In your time zone, {timezone.get_current_timezone_name()} (set on your account page)."
    field.help_text = f"{note} {zone}" if note else zone
    return field


def slug_from(field: forms.Field, source: str) -> forms.Field:
    """The slug box fills itself from the ``source`` box as the person types (static/js/gatehouse.js) until
    they edit the slug themselves. Without script it is a plain box."""
    field.widget.attrs["data-slug-from"] = source
    return field


_FILTER_BOX = (
    '<input type="search" class="picker-search" placeholder="Type to filter" autocomplete="off" '
    'aria-label="Filter the choices of {}" aria-controls="{}" data-picker-search hidden>'
)


class SearchableCheckboxes(forms.CheckboxSelectMultiple):
    """A multi-select people can search: a filter box over a scrolling list of checkboxes, the ones ticked
    always shown and counted (static/js/gatehouse.js). Without script it is the plain list of checkboxes."""

    def render(self, name, value, attrs=None, renderer=None):
        boxes = super().render(name, value, attrs, renderer)
        list_id = (attrs or {}).get("id") or f"id_{name}"
        return format_html(
            '<div class="picker" data-picker>' + _FILTER_BOX + '<div class="picker-options">{}</div>'
            '<p class="picker-count small muted" data-picker-count aria-live="polite"></p></div>',
            name.replace("_", " "),
            list_id,
            boxes,
        )


class SearchableSelect(forms.Select):
    """A select with a filter box that narrows its options as the person types (the chosen one stays)."""

    def render(self, name, value, attrs=None, renderer=None):
        select = super().render(name, value, attrs, renderer)
        select_id = (attrs or {}).get("id") or f"id_{name}"
        return format_html(
            '<div class="picker picker-select" data-picker>' + _FILTER_BOX + "{}</div>",
            name.replace("_", " "),
            select_id,
            select,
        )


class ToolsPicker(forms.Textarea):
    """A JSON list of tools, with the tools already declared elsewhere offered as searchable checkboxes:
    ticking one adds it (with its scopes) to the JSON below, unticking removes it (static/js/gatehouse.js).
    The JSON stays the value, to add a new tool or change scopes; without script it is the textarea alone.
    ``known`` is a list of ``{"name": ..., "scopes": [...]}``, set by the form."""

    known: list[dict] = []

    def render(self, name, value, attrs=None, renderer=None):
        textarea = super().render(name, value, attrs, renderer)
        if not self.known:
            return textarea
        area_id = (attrs or {}).get("id") or f"id_{name}"
        rows = format_html_join(
            "",
            '<div><label><input type="checkbox" data-tool="{}"> <code>{}</code> <span class="muted small">{}</span>'
            "</label></div>",
            (
                (json.dumps(tool), tool["name"], ", ".join(tool.get("scopes") or []) or "no scopes")
                for tool in self.known
            ),
        )
        return format_html(
            '<div class="picker" data-picker data-tools-for="{}">' + _FILTER_BOX + '<div class="picker-options">'
            '<div>{}</div></div><p class="picker-count small muted" data-picker-count aria-live="polite"></p></div>{}',
            area_id,
            "tools",
            area_id,
            rows,
            textarea,
        )
