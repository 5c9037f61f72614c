"""Records on the wire: ``Record`` <-> ``{"type": "<class name>", "content": {...}}``.

``content`` is exactly ``Record.content()`` (Decimals as strings, dates as ISO strings),
so the document is plain JSON for any broker encoder. Decoding goes through a pydantic
``TypeAdapter`` over the dataclass itself: it turns ``"1000.50"`` back into
``Decimal("1000.50")`` (no float detour), ISO strings into ``date`` and lists of dicts
into the nested frozen dataclasses in tuples, so ``decode(encode(r)) == r``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pydantic import TypeAdapter, ValidationError

from syncbucket.db.records_tables import RECORD_MODELS
from syncbucket.domain.records import Record
from syncbucket.pipeline.errors import RecordCodecError, UnknownRecordType

# The storable record types are the ones with a records table: a type that could not be
# upserted is refused at decode time instead of failing later inside the transaction.
RECORD_TYPES: dict[str, type[Record]] = {cls.__name__: cls for cls in RECORD_MODELS}


def encode(record: Record) -> dict[str, Any]:
    name = type(record).__name__
    if RECORD_TYPES.get(name) is not type(record):
        raise UnknownRecordType(f"cannot encode {name}: not one of {_known()}")
    return {"type": name, "content": record.content()}


def encode_all(records: Iterable[Record]) -> list[dict[str, Any]]:
    return [encode(record) for record in records]


def decode(document: Mapping[str, Any]) -> Record:
    """Rebuild one record; raises :class:`RecordCodecError` saying what is wrong."""
    name = document.get("type")
    content = document.get("content")
    record_type = RECORD_TYPES.get(name) if isinstance(name, str) else None
    if record_type is None:
        raise UnknownRecordType(f"unknown record type {name!r}; known types: {_known()}")
    if not isinstance(content, Mapping):
        raise RecordCodecError(f"{name}: 'content' must be an object, got {type(content).__name__}")
    try:
        record: Record = _adapter(record_type).validate_python(dict(content))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise RecordCodecError(f"{name}: invalid content ({problems})") from None
    return record


def decode_all(documents: Sequence[Mapping[str, Any]]) -> list[Record]:
    return [decode(document) for document in documents]


_ADAPTERS: dict[type[Record], TypeAdapter[Record]] = {}


def _adapter(record_type: type[Record]) -> TypeAdapter[Record]:
    # Building an adapter compiles a validator: do it once per type, not per record.
    adapter = _ADAPTERS.get(record_type)
    if adapter is None:
        adapter = _ADAPTERS[record_type] = TypeAdapter(record_type)
    return adapter


def _known() -> str:
    return ", ".join(sorted(RECORD_TYPES))
