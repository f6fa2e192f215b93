"""The API half of the authorization matrix (see test_authorization_matrix for the columns and words).

Column order: outsider support other-po ml security legal governance auditor. Many API writes validate
an empty body (400, "invalid") before the role check; objects of the restricted feature are 404 first."""

API_EXPECTED: dict[str, dict[str, str]] = {
    "api:live-at": {"get": "invalid invalid invalid invalid invalid invalid invalid invalid"},
    "api:feature-list": {
        "get": "ok ok ok ok ok ok ok ok",
        "post": "invalid invalid invalid invalid invalid invalid invalid invalid",
    },
    "api:feature-detail": {
        "get": "404 404 404 ok 404 404 ok ok",
        "put": "405 405 405 405 405 405 405 405",
        "patch": "404 404 404 invalid 404 404 invalid invalid",
    },
    # a change waiting for governance (the team's, on the restricted feature): governance decides it
    "api:feature-change-list": {"get": "ok ok ok ok ok ok ok ok"},
    "api:feature-change-detail": {"get": "404 404 404 ok 404 404 ok ok"},
    "api:feature-change-approve": {"get": "405 405 405 405 405 405 405 405", "post": "404 404 404 403 404 404 ok 403"},
    "api:feature-change-reject": {
        "get": "405 405 405 405 405 405 405 405",
        "post": "404 404 404 403 404 404 invalid 403",
    },
    "api:version-list": {
        "get": "ok ok ok ok ok ok ok ok",
        "post": "invalid invalid invalid invalid invalid invalid invalid invalid",
    },
    "api:version-detail": {
        "get": "404 404 404 ok 404 404 ok ok",
        "put": "405 405 405 405 405 405 405 405",
        "patch": "404 404 404 invalid 404 404 invalid 403",
    },
    "api:version-submit": {"get": "405 405 405 405 405 405 405 405", "post": "404 404 404 ok 404 404 ok 403"},
    "api:evaluation-list": {
        "get": "ok ok ok ok ok ok ok ok",
        "post": "invalid invalid invalid invalid invalid invalid invalid invalid",
    },
    "api:evaluation-detail": {"get": "404 404 404 ok 404 404 ok ok"},
    "api:vendor-list": {
        "get": "ok ok ok ok ok ok ok ok",
        "post": "invalid invalid invalid invalid invalid invalid invalid invalid",
    },
    "api:vendor-detail": {"get": "ok ok ok ok ok ok ok ok"},
    "api:model-list": {
        "get": "ok ok ok ok ok ok ok ok",
        "post": "invalid invalid invalid invalid invalid invalid invalid invalid",
    },
    "api:model-detail": {"get": "ok ok ok ok ok ok ok ok"},
    "api:prompt-list": {
        "get": "ok ok ok ok ok ok ok ok",
        "post": "invalid invalid invalid invalid invalid invalid invalid invalid",
    },
    "api:prompt-detail": {"get": "404 404 404 ok 404 404 ok ok"},
    "api:policy-pack-list": {
        "get": "ok ok ok ok ok ok ok ok",
        "post": "invalid invalid invalid invalid invalid invalid invalid invalid",
    },
    "api:policy-pack-detail": {"get": "ok ok ok ok ok ok ok ok"},
    "api:dataset-list": {
        "get": "ok ok ok ok ok ok ok ok",
        "post": "invalid invalid invalid invalid invalid invalid invalid invalid",
    },
    "api:dataset-detail": {"get": "ok ok ok ok ok ok ok ok"},
    "api:region-list": {"get": "ok ok ok ok ok ok ok ok"},
    "api:deployment-list": {"get": "ok ok ok ok ok ok ok ok"},
    "api:deployment-rollback": {
        "get": "405 405 405 405 405 405 405 405",
        "post": "invalid invalid invalid invalid invalid invalid invalid invalid",
    },
    "api:deployment-withdraw": {
        "get": "405 405 405 405 405 405 405 405",
        "post": "invalid invalid invalid invalid invalid invalid invalid invalid",
    },
    "api:deployment-event-list": {"get": "ok ok ok ok ok ok ok ok"},
    "api:audit-event-list": {"get": "403 403 403 403 403 403 ok ok"},
    "api:audit-event-detail": {"get": "403 403 403 403 403 403 ok ok"},
    "api:audit-verification-list": {"get": "403 403 403 403 403 403 ok ok", "post": "403 403 403 403 403 403 ok ok"},
    "api:audit-verification-detail": {"get": "403 403 403 403 403 403 ok ok"},
    "api:read-record-list": {"get": "403 403 403 403 403 403 ok ok"},
    "api:api-root": {"get": "ok ok ok ok ok ok ok ok"},
    "api:reviewer-grant-list": {
        "get": "ok ok ok ok ok ok ok ok",
        "post": "invalid invalid invalid invalid invalid invalid invalid invalid",
    },
    "api:reviewer-grant-detail": {"get": "404 404 404 ok 404 404 ok ok"},
    "api:reviewer-grant-revoke": {
        "get": "405 405 405 405 405 405 405 405",
        "post": "404 404 404 invalid 404 404 invalid invalid",
    },
    "approvals-api:approval-request-list": {
        "get": "ok ok ok ok ok ok ok ok",
        "post": "invalid invalid invalid invalid invalid invalid invalid invalid",
    },
    "approvals-api:approval-request-detail": {"get": "404 404 404 ok 404 404 ok ok"},
    "approvals-api:approval-request-promote": {
        "get": "405 405 405 405 405 405 405 405",
        "post": "404 404 404 invalid 404 404 invalid 403",
    },
    "approvals-api:approval-request-withdraw": {
        "get": "405 405 405 405 405 405 405 405",
        "post": "404 404 404 invalid 404 404 invalid 403",
    },
    "approvals-api:queue-list": {"get": "ok ok ok ok ok ok ok ok"},
    "approvals-api:signoff-detail": {"get": "404 404 404 ok 404 404 ok ok"},
    "approvals-api:signoff-decide": {
        "get": "405 405 405 405 405 405 405 405",
        "post": "404 404 404 invalid 404 404 invalid invalid",
    },
    "approvals-api:gate-policy-list": {"get": "ok ok ok ok ok ok ok ok"},
    "approvals-api:gate-policy-detail": {"get": "ok ok ok ok ok ok ok ok"},
    "approvals-api:gate-policy-preview": {
        "get": "405 405 405 405 405 405 405 405",
        "post": "403 403 403 403 403 403 invalid 403",
    },
    # alert intake takes an alert_intake token only: no session, whoever's (see TOKEN_SCOPES below)
    "incidents-api:alertmanager": {"get": "403 403 403 403 403 403 403 403", "post": "403 403 403 403 403 403 403 403"},
    "incidents-api:incident-list": {
        "get": "ok ok ok ok ok ok ok ok",
        "post": "invalid invalid invalid invalid invalid invalid invalid invalid",
    },
    "incidents-api:incident-detail": {"get": "404 404 404 ok 404 404 ok ok"},
    "incidents-api:incident-comment": {
        "get": "405 405 405 405 405 405 405 405",
        "post": "404 404 404 invalid 404 404 invalid invalid",
    },
    "incidents-api:incident-rollback": {
        "get": "405 405 405 405 405 405 405 405",
        "post": "404 404 404 invalid 404 404 invalid invalid",
    },
    "incidents-api:incident-timeline": {"get": "404 404 404 ok 404 404 ok ok"},
    "incidents-api:incident-transition": {
        "get": "405 405 405 405 405 405 405 405",
        "post": "404 404 404 invalid 404 404 invalid invalid",
    },
    "incidents-api:incident-serious": {
        "get": "404 404 404 ok 404 404 ok ok",
        "post": "404 404 404 invalid 404 404 invalid invalid",
    },
    "incidents-api:incident-report-draft": {"get": "404 404 404 ok 404 404 ok ok"},
    "incidents-api:incident-submissions": {
        "get": "404 404 404 ok 404 404 ok ok",
        "post": "404 404 404 invalid 404 404 invalid invalid",
    },
    # an empty body takes a snapshot: auditors are refused by the service
    "incidents-api:incident-snapshots": {
        "get": "404 404 404 ok 404 404 ok ok",
        "post": "404 404 404 ok 404 404 ok 403",
    },
    "incidents-api:incident-snapshot-detail": {"get": "404 404 404 ok 404 404 ok ok"},
    "freshness-api:finding-list": {"get": "ok ok ok ok ok ok ok ok"},
    "freshness-api:finding-detail": {"get": "404 404 404 ok 404 404 ok ok"},
    "freshness-api:sweep-run-list": {"get": "403 403 403 403 403 403 ok ok", "post": "403 403 403 403 403 403 ok 403"},
    "freshness-api:sweep-run-detail": {"get": "403 403 403 403 403 403 ok ok"},
    "freshness-api:monitoring-plan": {
        "get": "404 404 404 ok 404 404 ok ok",
        "put": "404 404 404 invalid 404 404 invalid 403",
    },
    # the plan's reviewer records reviews (governance admins, by role, in this world)
    "freshness-api:monitoring-plan-review": {
        "get": "405 405 405 405 405 405 405 405",
        "post": "404 404 404 403 404 404 invalid 403",
    },
    "webhooks-api:subscription-list": {
        "get": "ok ok ok ok ok ok ok ok",
        "post": "invalid invalid invalid invalid invalid invalid invalid invalid",
    },
    "webhooks-api:subscription-detail": {
        "get": "404 404 404 ok 404 404 ok ok",
        "patch": "404 404 404 ok 404 404 ok 403",
        "delete": "404 404 404 ok 404 404 ok 403",
    },
    "webhooks-api:subscription-ping": {
        "get": "405 405 405 405 405 405 405 405",
        "post": "404 404 404 ok 404 404 ok 403",
    },
    "webhooks-api:subscription-rotate-secret": {
        "get": "405 405 405 405 405 405 405 405",
        "post": "404 404 404 ok 404 404 ok 403",
    },
    "webhooks-api:delivery-list": {"get": "ok ok ok ok ok ok ok ok"},
    "webhooks-api:delivery-detail": {"get": "404 404 404 ok 404 404 ok ok"},
    "webhooks-api:delivery-redeliver": {
        "get": "405 405 405 405 405 405 405 405",
        "post": "404 404 404 ok 404 404 ok 403",
    },
    "readiness-api:inventory": {"get": "ok ok ok ok ok ok ok ok"},
    "readiness-api:history": {"get": "ok ok ok ok ok ok ok ok"},
    "readiness-api:feature": {"get": "404 404 404 ok 404 404 ok ok"},
    "readiness-api:feature-history": {"get": "404 404 404 ok 404 404 ok ok"},
    "packs-api:evidence-pack-list": {
        "get": "ok ok ok ok ok ok ok ok",
        "post": "invalid invalid invalid invalid invalid invalid invalid invalid",
    },
    "packs-api:evidence-pack-detail": {"get": "404 404 404 404 404 404 ok 404"},
    "packs-api:evidence-pack-download": {"get": "404 404 404 404 404 404 invalid 404"},
    "routing-api:resolve": {"get": "invalid invalid invalid invalid invalid invalid invalid invalid"},
    "routing-api:decision-records": {"get": "invalid invalid invalid invalid invalid invalid invalid invalid"},
    "routing-api:ledger": {
        "get": "405 405 405 405 405 405 405 405",
        "post": "invalid invalid invalid invalid invalid invalid invalid invalid",
    },
    "routing-api:decision": {"get": "404 404 404 ok 404 404 ok ok"},
    # the routing snapshot: everyone gets one, holding only the routes of the features they may see
    "routing-api:snapshot": {"get": "ok ok ok ok ok ok ok ok"},
    # the change stream takes an API token only (a session is 401): the token tests probe it
    "routing-api:stream": {"get": "401 401 401 401 401 401 401 401"},
    # the decision log export: no range given is a 400 for those who may export it
    "routing-api:decision-export": {"get": "404 404 404 invalid 404 404 invalid invalid"},
    # An import names its MLflow version in the body: an empty one is refused before anything is looked up.
    "connectors-api:mlflow-import": {
        "get": "405 405 405 405 405 405 405 405",
        "post": "invalid invalid invalid invalid invalid invalid invalid invalid",
    },
    # EU AI Act: the restricted feature's proposed profile and a draft (r1) its ML engineer wrote.
    "compliance-api:profile": {"get": "404 404 404 ok 404 404 ok ok", "put": "404 404 404 invalid 404 404 invalid 403"},
    "compliance-api:profile-confirm": {
        "get": "405 405 405 405 405 405 405 405",
        "post": "404 404 404 403 404 404 ok 403",
    },
    "compliance-api:technical-file": {"get": "404 404 404 ok 404 404 ok ok"},
    "compliance-api:documents": {"get": "404 404 404 ok 404 404 ok ok"},
    "compliance-api:document-draft": {
        "get": "405 405 405 405 405 405 405 405",
        "post": "404 404 404 invalid 404 404 invalid 403",
    },
    "compliance-api:revision": {"get": "404 404 404 ok 404 404 ok ok"},
    "compliance-api:revision-submit": {
        "get": "405 405 405 405 405 405 405 405",
        "post": "404 404 404 ok 404 404 invalid 403",
    },
    "compliance-api:revision-review": {
        "get": "405 405 405 405 405 405 405 405",
        "post": "404 404 404 403 404 404 invalid 403",
    },
    # ISO/IEC 42001 and NIST AI RMF: everyone reads; governance writes. The evidence link is on the restricted
    # feature, so whoever may not see it gets a 404 for it before any 403.
    "compliance-api:control-list": {"get": "ok ok ok ok ok ok ok ok"},
    "compliance-api:control": {"get": "ok ok ok ok ok ok ok ok", "put": "403 403 403 403 403 403 invalid 403"},
    "compliance-api:control-evidence": {
        "get": "405 405 405 405 405 405 405 405",
        "post": "403 403 403 403 403 403 invalid 403",
    },
    "compliance-api:control-evidence-detail": {
        "get": "405 405 405 405 405 405 405 405",
        "delete": "404 404 404 403 404 404 ok 403",
    },
    "compliance-api:soa-export": {"get": "ok ok ok ok ok ok ok ok"},
    "compliance-api:subcategory-list": {"get": "ok ok ok ok ok ok ok ok"},
    "compliance-api:subcategory": {"get": "ok ok ok ok ok ok ok ok", "put": "403 403 403 403 403 403 invalid 403"},
    "routing-api:vendor-routes": {"get": "ok ok ok ok ok ok ok ok"},
    "routing-api:vendor-suspend": {
        "get": "405 405 405 405 405 405 405 405",
        "post": "invalid invalid invalid invalid invalid invalid invalid invalid",
    },
    "routing-api:vendor-reinstate": {
        "get": "405 405 405 405 405 405 405 405",
        "post": "invalid invalid invalid invalid invalid invalid invalid invalid",
    },
    "routing-api:model-routes": {"get": "ok ok ok ok ok ok ok ok"},
    "routing-api:model-suspend": {
        "get": "405 405 405 405 405 405 405 405",
        "post": "invalid invalid invalid invalid invalid invalid invalid invalid",
    },
    "routing-api:model-reinstate": {
        "get": "405 405 405 405 405 405 405 405",
        "post": "invalid invalid invalid invalid invalid invalid invalid invalid",
    },
    "drills-api:drill-list": {
        "get": "403 403 403 403 ok 403 ok ok",
        "post": "invalid invalid invalid invalid invalid invalid invalid invalid",
    },
    "drills-api:drill-detail": {"get": "403 403 403 403 ok 403 ok ok"},
    "drills-api:impact": {"get": "ok ok ok ok ok ok ok ok"},
    # people: governance admins and auditors read, governance admins change; teams: everyone reads
    "identity-api:person-list": {"get": "403 403 403 403 403 403 ok ok"},
    "identity-api:person-detail": {"get": "403 403 403 403 403 403 ok ok"},
    "identity-api:person-roles": {
        "get": "403 403 403 403 403 403 405 405",
        "post": "403 403 403 403 403 403 invalid 403",
    },
    "identity-api:person-roles-revoke": {
        "get": "403 403 403 403 403 403 405 405",
        "post": "403 403 403 403 403 403 invalid 403",
    },
    "identity-api:person-deactivate": {
        "get": "403 403 403 403 403 403 405 405",
        "post": "403 403 403 403 403 403 invalid 403",
    },
    "identity-api:person-reactivate": {
        "get": "403 403 403 403 403 403 405 405",
        "post": "403 403 403 403 403 403 invalid 403",
    },
    "identity-api:team-list": {"get": "ok ok ok ok ok ok ok ok", "post": "403 403 403 403 403 403 invalid 403"},
    "identity-api:team-detail": {"get": "ok ok ok ok ok ok ok ok", "patch": "403 403 403 403 403 403 ok 403"},
    "identity-api:team-members": {
        "get": "ok ok ok ok ok ok ok ok",
        "post": "403 403 403 403 403 403 invalid 403",
    },
    "identity-api:team-members-remove": {
        "get": "405 405 405 405 405 405 405 405",
        "post": "403 403 403 403 403 403 invalid 403",
    },
    # --- access reviews: the world's open campaign (governance and auditors read all, others what is theirs)
    "identity-api:access-review-list": {
        "get": "ok ok ok ok ok ok ok ok",
        "post": "invalid invalid invalid invalid invalid invalid invalid invalid",
    },
    "identity-api:access-review-detail": {"get": "404 404 404 404 404 404 ok ok"},
    # pending items: governance's close is refused (409) without close_anyway
    "identity-api:access-review-close": {
        "get": "405 405 405 405 405 405 405 405",
        "post": "404 404 404 404 404 404 invalid 403",
    },
    # open still: 409 for those who may export
    "identity-api:access-review-export-csv": {"get": "404 404 404 404 404 404 invalid invalid"},
    "identity-api:access-review-export-pdf": {"get": "404 404 404 404 404 404 invalid invalid"},
    "identity-api:access-review-item-list": {"get": "ok ok ok ok ok ok ok ok"},
    "identity-api:access-review-item-detail": {"get": "404 404 404 404 404 404 ok ok"},
    "identity-api:access-review-item-decide": {
        "get": "405 405 405 405 405 405 405 405",
        "post": "404 404 404 404 404 404 invalid invalid",
    },
}


# --- Token scopes (tests/security/test_token_scopes.py) ------------------------------------------------
# Which token scopes pass the scope check, per route and method (the person's own permissions apply
# after it). Every API route is listed: a new one fails until its row says which scopes it takes.
# "read" covers every GET; "full" every operation but alert intake; the rest only where declared.
READ = "read full"
READ_OR_RESOLVE = "read resolve full"
FULL = "full"
CI = "ci_write full"

TOKEN_SCOPES: dict[str, dict[str, str]] = {
    "api:live-at": {"get": READ},
    "api:feature-list": {"get": READ, "post": FULL},
    "api:feature-detail": {"get": READ, "put": FULL, "patch": FULL},
    "api:feature-change-list": {"get": READ},
    "api:feature-change-detail": {"get": READ},
    "api:feature-change-approve": {"get": READ, "post": FULL},
    "api:feature-change-reject": {"get": READ, "post": FULL},
    "api:version-list": {"get": READ, "post": CI},
    "api:version-detail": {"get": READ, "put": FULL, "patch": CI},
    "api:version-submit": {"get": READ, "post": CI},
    "api:evaluation-list": {"get": READ, "post": CI},
    "api:evaluation-detail": {"get": READ},
    "api:vendor-list": {"get": READ, "post": FULL},
    "api:vendor-detail": {"get": READ},
    "api:model-list": {"get": READ, "post": FULL},
    "api:model-detail": {"get": READ},
    "api:prompt-list": {"get": READ, "post": CI},
    "api:prompt-detail": {"get": READ},
    "api:policy-pack-list": {"get": READ, "post": FULL},
    "api:policy-pack-detail": {"get": READ},
    "api:dataset-list": {"get": READ, "post": CI},
    "api:dataset-detail": {"get": READ},
    "api:region-list": {"get": READ},
    "api:deployment-list": {"get": READ},
    "api:deployment-rollback": {"get": READ, "post": CI},
    "api:deployment-withdraw": {"get": READ, "post": FULL},
    "api:deployment-event-list": {"get": READ},
    "api:audit-event-list": {"get": READ},
    "api:audit-event-detail": {"get": READ},
    "api:audit-verification-list": {"get": READ, "post": FULL},
    "api:audit-verification-detail": {"get": READ},
    "api:read-record-list": {"get": READ},
    "api:api-root": {"get": READ},
    "api:reviewer-grant-list": {"get": READ, "post": FULL},
    "api:reviewer-grant-detail": {"get": READ},
    "api:reviewer-grant-revoke": {"get": READ, "post": FULL},
    "approvals-api:approval-request-list": {"get": READ, "post": CI},
    "approvals-api:approval-request-detail": {"get": READ},
    "approvals-api:approval-request-promote": {"get": READ, "post": CI},
    "approvals-api:approval-request-withdraw": {"get": READ, "post": CI},
    "approvals-api:queue-list": {"get": READ},
    "approvals-api:signoff-detail": {"get": READ},
    "approvals-api:signoff-decide": {"get": READ, "post": FULL},  # a sign-off is a person's, never a pipeline's
    "approvals-api:gate-policy-list": {"get": READ},
    "approvals-api:gate-policy-detail": {"get": READ},
    "approvals-api:gate-policy-preview": {"get": READ, "post": FULL},
    "incidents-api:alertmanager": {"get": "", "post": "alert_intake"},
    "incidents-api:incident-list": {"get": READ, "post": FULL},
    "incidents-api:incident-detail": {"get": READ},
    "incidents-api:incident-comment": {"get": READ, "post": FULL},
    "incidents-api:incident-rollback": {"get": READ, "post": FULL},
    "incidents-api:incident-timeline": {"get": READ},
    "incidents-api:incident-transition": {"get": READ, "post": FULL},
    "incidents-api:incident-serious": {"get": READ, "post": FULL},
    "incidents-api:incident-report-draft": {"get": READ},
    "incidents-api:incident-submissions": {"get": READ, "post": FULL},
    "incidents-api:incident-snapshots": {"get": READ, "post": FULL},
    "incidents-api:incident-snapshot-detail": {"get": READ},
    "freshness-api:finding-list": {"get": READ},
    "freshness-api:finding-detail": {"get": READ},
    "freshness-api:sweep-run-list": {"get": READ, "post": FULL},
    "freshness-api:sweep-run-detail": {"get": READ},
    "freshness-api:monitoring-plan": {"get": READ, "put": FULL},
    "freshness-api:monitoring-plan-review": {"get": READ, "post": FULL},
    "webhooks-api:subscription-list": {"get": READ, "post": FULL},
    "webhooks-api:subscription-detail": {"get": READ, "patch": FULL, "delete": FULL},
    "webhooks-api:subscription-ping": {"get": READ, "post": FULL},
    "webhooks-api:subscription-rotate-secret": {"get": READ, "post": FULL},
    "webhooks-api:delivery-list": {"get": READ},
    "webhooks-api:delivery-detail": {"get": READ},
    "webhooks-api:delivery-redeliver": {"get": READ, "post": FULL},
    "readiness-api:inventory": {"get": READ},
    "readiness-api:history": {"get": READ},
    "readiness-api:feature": {"get": READ},
    "readiness-api:feature-history": {"get": READ},
    "packs-api:evidence-pack-list": {"get": READ, "post": FULL},
    "packs-api:evidence-pack-detail": {"get": READ},
    "packs-api:evidence-pack-download": {"get": READ},
    "routing-api:resolve": {"get": READ_OR_RESOLVE},
    "routing-api:decision-records": {"get": READ_OR_RESOLVE},
    "routing-api:ledger": {"get": READ, "post": "resolve full"},
    "connectors-api:mlflow-import": {"get": READ, "post": CI},
    "compliance-api:profile": {"get": READ, "put": FULL},
    "compliance-api:profile-confirm": {"get": READ, "post": FULL},
    "compliance-api:technical-file": {"get": READ},
    "compliance-api:documents": {"get": READ},
    "compliance-api:document-draft": {"get": READ, "post": FULL},
    "compliance-api:revision": {"get": READ},
    "compliance-api:revision-submit": {"get": READ, "post": FULL},
    "compliance-api:revision-review": {"get": READ, "post": FULL},
    "compliance-api:control-list": {"get": READ},
    "compliance-api:control": {"get": READ, "put": FULL},
    "compliance-api:control-evidence": {"get": READ, "post": FULL},
    "compliance-api:control-evidence-detail": {"get": READ, "delete": FULL},
    "compliance-api:soa-export": {"get": READ},
    "compliance-api:subcategory-list": {"get": READ},
    "compliance-api:subcategory": {"get": READ, "put": FULL},
    "routing-api:decision": {"get": READ_OR_RESOLVE},
    "routing-api:decision-export": {"get": READ},
    "routing-api:snapshot": {"get": READ_OR_RESOLVE},
    "routing-api:stream": {"get": READ_OR_RESOLVE},
    "routing-api:vendor-routes": {"get": READ},
    "routing-api:vendor-suspend": {"get": READ, "post": FULL},
    "routing-api:vendor-reinstate": {"get": READ, "post": FULL},
    "routing-api:model-routes": {"get": READ},
    "routing-api:model-suspend": {"get": READ, "post": FULL},
    "routing-api:model-reinstate": {"get": READ, "post": FULL},
    "drills-api:drill-list": {"get": READ, "post": FULL},
    "drills-api:drill-detail": {"get": READ},
    "drills-api:impact": {"get": READ},
    "identity-api:person-list": {"get": READ},
    "identity-api:person-detail": {"get": READ},
    "identity-api:person-roles": {"get": READ, "post": FULL},
    "identity-api:person-roles-revoke": {"get": READ, "post": FULL},
    "identity-api:person-deactivate": {"get": READ, "post": FULL},
    "identity-api:person-reactivate": {"get": READ, "post": FULL},
    "identity-api:team-list": {"get": READ, "post": FULL},
    "identity-api:team-detail": {"get": READ, "patch": FULL},
    "identity-api:team-members": {"get": READ, "post": FULL},
    "identity-api:team-members-remove": {"get": READ, "post": FULL},
    "identity-api:access-review-list": {"get": READ, "post": FULL},
    "identity-api:access-review-detail": {"get": READ},
    "identity-api:access-review-close": {"get": READ, "post": FULL},
    "identity-api:access-review-export-csv": {"get": READ},
    "identity-api:access-review-export-pdf": {"get": READ},
    "identity-api:access-review-item-list": {"get": READ},
    "identity-api:access-review-item-detail": {"get": READ},
    "identity-api:access-review-item-decide": {"get": READ, "post": FULL},
}
