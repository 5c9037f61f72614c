"""Deterministic demo clients: client ``i`` always has the same name, TAN and PAN.

TANs are unique for ``i < MAX_DEMO_CLIENTS`` (8 jurisdictions x 100,000 serials), their
4th letter is the initial of the client's name, PANs carry a real holder type. One client
in 50 (``i % 50 == 7``: at least one from 20 clients on) is seeded with a wrong password
on one portal, alternating TRACES and IT portal, so a demo run shows failures too.
"""

from __future__ import annotations

import string
from dataclasses import dataclass

from syncbucket.domain.portals import Portal

MAX_DEMO_CLIENTS = 800_000
WRONG_EVERY = 50
WRONG_OFFSET = 7

_JURISDICTIONS = ("DEL", "MUM", "BLR", "CHE", "KOL", "HYD", "PNE", "AHM")
_WORDS = (
    "Aditya",
    "Bharat",
    "Chandra",
    "Deccan",
    "Everest",
    "Falcon",
    "Ganga",
    "Himalaya",
    "Indus",
    "Jaipur",
    "Kaveri",
    "Lotus",
    "Malabar",
    "Narmada",
    "Orchid",
    "Pioneer",
    "Quest",
    "Raja",
    "Sahyadri",
    "Tapti",
    "Udaya",
    "Vindhya",
    "Western",
    "Xenon",
    "Yamuna",
    "Zenith",
)
_TRADES = (
    "Traders",
    "Exports",
    "Industries",
    "Textiles",
    "Pharma",
    "Logistics",
    "Foods",
    "Infotech",
    "Motors",
    "Chemicals",
)
# (PAN holder type, name suffix): company, firm, HUF, trust, person.
_HOLDERS = (("C", "Pvt Ltd"), ("F", "& Co"), ("H", "HUF"), ("T", "Trust"), ("P", "Enterprises"))
_LETTERS = string.ascii_uppercase


@dataclass(frozen=True)
class DemoClient:
    index: int
    name: str
    tan: str
    pan: str
    wrong_portal: Portal | None

    @property
    def demo_note(self) -> str | None:
        if self.wrong_portal is None:
            return None
        return f"wrong {self.wrong_portal.value} password (demo)"


def demo_client(index: int) -> DemoClient:
    if not 0 <= index < MAX_DEMO_CLIENTS:
        raise ValueError(f"demo client index must be in 0..{MAX_DEMO_CLIENTS - 1}")
    word = _WORDS[index % len(_WORDS)]
    trade = _TRADES[(index // len(_WORDS)) % len(_TRADES)]
    holder, suffix = _HOLDERS[(index // 260) % len(_HOLDERS)]
    jurisdiction = _JURISDICTIONS[index // 100_000]
    tan = f"{jurisdiction}{word[0]}{index % 100_000:05d}{_LETTERS[index * 7 % 26]}"
    pan = f"{_letters3(index // 10_000)}{holder}{word[0]}{index % 10_000:04d}"
    pan += _LETTERS[index * 11 % 26]
    name = f"{word} {trade} {suffix} #{index + 1}"
    return DemoClient(index, name, tan, pan, _wrong_portal(index))


def _letters3(number: int) -> str:
    return "".join(_LETTERS[(number // 26**power) % 26] for power in (2, 1, 0))


def _wrong_portal(index: int) -> Portal | None:
    if index % WRONG_EVERY != WRONG_OFFSET:
        return None
    return Portal.TRACES if (index // WRONG_EVERY) % 2 == 0 else Portal.ITPORTAL
