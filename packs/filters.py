"""The FilterSet shared by the pack exports page and the API list."""

import django_filters

from core.filters import SearchFilterSet
from packs.choices import ExportStatus, PackFormat
from packs.models import PackExport


class PackExportFilter(SearchFilterSet):
    search_fields = ("feature__name", "feature__slug")
    # Not "format": the API reads ?format= as the answer's media type.
    file_format = django_filters.ChoiceFilter(
        field_name="format", choices=PackFormat.choices, label="Format", empty_label="All formats"
    )
    status = django_filters.ChoiceFilter(choices=ExportStatus.choices, empty_label="All statuses")

    class Meta:
        model = PackExport
        fields = ["q", "file_format", "status"]
