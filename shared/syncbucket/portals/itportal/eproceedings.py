"""notices_orders, IT portal part: e-Proceedings and the notices issued in them.

Lists both tabs (``GET /iec/eproceedings?tab=FYA|FYI``, paginated: "for your action" and
"for your information"), then the notices of each proceeding
(``GET /iec/eproceedings/{proceedingReqId}/notices``). Each notice becomes a
``NoticeOrder`` with source ``eproceeding`` keyed by its DIN; a proceeding with no notice
yet becomes one record keyed by its ``proceedingReqId``, so it is not lost.
"""

from __future__ import annotations

from urllib.parse import quote

from syncbucket.domain.portals import ModuleKey
from syncbucket.domain.records import NoticeOrder
from syncbucket.portals.base import AnyPortalClient
from syncbucket.portals.fields import Fields, unexpected

MODULE = f"{ModuleKey.NOTICES_ORDERS} (IT portal e-Proceedings)"
LIST_PATH = "/iec/eproceedings"
NOTICES_PATH = "/iec/eproceedings/{id}/notices"
TABS = ("FYA", "FYI")
SOURCE = "eproceeding"
PROCEEDING_STATUS = {"O": "Open", "C": "Closed"}


def fetch(client: AnyPortalClient) -> list[NoticeOrder]:
    found: dict[tuple[str, ...], NoticeOrder] = {}
    for tab in TABS:
        proceedings = client.paginate(
            LIST_PATH, module=MODULE, what=f"the e-Proceedings list ({tab})", params={"tab": tab}
        )
        for proceeding in proceedings:
            for record in _records(client, proceeding):
                # A proceeding may show on both tabs; its notices count once.
                found.setdefault(record.natural_key, record)
    return list(found.values())


def _records(client: AnyPortalClient, proceeding: Fields) -> list[NoticeOrder]:
    req_id = proceeding.text("proceedingReqId")
    body = client.get_json(
        NOTICES_PATH.format(id=quote(req_id, safe="")),
        what=f"the notices of proceeding {req_id}",
    )
    if not isinstance(body, list):
        raise unexpected(
            client.portal, MODULE, f"the notices of proceeding {req_id} are not a list"
        )
    notices = [
        Fields(item, portal=client.portal, module=MODULE, where=f"notice {i} of {req_id}")
        for i, item in enumerate(body)
    ]
    if not notices:
        return [proceeding_record(proceeding)]
    return [notice_record(proceeding, notice) for notice in notices]


def notice_record(proceeding: Fields, notice: Fields) -> NoticeOrder:
    return NoticeOrder(
        source=SOURCE,
        reference=notice.text("documentIdentificationNumber"),
        title=proceeding.text("proceedingName"),
        fin_year=proceeding.opt_fin_year("financialYr"),
        assessment_year=proceeding.opt_fin_year("assessmentYear"),
        status=notice.opt_text("respStatus") or _proceeding_status(proceeding),
        issued_on=notice.opt_epoch_date("issuedOn"),
        response_due_on=notice.opt_epoch_date("responseDueDate"),
        section=notice.opt_text("noticeSection"),
        detail=notice.opt_text("description"),
    )


def proceeding_record(proceeding: Fields) -> NoticeOrder:
    return NoticeOrder(
        source=SOURCE,
        reference=proceeding.text("proceedingReqId"),
        title=proceeding.text("proceedingName"),
        fin_year=proceeding.opt_fin_year("financialYr"),
        assessment_year=proceeding.opt_fin_year("assessmentYear"),
        status=_proceeding_status(proceeding),
        issued_on=None,
        response_due_on=None,
        section=None,
        detail=proceeding.opt_text("proceedingType"),
    )


def _proceeding_status(proceeding: Fields) -> str:
    status = proceeding.text("proceedingStatus")
    return PROCEEDING_STATUS.get(status.upper(), status)
