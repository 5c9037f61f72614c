"""Form and query fields -> the library's requests, with errors that name the field.

The pages send the Client Master's filter with the same field names everywhere (the
list's GET form, the Sync Bucket's hidden fields, the CSV download links), so one parser
serves them all: :func:`client_filter`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from starlette.datastructures import FormData, QueryParams

from syncbucket.accounts.web_sessions import SignedInUser
from syncbucket.clientmaster.directory import SortKey
from syncbucket.clientmaster.filters import ClientFilter, InvalidFilter, parse_filter
from syncbucket.domain.portals import ModuleKey
from syncbucket.domain.runs import RunSource
from syncbucket.pipeline.requests import RunRequest

FILTER_FIELDS = tuple(ClientFilter.__dataclass_fields__)
PAGE_SIZES = (25, 50, 100, 200, 500)
MAX_SELECTED = 100_000  # client ids a form may send; more is what Select All is for
MAX_KEY_LENGTH = 200
# The Sync Bucket's module checkboxes: not "module", which is the filter's own field
# ("failed last time" for one module) and travels in the same form.
MODULE_FIELD = "sync_module"

Fields = FormData | QueryParams


class FormProblem(ValueError):
    """A field the person must fix; ``field`` names it for the message next to it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def text(fields: Fields, name: str) -> str:
    value = fields.get(name)
    return value if isinstance(value, str) else ""


def client_filter(fields: Fields) -> ClientFilter:
    values: dict[str, Any] = {name: text(fields, name) for name in FILTER_FIELDS if name in fields}
    try:
        return parse_filter(values)
    except InvalidFilter as exc:
        raise FormProblem(exc.field, exc.message) from None


def filter_params(fields: Fields) -> dict[str, str]:
    """The filter fields that are set, as the pages carry them in links and hidden inputs."""
    return {name: text(fields, name) for name in FILTER_FIELDS if text(fields, name)}


def filter_or_default(fields: Fields) -> tuple[ClientFilter, FormProblem | None]:
    """The filter asked for, or no filter plus the problem (a list page still shows)."""
    try:
        return client_filter(fields), None
    except FormProblem as problem:
        return ClientFilter(), problem


@dataclass(frozen=True)
class Listing:
    sort: SortKey
    descending: bool
    page: int
    size: int

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size


def listing(fields: Fields) -> Listing:
    sort = text(fields, "sort")
    chosen = SortKey(sort) if sort in SortKey._value2member_map_ else SortKey.NAME
    size_text = text(fields, "size")
    size = int(size_text) if size_text.isdigit() and int(size_text) in PAGE_SIZES else 50
    page_text = text(fields, "page")
    page = max(1, min(int(page_text), 100_000)) if page_text.isdigit() else 1
    return Listing(chosen, text(fields, "dir") == "desc", page, size)


def ids(fields: Fields, name: str) -> list[int]:
    found: list[int] = []
    for raw in fields.getlist(name):
        if not isinstance(raw, str) or not raw.strip().isdigit() or len(raw.strip()) > 10:
            raise FormProblem(name, f"{name}: {str(raw)[:20]!r} is not a client id")
        found.append(int(raw.strip()))
    if len(found) > MAX_SELECTED:
        raise FormProblem(name, f"at most {MAX_SELECTED:,} clients at once: use Select All")
    return sorted(set(found))


def modules(fields: FormData) -> list[ModuleKey]:
    if text(fields, "all_modules") == "1":
        return list(ModuleKey)
    chosen: list[ModuleKey] = []
    for raw in fields.getlist(MODULE_FIELD):
        if not isinstance(raw, str) or raw not in ModuleKey._value2member_map_:
            raise FormProblem(MODULE_FIELD, f"unknown module {str(raw)[:40]!r}")
        chosen.append(ModuleKey(raw))
    return chosen


def run_request(fields: FormData, user: SignedInUser) -> RunRequest:
    """The Sync Bucket's form as a run request (refusals come from the library)."""
    key = text(fields, "idempotency_key").strip() or None
    if key is not None and (len(key) > MAX_KEY_LENGTH or key.startswith("retry-of-")):
        raise FormProblem("idempotency_key", "the form is damaged: reload the page")
    chosen_modules = modules(fields)
    if not chosen_modules:
        raise FormProblem(MODULE_FIELD, "Tick at least one module, or Select all modules.")
    if text(fields, "select_all") == "1":
        return RunRequest(
            firm_id=user.firm_id,
            modules=chosen_modules,
            client_filter=client_filter(fields),
            excluded_client_ids=ids(fields, "exclude_id"),
            source=RunSource.UI,
            idempotency_key=key,
            requested_by=user.requested_by,
        )
    chosen_clients = ids(fields, "client_id")
    if not chosen_clients:
        raise FormProblem("clients", "Select at least one client, or tick Select All.")
    return RunRequest(
        firm_id=user.firm_id,
        modules=chosen_modules,
        client_ids=chosen_clients,
        source=RunSource.UI,
        idempotency_key=key,
        requested_by=user.requested_by,
    )


def query_string(values: Mapping[str, str | int], **changes: str | int | None) -> str:
    """``values`` with ``changes`` applied (None removes), URL-encoded, for links."""
    merged: dict[str, str | int] = {k: v for k, v in values.items() if v not in ("", None)}
    for key, value in changes.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return urlencode(merged)
