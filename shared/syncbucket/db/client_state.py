"""Read models of the client master: how each client last fared, kept by the aggregator.

``client_module_state``: per (client, module, portal part) the last attempt (when, its
status and error code, in which run) and the last success; ``client_module_sync``: per
(client, module) the module as a whole, derived from its parts. ``client_login_state``: per
(client, portal) what the portal said of the stored credentials at the last login the
pipeline could judge (``ok``, ``rejected``, ``locked``). Both are written in the same
transaction as the outcome they summarise (:mod:`syncbucket.clientmaster.sync_state`), so
they never disagree with the items; editing a client's credentials deletes that portal's
login state ("not checked yet").

They exist so that the Client Master can filter and sort 10,000 clients by "failed last
time" or "not synced for 30 days" with one indexed query, instead of scanning every item
of every run the firm ever made.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from syncbucket.db.base import Base


class ClientModuleState(Base):
    __tablename__ = "client_module_state"
    __table_args__ = (sa.Index("ix_client_module_state_firm_id", "firm_id"),)

    client_id: Mapped[int] = mapped_column(
        sa.ForeignKey("clients.id", ondelete="CASCADE"), primary_key=True
    )
    module: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    portal: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    firm_id: Mapped[int] = mapped_column(sa.ForeignKey("firms.id", ondelete="CASCADE"))
    last_attempt_at: Mapped[datetime]
    last_status: Mapped[str] = mapped_column(sa.String(16))  # succeeded | failed
    last_error_code: Mapped[str | None] = mapped_column(sa.String(64))
    last_run_id: Mapped[int | None] = mapped_column(sa.ForeignKey("runs.id", ondelete="SET NULL"))
    last_success_at: Mapped[datetime | None]
    last_success_run_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("runs.id", ondelete="SET NULL")
    )


class ClientModuleSync(Base):
    """A module as a whole for one client: what the Client Master filters and sorts on.

    Derived from the module's parts (``client_module_state``) in the same transaction:
    ``synced_at`` is set only when every part has succeeded (the earliest of their last
    successes: the module is as fresh as its stalest part), ``failed`` when the last
    attempt of some part failed. One row per (client, module) keeps "failed last time",
    "not synced for N days" and the last-synced sort to one index probe per client.
    """

    __tablename__ = "client_module_sync"
    __table_args__ = (sa.Index("ix_client_module_sync_firm_id", "firm_id"),)

    client_id: Mapped[int] = mapped_column(
        sa.ForeignKey("clients.id", ondelete="CASCADE"), primary_key=True
    )
    module: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    firm_id: Mapped[int] = mapped_column(sa.ForeignKey("firms.id", ondelete="CASCADE"))
    synced_at: Mapped[datetime | None]
    failed: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    attempted_at: Mapped[datetime]


class ClientLoginState(Base):
    __tablename__ = "client_login_state"

    client_id: Mapped[int] = mapped_column(
        sa.ForeignKey("clients.id", ondelete="CASCADE"), primary_key=True
    )
    portal: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    state: Mapped[str] = mapped_column(sa.String(16))  # ok | rejected | locked
    observed_at: Mapped[datetime]
    run_id: Mapped[int | None] = mapped_column(sa.ForeignKey("runs.id", ondelete="SET NULL"))
