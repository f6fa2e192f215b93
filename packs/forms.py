from django import forms

from packs.choices import PackFormat, PackKind


class PackRequestForm(forms.Form):
    kind = forms.ChoiceField(
        choices=PackKind.choices,
        initial=PackKind.EVIDENCE,
        required=False,
        label="What",
        help_text="The evidence pack, or the EU AI Act technical file (kept for its retention period).",
    )
    format = forms.ChoiceField(
        choices=PackFormat.choices,
        initial=PackFormat.PDF,
        label="Format",
        help_text="PDF to file or send; printable HTML to read in a browser; JSON for tools.",
    )

    def clean_kind(self):
        return self.cleaned_data.get("kind") or PackKind.EVIDENCE
