"""Errors of the client master; each message tells a person what to do next."""

from __future__ import annotations


class ClientMasterError(Exception):
    """Base class: a request about firms or clients that cannot be carried out."""


class FirmNotFoundError(ClientMasterError):
    pass


class FirmAmbiguousError(ClientMasterError):
    """No firm was named and more than one exists."""


class FirmExistsError(ClientMasterError):
    pass


class InvalidFirmNameError(ClientMasterError):
    pass


class CsvFormatError(ClientMasterError):
    """The file as a whole cannot be read (no header, wrong columns, not UTF-8...)."""


class ClientNotFound(ClientMasterError):
    """No such client in this firm (another firm's client looks the same)."""


class InvalidClientEdit(ClientMasterError):
    """An edit of a client that breaks a rule; ``field`` names the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
