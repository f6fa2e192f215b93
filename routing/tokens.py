"""Decision tokens: a signed receipt of one resolve answer that support can look up later.

A token carries the feature, version, region, environment, the model that served (none for a refusal)
and the time, signed with HMAC-SHA256 under the project's secret key: it cannot be forged or
guessed, and it reveals nothing a caller of resolve did not already get (ids, not names).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.core import signing
from django.utils.encoding import force_bytes

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


class PreparedSigner(signing.TimestampSigner):
    """``signing.dumps``'s signer with its HMAC key derived once: Django derives it (a SHA-256 of the salt
    and the secret) on every call, which was a twentieth of a cached resolve. The tokens are the same
    bytes ``signing.dumps`` makes, and ``signing.loads`` reads them (a test checks both)."""

    def __init__(self):
        super().__init__(salt=SALT)
        derived = hashlib.sha256(force_bytes(self.salt + "signer") + force_bytes(self.key)).digest()
        self._prepared = hmac.new(derived, digestmod=hashlib.sha256)

    def signature(self, value, key=None):
        if key is not None and key != self.key:
            return super().signature(value, key)
        mac = self._prepared.copy()
        mac.update(force_bytes(value))
        return signing.b64_encode(mac.digest()).decode()

    def sign_object(self, obj, serializer=signing.JSONSerializer, compress=False):
        """``TimestampSigner.sign_object`` for the JSON serializer without compression, in one step (no
        serializer object, no encoder made per call): the same string."""
        if serializer is not signing.JSONSerializer or compress:
            return super().sign_object(obj, serializer=serializer, compress=compress)
        value = f"{signing.b64_encode(_json(obj).encode('latin-1')).decode()}{self.sep}{signing.b62_encode(int(time.time()))}"
        return f"{value}{self.sep}{self.signature(value)}"


_json = json.JSONEncoder(separators=(",", ":")).encode  # what signing.JSONSerializer's json.dumps makes


_signer: PreparedSigner | None = None


def signer() -> PreparedSigner:
    """The process's signer, made again when the secret key is not the one it was prepared with."""
    global _signer
    if _signer is None or _signer.key != settings.SECRET_KEY:
        _signer = PreparedSigner()
    return _signer


def sign(
    *, feature_id: int, version_id: int | None, region_id: int, environment: str, model_id: int | None, at: datetime
) -> str:
    millis = int(at.timestamp() * 1000)
    return signer().sign_object([feature_id, version_id, region_id, ENVIRONMENT_CODES[environment], model_id, millis])


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
