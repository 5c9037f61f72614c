"""The portals SyncBucket talks to and the modules (kinds of data) it fetches from them."""

from __future__ import annotations

from enum import StrEnum


class Portal(StrEnum):
    TRACES = "traces"
    ITPORTAL = "itportal"


class ModuleKey(StrEnum):
    RETURN_SUMMARY = "return_summary"
    FETCH_CHALLANS = "fetch_challans"
    UNCONSUMED_CHALLANS = "unconsumed_challans"
    NOTICES_ORDERS = "notices_orders"
    OUTSTANDING_DEMAND = "outstanding_demand"
    VERIFY_LDC = "verify_ldc"


# The labels the product SyncBucket follows shows on its Sync Bucket window: staff know
# the modules by these words, so the pages (and their accessible names) use them.
MODULE_TITLES: dict[ModuleKey, str] = {
    ModuleKey.RETURN_SUMMARY: "Return Summary",
    ModuleKey.FETCH_CHALLANS: "Fetch Challans - IT Portal only",
    ModuleKey.UNCONSUMED_CHALLANS: "TRACES Unconsumed Challans",
    ModuleKey.NOTICES_ORDERS: "Notices & Orders - Sync Already Raised",
    ModuleKey.OUTSTANDING_DEMAND: "Outstanding Demand",
    ModuleKey.VERIFY_LDC: "Verify LDC",
}

PORTAL_TITLES: dict[Portal, str] = {Portal.TRACES: "TRACES", Portal.ITPORTAL: "IT portal"}


def parse_module_keys(text: str) -> list[ModuleKey]:
    """Parse ``"all"`` or a comma-separated list of module keys, refusing unknown ones by name."""
    cleaned = [part.strip() for part in text.split(",") if part.strip()]
    if cleaned == ["all"]:
        return list(ModuleKey)
    if not cleaned:
        raise ValueError("no module given; use 'all' or one or more of: " + _known())
    unknown = [part for part in cleaned if part not in ModuleKey._value2member_map_]
    if unknown:
        raise ValueError(f"unknown module(s) {', '.join(unknown)}; known modules: {_known()}")
    return list(dict.fromkeys(ModuleKey(part) for part in cleaned))


def _known() -> str:
    return ", ".join(key.value for key in ModuleKey)
