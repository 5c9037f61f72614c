"""unconsumed_challans (TRACES): challans with a balance TRACES has not consumed yet.

``GET /app/srv/deductor/unconsumedChallans`` (paginated); each row carries its consumption
against statements. Keyed by BSR code + date of deposit + serial no, never the receipt no.
"""

from __future__ import annotations

from syncbucket.domain.portals import ModuleKey
from syncbucket.domain.records import ChallanConsumption, UnconsumedChallan
from syncbucket.portals.base import AnyPortalClient
from syncbucket.portals.fields import Fields

MODULE = ModuleKey.UNCONSUMED_CHALLANS
PATH = "/app/srv/deductor/unconsumedChallans"


def fetch(client: AnyPortalClient) -> list[UnconsumedChallan]:
    rows = client.paginate(PATH, module=MODULE, what="the unconsumed challan list")
    return [to_record(row) for row in rows]


def to_record(row: Fields) -> UnconsumedChallan:
    return UnconsumedChallan(
        bsr_code=row.text("chlnbsrcode"),
        deposit_date=row.traces_date("dateofdep"),
        challan_serial=row.text("chlnsrno"),
        receipt_no=row.text("recptNo"),
        challan_amount=row.amount("hidchlnamt"),
        unconsumed_amount=row.amount("hidunconschlnamt"),
        consumption=tuple(_consumption(item) for item in row.objects("consumption")),
    )


def _consumption(item: Fields) -> ChallanConsumption:
    return ChallanConsumption(
        token_no=item.text("tokenNum"),
        fin_year=item.fin_year("finYr"),
        quarter=item.quarter("qtr"),
        form_type=item.text("formType"),
        claimed_amount=item.opt_amount("claimAmt"),
        claimed_interest=item.opt_amount("claimIntAmt"),
        claimed_other=item.opt_amount("claimOthAmt"),
        status=item.text("chlnStatus"),
        excess_amount=item.opt_amount("excessAmt"),
    )
