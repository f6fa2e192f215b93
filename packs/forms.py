from django import forms

from packs.choices import PackFormat


class PackRequestForm(forms.Form):
    format = forms.ChoiceField(
        choices=PackFormat.choices,
        initial=PackFormat.PDF,
        label="Format",
        help_text="PDF to file or send; printable HTML to read in a browser; JSON for tools.",
    )
