"""Which portal and endpoint a request is for: the labels of the counters, and whether the
data-only faults (HTML error page, truncated JSON) apply to it."""

from __future__ import annotations

from dataclasses import dataclass

TRACES_AUTH = {"generateCaptcha", "login", "preAuth"}
TRACES_DATA = {
    "statementStatus",
    "unconsumedChallans",
    "raisedRequests",
    "outstandingDemand",
    "ldcList",
    "verifyLdc",
}
ITPORTAL_AUTH = {"login"}
ITPORTAL_DATA = {"paymentHistory", "eproceedings", "notices"}
KNOWN = {
    "traces": TRACES_AUTH | TRACES_DATA,
    "itportal": ITPORTAL_AUTH | ITPORTAL_DATA,
}
DATA = {"traces": TRACES_DATA, "itportal": ITPORTAL_DATA}


@dataclass(frozen=True)
class Endpoint:
    portal: str
    name: str  # a known endpoint's last path segment, else "other"
    is_data: bool


def classify(path: str) -> Endpoint | None:
    """The portal endpoint of ``path``, or None for /admin, /metrics and the like."""
    parts = [part for part in path.split("/") if part]
    if not parts or parts[0] not in KNOWN:
        return None
    portal = parts[0]
    last = parts[-1] if len(parts) > 1 else ""
    # /itportal/iec/eproceedings/{id}/notices ends in "notices"; an id never matches a name
    name = last if last in KNOWN[portal] else "other"
    return Endpoint(portal, name, name in DATA[portal])
