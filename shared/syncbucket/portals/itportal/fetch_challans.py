"""fetch_challans (IT portal): challans paid (ITNS 281) from the payment history.

``GET /iec/paymentHistory`` (paginated). Keyed by BSR code + date of deposit + challan
serial no (the CIN is kept but never used as the key).
"""

from __future__ import annotations

from syncbucket.domain.portals import ModuleKey
from syncbucket.domain.records import PaidChallan, TaxBreakup
from syncbucket.portals.base import AnyPortalClient
from syncbucket.portals.fields import Fields

MODULE = ModuleKey.FETCH_CHALLANS
PATH = "/iec/paymentHistory"


def fetch(client: AnyPortalClient) -> list[PaidChallan]:
    rows = client.paginate(PATH, module=MODULE, what="the payment history")
    return [to_record(row) for row in rows]


def to_record(row: Fields) -> PaidChallan:
    return PaidChallan(
        bsr_code=row.text("bsrCode"),
        deposit_date=row.iso_date("dateOfDeposit"),
        challan_serial=row.text("challanNo"),
        cin=row.text("cin"),
        assessment_year=row.fin_year("assessmentYear"),
        fin_year=row.fin_year("financialYear"),
        major_head=row.text("majorHead"),
        minor_head=row.text("minorHead"),
        nature_of_payment=row.text("natureOfPayment"),
        amount=row.amount("amount"),
        mode_of_payment=row.text("modeOfPayment"),
        bank_name=row.text("bankName"),
        bank_reference_no=row.text("bankRefNo"),
        tender_date=row.opt_iso_date("tenderDate"),
        breakup=_breakup(row.obj("taxBreakup")),
    )


def _breakup(item: Fields) -> TaxBreakup:
    return TaxBreakup(
        tax=item.opt_amount("tax"),
        surcharge=item.opt_amount("surcharge"),
        cess=item.opt_amount("cess"),
        interest=item.opt_amount("interest"),
        penalty=item.opt_amount("penalty"),
        fee_234e=item.opt_amount("fee234E"),
        total=item.amount("total"),
    )
