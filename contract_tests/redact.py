"""Tokens never leave the process: every text the harness writes goes through a Redactor."""

from __future__ import annotations

import re
from collections.abc import Iterable

MASK = "[REDACTED]"
_AUTH_HEADER = re.compile(r"(?i)(authorization\s*:\s*)(token|bearer)?\s*[^'\"\s\\]*")
_QUERY_TOKEN = re.compile(r"(?i)([?&]x-auth-token=)[^&'\"\s]*")


class Redactor:
    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self.secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        text = _AUTH_HEADER.sub(lambda m: f"{m.group(1)}{(m.group(2) or 'Token')} {MASK}", text)
        return _QUERY_TOKEN.sub(lambda m: m.group(1) + MASK, text)
