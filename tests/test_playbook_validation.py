"""Playbooks: published by ADMIN only, validated on chain (each refusal by name) and by the YAML
loader (each refusal naming the place), numbered from 1 and immutable."""

import pytest
from brownie import CompanionFactory, JourneyEngine
from conftest import RULEBOOK, ZERO, Customer, publisher_of, reverts_with

from journeychain.encoding import journey_id, short_name
from journeychain.errors import PlaybookError
from journeychain.playbook import load_playbook, parse_duration, role_id

NONE, ADMIN = b"\x00" * 32, b"\x00" * 32
MARKETING, SALES, SUCCESS, VENDOR, CUSTOMER = (
    role_id(r) for r in ("MARKETING", "SALES", "SUCCESS", "VENDOR", "CUSTOMER")
)
DISPUTE_WINDOW = 14 * 86_400


def revert_args(info) -> str:
    return info.value.revert_msg.split(": ", 1)[1]


def step(name, role, sla=0, share=0, penalty=0, fields=(), attestations=(), sla_type=0, warn=0, calendar=0):
    return (
        short_name(name),
        role,
        sla,
        share,
        penalty,
        sla_type,
        warn,
        [short_name(f) for f in fields],
        [short_name(a) for a in attestations],
        calendar,
    )


def options(
    commit_step=1,
    fund=True,
    penalty_to=0,
    window=0,
    verifier_may_confirm=False,
    dispute=DISPUTE_WINDOW,
    refund=False,
):
    return (commit_step, fund, penalty_to, window, verifier_may_confirm, dispute, refund)


def three_steps(**changes):
    """A valid playbook: MARKETING, SALES, then the CUSTOMER; `changes` replace whole steps."""
    steps = [
        step("qualify", MARKETING, share=4000),
        step("book", SALES, sla=86_400, share=6000, penalty=5000, fields=["contract_value"]),
        step("confirm", CUSTOMER, sla=30 * 86_400),
    ]
    for index, replacement in changes.items():
        steps[int(index[1:])] = replacement
    return steps


def publish(engine, admin, steps, opts=None, name="test", version=1):
    return publisher_of(engine).publishPlaybook(
        short_name(name), version, steps, opts or options(), {"from": admin}
    )


# --- who publishes ------------------------------------------------------------------


def test_only_admin_publishes_a_playbook(suite, team):
    for account in (team.marketing, team.outsider):
        with reverts_with("MissingRole") as info:
            publish(suite, account, three_steps())
        assert revert_args(info) == f"{str(account).lower()}, {ADMIN!r}"
    assert suite.playbookCount() == 1


def test_admin_publishes_a_valid_playbook(suite, team):
    tx = publish(suite, team.admin, three_steps())
    assert tx.events["PlaybookPublished"]["playbookId"] == 2
    assert suite.playbookCount() == 2
    name, version, count, _ = suite.playbook(2)
    assert bytes(name) == short_name("test")
    assert (version, count) == (1, 3)
    assert tuple(suite.stepRules(2, 1)) == ("0x" + SALES.hex(), 86_400, 6000, 5000, 1, 0)


# --- each refusal by name ------------------------------------------------------------


@pytest.mark.parametrize("count", [1, 16])
def test_step_count_outside_2_to_15_is_refused(suite, team, count):
    steps = [step(f"s{i}", MARKETING) for i in range(count - 1)] + [step("confirm", CUSTOMER)]
    with reverts_with("StepCountOutOfRange") as info:
        publish(suite, team.admin, steps)
    assert revert_args(info) == str(count)
    assert suite.playbookCount() == 1


def test_fifteen_steps_are_accepted(suite, team):
    steps = [step(f"s{i}", MARKETING, sla=3_600) for i in range(14)] + [step("confirm", CUSTOMER, sla=3_600)]
    publish(suite, team.admin, steps)
    assert suite.playbook(2)[2] == 15


def test_shares_above_10000_bps_are_refused(suite, team):
    steps = three_steps(s0=step("qualify", MARKETING, share=4001))
    with reverts_with("SharesExceedTotal") as info:
        publish(suite, team.admin, steps)
    assert revert_args(info) == "10001"
    assert suite.playbookCount() == 1
    publish(suite, team.admin, three_steps())  # exactly 10000 is allowed
    assert suite.playbookCount() == 2


def test_step_without_a_role_is_refused(suite, team):
    with reverts_with("EmptyRole") as info:
        publish(suite, team.admin, three_steps(s1=step("book", NONE)))
    assert revert_args(info) == "1"


def test_penalty_above_10000_bps_is_refused(suite, team):
    with reverts_with("PenaltyOutOfRange") as info:
        publish(suite, team.admin, three_steps(s1=step("book", SALES, sla=86_400, penalty=10_001)))
    assert revert_args(info) == "1"
    publish(suite, team.admin, three_steps(s1=step("book", SALES, sla=86_400, penalty=10_000)))
    assert suite.stepRules(2, 1)[3] == 10_000


def test_customer_step_before_the_last_is_refused(suite, team):
    with reverts_with("CustomerStepNotLast") as info:
        publish(suite, team.admin, three_steps(s1=step("book", CUSTOMER)))
    assert revert_args(info) == "1"


def test_last_step_not_the_customers_is_refused(suite, team):
    with reverts_with("LastStepNotCustomer") as info:
        publish(suite, team.admin, three_steps(s2=step("confirm", VENDOR)))
    assert revert_args(info) == "2"


@pytest.mark.parametrize("kind", ["fields", "attestations"])
def test_more_than_32_requirements_are_refused(suite, registry, team, kind):
    names = [f"req{i}" for i in range(33)]
    with reverts_with("TooManyRequirements") as info:
        publish(suite, team.admin, three_steps(s1=step("book", SALES, sla=86_400, **{kind: names})))
    assert revert_args(info) == "1"
    if kind == "attestations":  # a step's schemas must be registered
        for name in names[:32]:
            registry.registerSchema(short_name(name), role_id("VERIFIER"), 0, {"from": team.admin})
    publish(suite, team.admin, three_steps(s1=step("book", SALES, sla=86_400, **{kind: names[:32]})))
    rules = suite.stepRules(2, 1)
    assert (rules[4], rules[5]) == ((32, 0) if kind == "fields" else (0, 32))


def test_commit_step_on_the_customer_step_is_refused(suite, team):
    for commit_step in (2, 9):
        with reverts_with("InvalidCommitStep") as info:
            publish(suite, team.admin, three_steps(), options(commit_step=commit_step))
        assert revert_args(info) == str(commit_step)
    assert suite.playbookCount() == 1


def test_confirm_window_not_shorter_than_the_customer_deadline_is_refused(suite, team):
    """A window equal to the customer's SLA could never release: refused, like a longer one."""
    no_deadline = three_steps(s2=step("confirm", CUSTOMER, sla=0))
    with reverts_with("InvalidConfirmWindow") as info:
        publish(suite, team.admin, no_deadline, options(window=3_600))
    assert revert_args(info) == "3600"
    for window in (30 * 86_400, 30 * 86_400 + 1):
        with reverts_with("InvalidConfirmWindow") as info:
            publish(suite, team.admin, three_steps(), options(window=window))
        assert revert_args(info) == str(window)
    publish(suite, team.admin, three_steps(), options(window=30 * 86_400 - 1))
    assert suite.playbook(2)[3][3] == 30 * 86_400 - 1


def test_a_customer_step_without_an_sla_is_refused(suite, team):
    """A journey whose customer step has no deadline could never expire: the pool would be locked."""
    with reverts_with("MissingSla") as info:
        publish(suite, team.admin, three_steps(s2=step("confirm", CUSTOMER, sla=0)))
    assert revert_args(info) == "2"


def test_a_step_after_the_commit_step_without_an_sla_is_refused(suite, team):
    steps = [
        step("qualify", MARKETING, share=4000),
        step("book", SALES, sla=86_400, share=3000),
        step("onboard", SUCCESS, share=3000),
        step("confirm", CUSTOMER, sla=30 * 86_400),
    ]
    with reverts_with("MissingSla") as info:
        publish(suite, team.admin, steps, options(commit_step=1))
    assert revert_args(info) == "2"
    with reverts_with("MissingSla") as info:  # the commit step itself needs one too
        publish(suite, team.admin, three_steps(s1=step("book", SALES, share=6000)), options(commit_step=1))
    assert revert_args(info) == "1"
    publish(suite, team.admin, three_steps(), options(commit_step=1))  # before it, none is needed


def test_a_dispute_window_of_zero_is_refused(suite, team):
    with reverts_with("InvalidDisputeWindow"):
        publish(suite, team.admin, three_steps(), options(dispute=0))


def test_a_requirement_named_twice_is_refused(suite, team):
    twice = three_steps(s1=step("book", SALES, sla=86_400, fields=["contract_value", "contract_value"]))
    with reverts_with("DuplicateRequirement") as info:
        publish(suite, team.admin, twice)
    assert revert_args(info) == f"1, {short_name('contract_value')!r}"


def test_a_role_never_defined_or_admin_is_refused(suite, team):
    with reverts_with("UnknownRole"):
        publish(suite, team.admin, three_steps(s1=step("book", role_id("DISPATCH"), sla=86_400)))
    with reverts_with("EmptyRole"):
        publish(suite, team.admin, three_steps(s1=step("book", ADMIN, sla=86_400)))


def test_unknown_playbook_is_refused(suite, team):
    with reverts_with("UnknownPlaybook") as info:
        suite.playbook(2)
    assert revert_args(info) == "2"
    with reverts_with("UnknownPlaybook"):
        suite.stepRules(0, 0)
    with reverts_with("UnknownPlaybook") as info:
        suite.openJourney(
            journey_id("OPP-7"), 7, Customer().commitment, ZERO, team.funder, {"from": team.marketing}
        )
    assert revert_args(info) == "7"


# --- numbering and immutability ---------------------------------------------------------


def test_playbooks_are_numbered_from_1_and_never_change(team, token):
    engine = JourneyEngine.deploy(
        team.admin, RULEBOOK, token, CompanionFactory.deploy({"from": team.admin}), {"from": team.admin}
    )
    assert engine.playbookCount() == 0
    first = publish(engine, team.admin, three_steps(), name="sales")
    assert first.events["PlaybookPublished"]["playbookId"] == 1
    before = (engine.playbook(1), [engine.stepRules(1, i) for i in range(3)])

    changed = three_steps(s1=step("book", SALES, sla=3_600, share=1000, penalty=100))
    second = publish(engine, team.admin, changed, options(commit_step=1), name="sales", version=2)
    assert second.events["PlaybookPublished"]["playbookId"] == 2
    assert engine.playbookCount() == 2

    assert (engine.playbook(1), [engine.stepRules(1, i) for i in range(3)]) == before
    assert engine.playbook(1)[1] == 1
    assert tuple(engine.stepRules(1, 1)) == ("0x" + SALES.hex(), 86_400, 6000, 5000, 1, 0)
    assert tuple(engine.stepRules(2, 1)) == ("0x" + SALES.hex(), 3_600, 1000, 100, 0, 0)
    assert engine.playbook(2)[3][0] == 1


def test_default_playbook_is_published_as_loaded(suite, default_playbook):
    for i, s in enumerate(default_playbook.steps):
        rules = suite.stepRules(1, i)
        assert tuple(rules) == (
            "0x" + s.as_tuple()[1].hex(),
            s.sla,
            s.share_bps,
            s.penalty_bps,
            len(s.fields),
            len(s.attestations),
        )


# --- the YAML loader -----------------------------------------------------------------------

VALID = """\
name: tiny
version: 1
options:
  commit_step: book
steps:
  - name: qualify
    role: MARKETING
    share_bps: 4000
  - name: book
    role: SALES
    sla: 24h
    share_bps: 6000
  - name: confirm
    role: CUSTOMER
    sla: 30d
"""


def write(tmp_path, text):
    path = tmp_path / "playbook.yaml"
    path.write_text(text)
    return path


def test_loader_accepts_a_valid_playbook(tmp_path):
    playbook = load_playbook(write(tmp_path, VALID))
    assert [s.role for s in playbook.steps] == ["MARKETING", "SALES", "CUSTOMER"]
    assert playbook.steps[1].sla == 86_400
    assert playbook.commit_step == 1


def steps_yaml(count):
    """A playbook of `count` steps: MARKETING steps, then the CUSTOMER's."""
    lines = ["name: long", "version: 1", "steps:"]
    for i in range(count - 1):
        lines += [f"  - name: s{i}", "    role: MARKETING", "    sla: 1h"]
    lines += ["  - name: confirm", "    role: CUSTOMER", "    sla: 30d"]
    return "\n".join(lines) + "\n"


def test_loader_accepts_fifteen_steps(tmp_path):
    playbook = load_playbook(write(tmp_path, steps_yaml(15)))
    assert len(playbook.steps) == 15
    assert playbook.steps[-1].role == "CUSTOMER"


@pytest.mark.parametrize("count", [1, 16])
def test_loader_refuses_a_step_count_outside_2_to_15(tmp_path, count):
    path = write(tmp_path, steps_yaml(count))
    with pytest.raises(PlaybookError) as info:
        load_playbook(path)
    assert str(info.value) == f"{path}: steps must be a list of 2 to 15 steps"


@pytest.mark.parametrize(
    ("old", "new", "place", "detail"),
    [
        ("sla: 24h", "sla: 24x", "step 'book': sla", "'24x' is not a duration"),
        ("role: SALES", "role: CEO", "step 'book'", "unknown role 'CEO'"),
        ("share_bps: 6000", "share_bps: 6001", "", "shares add up to 10001 basis points, above 10000"),
        ("role: SALES", "role: CUSTOMER", "step 'book'", "the last step, and only it, is the CUSTOMER's"),
        ("    sla: 24h\n", "    sla: 24h\n    colour: red\n", "step 2", "unknown key(s) colour"),
        ("version: 1", "version: 1\nowner: ops", "", "unknown key(s) owner"),
        ("commit_step: book", "commit_step: book\n  speed: fast", "", "unknown option(s) speed"),
        ("share_bps: 4000", "share_bps: 12000", "step 'qualify': share_bps", "from 0 to 10000"),
    ],
    ids=[
        "bad-duration",
        "unknown-role",
        "shares-over-10000",
        "customer-not-last",
        "unknown-step-key",
        "unknown-top-key",
        "unknown-option",
        "share-over-10000",
    ],
)
def test_loader_refusal_names_the_place(tmp_path, old, new, place, detail):
    assert old in VALID
    path = write(tmp_path, VALID.replace(old, new, 1))
    with pytest.raises(PlaybookError) as info:
        load_playbook(path)
    message = str(info.value)
    assert message.startswith(str(path)), message
    assert place in message, message
    assert detail in message, message


def test_loader_refuses_bad_yaml_naming_the_file(tmp_path):
    path = write(tmp_path, "name: tiny\nsteps: [unclosed\n")
    with pytest.raises(PlaybookError) as info:
        load_playbook(path)
    assert f"{path} is not valid YAML" in str(info.value)


def test_loader_refuses_a_missing_file_naming_it(tmp_path):
    path = tmp_path / "nowhere.yaml"
    with pytest.raises(PlaybookError) as info:
        load_playbook(path)
    assert f"cannot read playbook {path}" in str(info.value)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (90, 90),
        ("90", 90),
        ("45s", 45),
        ("90m", 5_400),
        ("24h", 86_400),
        ("30d", 2_592_000),
        ("2w", 1_209_600),
    ],
)
def test_parse_duration_units(value, seconds):
    assert parse_duration(value, "here") == seconds


@pytest.mark.parametrize("value", ["24x", "1y", "h", "", True, -1, 2**32, "-5m"])
def test_parse_duration_refuses_naming_the_place(value):
    with pytest.raises(PlaybookError) as info:
        parse_duration(value, "step 'book': sla")
    assert str(info.value).startswith("step 'book': sla: ")


# --- the loader refuses what the contract refuses: a playbook that could lock a pool --------


@pytest.mark.parametrize(
    ("old", "new", "detail"),
    [
        ("    sla: 24h\n", "", "step 'book' needs an sla"),
        ("    sla: 30d\n", "", "step 'confirm' needs an sla"),
        (
            "  commit_step: book\n",
            "  commit_step: book\n  confirm_window: 30d\n",
            "confirm_window must be shorter",
        ),
        (
            "  commit_step: book\n",
            "  commit_step: book\n  dispute_window: 0\n",
            "dispute_window must not be 0",
        ),
        ("  commit_step: book\n", "  commit_step: book\n  dispute_fallback: never\n", "reject or refund"),
        ("    role: SALES\n", "    role: ADMIN\n", "ADMIN never owns a step"),
        ("    role: SALES\n", "    role: DISPATCH\n", "unknown role 'DISPATCH'"),
    ],
)
def test_loader_refuses_a_playbook_that_could_lock_a_pool(tmp_path, old, new, detail):
    assert old in VALID
    with pytest.raises(PlaybookError, match=detail):
        load_playbook(write(tmp_path, VALID.replace(old, new, 1)))


def test_loader_accepts_roles_the_playbook_declares(tmp_path):
    text = VALID.replace("    role: SALES\n", "    role: DISPATCH\n").replace(
        "version: 1\n", "version: 1\nroles: [DISPATCH]\n"
    )
    playbook = load_playbook(write(tmp_path, text))
    assert playbook.roles == ("DISPATCH",)
    assert playbook.steps[1].role == "DISPATCH"
    assert playbook.publish_args()[2][1][1] == role_id("DISPATCH")
