"""Response models. Runs and items use the pipeline's own views (``syncbucket.pipeline.views``)
so the API, the CLI and the ``run.completed`` event describe a run the same way.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from syncbucket.pipeline.views import ItemPage, ItemView, RunListEntry, RunPage, RunSummary

__all__ = [
    "ClientOut",
    "ClientPage",
    "ErrorOut",
    "FieldError",
    "ItemPage",
    "ItemView",
    "ModuleStateOut",
    "RunListEntry",
    "RunPage",
    "RunSummary",
]


class FieldError(BaseModel):
    field: str = Field(examples=["modules"])
    message: str


class ErrorOut(BaseModel):
    """Every error response: a stable code and a message a person can act on."""

    error: str = Field(examples=["unknown_clients"])
    message: str = Field(examples=["not clients of this firm: TAN DELA99999Z"])
    fields: list[FieldError] | None = Field(
        default=None, description="validation errors only: one entry per offending field"
    )


class ModuleStateOut(BaseModel):
    model_config = ConfigDict(frozen=True)

    last_success_at: datetime | None = Field(description="every part succeeded since then")
    last_attempt_at: datetime | None
    last_failed: bool = Field(description="the last attempt (of a part) failed")
    error_code: str | None


class ClientOut(BaseModel):
    """A client of the firm; ``portals`` names the portals with stored credentials."""

    model_config = ConfigDict(frozen=True)

    id: int
    name: str
    tan: str
    pan: str
    active: bool
    portals: list[str] = Field(examples=[["traces", "itportal"]])
    demo_note: str | None = None
    credentials: dict[str, str] = Field(
        default_factory=dict,
        description="portal -> ok | rejected | locked | missing | unchecked (never a secret)",
    )
    modules: dict[str, ModuleStateOut] = Field(
        default_factory=dict, description="module key -> its last sync (absent: never tried)"
    )


class ClientPage(BaseModel):
    clients: list[ClientOut]
    total: int = Field(description="clients matching, all pages")
    next_offset: int | None = Field(description="pass as offset for the next page")


Responses = dict[int | str, dict[str, object]]
ERROR_RESPONSES: Responses = {
    401: {"model": ErrorOut, "description": "missing, unknown or revoked bearer token"},
    422: {"model": ErrorOut, "description": "invalid request; the message names the field"},
}
NOT_FOUND: Responses = {404: {"model": ErrorOut, "description": "no such run for this firm"}}
