"""Turning a version's canonical configuration into rows to show, and two of them into a diff."""

from __future__ import annotations

import json
from typing import Any

LABELS = {
    "model": "Model",
    "fallback_models": "Fallback models (in order)",
    "prompt": "Prompt version",
    "policy_pack": "Policy pack",
    "retrieval_index": "Retrieval index",
    "tools": "Tools and scopes",
    "datasets": "Datasets",
    "parameters": "Parameters",
    "parent": "Parent version",
}


def _display(key: str, value: Any) -> str:
    if value in (None, "", [], {}):
        return "—"
    if key == "model":
        return f"{value['vendor']} · {value['identifier']}"
    if key == "fallback_models":
        return "\n".join(
            f"{position}. {item['vendor']} · {item['identifier']}" for position, item in enumerate(value, 1)
        )
    if key == "prompt":
        return f"{value['name']}@{value['version']} (sha256 {value['content_hash'][:12]}…)"
    if key == "policy_pack":
        return f"{value['name']}@{value['version']}"
    if key == "tools":
        return "\n".join(f"{tool['name']}: {', '.join(tool['scopes']) or 'no scopes'}" for tool in value)
    if key == "datasets":
        return "\n".join(f"{item['usage']}: {item['name']}@{item['version']}" for item in value)
    if key == "parameters":
        return "\n".join(f"{name} = {json.dumps(setting)}" for name, setting in sorted(value.items()))
    if key == "parent":
        return f"v{value}"
    return str(value)


def configuration_rows(configuration: dict[str, Any]) -> list[tuple[str, str]]:
    return [(label, _display(key, configuration.get(key))) for key, label in LABELS.items()]


def diff_rows(left: dict[str, Any], right: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "label": label,
            "left": _display(key, left.get(key)),
            "right": _display(key, right.get(key)),
            "changed": left.get(key) != right.get(key),
        }
        for key, label in LABELS.items()
    ]
