"""The complete schema: importing this module registers every table on ``metadata``."""

from __future__ import annotations

from syncbucket.db.base import Base
from syncbucket.db.client_state import ClientLoginState, ClientModuleState, ClientModuleSync
from syncbucket.db.clients import Client, ClientCredential
from syncbucket.db.firms import ApiToken, Firm
from syncbucket.db.items import Item
from syncbucket.db.outbox import OutboxEvent
from syncbucket.db.outcomes import Outcome
from syncbucket.db.records_tables import RECORD_MODELS, RecordRow
from syncbucket.db.runs import Run
from syncbucket.db.users import SigninFailure, User, WebSession

metadata = Base.metadata

__all__ = [
    "RECORD_MODELS",
    "ApiToken",
    "Client",
    "ClientCredential",
    "ClientLoginState",
    "ClientModuleState",
    "ClientModuleSync",
    "Firm",
    "Item",
    "OutboxEvent",
    "Outcome",
    "RecordRow",
    "Run",
    "SigninFailure",
    "User",
    "WebSession",
    "metadata",
]
