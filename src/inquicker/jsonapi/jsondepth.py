"""JSON nesting depth, checked on the raw bytes before any parser recurses into them."""

from __future__ import annotations

import re

MAX_DEPTH = 32
# A JSON string (escapes included): brackets inside strings do not nest anything.
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_OPENERS = frozenset(b"[{")


def too_deep(body: bytes, limit: int = MAX_DEPTH) -> bool:
    """Whether ``body`` nests arrays/objects deeper than ``limit`` (malformed JSON is left
    to the parser: this only guards its recursion)."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False  # the usual case, decided without a scan
    depth = 0
    for byte in _STRING.sub(b"", body).translate(None, _NOT_BRACKETS):
        depth = depth + 1 if byte in _OPENERS else depth - 1
        if depth > limit:
            return True
    return False
