"""A funder's standing budget for a playbook: one deposit funds the pool of every journey
opened under that playbook naming the funder, at its opening, while the budget holds the
per-journey amount, and only for openings by the organisation the budget names. Only its
funder adds to it or takes from it; a budget never locks its tokens; no one draws on another
funder's budget."""

from __future__ import annotations

from brownie import chain
from conftest import DAY, ORGS, POOL, assert_error_args, enrol, new_local_account, reverts_with, variant_kit

from journeychain.playbook import role_id

PLAYBOOK = 1
MARKETING = ORGS["marketing"]


def _budget(engine, funder) -> tuple[int, int, int]:
    return tuple(engine.budgetOf(funder, PLAYBOOK))


def _new_funder(kit, team, mint: int = 10 * POOL):
    funder = new_local_account(team)
    enrol(kit.directory, team.admin, funder, ORGS["finance"], "FUNDER")
    kit.token.mint(funder, mint, {"from": team.admin})
    kit.token.approve(kit.engine, 2**256 - 1, {"from": funder})
    return funder


def test_a_journey_opened_under_a_standing_budget_is_funded_at_its_opening(kit, engine, token, team):
    funder = _new_funder(kit, team)
    escrow = token.balanceOf(engine)
    tx = engine.setBudget(PLAYBOOK, POOL, MARKETING, 3 * POOL, {"from": funder})
    event = tx.events["BudgetChanged"]
    terms = ("funder", "playbookId", "perJourney", "openerOrg", "balance")
    assert tuple(event[k] for k in terms) == (funder, PLAYBOOK, POOL, MARKETING, 3 * POOL)
    assert token.balanceOf(engine) == escrow + 3 * POOL
    assert token.balanceOf(funder) == 7 * POOL
    jid, _, opened = kit.open(funder=funder)
    assert [e.name for e in opened.events if e.name in ("JourneyOpened", "PoolFunded")] == [
        "JourneyOpened",
        "PoolFunded",
    ]
    funded = opened.events["PoolFunded"]
    assert (funded["funder"], funded["amount"], funded["pool"]) == (funder, POOL, POOL)
    assert engine.journey(jid)[7] == POOL
    assert _budget(engine, funder) == (POOL, MARKETING, 2 * POOL)
    assert token.balanceOf(engine) == escrow + 3 * POOL  # no transfer at opening: the engine held it


def test_a_budgeted_journey_books_with_no_funding_transaction(kit, engine, team):
    funder = _new_funder(kit, team)
    engine.setBudget(PLAYBOOK, POOL, MARKETING, POOL, {"from": funder})
    jid, customer, _ = kit.open(funder=funder)
    kit.complete(jid, team.marketing, assign=team.sales)
    kit.complete(jid, team.sales)
    kit.attest_identity(customer)
    kit.complete(jid, team.sales, kit.booking_fields())
    assert engine.journey(jid)[1] == 3


def test_a_budget_short_of_its_per_journey_amount_funds_nothing(kit, engine, team):
    funder = _new_funder(kit, team)
    engine.setBudget(PLAYBOOK, POOL, MARKETING, POOL - 1, {"from": funder})
    jid, _, opened = kit.open(funder=funder)
    assert "PoolFunded" not in opened.events
    assert engine.journey(jid)[7] == 0
    assert _budget(engine, funder) == (POOL, MARKETING, POOL - 1)
    engine.fund(jid, POOL, {"from": funder})  # funded by hand, as without a budget
    assert engine.journey(jid)[7] == POOL


def test_only_the_organisation_the_budget_names_draws_on_it(kit, engine, team):
    """A rival firm's participant holding the opening role opens journeys naming the funder:
    none draws on the budget the funder gave the marketing team."""
    funder = _new_funder(kit, team)
    engine.setBudget(PLAYBOOK, POOL, MARKETING, 2 * POOL, {"from": funder})
    rival = new_local_account(team)
    enrol(kit.directory, team.admin, rival, ORGS["device_supplier"], "MARKETING")
    jid, _, opened = kit.open(funder=funder, sender=rival)
    assert "PoolFunded" not in opened.events and engine.journey(jid)[7] == 0
    assert _budget(engine, funder)[2] == 2 * POOL
    jid, _, opened = kit.open(funder=funder)  # the marketing team's opening draws
    assert engine.journey(jid)[7] == POOL
    assert _budget(engine, funder)[2] == POOL


def test_no_opening_draws_on_another_funders_budget(kit, engine, team):
    funder, other = _new_funder(kit, team), _new_funder(kit, team)
    engine.setBudget(PLAYBOOK, POOL, MARKETING, POOL, {"from": other})
    jid, _, _ = kit.open(funder=funder)
    assert engine.journey(jid)[7] == 0
    assert _budget(engine, other) == (POOL, MARKETING, POOL)


def test_a_budget_does_not_draw_for_a_funder_whose_rulebook_acceptance_lapsed(kit, engine, team, directory):
    """A draw is the funder's standing action: it needs the funder's acceptance in force."""
    funder = _new_funder(kit, team)
    engine.setBudget(PLAYBOOK, POOL, MARKETING, 2 * POOL, {"from": funder})
    directory.publishRulebook("0x" + "ab" * 32, {"from": team.admin})
    for account in (team.admin, team.marketing):
        directory.acceptRulebook({"from": account})
    chain.sleep(8 * DAY)  # past the previous version's grace period
    chain.mine()
    jid, _, opened = kit.open(funder=funder)
    assert "PoolFunded" not in opened.events and engine.journey(jid)[7] == 0
    directory.acceptRulebook({"from": funder})
    jid, _, _ = kit.open(funder=funder)
    assert engine.journey(jid)[7] == POOL


def test_only_a_funder_sets_a_budget_and_its_terms_are_checked(kit, engine, team):
    with reverts_with("MissingRole"):
        engine.setBudget(PLAYBOOK, POOL, MARKETING, 0, {"from": team.marketing})
    with reverts_with("UnknownPlaybook"):
        engine.setBudget(99, POOL, 0, 0, {"from": team.funder})
    with reverts_with("UnknownOrganisation") as info:
        engine.setBudget(PLAYBOOK, POOL, 99, 0, {"from": team.funder})
    assert_error_args(info, 99)
    # a budget names the one organisation whose openings draw on it: never "any opener"
    with reverts_with("UnknownOrganisation") as info:
        engine.setBudget(PLAYBOOK, POOL, 0, 0, {"from": team.funder})
    assert_error_args(info, 0)
    funder = _new_funder(kit, team, mint=0)
    with reverts_with("ERC20InsufficientBalance"):
        engine.setBudget(PLAYBOOK, POOL, MARKETING, POOL, {"from": funder})
    assert _budget(engine, funder) == (0, 0, 0)  # nothing kept of a refused deposit


def test_a_budget_past_96_bits_is_refused(kit, engine, team):
    funder = _new_funder(kit, team, mint=0)
    kit.token.mint(funder, 2**96, {"from": team.admin})
    engine.setBudget(PLAYBOOK, POOL, MARKETING, 2**96 - 1, {"from": funder})
    with reverts_with("BudgetTooLarge") as info:
        engine.setBudget(PLAYBOOK, POOL, MARKETING, 1, {"from": funder})
    assert_error_args(info, 2**96)


def test_new_terms_keep_the_balance_and_zero_stops_the_draws(kit, engine, team):
    funder = _new_funder(kit, team)
    engine.setBudget(PLAYBOOK, POOL, MARKETING, 2 * POOL, {"from": funder})
    engine.setBudget(PLAYBOOK, 0, MARKETING, 0, {"from": funder})
    assert _budget(engine, funder) == (0, MARKETING, 2 * POOL)
    jid, _, _ = kit.open(funder=funder)
    assert engine.journey(jid)[7] == 0


def test_the_funder_alone_takes_its_budget_back_even_without_its_role(kit, engine, token, team, directory):
    funder = _new_funder(kit, team)
    engine.setBudget(PLAYBOOK, POOL, MARKETING, 3 * POOL, {"from": funder})
    with reverts_with("BudgetShort") as info:  # a rival's withdrawal reads its own (empty) budget
        engine.withdrawBudget(PLAYBOOK, POOL, {"from": team.funder})
    assert_error_args(info, 0, POOL)
    with reverts_with("BudgetShort") as info:
        engine.withdrawBudget(PLAYBOOK, 3 * POOL + 1, {"from": funder})
    assert_error_args(info, 3 * POOL, 3 * POOL + 1)
    with reverts_with("ZeroAmount"):
        engine.withdrawBudget(PLAYBOOK, 0, {"from": funder})
    directory.revokeRole(role_id("FUNDER"), funder, {"from": team.admin})
    before = token.balanceOf(funder)
    tx = engine.withdrawBudget(PLAYBOOK, 2 * POOL, {"from": funder})
    assert token.balanceOf(funder) == before + 2 * POOL
    assert tx.events["BudgetChanged"]["balance"] == POOL
    assert _budget(engine, funder) == (POOL, MARKETING, POOL)
    jid, _, _ = kit.open(funder=team.funder)  # and a funder without the role is never drawn
    assert engine.journey(jid)[7] == 0


def test_a_drawn_pool_is_refunded_to_its_funder_when_the_journey_is_cancelled(kit, engine, team):
    funder = _new_funder(kit, team)
    engine.setBudget(PLAYBOOK, POOL, MARKETING, POOL, {"from": funder})
    jid, _, _ = kit.open(funder=funder)
    credit = engine.creditOf(funder)
    engine.cancel(jid, {"from": team.admin})
    assert engine.creditOf(funder) == credit + POOL
    assert _budget(engine, funder)[2] == 0


def _first_step_sla_variant(kit, team) -> int:
    """The default playbook with a 1-day SLA on its first step (lead qualification)."""
    import yaml
    from conftest import publisher_of, register_schemas, wall_clock

    from journeychain.playbook import DEFAULT_PLAYBOOK, parse_playbook

    data = yaml.safe_load(DEFAULT_PLAYBOOK.read_text(encoding="utf-8"))
    data["name"], data["steps"][0]["sla"] = "first-sla", "1d"
    playbook = wall_clock(parse_playbook(data, "first-sla"))
    register_schemas(kit.engine, playbook, team.admin)
    tx = publisher_of(kit.engine).publishPlaybook(*playbook.publish_args(), {"from": team.admin})
    return tx.events["PlaybookPublished"]["playbookId"]


def test_the_funder_cancels_a_journey_nobody_started_and_takes_its_pool_back(kit, engine, team):
    """An opener who draws a pool and never works the journey cannot keep it locked: the funder
    cancels a journey still at its first step, which has no deadline in the default playbook."""
    funder = _new_funder(kit, team)
    engine.setBudget(PLAYBOOK, POOL, MARKETING, POOL, {"from": funder})
    jid, _, _ = kit.open(funder=funder)
    for rival in (team.funder, team.marketing, team.sales):  # not the journey's funder
        with reverts_with("MissingRole"):
            engine.cancel(jid, {"from": rival})
    credit = engine.creditOf(funder)
    engine.cancel(jid, {"from": funder})
    assert engine.journey(jid)[2] == 5  # Status.Cancelled
    assert engine.creditOf(funder) == credit + POOL


def test_a_first_step_with_a_deadline_is_the_funders_to_cancel_only_once_late(kit, engine, team):
    playbook_id = _first_step_sla_variant(kit, team)
    funder = _new_funder(kit, team)
    engine.setBudget(playbook_id, POOL, MARKETING, POOL, {"from": funder})
    jid, _, _ = variant_kit(kit, playbook_id).open(funder=funder)
    assert engine.journey(jid)[7] == POOL
    with reverts_with("MissingRole"):  # before the deadline: ADMIN's alone
        engine.cancel(jid, {"from": funder})
    chain.sleep(engine.journey(jid)[4] - chain.time() + 60)
    chain.mine()
    engine.cancel(jid, {"from": funder})
    assert engine.journey(jid)[2] == 5


def test_the_funder_cancels_no_journey_that_was_started(kit, engine, team):
    """Past the first step, even a late journey is ADMIN's to cancel: the funder cannot take back
    a pool whose steps its owners began."""
    funder = _new_funder(kit, team)
    engine.setBudget(PLAYBOOK, POOL, MARKETING, POOL, {"from": funder})
    jid, _, _ = kit.open(funder=funder)
    kit.complete(jid, team.marketing, assign=team.sales)
    chain.sleep(engine.journey(jid)[4] - chain.time() + 60)  # the lead acceptance is late
    chain.mine()
    with reverts_with("MissingRole"):
        engine.cancel(jid, {"from": funder})
    assert engine.journey(jid)[7] == POOL
