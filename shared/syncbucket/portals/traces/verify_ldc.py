"""verify_ldc (TRACES): lower deduction certificates (s.197), each verified on TRACES.

Lists the certificates (``GET /app/srv/deductor/ldcList``, paginated: certNo, pan, finYr),
then verifies each (``POST /app/srv/deductor/verifyLdc``) and gives it a verdict as of
"today" (injectable; by default today's date in India), first match wins:

- ``invalid``    TRACES does not know the certificate (404 ``CERT_NOT_FOUND``)
- ``cancelled``  a cancel date on or before today
- ``expired``    valid-to date before today
- ``exhausted``  amount consumed >= the certificate's amount limit
- ``valid``      otherwise
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from syncbucket.domain.portals import ModuleKey
from syncbucket.domain.records import LowerDeductionCertificate
from syncbucket.portals.base import AnyPortalClient
from syncbucket.portals.boundary import error_code_of
from syncbucket.portals.fields import IST, Fields

MODULE = ModuleKey.VERIFY_LDC
LIST_PATH = "/app/srv/deductor/ldcList"
VERIFY_PATH = "/app/srv/deductor/verifyLdc"


class _CertificateNotFound(Exception):
    """404 CERT_NOT_FOUND: a verdict ("invalid"), not a failure of the item."""


def fetch(client: AnyPortalClient, *, today: date | None = None) -> list[LowerDeductionCertificate]:
    as_of = today or datetime.now(IST).date()
    listed = list(client.paginate(LIST_PATH, module=MODULE, what="the certificate list"))
    return [verify(client, cert, as_of) for cert in listed]


def verify(client: AnyPortalClient, listed: Fields, today: date) -> LowerDeductionCertificate:
    cert_no = listed.text("certNo")
    body = {"pan": listed.text("pan"), "finYr": listed.text("finYr"), "certNo": cert_no}
    try:
        answer = client.post_json(
            VERIFY_PATH,
            what=f"the verification of certificate {cert_no}",
            body=body,
            on_error=_not_found,
        )
    except _CertificateNotFound:
        return _invalid(listed)
    where = f"the verification of certificate {cert_no}"
    return to_record(Fields(answer, portal=client.portal, module=MODULE, where=where), today)


def _not_found(status: int, body: Any) -> None:
    # Only TRACES' own "no such certificate" is a verdict; a 404 for a moved page is not.
    if status == 404 and error_code_of(body) == "CERT_NOT_FOUND":
        raise _CertificateNotFound


def to_record(row: Fields, today: date) -> LowerDeductionCertificate:
    valid_to = row.traces_date("validTo")
    cancelled_on = row.opt_traces_date("cancelDate")
    limit = row.amount("tdsAmtLimit")
    consumed = row.amount("tdsAmtConsumed")
    return LowerDeductionCertificate(
        certificate_no=row.text("certNo"),
        fin_year=row.fin_year("finYr"),
        pan=row.text("pan"),
        name=row.text("name"),
        section=row.text("section"),
        nature_of_payment=row.text("natureOfPayment"),
        tds_rate=row.decimal("tdsRate"),
        amount_limit=limit,
        amount_consumed=consumed,
        valid_from=row.traces_date("validFrom"),
        valid_to=valid_to,
        cancelled_on=cancelled_on,
        issued_on=row.opt_traces_date("issueDate"),
        verdict=verdict(today, valid_to, cancelled_on, limit, consumed),
    )


def verdict(
    today: date, valid_to: date, cancelled_on: date | None, limit: Decimal, consumed: Decimal
) -> str:
    if cancelled_on is not None and cancelled_on <= today:
        return "cancelled"
    if valid_to < today:
        return "expired"
    if consumed >= limit:
        return "exhausted"
    return "valid"


def _invalid(listed: Fields) -> LowerDeductionCertificate:
    zero = Decimal("0.00")
    return LowerDeductionCertificate(
        certificate_no=listed.text("certNo"),
        fin_year=listed.fin_year("finYr"),
        pan=listed.text("pan"),
        name="",
        section="",
        nature_of_payment="",
        tds_rate=zero,
        amount_limit=zero,
        amount_consumed=zero,
        valid_from=None,
        valid_to=None,
        cancelled_on=None,
        issued_on=None,
        verdict="invalid",
    )
