"""Prefixed output: each child's lines become ``name  | line``, aligned, coloured on a TTY."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import IO

COLOURS: tuple[str, ...] = ("36", "33", "32", "35", "34", "91", "96", "93")
RESET = "\x1b[0m"


class PrefixedWriter:
    """Writes whole lines from several threads without interleaving them."""

    def __init__(self, stream: IO[str], names: Sequence[str], colour: bool | None = None) -> None:
        self._stream = stream
        self._lock = threading.Lock()
        self._width = max((len(name) for name in names), default=0)
        use_colour = _is_tty(stream) if colour is None else colour
        self._colours = (
            {name: COLOURS[i % len(COLOURS)] for i, name in enumerate(names)} if use_colour else {}
        )

    def prefix(self, name: str) -> str:
        label = f"{name:<{self._width}} |"
        code = self._colours.get(name)
        return f"\x1b[{code}m{label}{RESET}" if code else label

    def line(self, name: str, text: str) -> None:
        rendered = f"{self.prefix(name)} {text.rstrip(chr(10)).rstrip(chr(13))}\n"
        with self._lock:
            self._stream.write(rendered)
            self._stream.flush()


def _is_tty(stream: IO[str]) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())
