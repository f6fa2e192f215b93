"""Decision tokens: a signed receipt of one resolve answer that support can look up later.

A token carries the feature, version, region, environment, the model that served (none for a refusal)
and the time, signed with HMAC-SHA256 under the project's secret key: it cannot be forged or
guessed, and it reveals nothing a caller of resolve did not already get (ids, not names).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from django.core import signing

SALT = "gatehouse.routing.decision"
ENVIRONMENT_CODES = {"production": "p", "sandbox": "s"}
ENVIRONMENTS = {code: name for name, code in ENVIRONMENT_CODES.items()}


class BadToken(ValueError):
    pass


@dataclass(frozen=True)
class DecisionClaim:
    feature_id: int
    version_id: int | None
    region_id: int
    environment: str
    model_id: int | None
    at: datetime

    @property
    def served(self) -> bool:
        return self.model_id is not None


def sign(
    *, feature_id: int, version_id: int | None, region_id: int, environment: str, model_id: int | None, at: datetime
) -> str:
    millis = int(at.timestamp() * 1000)
    return signing.dumps(
        [feature_id, version_id, region_id, ENVIRONMENT_CODES[environment], model_id, millis], salt=SALT
    )


def read(token: str) -> DecisionClaim:
    try:
        feature_id, version_id, region_id, environment, model_id, millis = signing.loads(token.strip(), salt=SALT)
        return DecisionClaim(
            feature_id=int(feature_id),
            version_id=version_id,
            region_id=int(region_id),
            environment=ENVIRONMENTS[environment],
            model_id=model_id,
            at=datetime.fromtimestamp(millis / 1000, tz=UTC),
        )
    except (signing.BadSignature, ValueError, TypeError, KeyError, OverflowError):
        raise BadToken("This is not a Gatehouse decision token, or it was altered.") from None
