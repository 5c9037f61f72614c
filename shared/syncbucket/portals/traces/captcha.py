"""Captcha solving for the TRACES login: a pluggable seam.

TRACES shows a captcha on every login. A real deployment plugs in a solver (an OCR model or
a solving service) that satisfies :class:`CaptchaSolver`; the portal simulator's "image" is
simply the base64 of the answer, which :class:`SimulatorCaptchaSolver` decodes.
"""

from __future__ import annotations

import base64
import binascii
from typing import Protocol


class CaptchaUnsolvable(Exception):
    """The solver could not read this captcha; the client asks for a fresh one."""


class CaptchaSolver(Protocol):
    def solve(self, image_base64: str) -> str:
        """Return the captcha's text, or raise CaptchaUnsolvable."""
        ...


class SimulatorCaptchaSolver:
    """Reads the portal simulator's captcha, whose image is the base64 of its answer."""

    def solve(self, image_base64: str) -> str:
        try:
            return base64.b64decode(image_base64, validate=True).decode("ascii").strip()
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise CaptchaUnsolvable("the captcha image is not the simulator's encoding") from None

    def __repr__(self) -> str:
        return "SimulatorCaptchaSolver()"
