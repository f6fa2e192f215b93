"""Forms of the account page."""

from django import forms

from registry import zones


class TimeZoneForm(forms.Form):
    """The zone a person's pages show times in (the account page)."""

    time_zone = forms.ChoiceField(
        label="Time zone",
        choices=zones.grouped_choices,
        help_text="Pages show times in this zone, with its name; the API and exports speak UTC.",
    )
