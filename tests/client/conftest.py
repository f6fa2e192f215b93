"""The client library against a live Gatehouse: the routing world (claims-triage v1 live in eu and us)."""

from tests.routing.conftest import (  # noqa: F401  (fixtures)
    approved_request,
    backup_vendor,
    default_gates,
    feature,
    go_live,
    live,
    new_version,
    pins,
    record_evidence,
    releases,
    request_gate,
    reviewers,
    second_ml_engineer,
    second_security_reviewer,
    sign_all,
    uk,
)
