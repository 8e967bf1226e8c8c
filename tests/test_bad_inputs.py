"""Every kind of bad input ends with one sentence on stderr and the exit code it deserves.

2: bad input (an argument, a name, a corrupt local file); 3: refused by a rule of the
contracts; 4: the chain cannot be reached. Never "unexpected failure", never a traceback,
and a refusal changes nothing on chain. Each test names one kind of bad input.

The module's chain: dev:1 marketing, dev:2 sales, dev:3 success, dev:4 the device vendor,
dev:5 a second funder, dev:6 verifier, dev:7 the funder of every journey, dev:8 a relay
with no role, dev:9 the customer. OPP-1 waits at booking, funded; OPP-0 waits at its first
step; DONE-1 has had value confirmed.
"""

from __future__ import annotations

import getpass
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from typer.testing import CliRunner

from journeychain.accounts import create_account, dev_account
from journeychain.chain import Chain, free_port
from journeychain.cli import app
from journeychain.client import Customer, JourneyClient
from journeychain.deployments import deploy
from journeychain.encoding import profile_hash
from journeychain.playbook import load_playbook

PROFILE = profile_hash("Ada", b"\x05" * 32)
PROFILE_HEX = "0x" + PROFILE.hex()
BOOKING = {
    "customer_goals": "grow 20%",
    "success_criteria": "live in May",
    "decision_maker": "COO",
    "contract_value": "120000",
}
FUNDER = dev_account(7).address
COMMAND = [sys.executable, "-c", "from journeychain.cli import main; main()"]


@pytest.fixture(scope="module")
def reader(journey_chain: Chain) -> JourneyClient:
    c = journey_chain
    admin = JourneyClient(c, deploy(c, dev_account(0, c)), dev_account(0, c))
    people = {1: "MARKETING", 2: "SALES", 3: "SUCCESS", 4: "VENDOR", 5: "FUNDER", 6: "VERIFIER", 7: "FUNDER"}
    orgs: dict[str, int] = {}
    for index, role in people.items():
        name = f"{role.lower()}{index}"
        orgs[role], _ = admin.register_organisation(name, vendor=role == "VENDOR")
        admin.grant_role(dev_account(index).address, role, org=orgs[role])
        admin.with_account(dev_account(index)).accept_rulebook()
    admin.publish_playbook(load_playbook())
    admin.mint(FUNDER, 1000 * 10**18)
    admin.mint(dev_account(5).address, 100 * 10**18)
    act = {i: admin.with_account(dev_account(i)) for i in range(1, 10)}
    customer = dev_account(9).address
    for reference in ("OPP-0", "OPP-1", "DONE-1"):
        act[1].open_journey(reference, customer, PROFILE, funder=FUNDER)
    for reference in ("OPP-1", "DONE-1"):
        act[1].complete_step(reference, assign=dev_account(2).address)
        act[2].complete_step(reference)
        act[7].fund(reference, 100 * 10**18)
        act[6].attest_customer(reference, "identity_verified")
    act[2].complete_step("DONE-1", BOOKING, org=orgs["SUCCESS"])
    act[3].complete_step("DONE-1", org=orgs["VENDOR"])
    act[4].complete_step("DONE-1")
    act[8].customer_confirm("DONE-1", Customer(dev_account(9), PROFILE))
    return JourneyClient(c, admin.deployment)


def run(*args: str, env: dict | None = None):
    result = CliRunner().invoke(app, list(args), env=env)
    assert "Traceback" not in result.output and "unexpected failure" not in result.output
    return result


def fails(*args: str, code: int, env: dict | None = None) -> str:
    """Runs a command that must fail: exit `code`, nothing on stdout, one line on stderr that is
    a sentence (never a traceback, never "unexpected failure"); returns the sentence."""
    result = run(*args, env=env)
    assert result.exit_code == code, (result.exit_code, result.output)
    assert result.stdout == "", result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines[0]
    return lines[0].removeprefix("error: ")


@contextmanager
def nothing_sent(reader: JourneyClient, account: str) -> Iterator[None]:
    """The account's nonce and its allowance to the engine are the same afterwards."""
    w3, token, engine = reader.chain.w3, reader.token, reader.engine.address

    def now() -> tuple[int, int]:
        return w3.eth.get_transaction_count(account), token.functions.allowance(account, engine).call()

    before = now()
    yield
    assert now() == before


# --- addresses ---------------------------------------------------------------------------


def test_an_address_with_a_wrong_checksum_is_refused(reader):
    right = dev_account(3).address
    typo = right[:-1] + (right[-1].lower() if right[-1].isupper() else right[-1].upper())
    if typo[-1].isdigit():  # a digit has no case: mistype the first letter instead
        i = next(i for i, ch in enumerate(right) if i > 1 and ch.isalpha())
        typo = right[:i] + right[i].swapcase() + right[i + 1 :]
    message = fails("participant", "add", typo, "SALES", code=2)
    assert message == (
        f"{typo} has a wrong EIP-55 checksum (mixed case): check it for a typo, or give it in lower case"
    )


def test_an_address_in_lower_case_carries_no_checksum_and_is_taken(reader):
    result = run("--json", "participant", "show", dev_account(3).address.lower())
    assert result.exit_code == 0 and json.loads(result.stdout)["address"] == dev_account(3).address


def test_a_short_address_is_bad_input(reader):
    message = fails("-a", "dev:7", "mint", "0x1234", "5", code=2)
    assert message == "'0x1234' is neither an address nor a known account (see `journey accounts list`)"


# --- amounts -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "amount", "words"),
    [
        ("fund", "nan", "'nan' is not an amount of tokens (e.g. 1000 or 12.5)"),
        ("mint", "inf", "'inf' is not an amount of tokens (e.g. 1000 or 12.5)"),
        ("fund", "-5", "'-5' is not a positive amount with at most 18 decimals"),
        ("mint", "-5", "'-5' is not a positive amount with at most 18 decimals"),
        ("fund", "0.0000000000000000001", "is not a positive amount with at most 18 decimals"),
        (
            "fund",
            "1" * 80,
            "JIT is more than a journey's pool can hold (79,228,162,514.264337593543950335 JIT)",
        ),
        ("fund", "79228162515", "'79228162515' JIT is more than a journey's pool can hold"),
        ("mint", "1e60", "'1e60' JIT is more than the token can count"),
        ("fund", "twelve", "'twelve' is not an amount of tokens"),
    ],
    ids=[
        "nan",
        "inf",
        "negative-fund",
        "negative-mint",
        "19-decimals",
        "80-digits",
        "over-uint96",
        "over-uint256",
        "words",
    ],
)
def test_an_amount_is_parsed_into_a_sentence(reader, command, amount, words):
    target = ["OPP-1"] if command == "fund" else [FUNDER]
    with nothing_sent(reader, FUNDER):
        message = fails("-a", "dev:7", command, *target, amount, code=2)
    assert words in message


# --- a refused funding sends nothing, not even the approve -----------------------------------


def test_a_funding_by_another_funder_is_refused_before_the_approve(reader):
    other = dev_account(5).address
    with nothing_sent(reader, other):
        message = fails("-a", "dev:5", "fund", "OPP-1", "10", code=3)
    assert message == (
        f"refused: journey OPP-1 is funded by {FUNDER}, named when it opened; {other} may not fund it"
    )


def test_a_funding_of_a_finished_journey_is_refused_before_the_approve(reader):
    with nothing_sent(reader, FUNDER):
        message = fails("-a", "dev:7", "fund", "DONE-1", "10", code=3)
    assert message == "refused: journey DONE-1 is value delivered, not open"


def test_a_pool_too_large_is_refused_before_the_approve(reader):
    with nothing_sent(reader, FUNDER):
        message = fails("-a", "dev:7", "fund", "OPP-1", "79228162514", code=3)
    assert message == "refused: a pool of 79,228,162,614 JIT is more than a pool holds"


def test_a_funding_beyond_the_balance_is_refused_before_the_approve(reader):
    with nothing_sent(reader, FUNDER):
        message = fails("-a", "dev:7", "fund", "OPP-1", "5000", code=3)
    assert message == f"refused: {FUNDER} holds 800 JIT, 5,000 JIT needed"


# --- sentences that say what the rule is -------------------------------------------------


def test_a_rating_before_confirmation_says_value_is_not_confirmed(reader):
    message = fails(
        "-a", "dev:8", "customer", "rate", "OPP-1", "lead_qualified", "5",
        "--customer", "dev:9", "--profile-hash", PROFILE_HEX, code=3,
    )  # fmt: skip
    assert message == "refused: journey OPP-1 is open: a step is rated only once value is confirmed"


def test_a_second_rating_says_rated_already(reader):
    rate = ("-a", "dev:8", "customer", "rate", "DONE-1", "device_delivered", "5", "--customer", "dev:9")
    assert run(*rate, "--profile-hash", PROFILE_HEX).exit_code == 0
    message = fails(*rate, "--profile-hash", PROFILE_HEX, code=3)
    assert message == "refused: step 4 (device_delivered) of journey DONE-1 is rated already"


def test_an_expiry_at_the_first_step_says_it_is_not_the_customers(reader):
    message = fails("expire", "OPP-0", code=3)
    assert message == (
        "refused: journey OPP-0 is at step 0 (lead_qualified): "
        "only a journey at the customer's step can expire"
    )


def test_a_dispute_of_a_step_not_completed_says_so(reader):
    message = fails(
        "-a", "dev:8", "customer", "dispute", "OPP-1", "deal_booked",
        "--customer", "dev:9", "--profile-hash", PROFILE_HEX, code=3,
    )  # fmt: skip
    assert message == (
        "refused: step 2 (deal_booked) of journey OPP-1 is not completed yet: "
        "the customer disputes completed steps only"
    )


def test_json_is_taken_after_the_command_too(reader):
    result = run("status", "OPP-1", "--json")
    assert result.exit_code == 0 and json.loads(result.stdout)["state"]["step_name"] == "deal_booked"


# --- corrupt local files: named, refused, kept ---------------------------------------------


def test_a_corrupt_vault_is_named_and_kept(reader, tmp_path):
    vault = tmp_path / "vault.sqlite"
    vault.write_bytes(b"this is no database " * 100)
    message = fails("-a", "dev:1", "step", "complete", "OPP-0", code=2, env={"JOURNEY_HOME": str(tmp_path)})
    assert message.startswith(f"{vault} is not an evidence vault (file is not a database)")
    assert vault.read_bytes() == b"this is no database " * 100
    assert reader.journey("OPP-0").step == 0


def test_a_corrupt_journeys_file_is_named_and_kept(reader, tmp_path):
    book = tmp_path / "journeys.json"
    book.write_text('{"31337": {"0xabc": ', encoding="utf-8")
    message = fails("list", code=2, env={"JOURNEY_HOME": str(tmp_path)})
    assert message.startswith(f"{book} is not a journeys file (not JSON:")
    assert message.endswith("it is left as it is; fix it or move it aside")
    fails(
        "-a", "dev:1", "open", "OPP-J", "--customer", "dev:9", "--funder", "dev:7",
        code=2, env={"JOURNEY_HOME": str(tmp_path)},
    )  # fmt: skip
    assert book.read_text(encoding="utf-8") == '{"31337": {"0xabc": '


def test_a_journeys_file_of_the_wrong_shape_is_named(reader, tmp_path):
    (tmp_path / "journeys.json").write_text('{"31337": ["OPP-1"]}', encoding="utf-8")
    message = fails("list", code=2, env={"JOURNEY_HOME": str(tmp_path)})
    assert "is not a journeys file (not records by deployment and journey)" in message


def test_a_corrupt_keeper_state_is_bad_input_naming_the_file(reader, tmp_path):
    state = tmp_path / "keeper-31337.json"
    state.write_text("[1, 2", encoding="utf-8")
    message = fails("keeper", "--once", code=2, env={"JOURNEY_HOME": str(tmp_path)})
    assert message.startswith(f"the keeper's state file {state} is unreadable (")
    assert state.read_text(encoding="utf-8") == "[1, 2"


def test_a_keeper_state_of_the_wrong_shape_is_bad_input(reader, tmp_path):
    (tmp_path / "keeper-31337.json").write_text('{"chain_id": 31337}', encoding="utf-8")
    message = fails("keeper", "--once", code=2, env={"JOURNEY_HOME": str(tmp_path)})
    assert "is unreadable (no 'engine')" in message


def test_a_corrupt_deployment_file_is_bad_input(reader, tmp_path):
    (tmp_path / "31337.json").write_text("{oops", encoding="utf-8")
    message = fails("list", code=2, env={"JOURNEY_DEPLOYMENTS": str(tmp_path)})
    assert (
        message
        == f"{tmp_path / '31337.json'} is not a deployment file (JSONDecodeError): run `journey deploy`"
    )


def test_a_deployment_file_with_a_bad_address_is_bad_input(reader, tmp_path):
    data = reader.deployment.as_dict() | {"engine": "0x123"}
    (tmp_path / "31337.json").write_text(json.dumps(data), encoding="utf-8")
    message = fails("list", code=2, env={"JOURNEY_DEPLOYMENTS": str(tmp_path)})
    assert message == (
        f"{tmp_path / '31337.json'} is not a deployment file (its engine is not an address): "
        "run `journey deploy`"
    )


def test_a_corrupt_keystore_file_is_named(reader, tmp_path):
    keystore = tmp_path / "keystore"
    keystore.mkdir(mode=0o700)
    (keystore / "broken.json").write_text("{", encoding="utf-8")
    env = {"JOURNEY_HOME": str(tmp_path), "JOURNEY_PASSWORD": "x"}
    message = fails("-a", "broken", "claim", code=2, env=env)
    assert (
        message == f"{keystore / 'broken.json'} is not a readable keystore file: restore it or move it aside"
    )
    message = fails("accounts", "new", "broken", code=2, env=env)
    assert (
        message
        == f"{keystore / 'broken.json'} exists already and is not a readable keystore file: move it aside"
    )


# --- playbook files ------------------------------------------------------------------------


def test_malformed_yaml_is_one_sentence_with_line_and_column(reader, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nsteps:\n  - name: a\n   role: [SALES\n", encoding="utf-8")
    message = fails("playbook", "publish", str(bad), code=2)
    assert message.startswith(f"{bad} is not valid YAML at line 4, column 4: ")


def test_a_playbook_file_that_is_not_text_is_bad_input(reader, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"name: \xff\xfe\n")
    assert (
        fails("playbook", "publish", str(bad), code=2) == f"{bad} is not a playbook: byte 6 is not UTF-8 text"
    )


def test_a_missing_playbook_file_is_bad_input(reader, tmp_path):
    missing = tmp_path / "nope.yaml"
    message = fails("playbook", "publish", str(missing), code=2)
    assert message == f"cannot read playbook {missing}: No such file or directory"


def test_a_negative_share_is_bad_input(reader, tmp_path):
    bad = tmp_path / "neg.yaml"
    bad.write_text(
        "name: neg\nsteps:\n  - {name: a, role: SALES, share_bps: -5}\n"
        "  - {name: b, role: CUSTOMER, sla: 1d}\n",
        encoding="utf-8",
    )
    message = fails("playbook", "publish", str(bad), code=2)
    assert message == f"{bad}: step 'a': share_bps must be a whole number of basis points from 0 to 10000"


# --- the address book and list filters ----------------------------------------------------


def mistyped(address: str) -> str:
    """`address` with one letter's case swapped: a wrong EIP-55 checksum."""
    i = next(i for i, ch in enumerate(address) if i > 1 and ch.isalpha())
    return address[:i] + address[i].swapcase() + address[i + 1 :]


def test_a_name_for_an_address_with_a_wrong_checksum_is_refused(reader):
    typo = mistyped(dev_account(3).address)
    assert fails("participant", "name", typo, "Success lead", code=2) == (
        f"{typo} has a wrong EIP-55 checksum (mixed case): check it for a typo, or give it in lower case"
    )


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("   ", "a name cannot be empty"),
        ("n" * 33, "a name is at most 32 characters, not 33 ('nnnnnnnnnnnnnnnn'...)"),
        ("Rep\tA", "the name 'Rep\\tA' holds control characters"),
        ("0xRep", "the name '0xRep' looks like an address or an account: choose another"),
        ("dev:3", "the name 'dev:3' looks like an address or an account: choose another"),
    ],
    ids=["empty", "too-long", "control", "hex", "dev"],
)
def test_a_name_that_cannot_be_one_is_bad_input(reader, name, words):
    assert fails("participant", "name", "dev:3", name, code=2) == words


def test_a_name_another_address_has_is_bad_input(reader):
    taken = dev_account(3).address
    assert run("participant", "name", "dev:3", "Success lead").exit_code == 0
    try:
        assert fails("participant", "name", "dev:4", "success LEAD", code=2) == (
            f"'success LEAD' names {taken} already: `journey participant name {taken} --remove` first, "
            "or choose another name"
        )
    finally:
        run("participant", "name", "dev:3", "--remove")


def test_removing_a_name_an_address_does_not_have_is_bad_input(reader):
    address = dev_account(4).address
    assert fails("participant", "name", "dev:4", "--remove", code=2) == (
        f"{address} has no name in the address book of chain 31337"
    )


@pytest.mark.parametrize("extra", [[], ["Rep", "--remove"]], ids=["neither", "both"])
def test_a_name_and_remove_are_one_of_the_two(reader, extra):
    assert fails("participant", "name", "dev:4", *extra, code=2) == (
        'give a name (journey participant name ADDRESS "Sales rep A") or --remove, one of the two'
    )


def test_a_corrupt_address_book_is_named_and_kept(reader, tmp_path):
    book = tmp_path / "names.json"
    book.write_text('{"31337": [', encoding="utf-8")
    message = fails("participant", "names", code=2, env={"JOURNEY_HOME": str(tmp_path)})
    assert message.startswith(f"{book} is not an address book (not JSON:")
    assert message.endswith("it is left as it is; fix it or move it aside")
    assert book.read_text(encoding="utf-8") == '{"31337": ['


def test_an_unknown_status_to_list_is_bad_input(reader):
    assert fails("list", "--status", "finished", code=2) == (
        "--status 'finished' is not a journey status (one of open, disputed, value_delivered, expired, "
        "cancelled)"
    )


@pytest.mark.parametrize(
    ("playbook", "words"),
    [
        ("0", "--playbook 0: playbooks are numbered from 1 to 65535"),
        ("70000", "--playbook 70000: playbooks are numbered from 1 to 65535"),
        ("nosuch", "no playbook named 'nosuch' is published (see `journey playbook show NUMBER`)"),
    ],
    ids=["zero", "too-high", "unknown-name"],
)
def test_a_playbook_filter_that_names_none_is_bad_input(reader, playbook, words):
    assert fails("list", "--playbook", playbook, code=2) == words


def test_an_assignee_filter_that_names_nobody_is_bad_input(reader):
    assert fails("list", "--assignee", "Nobody Known", code=2) == (
        "'Nobody Known' is neither an address nor a known account (see `journey accounts list`)"
    )
    typo = mistyped(dev_account(2).address)
    assert "has a wrong EIP-55 checksum" in fails("list", "--assignee", typo, code=2)


# --- the chain command and endpoints ------------------------------------------------------


def test_a_port_out_of_range_is_bad_input():
    message = fails("chain", "--port", "99999", code=2)
    assert message == (
        "Invalid value for '--port': Input should be less than or equal to 65535 (see `journey chain --help`)"
    )


def test_an_rpc_that_is_not_a_url_is_bad_input():
    assert fails("--rpc", "ftp://example.org", "list", code=2) == (
        "the RPC endpoint 'ftp://example.org' is not an http(s) URL"
    )


def test_an_unreachable_rpc_is_exit_code_4():
    url = f"http://127.0.0.1:{free_port()}"
    message = fails("--rpc", url, "list", code=4)
    assert message == f"cannot reach the chain at {url}: is the node running and the URL right?"


# --- accounts --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("dev:99", "dev:99: development accounts run from dev:0 to dev:9"),
        ("dev:-1", "dev:-1: development accounts run from dev:0 to dev:9"),
        ("dev:x", "'dev:x' is not a development account name (dev:0 to dev:9)"),
        ("nobody", "no account named 'nobody' in "),
    ],
    ids=["dev-99", "dev-negative", "dev-letters", "unknown-alias"],
)
def test_an_account_name_that_names_nothing_is_bad_input(reader, name, words):
    assert words in fails("-a", name, "claim", code=2)


def test_a_keystore_account_without_a_terminal_asks_for_journey_password(reader, monkeypatch):
    create_account("keyed", "a password")
    monkeypatch.setattr(getpass, "getpass", getpass.fallback_getpass)  # what getpass does without a tty
    message = fails("-a", "keyed", "claim", code=2)
    assert message == (
        "the password for keyed is needed and there is no terminal to ask for it: set JOURNEY_PASSWORD"
    )


def test_the_installed_command_without_a_terminal_asks_for_journey_password(reader):
    env = {k: v for k, v in os.environ.items() if k != "JOURNEY_PASSWORD"}
    result = subprocess.run(
        [*COMMAND, "-a", "keyed", "claim"],
        capture_output=True, text=True, timeout=60, env=env, stdin=subprocess.DEVNULL,
        start_new_session=True,  # no controlling terminal
    )  # fmt: skip
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.strip() == (
        "error: the password for keyed is needed and there is no terminal to ask for it: set JOURNEY_PASSWORD"
    )


def test_a_bad_alias_is_bad_input(reader):
    message = fails("accounts", "new", "1bad", code=2, env={"JOURNEY_PASSWORD": "x"})
    assert message.startswith("account alias '1bad' must start with a letter")


def test_an_unset_key_variable_is_bad_input(reader):
    message = fails("accounts", "import", "v", "--key-env", "NO_SUCH_VARIABLE_SET", code=2)
    assert message == "the environment variable NO_SUCH_VARIABLE_SET is not set"


def test_a_malformed_private_key_is_bad_input_and_not_echoed(reader):
    result = CliRunner().invoke(
        app, ["accounts", "import", "v", "--stdin"], input="0xnotakey\n", env={"JOURNEY_PASSWORD": "x"}
    )
    assert result.exit_code == 2 and "notakey" not in result.output
    assert result.stderr.strip() == "error: that is not a private key (64 hex digits, with or without 0x)"


# --- roles, journeys, steps, fields ------------------------------------------------------


def test_a_bad_role_name_is_bad_input(reader):
    message = fails("participant", "add", "dev:3", "bad role!", code=2)
    assert message == "'bad role!' is not a role name (letters, digits and _, up to 32)"


def test_a_bad_role_name_is_not_defined(reader):
    assert fails("role", "define", "bad role!", code=2) == (
        "'bad role!' is not a role name (letters, digits and _, up to 32)"
    )


def test_an_unknown_journey_is_bad_input(reader):
    assert fails("status", "NOPE", code=2) == "there is no journey NOPE"


def test_a_journey_id_that_is_not_hex_is_bad_input(reader):
    bad = "0x" + "zz" * 32
    assert fails("status", bad, code=2) == f"{bad!r} is not a journey id (0x and 64 hex digits)"


def test_an_over_long_reference_is_bad_input(reader):
    message = fails("-a", "dev:1", "open", "R" * 200, "--customer", "dev:9", "--funder", "dev:7", code=2)
    assert message == "a journey reference is at most 128 bytes, not 200 ('RRRRRRRRRRRRRRRR'...)"


def test_a_reference_with_a_line_break_is_bad_input(reader):
    message = fails("-a", "dev:1", "open", "OPP\n9", "--customer", "dev:9", "--funder", "dev:7", code=2)
    assert message == "the journey reference 'OPP\\n9' holds control characters"


def test_a_profile_hash_that_is_not_hex_is_bad_input(reader):
    message = fails(
        "-a", "dev:1", "open", "OPP-H", "--customer", "dev:9", "--funder", "dev:7",
        "--profile-hash", "0x" + "zz" * 32, code=2,
    )  # fmt: skip
    assert message == f"'0x{'zz' * 32}' is not a profile hash (0x and 64 hex digits)"


def test_a_profile_and_a_profile_hash_together_are_bad_input(reader):
    message = fails(
        "-a", "dev:1", "open", "OPP-H", "--customer", "dev:9", "--funder", "dev:7",
        "--profile", "Ada", "--profile-hash", PROFILE_HEX, code=2,
    )  # fmt: skip
    assert message == "give --profile or --profile-hash, not both"


def test_a_playbook_number_out_of_range_is_bad_input(reader):
    message = fails("playbook", "show", "70000", code=2)
    assert message.startswith("Invalid value for 'playbook_id': Input should be less than or equal to 65535")


def test_an_unknown_step_name_is_bad_input(reader):
    message = fails(
        "-a", "dev:8", "customer", "dispute", "OPP-1", "no_such_step",
        "--customer", "dev:9", "--profile-hash", PROFILE_HEX, code=2,
    )  # fmt: skip
    assert message == "playbook 'default' has no step named 'no_such_step'"


def test_a_step_number_beyond_the_playbook_is_bad_input(reader):
    message = fails(
        "-a", "dev:8", "customer", "rate", "DONE-1", "300", "5",
        "--customer", "dev:9", "--profile-hash", PROFILE_HEX, code=2,
    )  # fmt: skip
    assert message == "playbook 'default' has no step 300: its steps run from 0 to 5"


@pytest.mark.parametrize("score", ["7", "0", "-1"])
def test_a_score_out_of_range_is_bad_input(reader, score):
    message = fails(
        "-a", "dev:8", "customer", "rate", "DONE-1", "lead_qualified", score,
        "--customer", "dev:9", "--profile-hash", PROFILE_HEX, code=2,
    )  # fmt: skip
    assert message == f"a rating is a score from 1 to 5, not {score}"


def test_a_field_name_over_32_bytes_is_bad_input(reader):
    message = fails("-a", "dev:1", "step", "complete", "OPP-0", "--field", "x" * 33 + "=1", code=2)
    assert message == f"name {'x' * 33!r} must be 1 to 32 bytes long"


def test_a_field_given_twice_is_bad_input(reader):
    message = fails("-a", "dev:1", "step", "complete", "OPP-0", "-f", "segment=a", "-f", "segment=b", code=2)
    assert message == "--field 'segment' is given twice"


def test_a_field_the_step_does_not_take_is_bad_input(reader):
    message = fails("-a", "dev:1", "step", "complete", "OPP-0", "-f", "colour=red", code=2)
    assert message.startswith("step 0 (lead_qualified) of journey OPP-0 takes no field colour")


def test_an_unknown_organisation_is_bad_input(reader):
    message = fails("-a", "dev:1", "step", "complete", "OPP-0", "--org", "99", code=2)
    assert message == "there is no organisation 99 (see `journey org list`)"
    assert reader.journey("OPP-0").step == 0


@pytest.mark.parametrize(
    ("duration", "words"),
    [
        ("5x", "--expires-in: '5x' is not a duration (use e.g. 90m, 24h, 30d)"),
        ("-5d", "--expires-in: '-5d' is not a duration (use e.g. 90m, 24h, 30d)"),
        ("0d", "--expires-in: '0d' is no time at all (omit it for an attestation that never expires)"),
        ("99999999999d", "--expires-in: '99999999999d' is out of range"),
    ],
    ids=["unit", "negative", "zero", "too-long"],
)
def test_a_bad_duration_is_bad_input(reader, duration, words):
    with nothing_sent(reader, dev_account(6).address):
        message = fails(
            "-a", "dev:6", "attest", "OPP-1", "identity_verified", "--expires-in", duration, code=2
        )
    assert message == words


def test_a_keeper_interval_of_zero_is_bad_input(reader):
    message = fails("keeper", "--interval", "0", code=2)
    assert message.startswith("Invalid value for '--interval': Input should be greater than or equal to 0.1")


def test_an_organisation_name_over_32_bytes_is_bad_input(reader):
    assert fails("org", "add", "o" * 40, code=2) == f"name {'o' * 40!r} must be 1 to 32 bytes long"


def test_an_unknown_option_is_bad_input(reader):
    assert fails("list", "--colour", code=2) == "No such option: --colour (see `journey list --help`)"


def test_the_zero_address_is_bad_input(reader):
    zero = "0x" + "00" * 20
    message = fails("participant", "add", zero, "SALES", "--org", "sales2", code=2)
    assert message == f"{zero} is the zero address, which nobody holds a key for"


def test_admin_and_customer_are_never_defined_as_roles(reader):
    for name in ("ADMIN", "customer"):
        assert fails("role", "define", name, code=2) == (
            f"{name.upper()} is a role of its own, never defined: choose another name"
        )


def test_an_empty_private_key_on_standard_input_is_bad_input(reader):
    result = CliRunner().invoke(
        app, ["accounts", "import", "v", "--stdin"], input="\n", env={"JOURNEY_PASSWORD": "x"}
    )
    assert result.exit_code == 2 and result.stderr.strip() == "error: no private key on standard input"


def test_a_demo_report_that_cannot_be_written_is_refused_before_the_demo_runs(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    out = blocker / "demo.json"
    message = fails("demo", "--out", str(out), code=2)
    assert message == f"cannot write the report to {out}: File exists"
