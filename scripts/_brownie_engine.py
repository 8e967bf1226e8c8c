"""brownie's JourneyEngine with the functions of its views extension: the engine runs them by
delegatecall from its fallback, so its own compiled ABI does not list them. The test suite and
the gas benchmark import this module for its effect (as the SDK's build merges the two ABIs).
"""

from __future__ import annotations

from brownie import JourneyEngine, JourneyViews
from brownie.convert.utils import build_function_selector

from journeychain.artifacts import with_extension


def _extend() -> None:
    build = JourneyEngine._build
    merged = with_extension(build["abi"], JourneyViews.abi)
    if len(merged) == len(build["abi"]):
        return  # extended already
    build["abi"] = merged
    for entry in merged:
        if entry["type"] == "function":
            selector = build_function_selector(entry)
            JourneyEngine.selectors[selector] = entry["name"]
            JourneyEngine.signatures[entry["name"]] = selector


_extend()
