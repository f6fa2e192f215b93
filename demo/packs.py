"""The demo's evidence pack, for ``seed_demo``: the auditor's PDF pack of the regulated KYC document check
(every version) and its EU AI Act technical file, built at once so the auditor finds it ready on *Evidence packs*. Idempotent: made once."""

from collections import Counter

from django.contrib.auth import get_user_model

from packs.choices import PackFormat, PackKind
from packs.models import PackExport
from packs.services import pack_export_build, pack_export_request
from registry.models import AIFeature

FEATURE = "kyc-document-check"


def seed_packs(*, created: Counter) -> None:
    auditor = get_user_model().objects.filter(username="auditor").first()
    feature = AIFeature.objects.filter(slug=FEATURE).first()
    if auditor is None or feature is None or PackExport.objects.filter(feature=feature, requested_by=auditor).exists():
        return
    export = pack_export_request(actor=auditor, feature=feature, pack_format=PackFormat.PDF)
    pack_export_build(export_id=export.pk)  # now, inside the seeding transaction; the queued task then finds it built
    created["evidence packs"] += 1
    # Its EU AI Act technical file too (demo.compliance made it complete), kept for ten years.
    technical = pack_export_request(
        actor=auditor, feature=feature, pack_format=PackFormat.PDF, kind=PackKind.TECHNICAL_FILE
    )
    pack_export_build(export_id=technical.pk)
    created["technical files"] += 1
