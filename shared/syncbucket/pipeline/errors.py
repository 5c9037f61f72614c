"""The pipeline's exceptions, in one place (see the tree in the package docstring)."""

from __future__ import annotations


class PipelineError(Exception):
    """Base of every error the pipeline raises on purpose."""


class RunRefused(PipelineError):
    """A run request that cannot be accepted as given; ``code`` is stable, the text human.

    Codes: ``no_modules``, ``unknown_module``, ``no_clients``, ``unknown_clients``,
    ``inactive_clients``, ``ambiguous_clients`` (a filter and ids at once, or exclusions
    without a filter), ``parent_not_finished``, ``nothing_failed``.
    """

    def __init__(
        self, code: str, message: str, *, details: dict[str, list[str]] | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        # Machine-readable particulars, e.g. {"unknown_tans": [...]}, for answers to
        # upstream requests (docs/events.md); never a credential or a client's name.
        self.details = details or {}


class RunNotFound(PipelineError):
    """No run with this id belongs to this firm (another firm's run looks the same)."""

    def __init__(self, run_id: int) -> None:
        super().__init__(f"run {run_id} not found")
        self.run_id = run_id


class RecordCodecError(PipelineError):
    """A ``{"type", "content"}`` document that does not rebuild into its record."""


class UnknownRecordType(RecordCodecError):
    """The document names a record type this version does not know."""
