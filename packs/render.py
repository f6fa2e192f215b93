"""An evidence pack's content rendered as a file: JSON, printable HTML, or PDF (WeasyPrint, from that HTML).

The HTML is self-contained (its stylesheet inline, no link to fetch), so it prints the same anywhere and
WeasyPrint renders it without reaching for anything on the network.
"""

from __future__ import annotations

import json

from django.core.serializers.json import DjangoJSONEncoder
from django.template.loader import render_to_string

from packs.choices import PackFormat


def render_json(content: dict) -> bytes:
    return json.dumps(content, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False).encode("utf-8")


def render_html(content: dict) -> bytes:
    if str(content.get("schema", "")).startswith("gatehouse.technical-file/"):
        return render_to_string("packs/technical_file_document.html", {"file": content, "pack": content}).encode(
            "utf-8"
        )
    return render_to_string("packs/pack_document.html", {"pack": content}).encode("utf-8")


def render_pdf(content: dict) -> bytes:
    from weasyprint import HTML  # imported when needed: it loads pango and its fonts

    return HTML(string=render_html(content).decode("utf-8"), base_url=None, url_fetcher=_refuse_fetch).write_pdf()


def _refuse_fetch(url, *args, **kwargs):
    raise ValueError(f"An evidence pack fetches nothing: {url}")


# The Content Security Policy sent with the HTML file (in place of the app's, which allows no inline
# style): its stylesheet is inline so the file stands alone, and it has nothing else to load or run.
HTML_DOCUMENT_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


RENDERERS = {PackFormat.JSON: render_json, PackFormat.HTML: render_html, PackFormat.PDF: render_pdf}


def render_pack(content: dict, pack_format: str) -> bytes:
    return RENDERERS[PackFormat(pack_format)](content)
