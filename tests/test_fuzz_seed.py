"""`make fuzz` prints its seed and takes one: the same seed replays the same examples.

The invariant run's seeding (`fuzz_seed`, `seeded` in test_invariants.py) on a toy state
machine that records what hypothesis draws, without a chain.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, rule, run_state_machine_as_test
from test_invariants import fuzz_seed, seeded


def draws(seed: int | None, run: int = 0, derandomize: bool = False) -> list[int]:
    """What a run of a toy state machine draws, seeded as the invariant run seeds its rounds."""
    drawn: list[int] = []

    class Toy(RuleBasedStateMachine):
        @rule(n=st.integers(0, 10**9))
        def draw(self, n: int) -> None:
            drawn.append(n)

    run_state_machine_as_test(
        seeded(Toy, seed, run),
        settings=settings(
            max_examples=5,
            stateful_step_count=5,
            database=None,
            deadline=None,
            derandomize=derandomize,
            suppress_health_check=list(HealthCheck),
        ),
    )
    return drawn


def test_the_same_seed_replays_the_same_examples():
    assert draws(1234) == draws(1234)
    assert draws(1234, run=1) == draws(1234, run=1)


def test_another_seed_or_round_draws_other_examples():
    assert draws(1234) != draws(1235)
    assert draws(1234, run=0) != draws(1234, run=1)


def test_fuzz_seed_is_the_given_one_else_new_for_a_deep_run_else_none():
    assert fuzz_seed({"JOURNEY_FUZZ_SEED": "42"}) == 42
    assert fuzz_seed({"JOURNEY_FUZZ_SEED": "0x2a", "JOURNEY_FUZZ_STEPS": "10"}) == 42
    assert fuzz_seed({}) is None  # the short run: derandomized
    assert fuzz_seed({"JOURNEY_FUZZ_SEED": ""}) is None  # `make fuzz` without FUZZ_SEED passes ""
    deep = {"JOURNEY_FUZZ_SEED": "", "JOURNEY_FUZZ_STEPS": "10000"}
    seeds = {fuzz_seed(deep) for _ in range(5)}
    assert all(isinstance(s, int) for s in seeds) and len(seeds) > 1


def test_a_seed_that_is_not_a_number_is_refused_with_a_sentence():
    with pytest.raises(pytest.UsageError, match="JOURNEY_FUZZ_SEED must be an integer"):
        fuzz_seed({"JOURNEY_FUZZ_SEED": "soon"})
