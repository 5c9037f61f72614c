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
