"""What a feature's confirmed regulatory profile refuses (registered in ``ComplianceConfig.ready``).

- A confirmed prohibited practice is never promoted, anywhere.
- A confirmed high-risk feature goes to production only on the regulated risk tier (so the regulated
  gate applies) and with a complete technical file, for the version being released. The same check
  stands in the gate request (``approvals.extensions.gate_check_providers``), so a request cannot be
  approved, nor an approval used, while the file is incomplete.
"""

from __future__ import annotations

from approvals.checks import Check
from compliance.selectors import profile_of
from compliance.technical_file import completeness
from core.error_codes import PROHIBITED_PRACTICE, TECHNICAL_FILE_INCOMPLETE, Reason
from registry.choices import Environment, RiskTier

GAPS_NAMED = 4


def _file_refusal(feature, version, profile) -> str | None:
    if feature.risk_tier != RiskTier.REGULATED:
        return (
            f"{feature} is confirmed high-risk under the EU AI Act but its risk tier is {feature.risk_tier}; "
            "it goes to production only on the regulated tier."
        )
    found = completeness(feature, version, profile=profile)
    if found.complete:
        return None
    gaps = found.gaps
    named = "; ".join(gaps[:GAPS_NAMED]) + (f"; and {len(gaps) - GAPS_NAMED} more" if len(gaps) > GAPS_NAMED else "")
    return (
        f"The technical file of {feature}"
        + (f" v{found.version}" if found.version else "")
        + f" is {found.score}% complete; production waits for a complete file. Missing: {named}."
    )


def regulatory_guard(feature, *, version=None, environment=None) -> str | None:
    profile = profile_of(feature)
    if profile is None:
        return None
    if profile.is_prohibited:
        return Reason(
            f"{feature} is confirmed a prohibited practice under the EU AI Act (Art. 5): it is never promoted.",
            PROHIBITED_PRACTICE,
        )
    if profile.is_high_risk and environment == Environment.PRODUCTION and version is not None:
        refusal = _file_refusal(feature, version, profile)
        if refusal:
            return Reason(refusal, TECHNICAL_FILE_INCOMPLETE)
    return None


def technical_file_checks(feature, *, version, environment: str) -> list[Check]:
    """The gate request's extra check for a confirmed high-risk feature going to production."""
    profile = profile_of(feature)
    if profile is None or environment != Environment.PRODUCTION:
        return []
    if profile.is_prohibited:
        return [
            Check(
                "compliance",
                "prohibited_practice",
                "Not a prohibited practice (EU AI Act Art. 5)",
                False,
                "missing",
                "Confirmed a prohibited practice: it is never released.",
            )
        ]
    if not profile.is_high_risk:
        return []
    refusal = _file_refusal(feature, version, profile)
    return [
        Check(
            "compliance",
            "technical_file",
            "Technical file complete (EU AI Act Annex IV)",
            refusal is None,
            "ok" if refusal is None else "missing",
            "Every section is complete." if refusal is None else refusal,
        )
    ]
