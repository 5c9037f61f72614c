"""The columns of each module's records, as staff read them and hand them on.

One definition serves the client's page, the CSV download and the change list, so a
field is called the same everywhere. ``path`` is a dotted path into ``Record.content()``
(``breakup.interest``); the labels follow the portals' own wording where they have one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from syncbucket.domain.portals import ModuleKey

Kind = Literal["text", "date", "amount"]
SOURCE_WORDS = {"eproceeding": "e-Proceedings (IT portal)", "traces_request": "TRACES request"}


@dataclass(frozen=True)
class Column:
    path: str
    label: str
    kind: Kind = "text"

    def value(self, content: dict[str, Any]) -> Any:
        return value_at(content, self.path)


def value_at(content: dict[str, Any], path: str) -> Any:
    value: Any = content
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    if path == "source" and isinstance(value, str):
        return SOURCE_WORDS.get(value, value)
    return value


def _c(path: str, label: str, kind: Kind = "text") -> Column:
    return Column(path, label, kind)


COLUMNS: dict[ModuleKey, tuple[Column, ...]] = {
    ModuleKey.RETURN_SUMMARY: (
        _c("fin_year", "FY"),
        _c("quarter", "Quarter"),
        _c("form_type", "Form"),
        _c("statement_type", "Statement"),
        _c("token_no", "Token no"),
        _c("filed_on", "Filed on", "date"),
        _c("status", "Status"),
        _c("status_as_on", "Status as on", "date"),
        _c("rejection_reason", "Rejection reason"),
        _c("remarks", "Remarks"),
    ),
    ModuleKey.FETCH_CHALLANS: (
        _c("deposit_date", "Date of deposit", "date"),
        _c("bsr_code", "BSR code"),
        _c("challan_serial", "Challan no"),
        _c("cin", "CIN"),
        _c("fin_year", "FY"),
        _c("assessment_year", "AY"),
        _c("nature_of_payment", "Section"),
        _c("minor_head", "Minor head"),
        _c("amount", "Amount", "amount"),
        _c("breakup.tax", "Tax", "amount"),
        _c("breakup.surcharge", "Surcharge", "amount"),
        _c("breakup.cess", "Cess", "amount"),
        _c("breakup.interest", "Interest", "amount"),
        _c("breakup.penalty", "Penalty", "amount"),
        _c("breakup.fee_234e", "Fee u/s 234E", "amount"),
        _c("bank_name", "Bank"),
        _c("mode_of_payment", "Mode"),
    ),
    ModuleKey.UNCONSUMED_CHALLANS: (
        _c("deposit_date", "Date of deposit", "date"),
        _c("bsr_code", "BSR code"),
        _c("challan_serial", "Challan no"),
        _c("receipt_no", "Receipt no"),
        _c("challan_amount", "Challan amount", "amount"),
        _c("unconsumed_amount", "Unconsumed amount", "amount"),
    ),
    ModuleKey.NOTICES_ORDERS: (
        _c("source", "Source"),
        _c("reference", "DIN / request no"),
        _c("title", "Notice / request"),
        _c("section", "Section"),
        _c("fin_year", "FY"),
        _c("assessment_year", "AY"),
        _c("issued_on", "Issued on", "date"),
        _c("response_due_on", "Response due", "date"),
        _c("status", "Status"),
    ),
    ModuleKey.OUTSTANDING_DEMAND: (
        _c("fin_year", "FY"),
        _c("ao_demand", "AO demand", "amount"),
        _c("cpc_demand", "CPC-TDS demand", "amount"),
        _c("components.short_payment", "Short payment", "amount"),
        _c("components.short_deduction", "Short deduction", "amount"),
        _c("components.interest_late_payment", "Interest on late payment", "amount"),
        _c("components.interest_late_deduction", "Interest on late deduction", "amount"),
        _c("components.late_filing_fee_234e", "Late filing fee u/s 234E", "amount"),
        _c("components.interest_220_2", "Interest u/s 220(2)", "amount"),
        _c("components.net_payable", "Net payable", "amount"),
    ),
    ModuleKey.VERIFY_LDC: (
        _c("certificate_no", "Certificate no"),
        _c("pan", "PAN"),
        _c("name", "Deductee"),
        _c("fin_year", "FY"),
        _c("section", "Section"),
        _c("tds_rate", "TDS rate %", "amount"),
        _c("amount_limit", "Limit", "amount"),
        _c("amount_consumed", "Consumed", "amount"),
        _c("valid_from", "Valid from", "date"),
        _c("valid_to", "Valid to", "date"),
        _c("cancelled_on", "Cancelled on", "date"),
        _c("verdict", "Verdict"),
    ),
}

LABELS: dict[str, str] = {
    column.path: column.label for columns in COLUMNS.values() for column in columns
}


def label_for(path: str) -> str:
    """A column's label, else the path made readable (``consumption[1].status``)."""
    if path in LABELS:
        return LABELS[path]
    return path.replace("_", " ").replace(".", " \u203a ")  # a single right angle quote
