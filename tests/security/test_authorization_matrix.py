"""The authorization matrix: every route Django serves, probed as every persona, read and write.

Routes come from Django's resolver (DRF routers included), so a new endpoint without an entry in
``EXPECTED`` fails ``test_every_route_has_an_expectation``. Each entry says, per method, what each
signed-in persona gets, in the order of ``COLUMNS``; anonymous users are checked separately (pages
redirect to the login page, the API answers 401). Writes send an empty body (a minimal one where an
empty body would stop before the permission check) inside a savepoint that is rolled back.

Outcomes: ``ok`` (2xx, or a redirect that is not to the login page), ``invalid`` (400/409/422: past the
permission check, the empty body refused), ``403``, ``404``, ``405``, ``login``.
The restricted feature is *Fraud signals* of the Claims team (see ``authz_world``): only its team (the ML
engineer here), governance admins and auditors may see it; for everyone else its objects are 404.
Holding a role its requests need opens nothing: reviewers from outside the team see its requests only
through a reviewer grant from governance (the world's signers have one; these personas do not).
"""

from __future__ import annotations

import os
import re

import pytest
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from compliance.services.documents import document_save_draft
from compliance.services.profile import profile_propose
from compliance.services.standards import evidence_link
from connectors.models import MetricMapping, MlflowModelLink, MlflowServer
from identity.models import GroupMapping
from registry.models import AuditVerificationRun, UserSession
from tests.conftest import forget_caches
from tests.factories import UserFactory
from tests.security.authz_probe import outcome, probe, routes, url_for
from tests.security.authz_world import build_world

# Skipped on purpose, with the reason: nothing else may be skipped.
SKIPPED = {
    "admin:": "Django's admin: staff only (is_staff), guarded by Django itself, not by Gatehouse's permissions",
    "api-schema": "the OpenAPI schema: no data, IsAuthenticated (SERVE_PERMISSIONS), checked by the schema test",
    "api-docs": "Swagger UI for the schema: static page, no data",
}

COLUMNS = (
    "outsider",
    "support_agent",
    "other_product_owner",
    "ml_engineer",
    "security_reviewer",
    "legal_reviewer",
    "governance_admin",
    "auditor",
)
PERSONAS = ("anonymous", *COLUMNS)
SEES_RESTRICTED = {"ml_engineer", "governance_admin", "auditor"}

#                outsider support other-po ml  security legal governance auditor
EVERYONE = "ok ok ok ok ok ok ok ok"
HIDDEN = "404 404 404 ok 404 404 ok ok"  # an object of the restricted feature: read
HIDDEN_WRITE = "404 404 404 ok 404 404 ok 403"  # ...and changed (auditors read only)
GOVERNANCE_ONLY = "403 403 403 403 403 403 ok 403"
AUDIT_READERS = "403 403 403 403 403 403 ok ok"
CATALOG_AUTHORS = "403 403 ok ok 403 403 ok 403"  # prompts and datasets: ML and product too
NO_GET = "405 405 405 405 405 405 405 405"
NOBODY = "404 404 404 404 404 404 404 404"
NOT_BEGUN = "invalid invalid invalid invalid invalid invalid invalid invalid"  # a passkey step with no start
TOKEN_ONLY = "403 403 403 403 403 403 403 403"  # SCIM: a governance admin's scim token, never a session

EXPECTED: dict[str, dict[str, str]] = {
    # --- registry pages ---------------------------------------------------------------------------
    "registry:home": {"get": EVERYONE},
    "registry:feature_list": {"get": EVERYONE},
    "registry:feature_create": {"get": CATALOG_AUTHORS, "post": CATALOG_AUTHORS, "put": CATALOG_AUTHORS},
    "registry:feature_detail": {"get": HIDDEN},
    "registry:feature_edit": {"get": HIDDEN_WRITE, "post": HIDDEN_WRITE, "put": HIDDEN_WRITE},
    # a change waiting for governance: governance decides it; the team and auditors see it, cannot decide it
    "registry:feature_change_approve": {"get": NO_GET, "post": "404 404 404 403 404 404 ok 403"},
    "registry:feature_change_reject": {"get": NO_GET, "post": "404 404 404 403 404 404 ok 403"},
    "registry:version_diff": {"get": HIDDEN},
    "registry:version_create": {"get": HIDDEN_WRITE, "post": HIDDEN_WRITE, "put": HIDDEN_WRITE},
    "registry:version_detail": {"get": HIDDEN},
    "registry:version_edit": {"get": HIDDEN_WRITE, "post": HIDDEN_WRITE, "put": HIDDEN_WRITE},
    "registry:version_submit": {"get": HIDDEN_WRITE, "post": HIDDEN_WRITE},
    "registry:evaluation_create": {"get": HIDDEN_WRITE, "post": HIDDEN_WRITE, "put": HIDDEN_WRITE},
    "registry:vendor_list": {"get": EVERYONE},
    "registry:vendor_create": {"get": GOVERNANCE_ONLY, "post": GOVERNANCE_ONLY, "put": GOVERNANCE_ONLY},
    "registry:vendor_detail": {"get": EVERYONE},
    "registry:model_list": {"get": EVERYONE},
    "registry:model_create": {"get": GOVERNANCE_ONLY, "post": GOVERNANCE_ONLY, "put": GOVERNANCE_ONLY},
    "registry:model_detail": {"get": EVERYONE},
    "registry:prompt_list": {"get": EVERYONE},
    "registry:prompt_create": {"get": CATALOG_AUTHORS, "post": CATALOG_AUTHORS, "put": CATALOG_AUTHORS},
    "registry:prompt_detail": {"get": HIDDEN},  # the world's prompt: only the restricted feature uses it
    "registry:policy_list": {"get": EVERYONE},
    "registry:policy_create": {"get": GOVERNANCE_ONLY, "post": GOVERNANCE_ONLY, "put": GOVERNANCE_ONLY},
    "registry:policy_detail": {"get": EVERYONE},
    "registry:dataset_list": {"get": EVERYONE},
    "registry:dataset_create": {"get": CATALOG_AUTHORS, "post": CATALOG_AUTHORS, "put": CATALOG_AUTHORS},
    "registry:dataset_detail": {"get": EVERYONE},
    "registry:rollback": {"get": HIDDEN_WRITE, "post": HIDDEN_WRITE, "put": HIDDEN_WRITE},
    "registry:withdraw": {"get": HIDDEN_WRITE, "post": HIDDEN_WRITE, "put": HIDDEN_WRITE},
    "registry:live_at": {"get": EVERYONE},
    "registry:reviewer_grant_create": {
        "get": "404 404 404 403 404 404 ok 403",
        "post": "404 404 404 403 404 404 ok 403",
        "put": "404 404 404 403 404 404 ok 403",
    },
    "registry:reviewer_grant_revoke": {
        "get": "404 404 404 403 404 404 ok 403",
        "post": "404 404 404 403 404 404 ok 403",
        "put": "404 404 404 403 404 404 ok 403",
    },
    "registry:feature_suggestions": {"get": EVERYONE},  # only the features each may see
    "registry:notification_list": {"get": EVERYONE, "post": EVERYONE},  # one's own notices
    "registry:audit_list": {"get": AUDIT_READERS},
    "registry:read_list": {"get": AUDIT_READERS},
    "registry:audit_download": {"get": AUDIT_READERS},
    "registry:audit_verify": {"get": AUDIT_READERS, "post": AUDIT_READERS},
    "registry:audit_verify_run": {"get": AUDIT_READERS},
    "registry:token_list": {"get": EVERYONE, "post": "invalid invalid invalid invalid invalid invalid invalid invalid"},
    # a token is revoked by its owner only (the ML engineer's CI token here)
    "registry:token_revoke": {"get": NO_GET, "post": "404 404 404 ok 404 404 404 404"},
    # --- approvals pages -------------------------------------------------------------------------
    "approvals:queue": {"get": EVERYONE},
    "approvals:request_list": {"get": EVERYONE},
    "approvals:request_create": {"get": HIDDEN_WRITE, "post": HIDDEN_WRITE, "put": HIDDEN_WRITE},
    "approvals:request_detail": {"get": HIDDEN},
    "approvals:promote": {
        "get": "404 404 404 ok 404 404 ok 403",
        "post": "404 404 404 ok 404 404 ok 403",
        "put": "404 404 404 ok 404 404 ok 403",
    },
    "approvals:withdraw": {"get": NO_GET, "post": "404 404 404 ok 404 404 ok 403"},
    # reviewers who may not sign this slot get the page back with the reason (a redirect), nothing signed
    "approvals:signoff_decide": {"get": NO_GET, "post": HIDDEN},
    "approvals:policy_list": {"get": EVERYONE},
    "approvals:assignment_update": {"get": NO_GET, "post": GOVERNANCE_ONLY},
    "approvals:policy_edit": {"get": GOVERNANCE_ONLY, "post": GOVERNANCE_ONLY, "put": GOVERNANCE_ONLY},
    # --- incidents pages -------------------------------------------------------------------------
    "incidents:incident_list": {"get": EVERYONE},
    "incidents:incident_create": {
        "get": "ok ok ok ok ok ok ok 403",
        "post": "ok ok ok ok ok ok ok 403",
        "put": "ok ok ok ok ok ok ok 403",
    },
    "incidents:live_at_preview": {"get": EVERYONE},
    "incidents:incident_detail": {"get": HIDDEN},
    "incidents:comment": {"get": NO_GET, "post": "404 404 404 invalid 404 404 invalid invalid"},
    "incidents:transition": {"get": NO_GET, "post": "404 404 404 invalid 404 404 invalid invalid"},
    "incidents:assign": {"get": NO_GET, "post": "404 404 404 invalid 404 404 invalid invalid"},
    "incidents:owner_suggestions": {"get": HIDDEN_WRITE},  # for those who may reassign the incident
    "incidents:link": {"get": NO_GET, "post": "404 404 404 invalid 404 404 invalid invalid"},
    "incidents:serious": {"get": NO_GET, "post": "404 404 404 invalid 404 404 invalid invalid"},
    # A serious incident's report: read by whoever sees the incident; written, recorded and snapshot by
    # whoever works it and governance (auditors are refused before the form is read).
    "incidents:report": {"get": HIDDEN},
    "incidents:report_json": {"get": HIDDEN},
    "incidents:report_notes": {"get": NO_GET, "post": "404 404 404 ok 404 404 ok 403"},
    "incidents:report_submit": {"get": NO_GET, "post": "404 404 404 invalid 404 404 invalid 403"},
    "incidents:snapshot_take": {"get": NO_GET, "post": "404 404 404 ok 404 404 ok 403"},
    "incidents:snapshot_detail": {"get": HIDDEN},
    "incidents:snapshot_json": {"get": HIDDEN},
    # An auditor reads the incident but may not roll back: refused before the form is read.
    "incidents:rollback": {"get": NO_GET, "post": "404 404 404 invalid 404 404 invalid 403"},
    # --- freshness pages -------------------------------------------------------------------------
    "freshness:dashboard": {"get": EVERYONE},
    "freshness:finding_detail": {"get": HIDDEN},
    "freshness:run_list": {"get": AUDIT_READERS},
    "freshness:run_sweep": {"get": NO_GET, "post": GOVERNANCE_ONLY},
    # the monitoring plan: read with the feature, changed by its team and governance; its review is the
    # reviewer's (governance admins, by role, in this world)
    "freshness:plan_detail": {"get": HIDDEN},
    "freshness:plan_edit": {"get": HIDDEN_WRITE, "post": HIDDEN_WRITE, "put": HIDDEN_WRITE},
    "freshness:plan_review": {
        "get": "404 404 404 403 404 404 ok 403",
        "post": "404 404 404 403 404 404 ok 403",
        "put": "404 404 404 403 404 404 ok 403",
    },
    # --- webhooks pages (the subscription is the Claims team's) ----------------------------------
    "webhooks:subscription_list": {"get": EVERYONE},
    "webhooks:subscription_create": {"get": CATALOG_AUTHORS, "post": CATALOG_AUTHORS, "put": CATALOG_AUTHORS},
    "webhooks:subscription_detail": {"get": HIDDEN},
    "webhooks:subscription_edit": {"get": HIDDEN_WRITE, "post": HIDDEN_WRITE, "put": HIDDEN_WRITE},
    "webhooks:subscription_ping": {"get": HIDDEN_WRITE, "post": HIDDEN_WRITE},
    "webhooks:subscription_rotate": {"get": HIDDEN_WRITE, "post": HIDDEN_WRITE},
    "webhooks:subscription_disable": {"get": HIDDEN_WRITE, "post": HIDDEN_WRITE},
    "webhooks:subscription_enable": {"get": HIDDEN_WRITE, "post": HIDDEN_WRITE},
    "webhooks:subscription_delete": {"get": HIDDEN_WRITE, "post": HIDDEN_WRITE},
    "webhooks:delivery_list": {"get": EVERYONE},
    "webhooks:delivery_detail": {"get": HIDDEN},
    "webhooks:delivery_redeliver": {"get": NO_GET, "post": HIDDEN_WRITE},
    # --- readiness, packs, routing, drills pages ---------------------------------------------------
    "readiness:dashboard": {"get": EVERYONE},
    "readiness:feature": {"get": HIDDEN},
    "readiness:panel": {"get": HIDDEN},
    "packs:export_list": {"get": EVERYONE},
    "packs:export_request": {"get": HIDDEN, "post": HIDDEN, "put": HIDDEN},  # auditors download packs
    "packs:export_request_version": {"get": HIDDEN, "post": HIDDEN, "put": HIDDEN},
    "packs:panel": {"get": HIDDEN},
    # an export is its requester's (the governance admin's here): others' are 404
    "packs:export_detail": {"get": "404 404 404 404 404 404 ok 404"},
    "packs:export_download": {"get": "404 404 404 404 404 404 ok 404"},
    "routing:decision_lookup": {"get": EVERYONE, "post": EVERYONE},
    # a feature's decision log: its team, governance admins and auditors (the form; the download takes a range)
    "routing:decision_export": {"get": HIDDEN},
    "routing:vendor_status": {"get": GOVERNANCE_ONLY, "post": GOVERNANCE_ONLY, "put": GOVERNANCE_ONLY},
    "routing:model_status": {"get": GOVERNANCE_ONLY, "post": GOVERNANCE_ONLY, "put": GOVERNANCE_ONLY},
    # the catalog pages' "Live routes" and "Impact" sections: open as the catalog pages, the restricted
    # feature's routes and versions left out for those who may not see it (test_the_restricted_feature_never_leaks)
    "routing:vendor_routes": {"get": EVERYONE},
    "routing:model_routes": {"get": EVERYONE},
    "drills:impact": {"get": EVERYONE},
    "drills:run_list": {"get": "403 403 403 403 ok 403 ok ok"},
    "drills:run_create": {"get": GOVERNANCE_ONLY, "post": GOVERNANCE_ONLY, "put": GOVERNANCE_ONLY},
    "drills:run_detail": {"get": "403 403 403 403 ok 403 ok ok"},
    # --- access reviews (identity): the world's open campaign; its Claims items are the team owner's -----
    "identity:review_list": {"get": EVERYONE},  # each sees the items put to them
    "identity:review_start": {"get": GOVERNANCE_ONLY, "post": GOVERNANCE_ONLY, "put": GOVERNANCE_ONLY},
    "identity:review_detail": {"get": "404 404 404 404 404 404 ok ok"},  # governance, auditors and its reviewers
    "identity:review_close": {"get": GOVERNANCE_ONLY, "post": GOVERNANCE_ONLY, "put": GOVERNANCE_ONLY},
    "identity:review_export_csv": {"get": AUDIT_READERS},  # open still: back to the campaign, nothing exported
    "identity:review_export_pdf": {"get": AUDIT_READERS},
    "identity:review_item": {"get": "404 404 404 404 404 404 ok ok"},
    # auditors see every item and decide none; governance decides this one only once it is escalated
    "identity:review_item_decide": {"get": NO_GET, "post": "404 404 404 404 404 404 invalid invalid"},
    # --- sign in and out --------------------------------------------------------------------------
    "login": {"get": EVERYONE, "post": EVERYONE, "put": EVERYONE},
    "logout": {"get": NO_GET, "post": "login login login login login login login login"},
    # --- second factor: each user's own devices (the personas have none; the world's device is a stranger's)
    "two_factor:verify": {"get": EVERYONE, "post": EVERYONE},  # nothing to verify: on to the next page
    "two_factor:security": {"get": EVERYONE},
    "two_factor:totp_setup": {
        "get": EVERYONE,
        "post": "invalid invalid invalid invalid invalid invalid invalid invalid",
    },
    "two_factor:backup_codes": {"get": NO_GET, "post": EVERYONE},  # refused (no app yet): back to the page
    "two_factor:device_remove": {"get": NOBODY, "post": NOBODY},
    "otp_webauthn:credential-registration-begin": {"get": NO_GET, "post": EVERYONE},
    "otp_webauthn:credential-registration-complete": {"get": NO_GET, "post": NOT_BEGUN},
    "otp_webauthn:credential-authentication-begin": {"get": NO_GET, "post": EVERYONE},
    "otp_webauthn:credential-authentication-complete": {"get": NO_GET, "post": NOT_BEGUN},
    "otp_webauthn:js-i18n-catalog": {"get": EVERYONE},
    # --- identity: single sign-on (not configured in this world, so its two steps are 404 for everyone,
    # anonymous included; tests/identity/test_oidc.py runs them against a real provider) and group mappings
    "identity:oidc_start": {"get": NOBODY},
    "identity:oidc_callback": {"get": NOBODY},
    "identity:oidc_mappings": {"get": AUDIT_READERS, "post": GOVERNANCE_ONLY},
    "identity:oidc_mapping_delete": {"get": GOVERNANCE_ONLY, "post": GOVERNANCE_ONLY},
    # --- people, teams and the account page (identity) ----------------------------------------------
    # People: governance admins and auditors read, governance admins change (the person: the ML engineer).
    "identity:people_list": {"get": AUDIT_READERS},
    "identity:person_detail": {"get": AUDIT_READERS},
    "identity:role_grant": {"get": NO_GET, "post": "403 403 403 403 403 403 invalid 403"},
    "identity:role_revoke": {"get": GOVERNANCE_ONLY, "post": "403 403 403 403 403 403 invalid 403"},
    "identity:person_team_join": {"get": NO_GET, "post": "403 403 403 403 403 403 invalid 403"},
    "identity:person_deactivate": {"get": GOVERNANCE_ONLY, "post": "403 403 403 403 403 403 invalid 403"},
    "identity:person_reactivate": {"get": GOVERNANCE_ONLY, "post": "403 403 403 403 403 403 invalid 403"},
    "identity:person_session_end": {"get": NO_GET, "post": GOVERNANCE_ONLY},
    "identity:person_sessions_end": {"get": NO_GET, "post": GOVERNANCE_ONLY},
    "identity:person_token_revoke": {"get": NO_GET, "post": GOVERNANCE_ONLY},
    # Teams and who is in them: everyone (the organisation's directory); changes: governance admins.
    "identity:team_list": {"get": EVERYONE},
    "identity:team_create": {"get": GOVERNANCE_ONLY, "post": "403 403 403 403 403 403 invalid 403"},
    "identity:team_detail": {"get": EVERYONE},
    "identity:team_edit": {"get": GOVERNANCE_ONLY, "post": "403 403 403 403 403 403 invalid 403"},
    "identity:team_member_add": {"get": NO_GET, "post": "403 403 403 403 403 403 invalid 403"},
    "identity:team_member_remove": {"get": GOVERNANCE_ONLY, "post": "403 403 403 403 403 403 invalid 403"},
    "identity:member_suggestions": {"get": GOVERNANCE_ONLY},
    # One's own account; a session is ended by its owner only (the ML engineer's recorded session here).
    "identity:account": {"get": EVERYONE},
    "identity:account_session_end": {"get": NO_GET, "post": "404 404 404 ok 404 404 404 404"},
    "identity:account_sessions_end": {"get": NO_GET, "post": EVERYONE},
    # --- MLflow connectors: a server of the restricted feature's team ------------------------------------------
    # Anyone in a team (or governance) may add one for their team; the team and governance manage it, auditors read.
    "connectors:server_list": {"get": EVERYONE},
    "connectors:server_create": {
        "get": "403 403 ok ok 403 403 ok 403",
        "post": "403 403 invalid invalid 403 403 invalid 403",
    },
    "connectors:server_detail": {"get": HIDDEN},
    "connectors:server_edit": {"get": HIDDEN_WRITE, "post": "404 404 404 invalid 404 404 invalid 403"},
    "connectors:server_sync": {"get": NO_GET, "post": HIDDEN_WRITE},
    "connectors:server_rotate": {"get": NO_GET, "post": HIDDEN_WRITE},
    "connectors:link_create": {"get": NO_GET, "post": "404 404 404 invalid 404 404 invalid 403"},
    "connectors:link_delete": {"get": NO_GET, "post": HIDDEN_WRITE},
    "connectors:mapping_set": {"get": NO_GET, "post": "404 404 404 invalid 404 404 invalid 403"},
    "connectors:mapping_delete": {"get": NO_GET, "post": HIDDEN_WRITE},
    # MLflow's deliveries: the signature is the credential, whoever is signed in; unsigned is 401.
    "connectors-webhook": {"get": NO_GET, "post": "401 401 401 401 401 401 401 401"},
    # --- EU AI Act: the restricted feature's proposed profile and a draft (r1) its ML engineer wrote ---------
    "compliance:register": {"get": EVERYONE},
    "compliance:profile": {"get": HIDDEN},
    "compliance:panel": {"get": HIDDEN},
    "compliance:profile_edit": {"get": HIDDEN_WRITE, "post": "404 404 404 invalid 404 404 invalid 403"},
    "compliance:profile_confirm": {"get": NO_GET, "post": "404 404 404 403 404 404 ok 403"},
    "compliance:technical_file": {"get": HIDDEN},
    "compliance:document": {"get": HIDDEN, "post": "404 404 404 invalid 404 404 invalid 403"},
    "compliance:revision": {"get": HIDDEN},
    "compliance:revision_submit": {"get": NO_GET, "post": "404 404 404 ok 404 404 ok 403"},
    "compliance:revision_review": {"get": NO_GET, "post": "404 404 404 403 404 404 invalid 403"},
    # --- ISO/IEC 42001 and NIST AI RMF: everyone reads (the evidence they may see), governance edits; the
    # evidence link is on the restricted feature, and its removal asks first (the confirmation page is "ok")
    "compliance:soa": {"get": EVERYONE},
    "compliance:soa_export": {"get": EVERYONE},
    "compliance:control": {"get": EVERYONE, "post": "403 403 403 403 403 403 invalid 403"},
    "compliance:evidence_add": {"get": NO_GET, "post": "403 403 403 403 403 403 invalid 403"},
    "compliance:evidence_remove": {"get": NO_GET, "post": GOVERNANCE_ONLY},
    "compliance:crosswalk": {"get": EVERYONE},
    "compliance:subcategory": {"get": EVERYONE, "post": "403 403 403 403 403 403 invalid 403"},
    # One's own time zone: an empty form is refused (422) for everyone signed in.
    "identity:account_time_zone": {
        "get": NO_GET,
        "post": "invalid invalid invalid invalid invalid invalid invalid invalid",
    },
    # --- SCIM provisioning (/scim/v2/): token only, so every session is refused, anonymous gets 401 ---------
    # (tests/identity/test_scim_provisioning: tokens of other scopes 403, a non-governance user's 403)
    "scim:service_provider_config": {"get": TOKEN_ONLY},
    "scim:resource_types": {"get": TOKEN_ONLY},
    "scim:resource_type": {"get": TOKEN_ONLY},
    "scim:schemas": {"get": TOKEN_ONLY},
    "scim:schema": {"get": TOKEN_ONLY},
    "scim:users": {"get": TOKEN_ONLY, "post": TOKEN_ONLY},
    "scim:users_search": {"get": TOKEN_ONLY, "post": TOKEN_ONLY},
    "scim:user": {"get": TOKEN_ONLY, "put": TOKEN_ONLY, "patch": TOKEN_ONLY, "delete": TOKEN_ONLY},
    "scim:groups": {"get": TOKEN_ONLY, "post": TOKEN_ONLY},
    "scim:groups_search": {"get": TOKEN_ONLY, "post": TOKEN_ONLY},
    "scim:group": {"get": TOKEN_ONLY, "put": TOKEN_ONLY, "patch": TOKEN_ONLY, "delete": TOKEN_ONLY},
    "scim:search": {"get": TOKEN_ONLY, "post": TOKEN_ONLY},
    "scim:not_found": {
        "get": TOKEN_ONLY,
        "post": TOKEN_ONLY,
        "put": TOKEN_ONLY,
        "patch": TOKEN_ONLY,
        "delete": TOKEN_ONLY,
    },
}

ANONYMOUS_PAGES_OPEN = {"login"}
ANONYMOUS_NOT_FOUND = {"identity:oidc_start", "identity:oidc_callback"}  # open to anyone once configured
API_PREFIXES = ("/api/", "/scim/")  # token-taking addresses: 401 for the anonymous, JSON bodies


def url_values(route_name: str, world: dict) -> dict:
    """The URL kwargs of a route, taken from the world: the restricted feature's objects first of all."""
    values = {
        "slug": world["feature"].slug,
        "number": world["v1"].number,
        "environment": "production",
        "region": "eu",
        "gate": "production",
        "token": world["decision"],
        "sequence": world["audit_event"].sequence,
        "kind": "vendor",
        "key": world["vendor"].slug,
        "action": "suspend",
        # SCIM: a resource type, a schema, a person's SCIM id, any other address
        "name": "User",
        "schema_id": "urn:ietf:params:scim:schemas:core:2.0:User",
        "scim_id": "0b7c9d50-4f7e-4d1c-9b40-6a1f00000001",
        "rest": "nowhere",
        "snapshot": world["snapshot"].pk,
    }
    pk_of = {
        "registry:audit_verify_run": "verification_run",
        "api:audit-verification-detail": "verification_run",
        "registry:model_detail": "model",
        "registry:prompt_detail": "prompt",
        "registry:policy_detail": "policy",
        "registry:dataset_detail": "dataset",
        "registry:token_revoke": "token",
        "approvals:request_detail": "pending",
        "approvals:promote": "approved",
        "approvals:withdraw": "pending",
        "approvals:signoff_decide": "signoff",
        "freshness:finding_detail": "finding",
        "packs:export_detail": "export",
        "packs:export_download": "export",
        "drills:run_detail": "drill",
        "api:version-detail": "v1",
        "api:version-submit": "draft",
        "api:evaluation-detail": "evaluation",
        "api:model-detail": "model",
        "api:prompt-detail": "prompt",
        "api:policy-pack-detail": "policy",
        "api:dataset-detail": "dataset",
        "approvals-api:approval-request-promote": "approved",
        "registry:reviewer_grant_revoke": "grant",
        "api:reviewer-grant-detail": "grant",
        "api:reviewer-grant-revoke": "grant",
        "registry:feature_change_approve": "feature_change",
        "registry:feature_change_reject": "feature_change",
        "identity:oidc_mapping_delete": "group_mapping",
        "identity:person_token_revoke": "token",
        "identity:person_session_end": "session",
        "identity:account_session_end": "session",
        "identity:review_detail": "access_review",
        "identity:review_close": "access_review",
        "identity:review_export_csv": "access_review",
        "identity:review_export_pdf": "access_review",
        "identity:review_item": "access_review_item",
        "identity:review_item_decide": "access_review_item",
        "identity-api:access-review-detail": "access_review",
        "identity-api:access-review-close": "access_review",
        "identity-api:access-review-export-csv": "access_review",
        "identity-api:access-review-export-pdf": "access_review",
        "identity-api:access-review-item-detail": "access_review_item",
        "identity-api:access-review-item-decide": "access_review_item",
        "connectors:link_delete": "mlflow_link",
        "connectors:mapping_set": "mlflow_link",
        "connectors:mapping_delete": "mlflow_mapping",
        "connectors-webhook": "mlflow_server",
    }
    by_prefix = {
        "incident": "incident",
        "subscription": "subscription",
        "approval-request": "pending",
        "signoff": "signoff",
        "finding": "finding",
        "sweep-run": "sweep",
        "delivery": "delivery",
        "evidence-pack": "export",
        "drill": "drill",
        "feature-change": "feature_change",
    }
    by_namespace = {
        "incidents": "incident",
        "incidents-api": "incident",
        "webhooks": "subscription",
        "connectors": "mlflow_server",
    }
    key = pk_of.get(route_name)
    short = route_name.split(":")[-1]
    for prefix, candidate in by_prefix.items():
        if key is None and short.startswith((prefix, prefix.replace("-", "_"))):
            key = candidate
    key = key or by_namespace.get(route_name.split(":")[0])
    if key:
        values["pk"] = world[key].pk
    if route_name.startswith(("routing:model_status", "routing:model_routes", "routing-api:model")):
        values["key"] = world["model"].pk
    if route_name == "two_factor:device_remove":
        values.update(kind="totp", pk=world["stranger_device"].pk)
    if route_name in ("api:vendor-detail", "registry:vendor_detail"):
        values["slug"] = world["vendor"].slug
    if route_name.startswith(("compliance:", "compliance-api:")):  # a draft r1 and a proposed profile exist
        values["kind"] = "risk_management"
        values["number"] = 1
        # the Statement of Applicability: a control with an evidence link on the restricted feature
        values.update(control_id="A.6.2.4", file_format="csv", pk=world["standard_evidence"].pk)
        if "subcategory" in short:
            values["key"] = "GOVERN-1.1"
    if route_name.startswith(("identity:", "identity-api:")):  # the restricted feature's team and ML engineer
        values.update(username=world["users"]["ml_engineer"].username, role="ml")
        if "team" in short or "member" in short:
            values["slug"] = world["feature"].team.slug
    return values


# Where an empty body stops before the permission check, the probe sends the smallest body that gets past it.
MINIMAL_BODIES = {
    "approvals:withdraw": {"reason": "Authorization probe."},
}


@pytest.fixture
def world(
    request,
    team,
    eu,
    product_owner,
    ml_engineer,
    security_reviewer,
    legal_reviewer,
    governance_admin,
    other_product_owner,
    support_agent,
    auditor,
    outsider,
    settings,
    tmp_path,
):
    settings.MEDIA_ROOT = tmp_path / "media"
    forget_caches()
    built = build_world(
        team=team,
        eu=eu,
        product_owner=product_owner,
        ml_engineer=ml_engineer,
        security_reviewer=security_reviewer,
        legal_reviewer=legal_reviewer,
        governance_admin=governance_admin,
    )
    built["evaluation"] = built["v1"].evaluations.first()
    built["users"] = {name: request.getfixturevalue(name) for name in COLUMNS}
    built["stranger_device"] = TOTPDevice.objects.create(user=UserFactory(username="stranger"), name="Phone")
    built["group_mapping"] = GroupMapping.objects.create(group_name="gh-authz", role="security")
    built["session"] = UserSession.objects.create(user=ml_engineer, session_key="authz-world-ml-session")
    built["verification_run"] = AuditVerificationRun.objects.create(
        started_by=governance_admin, started_at=timezone.now(), updated_at=timezone.now(), status="passed"
    )
    # An MLflow connector of the restricted feature's team, feeding that feature.
    built["mlflow_server"] = MlflowServer.objects.create(
        name="ML platform", url="http://127.0.0.1:9", team=built["feature"].team, run_as=ml_engineer
    )
    built["mlflow_link"] = MlflowModelLink.objects.create(
        server=built["mlflow_server"], model_name="fraud-model", feature=built["feature"], catalog_model=built["model"]
    )
    built["mlflow_mapping"] = MetricMapping.objects.create(
        link=built["mlflow_link"], metric="auc", kind="benchmark", threshold=0.8
    )
    # The restricted feature's regulatory profile, proposed by its team, and a draft of one of its documents.
    profile_propose(
        actor=ml_engineer, feature=built["feature"], markets=[eu], category="minimal", rationale="Authorization probe."
    )
    document_save_draft(actor=ml_engineer, feature=built["feature"], kind="risk_management", body="A draft.")
    built["standard_evidence"] = evidence_link(
        actor=governance_admin, control_id="A.6.2.4", reference=built["feature"].get_absolute_url()
    )
    yield built
    forget_caches()


def test_every_route_has_an_expectation():
    """A new URL pattern or API route fails here until its row says who may read and change it."""
    found, unnamed = routes(SKIPPED)
    assert not unnamed, f"Unnamed URL patterns cannot be checked by name: {unnamed}"
    missing = sorted(set(found) - set(EXPECTED) - {name for name in found if name in API_EXPECTED})
    assert not missing, f"Routes without an authorization expectation (add them to EXPECTED): {missing}"
    stale = sorted((set(EXPECTED) | set(API_EXPECTED)) - set(found))
    assert not stale, f"Expectations for routes that no longer exist: {stale}"
    for name, route in found.items():
        declared = {*EXPECTED.get(name, {}), *API_EXPECTED.get(name, {})}
        assert declared == {"get", *route.writes}, (
            f"{name}: expectations for {sorted(declared)}, the view takes {['get', *route.writes]}"
        )


from tests.security.authz_api_expectations import API_EXPECTED  # noqa: E402  (the API half of the table)


def _expected_row(name: str, method: str) -> dict[str, str]:
    cells = (EXPECTED.get(name) or API_EXPECTED[name])[method].split()
    assert len(cells) == len(COLUMNS), f"{name} {method}: {len(cells)} cells for {len(COLUMNS)} personas"
    return dict(zip(COLUMNS, cells))


def _client_for(persona, world):
    client = Client()
    if persona != "anonymous":
        client.force_login(world["users"][persona])
    return client


@pytest.mark.slow  # every route as every persona: minutes in all
@pytest.mark.django_db
@pytest.mark.parametrize("persona", PERSONAS)
def test_each_persona_gets_what_the_matrix_says(persona, world):
    found, _ = routes(SKIPPED)
    wrong, table = [], []
    client = _client_for(persona, world)
    for name, route in found.items():
        url = url_for(route, url_values(name, world))
        api = url.startswith(API_PREFIXES)
        for method in ("get", *route.writes):
            body = MINIMAL_BODIES.get(name) if method != "get" else None
            got = outcome(probe(client, url, method, api=api, body=body))
            if persona == "anonymous":
                expected = "ok" if name in ANONYMOUS_PAGES_OPEN else ("401" if api else "login")
                expected = "404" if name in ANONYMOUS_NOT_FOUND else expected
                if got == "405" and method == "get" and _expected_row(name, "get")["outsider"] == "405":
                    expected = "405"
            else:
                expected = _expected_row(name, method)[persona]
            table.append(f"{name} {method} {got}")
            if got != expected:
                wrong.append(f"{method.upper()} {url} ({name}): expected {expected}, got {got}")
            if name == "logout" and method == "post" and persona != "anonymous":
                client = _client_for(persona, world)  # signed out by the probe: sign in again
    if os.environ.get("AUTHZ_PRINT"):
        print("\n".join(table))
    assert not wrong, f"{persona}: {len(wrong)} routes disagree with the matrix:\n" + "\n".join(wrong)


LEAK_QUERIES = ("", "?q=fraud", "?search=fraud", "?feature=fraud-signals", "?format=json", "?format=csv")


@pytest.mark.slow  # every route as every persona: minutes in all
@pytest.mark.django_db
@pytest.mark.parametrize("persona", sorted(set(PERSONAS) - SEES_RESTRICTED))
def test_the_restricted_feature_never_leaks(persona, world):
    """For those who may not see it, no page, search, filter, export, count or error names the feature."""
    from tests.security.authz_world import RESTRICTED_NAME, RESTRICTED_SLUG

    found, _ = routes(SKIPPED)
    client = _client_for(persona, world)
    leaks = []
    for name, route in found.items():
        if name == "logout":
            continue
        url = url_for(route, url_values(name, world))
        for query in LEAK_QUERIES:
            response = probe(client, url + query, "get", api=url.startswith(API_PREFIXES))
            body = b"".join(response.streaming_content) if response.streaming else response.content
            text = body.decode("utf-8", "replace").lower()
            echoed = RESTRICTED_SLUG in query  # the page may echo what was asked: compare with an unknown slug
            if echoed:
                unknown = probe(
                    client,
                    url + query.replace(RESTRICTED_SLUG, "no-such-feature"),
                    "get",
                    api=url.startswith(API_PREFIXES),
                )
                if unknown.status_code != response.status_code:
                    leaks.append(f"{url}{query} ({name}): {response.status_code}, unknown slug {unknown.status_code}")
            for secret in (RESTRICTED_NAME.lower(), *(() if echoed else (RESTRICTED_SLUG,))):
                if secret in text:
                    leaks.append(f"{url}{query} ({name}, {response.status_code}) shows {secret!r}")
    assert not leaks, f"{persona} learns of the restricted feature:\n" + "\n".join(leaks)


VOLATILE = [
    (re.compile(rb'name="csrfmiddlewaretoken" value="[^"]*"'), b'name="csrfmiddlewaretoken"'),
    (re.compile(rb'nonce="[^"]*"'), b"nonce"),
    (re.compile(rb'"X-CSRFToken": "[^"]*"'), b'"X-CSRFToken"'),
    (re.compile(rb'"csrfToken": "[^"]*"'), b'"csrfToken"'),  # the passkey script's configuration
    # a new authenticator-app secret each time the setup page is shown in a new session (QR code and text)
    (re.compile(rb"<svg.*?</svg>", re.S), b"<svg>"),
    (re.compile(rb"secret=[A-Z2-7]+"), b"secret="),
    (re.compile(rb'id="totp-secret"([^>]*)>[^<]*'), rb'id="totp-secret"\1>'),
    # the clock: a form's "now" (datetime-local values), a page's "as of" time; rows that appear still differ
    (re.compile(rb"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?"), b"<time>"),
    (re.compile(rb"\d{1,2}:\d{2}( UTC)?"), b"<time>"),
    (re.compile(rb'"(resolved_at|decision|generated_at|signature)": ?"[^"]*"'), rb'"\1"'),
]


def _shown(client, url):
    response = probe(client, url, "get", api=url.startswith(API_PREFIXES))
    body = b"".join(response.streaming_content) if response.streaming else response.content
    for pattern, replacement in VOLATILE:
        body = pattern.sub(replacement, body)
    return response.status_code, body


def _another_restricted_feature(world, eu, owner):
    """A second restricted feature of the same team, on the same catalog entries, live in production with
    evidence: made directly, so no audit event or notice of it reaches anyone."""
    from datetime import timedelta

    from django.utils import timezone

    from approvals.models import ApprovalRequest, SignOff
    from registry.models import Deployment, ReviewerGrant, VersionDataset
    from tests.factories import DatasetFactory, EvaluationFactory, FeatureFactory, PromptVersionFactory, VersionFactory

    feature = FeatureFactory(
        slug="shadow-ledger",
        name="Shadow ledger",
        restricted=True,
        risk_tier="regulated",
        team=world["feature"].team,
        accountable_owner=owner,
        regions=[eu],
    )
    pins = {"model": world["model"], "prompt": world["prompt"], "policy_pack": world["policy"], "author": owner}
    for number, status in ((1, "retired"), (2, "submitted")):
        version = VersionFactory(
            feature=feature,
            number=number,
            status=status,
            config_hash=f"{number}" * 64,
            submitted_at=timezone.now(),
            **pins,
        )
        EvaluationFactory(version=version, recorded_by=owner)
    VersionFactory(feature=feature, number=3, **pins)  # a draft
    Deployment.objects.create(
        feature=feature,
        environment="production",
        region=eu,
        version=version,
        updated_by=owner,
        updated_at=timezone.now(),
    )
    # A pending request whose every role each persona holds (queues and badges must not count it), a
    # reviewer grant to someone else, and a prompt and a dataset only it uses (catalog lists must not).
    request = ApprovalRequest.objects.create(
        version=version,
        gate="regulated",
        environment="production",
        requester=owner,
        requirements={"signoffs": [], "evidence": []},
    )
    request.regions.set([eu])
    SignOff.objects.bulk_create(SignOff(request=request, role=role) for role in ("ml", "product", "security", "legal"))
    ReviewerGrant.objects.create(
        feature=feature,
        user=world["users"]["governance_admin"],
        reason="x",
        granted_by=owner,
        expires_at=timezone.now() + timedelta(days=3),
    )
    own_prompt = PromptVersionFactory(name="shadow-ledger-prompt")
    own_dataset = DatasetFactory(name="shadow-ledger-data", owner=world["feature"].team)
    extra = VersionFactory(
        feature=feature, number=4, prompt=own_prompt, model=world["model"], policy_pack=world["policy"], author=owner
    )
    VersionDataset.objects.create(version=extra, dataset=own_dataset, usage="training")
    return feature


@pytest.mark.slow  # every route as every persona: minutes in all
@pytest.mark.django_db
@pytest.mark.parametrize("persona", sorted(set(PERSONAS) - SEES_RESTRICTED - {"anonymous"}))
def test_another_restricted_feature_changes_nothing_those_who_may_not_see_it_are_shown(
    persona, world, eu, product_owner
):
    """Counts included: every page and API answer a persona who may not see restricted features gets is
    the same, byte for byte (less CSRF tokens, nonces and per-request stamps), before and after another
    restricted feature is registered, versioned, evaluated and taken live. A total, a tally per team or
    tier, a page count or an empty state that counted it would differ."""
    found, _ = routes(SKIPPED)
    client = _client_for(persona, world)
    urls = [url_for(route, url_values(name, world)) for name, route in sorted(found.items()) if name != "logout"]
    before = {url: _shown(client, url) for url in urls}

    _another_restricted_feature(world, eu, product_owner)
    forget_caches()  # nothing cached before it may hide a count that includes it

    changed = [
        f"{url}: {before[url][0]} then {after[0]}" for url in urls if (after := _shown(client, url)) != before[url]
    ]
    assert not changed, f"{persona} is shown something else once another restricted feature exists:\n" + "\n".join(
        changed
    )


@pytest.mark.django_db
def test_the_deactivated_people_panel_is_governances_and_names_the_restricted_feature_to_no_one_else(world):
    """The dashboard panel of deactivated people's open work (identity): governance admins only; a
    restricted feature's owner or signer, once deactivated, shows on no one else's dashboard."""
    from django.contrib.auth import get_user_model

    from approvals.services import signoff_decide
    from registry.services import person_deactivate
    from tests.security.authz_world import RESTRICTED_NAME, RESTRICTED_SLUG

    users = get_user_model().objects
    governance = world["users"]["governance_admin"]
    signer = users.get(username="sid-security")  # a granted reviewer: signs the pending request, then leaves
    signoff_decide(actor=signer, signoff=world["signoff"], decision="approve", reason="Looks right.")
    for leaver in (signer, world["feature"].accountable_owner):
        person_deactivate(actor=governance, user=leaver, reason="Left the company.")
    forget_caches()

    for persona in COLUMNS:
        page = _client_for(persona, world).get("/").content.decode()
        shown = 'id="deactivated-open-work"' in page
        assert shown == (persona == "governance_admin"), persona
        if persona not in SEES_RESTRICTED:
            assert RESTRICTED_NAME not in page and RESTRICTED_SLUG not in page, persona
    page = _client_for("governance_admin", world).get("/").content.decode()
    assert f"request #{world['pending'].pk}" in page
    assert RESTRICTED_NAME in page
