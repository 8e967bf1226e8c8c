"""`journey chain advance`: a local chain's clock moves forward by a duration or to a moment;
a chain that is not a local development chain is refused with a sentence, and so is a moment
in the past or a duration that is not one."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from journeychain.chain import Chain, throwaway_chain
from journeychain.cli import app
from journeychain.timeline import iso


def journey(*args: str):
    result = CliRunner().invoke(app, list(args))
    assert "Traceback" not in result.output
    return result


def test_the_clock_moves_by_a_duration_and_to_a_moment(journey_chain: Chain):
    before = journey_chain.now()
    moved = json.loads(journey("--json", "chain", "advance", "25h").stdout)
    assert moved["advanced"] == 25 * 3600 and moved["now"] >= before + 25 * 3600
    assert journey_chain.now() == moved["now"]
    target = moved["now"] + 7 * 86_400
    to = json.loads(
        journey("--json", "chain", "advance", "--to", iso(target).replace(" UTC", "+00:00")).stdout
    )
    assert abs(to["now"] - target) <= 1


@pytest.mark.parametrize(
    "args, words",
    [
        (["chain", "advance"], "give how far"),
        (["chain", "advance", "5x"], "is not a duration"),
        (["chain", "advance", "--to", "yesterday"], "is not an ISO 8601 moment"),
        (["chain", "advance", "--to", "2020-01-01T00:00:00+00:00"], "time only moves on"),
        (["chain", "advance", "--to", "2030-01-01T00:00:00"], "names no UTC offset"),
    ],
)
def test_bad_time_is_one_sentence(journey_chain: Chain, args, words):
    result = journey(*args)
    assert result.exit_code == 2 and words in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_chain_that_is_not_local_is_refused(journey_env: pytest.MonkeyPatch):
    with throwaway_chain(chain_id=5) as other:
        journey_env.setenv("JOURNEY_RPC", other.url)
        before = other.now()
        result = journey("chain", "advance", "1h")
        assert result.exit_code == 2
        assert "chain 5 is not a local chain: its clock cannot be moved" in result.stderr
        assert other.now() < before + 3600
