"""The documentation states facts the code decides: these keep the two together."""

import re
from pathlib import Path

from core import error_codes

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


def test_the_api_guide_lists_every_error_code_and_no_other():
    text = (DOCS / "api.md").read_text()
    section = text.split("## Error codes", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"^\| `([a-z_]+)` \|", section, flags=re.M))

    assert listed == set(error_codes.CODES)


def test_the_operations_page_names_every_setting_the_app_reads():
    settings_source = (ROOT / "config" / "settings.py").read_text()
    read = set(
        re.findall(r"""(?:environ(?:\.get)?\(|environ\[|env_[a-z]+\()\s*["']([A-Z][A-Z0-9_]+)["']""", settings_source)
    )
    text = (DOCS / "operations.md").read_text()

    assert read, "no settings found: the pattern no longer matches config/settings.py"
    assert sorted(name for name in read if f"`{name}`" not in text) == []


def test_every_image_in_the_docs_folder_is_shown_somewhere():
    pages = "\n".join(page.read_text() for page in DOCS.rglob("*.md")) + (ROOT / "README.md").read_text()
    unused = [image.name for image in (DOCS / "images").glob("*.png") if f"images/{image.name}" not in pages]

    assert unused == []
