"""A decoded log's arguments as JSON text and back, unchanged: bytes stay bytes (kept as
{"$b": hex}), structs stay mappings, arrays come back as lists, integers of any size stay exact."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


def _plain(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return {"$b": bytes(value).hex()}
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _restore(value: Any) -> Any:
    if isinstance(value, dict):
        if len(value) == 1 and "$b" in value:
            return bytes.fromhex(value["$b"])
        return {k: _restore(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_restore(v) for v in value]
    return value


def dumps(args: Mapping[str, Any]) -> str:
    """The arguments as JSON text."""
    return json.dumps(_plain(args), separators=(",", ":"))


def loads(text: str) -> dict[str, Any]:
    """The arguments `dumps` wrote."""
    return _restore(json.loads(text))
