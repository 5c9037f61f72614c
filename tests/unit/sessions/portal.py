"""A fake portal that accepts exactly one live session token, for the session tests."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from syncbucket.portals.errors import InvalidCredentials, SessionExpired
from syncbucket.sessions.cache import SessionState


@dataclass
class OneSessionPortal:
    login_seconds: float = 0.05
    valid: str = "tok-0"
    reject: bool = False
    logins: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def login(self) -> SessionState:
        time.sleep(self.login_seconds)
        with self._lock:
            self.logins += 1
            if self.reject:
                raise InvalidCredentials("rejected", portal="traces")
            self.valid = f"tok-SECRET-{self.logins}"
            return {"token": self.valid}

    def work(self, slot: Slot) -> str:
        token = (slot.state or {}).get("token")
        if token != self.valid:
            raise SessionExpired("expired", portal="traces")
        return token


@dataclass
class Slot:
    state: SessionState | None = None
    installs: int = 0

    def install(self, state: SessionState) -> None:
        self.state = dict(state)
        self.installs += 1

    def current(self) -> SessionState | None:
        return self.state
