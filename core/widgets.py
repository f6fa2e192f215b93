"""Form widgets whose size does not grow with the data."""

from __future__ import annotations

from django import forms
from django.utils.html import format_html


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
