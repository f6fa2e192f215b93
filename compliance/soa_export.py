"""The Statement of Applicability for auditors: CSV (one row per Annex A control), JSON (the controls and the
NIST AI RMF crosswalk) and PDF (WeasyPrint, from a self-contained HTML document, as the evidence packs are).

Each is made for one reader and holds only the evidence that reader may see (``standards_selectors``)."""

from __future__ import annotations

import csv
import io
import json

from django.template.loader import render_to_string
from django.utils import timezone

from compliance import standards_selectors as selectors
from compliance.models import Applicability, Implementation
from core.exports import spreadsheet_text, utc_stamp

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "pdf": "application/pdf",
}
CSV_COLUMNS = (
    "control",
    "topic",
    "applicability",
    "implementation",
    "justification",
    "owner",
    "evidence",
    "nist_ai_rmf",
    "updated_by",
    "updated_at",
)


def _person(user) -> str:
    return user.get_username() if user else ""


def _evidence(links) -> list[dict]:
    return [
        {"type": link.object_type, "id": link.object_id, "label": link.label, "url": link.url or None} for link in links
    ]


def data_for(user) -> dict:
    controls = selectors.control_rows(user)
    subcategories = selectors.subcategory_rows(user)
    return {
        "standard": "ISO/IEC 42001 Annex A",
        "crosswalk": "NIST AI RMF 1.0",
        "generated_at": utc_stamp(timezone.now()),
        "generated_for": _person(user),
        "summary": selectors.summary(controls),
        "controls": [
            {
                "id": row.id,
                "clause": row.control.clause,
                "topic": row.control.topic,
                "applicability": row.statement.applicability,
                "implementation": row.statement.implementation,
                "justification": row.statement.justification,
                "owner": _person(row.statement.owner),
                "evidence": _evidence(row.evidence),
                "nist_ai_rmf": row.subcategories,
                "updated_by": _person(row.statement.updated_by),
                "updated_at": utc_stamp(row.statement.updated_at),
            }
            for row in controls
        ],
        "nist_ai_rmf": [
            {
                "id": row.id,
                "function": row.subcategory.function,
                "topic": row.subcategory.topic,
                "controls": row.controls,
                "implementation": row.decision.implementation,
                "notes": row.decision.notes,
                "owner": _person(row.decision.owner),
                "evidence": _evidence(row.evidence),
            }
            for row in subcategories
        ],
    }


def render_json(user) -> bytes:
    return json.dumps(data_for(user), indent=2, ensure_ascii=False).encode("utf-8")


def render_csv(user) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    applicability = dict(Applicability.choices)
    implementation = dict(Implementation.choices)
    for control in data_for(user)["controls"]:
        row = {
            "control": control["id"],
            "topic": control["topic"],
            "applicability": applicability[control["applicability"]],
            "implementation": implementation[control["implementation"]],
            "justification": control["justification"],
            "owner": control["owner"],
            "evidence": "; ".join(item["label"] for item in control["evidence"]),
            "nist_ai_rmf": "; ".join(control["nist_ai_rmf"]),
            "updated_by": control["updated_by"],
            "updated_at": control["updated_at"],
        }
        writer.writerow({key: spreadsheet_text(value) for key, value in row.items()})
    return out.getvalue().encode("utf-8")


def render_html(user) -> str:
    controls = selectors.control_rows(user)
    return render_to_string(
        "compliance/soa_document.html",
        {
            "controls": controls,
            "subcategories": selectors.subcategory_rows(user),
            "summary": selectors.summary(controls),
            "generated_at": timezone.now(),
            "generated_for": user,
        },
    )


def render_pdf(user) -> bytes:
    from weasyprint import HTML  # imported when needed: it loads pango and its fonts

    return HTML(string=render_html(user), base_url=None, url_fetcher=_refuse_fetch).write_pdf()


def _refuse_fetch(url, *args, **kwargs):
    raise ValueError(f"A Statement of Applicability fetches nothing: {url}")


RENDERERS = {"csv": render_csv, "json": render_json, "pdf": render_pdf}


def render(user, file_format: str) -> bytes:
    return RENDERERS[file_format](user)
