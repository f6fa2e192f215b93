"""What routing adds to a serious incident's report drafts and evidence snapshots (registered in
``RoutingConfig.ready`` on ``incidents.extensions.report_section_providers``): the decisions resolve
recorded in the decision ledger for the incident's feature during its impact window."""

from __future__ import annotations

from datetime import UTC

from routing.selectors import decisions_in_window

LISTED = 100


def decisions_section(incident, *, start, end) -> dict:
    between = f"between {start.astimezone(UTC):%d %b %Y %H:%M} and {end.astimezone(UTC):%d %b %Y %H:%M} UTC"
    found = decisions_in_window(feature=incident.feature, start=start, end=end, limit=LISTED)
    here = [
        group
        for group in found["groups"]
        if group["environment"] == incident.environment and group["region__code"] == incident.region.code
    ]
    total_here = sum(group["total"] for group in here)
    served_here = sum(group["total"] for group in here if group["served"])
    if found["total"]:
        summary = (
            f"{found['total']} decision{'s' if found['total'] != 1 else ''} recorded in the ledger for "
            f"{incident.feature.name} {between}; "
            f"{total_here} in {incident.environment}/{incident.region.code}, {served_here} of them served."
        )
    else:
        summary = (
            f"No decision recorded in the ledger for {incident.feature.name} {between} (routers record request "
            "ids only when they choose to)."
        )
    records = found["records"]
    return {
        "key": "decisions",
        "title": "Decisions in the impact window",
        "summary": summary,
        "columns": ["Decided at", "Request id", "Environment/region", "Version", "Served"],
        "rows": [
            [
                f"{record.decided_at.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC",
                record.request_id,
                f"{record.environment}/{record.region.code}",
                f"v{record.version.number}" if record.version_id else "—",
                "yes" if record.served else "no",
            ]
            for record in records
        ],
        "data": {
            "start": start.isoformat(),
            "end": end.isoformat(),
            "total": found["total"],
            "in_incident_region": {"total": total_here, "served": served_here},
            "by_route": [
                {
                    "environment": group["environment"],
                    "region": group["region__code"],
                    "version": group["version__number"],
                    "served": group["served"],
                    "decisions": group["total"],
                }
                for group in found["groups"]
            ],
            "listed": len(records),
        },
    }
