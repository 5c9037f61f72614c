"""outstanding_demand (TRACES): demand per financial year, with its components.

``GET /app/srv/deductor/outstandingDemand`` is not paginated: ``{"rows": [...]}``. TRACES
adds a "Prior Years" row for everything older, stored with ``fin_year="prior"``.
"""

from __future__ import annotations

from syncbucket.domain.portals import ModuleKey
from syncbucket.domain.records import DemandComponents, OutstandingDemand
from syncbucket.portals.base import AnyPortalClient
from syncbucket.portals.fields import Fields

MODULE = ModuleKey.OUTSTANDING_DEMAND
PATH = "/app/srv/deductor/outstandingDemand"
PRIOR_YEARS = "prior"


def fetch(client: AnyPortalClient) -> list[OutstandingDemand]:
    body = client.get_json(PATH, what="the outstanding demand")
    page = Fields(body, portal=client.portal, module=MODULE, where="the demand answer")
    return [to_record(row) for row in page.objects("rows", required=True)]


def to_record(row: Fields) -> OutstandingDemand:
    fin_year = PRIOR_YEARS if _is_prior(row.text("finYr")) else row.fin_year("finYr")
    components = row.opt_obj("components")
    return OutstandingDemand(
        fin_year=fin_year,
        ao_demand=row.opt_amount("aodmnd"),
        cpc_demand=row.opt_amount("cpcdmd"),
        components=_components(components) if components is not None else None,
    )


def _is_prior(value: str) -> bool:
    return value.strip().lower().startswith("prior")


def _components(item: Fields) -> DemandComponents:
    return DemandComponents(
        short_payment=item.opt_amount("shortPayment"),
        short_deduction=item.opt_amount("shortDeduction"),
        interest_late_payment=item.opt_amount("intLatePayment"),
        interest_late_deduction=item.opt_amount("intLateDeduction"),
        late_filing_fee_234e=item.opt_amount("lateFilingLevy234E"),
        interest_220_2=item.opt_amount("int2202"),
        net_payable=item.opt_amount("netPayable"),
    )
