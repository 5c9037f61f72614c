"""Client Master: the firm's clients (filter, sort, page), import, edit, a client's records.

Reads go through :mod:`syncbucket.clientmaster.directory` and
:mod:`syncbucket.reports.records`; writes through the same import and edit functions as
the CLI. Credentials are write-only: no page ever receives one, not even its length.
"""

from __future__ import annotations

import io
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from starlette.datastructures import UploadFile

from syncbucket.clientmaster.csv_import import ImportReport, decode_csv, import_clients_csv
from syncbucket.clientmaster.csv_rows import COLUMNS as CSV_COLUMNS
from syncbucket.clientmaster.directory import (
    ClientEntry,
    CredentialState,
    SortKey,
    client_entry,
    directory_page,
)
from syncbucket.clientmaster.editing import ClientEdit, add_client, edit_client
from syncbucket.clientmaster.errors import CsvFormatError, InvalidClientEdit
from syncbucket.clientmaster.filters import filter_condition
from syncbucket.db.session import unit_of_work
from syncbucket.domain.portals import ModuleKey, Portal
from syncbucket.reports.columns import COLUMNS
from syncbucket.reports.records import Changes, RecordView, changes_in, client_records, export_lines
from syncbucket_coordinator.schemas_in import MAX_ID
from syncbucket_coordinator.web.errors import PageError
from syncbucket_coordinator.web.forms import (
    FormProblem,
    filter_or_default,
    filter_params,
    ids,
    listing,
    text,
)
from syncbucket_coordinator.web.identity import Admin, CheckedForm, Reader, Web
from syncbucket_coordinator.web.pages import show

router = APIRouter(include_in_schema=False)
RECORDS_SHOWN = 100
ClientId = Annotated[int, Path(ge=1, le=MAX_ID)]


@router.get("/clients", response_class=HTMLResponse)
def clients_page(request: Request, context: Web, user: Reader) -> HTMLResponse:
    chosen, problem = filter_or_default(request.query_params)
    view = listing(request.query_params)
    with unit_of_work(context.sessions) as session:
        page = directory_page(
            session,
            user.firm_id,
            chosen,
            context.now(),
            sort=view.sort,
            descending=view.descending,
            offset=view.offset,
            limit=view.size,
        )
    filter_only = filter_params(request.query_params)
    query = {**filter_only, "sort": view.sort.value, "size": str(view.size)}
    if view.descending:
        query["dir"] = "desc"
    return show(
        request,
        "clients.html",
        user=user,
        area="clients",
        title="Client Master",
        page=page,
        view=view,
        chosen=chosen,
        problem=problem,
        query=query,
        filter_only=filter_only,
        sort_keys=SortKey,
    )


@router.get("/clients/import", response_class=HTMLResponse)
def import_page(request: Request, user: Admin) -> HTMLResponse:
    return show(
        request,
        "import.html",
        user=user,
        area="clients",
        title="Import clients",
        columns=CSV_COLUMNS,
        report=None,
        problem="",
    )


@router.post("/clients/import", response_class=HTMLResponse)
def import_csv(request: Request, context: Web, user: Admin, form: CheckedForm) -> HTMLResponse:
    upload = form.get("file")
    report: ImportReport | None = None
    problem = ""
    if not isinstance(upload, UploadFile) or not upload.filename:
        problem = "Choose a CSV file to import."
    else:
        try:
            source = io.StringIO(decode_csv(upload.file.read()), newline="")
            cipher = context.cipher()
            with unit_of_work(context.sessions) as session:
                report = import_clients_csv(session, user.firm_id, source, cipher)
        except CsvFormatError as exc:
            problem = f"Nothing was imported: {exc}."
    return show(
        request,
        "import.html",
        user=user,
        area="clients",
        title="Import clients",
        columns=CSV_COLUMNS,
        report=report,
        problem=problem,
        filename=upload.filename if isinstance(upload, UploadFile) else "",
        status=422 if problem else 200,
    )


Section = tuple[list[RecordView], int, Changes]


def _latest_changes(context: Web, firm_id: int, entry: ClientEntry) -> dict[ModuleKey, Section]:
    found: dict[ModuleKey, Section] = {}
    with unit_of_work(context.sessions) as session:
        for module in ModuleKey:
            records, total = client_records(session, firm_id, entry.id, module, limit=RECORDS_SHOWN)
            state = entry.modules.get(module)
            runs = state.success_run_ids if state else ()
            found[module] = (records, total, changes_in(session, firm_id, entry.id, module, runs))
    return found


def _new_page(
    request: Request, user: Admin, values: dict[str, str], problem: InvalidClientEdit | None
) -> HTMLResponse:
    return show(
        request,
        "client_new.html",
        user=user,
        area="clients",
        title="Add a client",
        values=values,
        problem=problem,
        status=422 if problem else 200,
    )


@router.get("/clients/new", response_class=HTMLResponse)
def new_page(request: Request, user: Admin) -> HTMLResponse:
    return _new_page(request, user, {}, None)


@router.post("/clients/new")
def add(request: Request, context: Web, user: Admin, form: CheckedForm) -> Response:
    values = {column: text(form, column) for column in CSV_COLUMNS}
    try:
        cipher = context.cipher()
        with unit_of_work(context.sessions) as session:
            client_id = add_client(session, user.firm_id, values, cipher)
    except InvalidClientEdit as problem:
        shown = {k: v for k, v in values.items() if not k.endswith(("_user", "_password"))}
        return _new_page(request, user, shown, problem)
    return RedirectResponse(f"/clients/{client_id}?notice=client-saved", status_code=303)


@router.get("/clients/{client_id}", response_class=HTMLResponse)
def client_page(request: Request, context: Web, user: Reader, client_id: ClientId) -> HTMLResponse:
    with unit_of_work(context.sessions) as session:
        entry = client_entry(session, user.firm_id, client_id)
    return show(
        request,
        "client.html",
        user=user,
        area="clients",
        title=entry.name,
        entry=entry,
        sections=_latest_changes(context, user.firm_id, entry),
        columns=COLUMNS,
        shown=RECORDS_SHOWN,
    )


def _edit_page(
    request: Request,
    user: Admin,
    entry: ClientEntry,
    *,
    problem: InvalidClientEdit | None = None,
    values: dict[str, str] | None = None,
) -> HTMLResponse:
    return show(
        request,
        "client_edit.html",
        user=user,
        area="clients",
        title=f"Edit {entry.name}",
        entry=entry,
        problem=problem,
        values=values
        or {"name": entry.name, "pan": entry.pan, "active": "1" if entry.active else ""},
        missing=CredentialState.MISSING,
        status=422 if problem else 200,
    )


@router.get("/clients/{client_id}/edit", response_class=HTMLResponse)
def edit_page(request: Request, context: Web, user: Admin, client_id: ClientId) -> HTMLResponse:
    with unit_of_work(context.sessions) as session:
        entry = client_entry(session, user.firm_id, client_id)
    return _edit_page(request, user, entry)


@router.post("/clients/{client_id}/edit")
def edit(
    request: Request, context: Web, user: Admin, form: CheckedForm, client_id: ClientId
) -> Response:
    credential_fields = {
        f"{portal.value}_{part}": text(form, f"{portal.value}_{part}")
        for portal in Portal
        for part in ("user", "password")
    }
    change = ClientEdit(
        name=text(form, "name"),
        pan=text(form, "pan"),
        active=text(form, "active") == "1",
        credential_fields=credential_fields,
        remove_credentials=frozenset(p for p in Portal if text(form, f"remove_{p.value}") == "1"),
    )
    try:
        cipher = context.cipher()
        with unit_of_work(context.sessions) as session:
            edit_client(session, user.firm_id, client_id, change, cipher)
    except InvalidClientEdit as problem:
        with unit_of_work(context.sessions) as session:
            entry = client_entry(session, user.firm_id, client_id)
        values = {"name": change.name, "pan": change.pan, "active": "1" if change.active else ""}
        return _edit_page(request, user, entry, problem=problem, values=values)
    return RedirectResponse(f"/clients/{client_id}?notice=client-saved", status_code=303)


@router.get("/records.csv")
def records_csv(request: Request, context: Web, user: Reader, export: ModuleKey) -> Response:
    """The firm's records of module ``export``: every client, the filter's, or the ids given."""
    module = export
    chosen, problem = filter_or_default(request.query_params)
    try:
        if problem is not None:
            raise problem
        params = request.query_params
        picked = ids(params, "client_id") if "client_id" in params else None
    except FormProblem as exc:
        raise PageError(400, "Bad download link", f"{exc.field}: {exc.message}") from None
    condition = None if chosen.is_empty() else filter_condition(chosen, context.now())
    lines = export_lines(
        context.sessions, user.firm_id, module, client_ids=picked, condition=condition
    )
    name = f"{module.value}-{context.now():%Y%m%d}.csv"
    return StreamingResponse(
        lines,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )
