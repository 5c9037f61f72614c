"""The complete schema: importing this module registers every table on ``metadata``."""

from __future__ import annotations

from syncbucket.db.base import Base
from syncbucket.db.client_state import ClientLoginState, ClientModuleState, ClientModuleSync
from syncbucket.db.clients import Client, ClientCredential
from syncbucket.db.firms import ApiToken, Firm
from syncbucket.db.integrations import IntegrationSecret
from syncbucket.db.items import Item
from syncbucket.db.leases import Lease
from syncbucket.db.outbox import OutboxEvent
from syncbucket.db.outcomes import Outcome
from syncbucket.db.records_tables import RECORD_MODELS, RecordRow
from syncbucket.db.runs import Run
from syncbucket.db.schedules import Schedule, ScheduleFire
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
    "IntegrationSecret",
    "Item",
    "Lease",
    "OutboxEvent",
    "Outcome",
    "RecordRow",
    "Run",
    "Schedule",
    "ScheduleFire",
    "SigninFailure",
    "User",
    "WebSession",
    "metadata",
]
