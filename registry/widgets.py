"""Form fields for the registry's own objects."""

from __future__ import annotations

from django import forms
from django.urls import reverse_lazy

from core.widgets import SuggestionsInput


class FeatureSlugField(forms.ModelChoiceField):
    """A feature named by slug in a box that suggests the features the user may see (set ``queryset`` to
    them in the form's ``__init__``: it is what the box accepts, so a restricted feature's slug typed by
    someone who may not see it gets the error an unknown slug gets)."""

    default_error_messages = {
        "invalid_choice": "No feature you may see has the slug “%(value)s”: pick one of the suggestions.",
    }

    def __init__(self, **kwargs):
        # "hx-include: this": suggestions are asked with the box's value alone, not with a surrounding form's
        # hx-include (a preview's).
        kwargs.setdefault(
            "widget",
            SuggestionsInput(
                attrs={"placeholder": "Type a name or slug", "hx-include": "this"},
                suggestions_url=reverse_lazy("registry:feature_suggestions"),
            ),
        )
        super().__init__(queryset=None, to_field_name="slug", **kwargs)
