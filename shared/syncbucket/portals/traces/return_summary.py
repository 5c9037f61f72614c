"""return_summary (TRACES): statement status per FY / quarter / form.

``GET /app/srv/deductor/statementStatus`` (paginated); one row per statement, regular or
correction, keyed by its 15-digit token number.
"""

from __future__ import annotations

from syncbucket.domain.portals import ModuleKey
from syncbucket.domain.records import StatementStatus
from syncbucket.portals.base import AnyPortalClient
from syncbucket.portals.fields import Fields

MODULE = ModuleKey.RETURN_SUMMARY
PATH = "/app/srv/deductor/statementStatus"


def fetch(client: AnyPortalClient) -> list[StatementStatus]:
    rows = client.paginate(PATH, module=MODULE, what="the statement status list")
    return [to_record(row) for row in rows]


def to_record(row: Fields) -> StatementStatus:
    return StatementStatus(
        token_no=row.text("tokenno"),
        fin_year=row.fin_year("finyear"),
        quarter=row.quarter("quarter"),
        form_type=row.text("formtype"),
        statement_type=row.text("stmnttype"),
        filed_on=row.opt_traces_date("dtoffiling"),
        status=row.text("status"),
        status_as_on=row.opt_traces_date("dtofprcng"),
        remarks=row.opt_text("remarks"),
        rejection_reason=row.opt_text("reason"),
    )
