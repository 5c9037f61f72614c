"""Context for the worker's log events that the work message does not carry: the client's TAN.

Work messages carry ids only (docs/architecture.md, "Contracts"), but a person reading the logs
searches by TAN.
:class:`ClientTans` looks it up once per client and process (a bounded LRU cache) and
never fails the item: a failed look-up only leaves ``client_tan`` out of the logs. A TAN
identifies a deductor publicly (it is printed on every certificate); it is no credential.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict

import sqlalchemy as sa

from syncbucket.db.clients import Client
from syncbucket.db.session import SessionFactory

log = logging.getLogger(__name__)

DEFAULT_SIZE = 10_000


class ClientTans:
    def __init__(self, sessions: SessionFactory, size: int = DEFAULT_SIZE) -> None:
        self._sessions = sessions
        self._size = size
        self._cache: OrderedDict[int, str] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, client_id: int) -> str | None:
        with self._lock:
            tan = self._cache.get(client_id)
            if tan is not None:
                self._cache.move_to_end(client_id)
                return tan
        tan = self._load(client_id)
        if tan is not None:
            with self._lock:
                self._cache[client_id] = tan
                while len(self._cache) > self._size:
                    self._cache.popitem(last=False)
        return tan

    def _load(self, client_id: int) -> str | None:
        try:
            with self._sessions() as session:
                tan: str | None = session.scalar(
                    sa.select(Client.tan).where(Client.id == client_id)
                )
        except Exception as exc:
            log.warning("no TAN for the log context of client %s: %s", client_id, exc)
            return None
        return tan
