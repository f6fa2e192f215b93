"""The exit status table is one table: the code's (``EXIT_CODES``), shown as it is in docs/cli.md, and it
places every error code the API sends, so a new code gets a status on purpose."""

import re
from pathlib import Path

from core import error_codes
from gatehouse_client.cli import EXIT_CODES, exit_status

DOCS = Path(__file__).resolve().parents[2] / "docs" / "cli.md"


def test_the_docs_show_the_codes_exit_status_table():
    section = DOCS.read_text().split("## Exit status", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| (\d+) \| ([^|]+) \| ([^|]+) \| ([^|]*) \|$", section, flags=re.M)
    documented = [
        (int(status), name.strip(), meaning.strip(), tuple(re.findall(r"`([a-z_]+)`", codes)))
        for status, name, meaning, codes in rows
    ]

    assert documented == [(e.status, e.name, e.meaning, e.codes) for e in EXIT_CODES]


def test_every_api_error_code_has_its_exit_status():
    placed = {code for exit_code in EXIT_CODES for code in exit_code.codes}

    assert sorted(set(error_codes.CODES) - placed) == []
    assert len(placed) == sum(len(exit_code.codes) for exit_code in EXIT_CODES)  # each code in one row


def test_an_unknown_code_falls_back_to_its_http_status():
    assert [exit_status("something_new", status) for status in (400, 401, 403, 404, 409, 422, 429, 503, 500)] == [
        2,
        3,
        4,
        5,
        6,
        2,
        9,
        9,
        1,
    ]
