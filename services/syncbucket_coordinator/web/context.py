"""What every page shares: the composition root, templates, the progress hub, policies.

Built once by :func:`syncbucket_coordinator.web.routes.install_web` and kept on
``app.state.web``; pages reach it through :func:`syncbucket_coordinator.web.identity.web`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from fastapi.templating import Jinja2Templates

from syncbucket.accounts.signin import ThrottlePolicy
from syncbucket.accounts.web_sessions import SessionPolicy
from syncbucket.config import ConfigError, Settings
from syncbucket.crypto import CredentialCipher
from syncbucket.db.session import SessionFactory
from syncbucket_coordinator.container import Coordinator
from syncbucket_coordinator.web import wording
from syncbucket_coordinator.web.progress import ProgressHub

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
# Upload limit for a client-master CSV: 10,000 clients with credentials are ~1.5 MB.
MAX_UPLOAD_BYTES = 5 * 1024 * 1024


@dataclass
class WebContext:
    coordinator: Coordinator
    templates: Jinja2Templates
    hub: ProgressHub
    clock: wording.Clock
    session_policy: SessionPolicy
    throttle: ThrottlePolicy
    _cipher: CredentialCipher | None = field(default=None, repr=False)

    @property
    def settings(self) -> Settings:
        return self.coordinator.settings

    @property
    def sessions(self) -> SessionFactory:
        return self.coordinator.sessions

    def now(self) -> datetime:
        return self.coordinator.clock()

    def cipher(self) -> CredentialCipher:
        """The credential cipher; :class:`ConfigError` (shown as a page) without the key."""
        if self._cipher is None:
            self._cipher = CredentialCipher(self.settings.require_secret_key())
        return self._cipher


def policies(settings: Settings) -> tuple[SessionPolicy, ThrottlePolicy]:
    return (
        SessionPolicy(
            idle=timedelta(minutes=settings.web_session_idle_minutes),
            absolute=timedelta(hours=settings.web_session_absolute_hours),
        ),
        ThrottlePolicy(
            free_failures=settings.signin_free_failures,
            max_delay_seconds=settings.signin_max_delay_seconds,
        ),
    )


__all__ = ["MAX_UPLOAD_BYTES", "STATIC", "TEMPLATES", "ConfigError", "WebContext", "policies"]
