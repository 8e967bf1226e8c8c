"""The package's small JSON files in $JOURNEY_HOME (the address book, the journeys' records):
read whole, and refused, left as they are, when they are not what they should be."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from journeychain.errors import ConfigError


def read_json_object(
    path: Path, what: str, kind: str, valid: Callable[[dict[str, Any]], bool], shape: str
) -> dict[str, Any]:
    """The JSON object in `path` ({} when there is no file). `what` names its content in errors
    ("the address book"), `kind` the file it should be ("an address book"); `valid` checks the
    object's shape, described by `shape` when it fails."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise ConfigError(f"cannot read {what} {path}: {reason}") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        line = getattr(exc, "lineno", "?")
        raise _corrupt(path, kind, f"not JSON: {getattr(exc, 'msg', exc)} at line {line}") from None
    if not isinstance(data, dict) or not valid(data):
        raise _corrupt(path, kind, f"not {shape}")
    return data


def _corrupt(path: Path, kind: str, reason: str) -> ConfigError:
    return ConfigError(f"{path} is not {kind} ({reason}): it is left as it is; fix it or move it aside")
