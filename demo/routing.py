"""The demo's routing story: a router's token, and one recorded decision support can look up."""

from django.contrib.auth import get_user_model

from registry.models import ApiToken
from registry.models.tokens import TokenScope
from registry.services.tokens import api_token_create
from routing.models import DecisionRecord
from routing.services import ledger_record, resolve

ROUTER_TOKEN_NAME = "demo-router"
DEMO_REQUEST_ID = "demo-req-0001"


def seed_routing(*, created) -> str | None:
    """Give the claims team's ML engineer a router token (returned once, when made) and record the
    decision that served request ``demo-req-0001`` (claims triage in the EU)."""
    engineer = get_user_model().objects.get(username="ml")
    raw = None
    if not ApiToken.objects.filter(user=engineer, name=ROUTER_TOKEN_NAME, revoked_at__isnull=True).exists():
        # A router needs resolve and the decision ledger, nothing more.
        _, raw = api_token_create(actor=engineer, user=engineer, name=ROUTER_TOKEN_NAME, scopes=(TokenScope.RESOLVE,))
        created["api tokens"] += 1
    if not DecisionRecord.objects.filter(request_id=DEMO_REQUEST_ID).exists():
        answer = resolve(user=engineer, feature_slug="claims-triage", region_code="eu")
        ledger_record(actor=engineer, records=[{"request_id": DEMO_REQUEST_ID, "decision": answer.token}])
        created["decision records"] += 1
    return raw
