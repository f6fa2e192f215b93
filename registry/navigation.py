"""Which entry of the main navigation a page belongs to, from its URL's namespace and name.

One exact table rather than substring tests in the template: a new page lands in the section listed here,
or in its app's section, and never lights two entries (the readiness page is not *Features* because its
name contains "feature").
"""

from __future__ import annotations

# (namespace, url name) → section, where a namespace holds pages of several sections.
PAGES: dict[tuple[str, str], str] = {
    ("registry", "home"): "dashboard",
    ("registry", "notification_list"): "notices",
    ("registry", "audit_list"): "audit",
    ("registry", "read_list"): "audit",
    ("registry", "audit_download"): "audit",
    ("registry", "audit_verify"): "audit",
    ("registry", "audit_verify_run"): "audit",
    ("registry", "token_list"): "tokens",
    ("registry", "token_revoke"): "tokens",
    ("approvals", "queue"): "queue",
    ("approvals", "policy_list"): "gates",
    ("approvals", "policy_edit"): "gates",
    ("approvals", "assignment_update"): "gates",
    ("routing", "decision_lookup"): "lookup",
    ("identity", "team_list"): "teams",
    ("identity", "team_create"): "teams",
    ("identity", "team_detail"): "teams",
    ("identity", "team_edit"): "teams",
    ("identity", "team_member_add"): "teams",
    ("identity", "team_member_remove"): "teams",
    ("identity", "account"): "account",
    ("identity", "account_session_end"): "account",
    ("identity", "account_sessions_end"): "account",
    ("compliance", "soa"): "standards",
    ("compliance", "soa_export"): "standards",
    ("compliance", "control"): "standards",
    ("compliance", "evidence_add"): "standards",
    ("compliance", "evidence_remove"): "standards",
    ("compliance", "crosswalk"): "standards",
    ("compliance", "subcategory"): "standards",
}

# The catalog's pages in the registry and routing namespaces: vendors, models, prompts, policy packs, datasets.
CATALOG_PREFIXES = ("vendor_", "model_", "prompt_", "policy_", "dataset_")

# namespace → section for every other page of the namespace.
NAMESPACES: dict[str, str] = {
    "registry": "features",
    "approvals": "requests",
    "incidents": "incidents",
    "freshness": "freshness",
    "readiness": "readiness",
    "drills": "drills",
    "packs": "packs",
    "webhooks": "webhooks",
    "routing": "catalog",
    "two_factor": "security",
    "identity": "people",
    "connectors": "mlflow",
    "compliance": "eu_ai_act",
}

# The menus of the navigation and the sections each holds (the template lists their links).
GROUPS: dict[str, tuple[str, ...]] = {
    "release": ("features", "catalog", "requests", "gates", "mlflow"),
    "operate": ("incidents", "freshness", "drills", "lookup", "webhooks"),
    "govern": ("readiness", "eu_ai_act", "standards", "reviews", "packs", "audit", "people", "teams"),
    "you": ("notices", "account", "security", "tokens"),
}


def section_of(namespace: str, url_name: str) -> str:
    if (namespace, url_name) in PAGES:
        return PAGES[(namespace, url_name)]
    if namespace in ("registry", "routing") and url_name.startswith(CATALOG_PREFIXES):
        return "catalog"
    if namespace == "identity" and url_name.startswith("review_"):
        return "reviews"
    return NAMESPACES.get(namespace, "")


def group_of(section: str) -> str:
    return next((group for group, sections in GROUPS.items() if section in sections), "")
