"""Evidence packs over the API. Read serializers render; the create serializer only parses input for the service."""

from rest_framework import serializers

from packs.choices import PackFormat, PackKind
from packs.models import PackExport
from registry.api.serializers import UsernameField


class PackExportSerializer(serializers.ModelSerializer):
    feature = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    version = serializers.IntegerField(
        source="version.number",
        read_only=True,
        allow_null=True,
        help_text="The version the pack covers; null: the feature and every version.",
    )
    requested_by = UsernameField(read_only=True)
    download_url = serializers.SerializerMethodField(help_text="Where to GET the file once the status is ready.")
    url = serializers.CharField(source="get_absolute_url", read_only=True, help_text="The status page.")

    class Meta:
        model = PackExport
        fields = [
            "id",
            "feature",
            "version",
            "kind",
            "format",
            "retain_until",
            "status",
            "progress",
            "step",
            "error",
            "size",
            "sha256",
            "requested_by",
            "created_at",
            "started_at",
            "finished_at",
            "download_url",
            "url",
        ]
        read_only_fields = fields

    def get_download_url(self, export) -> str | None:
        if export.status != "ready":
            return None
        from django.urls import reverse

        return reverse("packs-api:evidence-pack-download", args=[export.pk])


class PackExportCreateSerializer(serializers.Serializer):
    feature = serializers.SlugField(help_text="The feature's slug.")
    version = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=1,
        help_text="A version number; leave out for the feature and every version.",
    )
    format = serializers.ChoiceField(choices=PackFormat.choices, default=PackFormat.PDF)
    kind = serializers.ChoiceField(
        choices=PackKind.choices,
        default=PackKind.EVIDENCE,
        help_text="evidence: the evidence pack; technical_file: the EU AI Act technical file (Annex IV), kept for "
        "the retention period of the feature's regulatory profile.",
    )
