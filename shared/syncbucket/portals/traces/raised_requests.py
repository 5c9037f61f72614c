"""notices_orders, TRACES part: requests already raised on TRACES, with their status.

``GET /app/srv/deductor/raisedRequests`` (paginated). A request ("NSDL Conso File",
"Justification Report", "Form 16", ...) goes Submitted → Available in 24-48 h; each becomes
a ``NoticeOrder`` with source ``traces_request`` keyed by the request number.
"""

from __future__ import annotations

from syncbucket.domain.portals import ModuleKey
from syncbucket.domain.records import NoticeOrder
from syncbucket.portals.base import AnyPortalClient
from syncbucket.portals.fields import Fields

MODULE = f"{ModuleKey.NOTICES_ORDERS} (TRACES raised requests)"
PATH = "/app/srv/deductor/raisedRequests"
SOURCE = "traces_request"


def fetch(client: AnyPortalClient) -> list[NoticeOrder]:
    rows = client.paginate(PATH, module=MODULE, what="the raised request list")
    return [to_record(row) for row in rows]


def to_record(row: Fields) -> NoticeOrder:
    form = row.opt_text("frmType")
    quarter = row.quarter("qrtr") if row.has("qrtr") else None
    detail = " ".join(part for part in (form, quarter) if part) or None
    return NoticeOrder(
        source=SOURCE,
        reference=row.text("reqNo"),
        title=row.text("dntype"),
        fin_year=row.opt_fin_year("finYr"),
        assessment_year=None,
        status=row.text("status"),
        issued_on=row.opt_traces_date("reqDate"),
        response_due_on=None,
        section=None,
        detail=detail,
    )
