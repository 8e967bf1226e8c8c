"""The operations commands of `journey`: chain, deploy, mint, demo, keeper, prove and forget."""

from __future__ import annotations

import datetime
import json
import logging
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from journeychain.amounts import tokens
from journeychain.chain import NODES, forget_user_node, run_foreground, stop_background
from journeychain.cli.session import Session, _amount, _receipt_note, session
from journeychain.deployments import deploy, deployment_file
from journeychain.errors import ConfigError, JourneyError
from journeychain.playbook import parse_duration
from journeychain.timeline import iso
from journeychain.vault import STATEMENTS, Vault

# --- the chain and deployments ------------------------------------------------------------


chain_app = typer.Typer(no_args_is_help=False)


@chain_app.callback(invoke_without_command=True)
def chain_cmd(
    ctx: typer.Context,
    stop: Annotated[bool, typer.Option("--stop", help="Stop the background local chain instead.")] = False,
    port: Annotated[int, typer.Option(help="Port to listen on.", min=1, max=65535)] = 8545,
    forget_node: Annotated[
        bool,
        typer.Option(
            "--forget-node",
            help="Let commands start the embedded chain at 127.0.0.1:8545 again, where a node of "
            "your own answered before.",
        ),
    ] = False,
) -> None:
    """Run the embedded local chain (anvil) in the foreground; Ctrl-C stops it.

    Its state is kept in $JOURNEY_HOME/chain, so the next start sees the same chain.
    Other commands start it in the background on their own when nothing answers at
    127.0.0.1:8545, unless a node of your own answered there before (then they end with
    exit 4: start your node again, or `journey chain --forget-node`); `journey chain --stop`
    stops that background chain. `journey chain advance 25h` moves a local chain's clock.
    """
    if ctx.invoked_subcommand is not None:
        return
    if forget_node:
        forgot = forget_user_node()
        print("the embedded chain may start at 127.0.0.1:8545 again" if forgot else "no node was remembered")
        return
    if stop:
        pid = stop_background()
        print("stopped the local chain" + (f" (pid {pid})" if pid else ": none was running"))
        return
    print(f"local chain on http://127.0.0.1:{port} (Ctrl-C stops it)", file=sys.stderr)
    run_foreground(port)


@chain_app.command("advance")
def chain_advance(
    ctx: typer.Context,
    duration: Annotated[str | None, typer.Argument(help="How far, e.g. 90m, 25h, 3d.")] = None,
    to: Annotated[
        str | None, typer.Option("--to", help="Or to this moment, ISO 8601 (2026-12-24T09:00:00+01:00).")
    ] = None,
) -> None:
    """Move a local chain's clock forward and mine a block (deadlines pass, windows close).

    Only on a local development chain (anvil, ganache): any other chain is refused."""
    s = session(ctx)
    if (duration is None) == (to is None):
        raise ConfigError("give how far (e.g. 25h) or --to a moment, one of the two")
    chain = s.chain
    now = chain.now()
    if to is not None:
        try:
            moment = datetime.datetime.fromisoformat(to)
        except ValueError:
            raise ConfigError(f"--to {to!r} is not an ISO 8601 moment (2026-12-24T09:00:00+01:00)") from None
        if moment.tzinfo is None:
            raise ConfigError(f"--to {to!r} names no UTC offset (add Z or +01:00)")
        seconds = int(moment.timestamp()) - now
        if seconds <= 0:
            raise ConfigError(f"--to {to} is not after the chain's time now ({iso(now)}): time only moves on")
    else:
        seconds = parse_duration(duration, "advance")
        if seconds <= 0:
            raise ConfigError(f"{duration!r} moves no time at all")
    if not chain.is_local:
        raise ConfigError(f"chain {chain.chain_id} is not a local chain: its clock cannot be moved")
    after = chain.advance(seconds)
    s.emit(
        {"advanced": seconds, "now": after, "iso": iso(after)},
        f"the chain's clock moved {seconds:,} s forward: it is now {iso(after)}",
    )


def deploy_cmd(ctx: typer.Context) -> None:
    """Deploy the contracts (token, engine, attestation registry, customer voice).

    The deployer becomes ADMIN and the token's minter; the engine's rulebook is the hash
    of playbooks/rulebook.md. The addresses go to deployments/<chain id>.json, where
    every later command finds them.
    """
    s = session(ctx)
    account = s.account()
    with Console(stderr=True).status("deploying...") as status:
        deployment = deploy(s.chain, account, progress=lambda m: status.update(m))
    table = Table(title=f"deployment on chain {deployment.chain_id}", show_header=False)
    for key in ("engine", "voice", "registry", "token", "deployer", "block", "compiler"):
        table.add_row(key, str(getattr(deployment, key)))
    table.add_row("file", str(deployment_file(deployment.chain_id)))
    s.emit(deployment.as_dict(), table)


def mint_cmd(
    ctx: typer.Context,
    to: Annotated[str, typer.Argument(help="Address, alias or dev:N.")],
    amount: Annotated[str, typer.Argument(help="Tokens, e.g. 10000.")],
) -> None:
    """Mint incentive tokens to a funder (as the token's minter, the deployer)."""
    s = session(ctx)
    target, value = s.address(to), _amount(amount)
    receipt = s.client().mint(target, value)
    s.emit(
        {"to": target, "amount": value} | receipt.as_dict(),
        f"minted {tokens(value)} to {target} {_receipt_note(receipt)}",
    )


# --- journey demo ------------------------------------------------------------------------


def demo_cmd(
    ctx: typer.Context,
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Where to write the JSON report.", dir_okay=False)
    ] = Path("reports") / "demo.json",
    node: Annotated[
        str,
        typer.Option(
            "--chain",
            help="The throwaway local chain: anvil (the default), or ganache 7.9.2 (node_modules or PATH).",
            metavar="anvil|ganache",
        ),
    ] = "anvil",
    serve: Annotated[
        bool,
        typer.Option(
            "--serve", help="Then keep the chain and serve the dashboard and customer pages until Ctrl-C."
        ),
    ] = False,
    port: Annotated[int, typer.Option(help="The pages' port with --serve.", min=1, max=65535)] = 8080,
) -> None:
    """Run six customers through the default playbook on a throwaway local chain.

    One goes through on time; one lead breaches its deadline (the keeper flags it and it is
    escalated to another rep); one booking is refused for a missing field and then made;
    one customer disputes a step; one journey expires and its pool is refunded; a Friday-evening
    lead counted in working hours does not breach on Saturday, is paused and warned. Then each
    journey's timeline, the SLA breaches per team and vendor and everyone's credits and
    claims are printed and written as JSON. Time is moved on the chain: it takes seconds.
    """
    from journeychain import demo

    s = session(ctx)
    if node not in NODES:
        raise ConfigError(f"--chain is anvil or ganache, not {node!r}")
    _check_writable(out)
    if s.rpc:
        s.note("the demo runs on its own throwaway chain: --rpc is not used")
    if serve and s.json:
        raise ConfigError("--serve keeps running: it does not go with --json")
    if serve:
        from journeychain.web.serve import demo_pages

        console = Console()
        demo.main(
            out,
            console,
            node=node,
            serve=lambda _report, crew: demo_pages(crew, port, _say, _until_interrupted),
        )
        return
    if s.json:
        report = demo.run_demo(node=node)
        path = demo.write_report(report, out)
        s.emit(report.to_dict() | {"written_to": str(path)}, None)
        return
    demo.main(out, Console(), node=node)


def _say(line: str) -> None:
    print(line, flush=True)  # whole lines: links are not wrapped


def _until_interrupted() -> None:
    """Blocks until Ctrl-C (or SIGTERM)."""
    import signal
    import threading

    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_a: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
    print("stopped: the demo chain is gone", file=sys.stderr)


def _check_writable(out: Path) -> None:
    """Refuses a report path whose folder cannot be made or written, before the demo runs."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot write the report to {out}: {exc.strerror}") from None
    if not os.access(out.parent, os.W_OK):
        raise ConfigError(f"cannot write the report to {out}: its folder is not writable")


# --- journey keeper ----------------------------------------------------------------------


def keeper_cmd(
    ctx: typer.Context,
    once: Annotated[bool, typer.Option("--once", help="Run one round and stop.")] = False,
    interval: Annotated[float, typer.Option("--interval", help="Seconds between rounds.", min=0.1)] = 15.0,
    expire: Annotated[
        bool,
        typer.Option("--expire/--no-expire", help="Also expire journeys past the customer's deadline."),
    ] = True,
    release: Annotated[
        bool,
        typer.Option(
            "--release/--no-release",
            help="Also release the pool of each journey whose confirmation window passed in silence "
            "(journeys whose customer the local records know).",
        ),
    ] = False,
) -> None:
    """Watch for steps past their deadline and flag each breach once.

    With --release, it also releases the pool of each journey whose playbook's confirmation
    window has passed with the customer neither confirming nor disputing (`journey release`),
    once; a journey opened elsewhere, whose customer the local records do not know, is left to
    its own operator (a warning says so once).

    The keeper reads only the events since its last round; its last block and the journeys
    it watches are kept in $JOURNEY_HOME/keeper-<chain id>.json, so a restarted keeper
    resumes where it stopped. A round sends its flags and expiries as one multicall (a refused
    one is left out, the others sent). The keeper outlives a node outage: it waits, with
    backoff and without end, and carries on where it stopped once the node answers.
    """
    from journeychain.cli.settlement import release_from_records
    from journeychain.keeper import Keeper
    from journeychain.sdk.batch import keeper_batch

    s = session(ctx)
    client = s.client()
    keeper = Keeper(
        s.chain.w3,
        client.engine,
        flag=lambda jid: client.flag_breach(jid).tx_hash,
        expire=(lambda jid: client.expire(jid).tx_hash) if expire else None,
        start_block=s.deployment.block,
        release=(lambda jid: release_from_records(s, client, "0x" + jid.hex()).tx_hash) if release else None,
        batch=keeper_batch(client),
    )
    console = Console(stderr=s.json)
    logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stderr)

    def report(round_: Any, quiet_when_idle: bool = False) -> None:
        actions = [
            {
                "action": a.kind,
                "journey": a.journey,
                "reference": client.reference(bytes.fromhex(a.journey[2:])),
                "step": a.step,
                "deadline": a.deadline,
                "tx": a.tx,
            }
            for a in round_.actions
        ]
        idle = round_.to_block < round_.from_block and not actions
        if idle and quiet_when_idle:
            return
        data = {
            "from_block": round_.from_block,
            "to_block": round_.to_block,
            "events": round_.events,
            "watching": round_.watching,
            "actions": actions,
        }
        if s.json:
            print(json.dumps(data), flush=True)
            return
        for a in actions:
            name = a["reference"] or a["journey"][:14] + "…"
            if a["action"] == "warned":
                console.print(
                    f"[yellow]step {a['step']} of journey {name} is at risk of breaching: "
                    f"deadline {iso(a['deadline'])}[/yellow]"
                )
            elif a["action"] == "released":
                console.print(
                    f"released journey {name} (its confirmation window closed {iso(a['deadline'])})"
                )
            else:
                console.print(
                    f"{a['action']} step {a['step']} of journey {name} (deadline {iso(a['deadline'])})"
                )
        blocks = "no new blocks" if idle else f"blocks {round_.from_block}-{round_.to_block}"
        console.print(
            f"[dim]{blocks}: {round_.events} new events, watching {round_.watching} journeys, "
            f"{len(actions)} actions[/dim]"
        )

    if once:
        report(keeper.run_once())
        return
    console.print(f"[dim]keeper on chain {s.chain.chain_id}, state in {keeper.path}; Ctrl-C stops it[/dim]")
    try:
        for round_ in keeper.rounds(interval):
            report(round_, quiet_when_idle=True)
    except KeyboardInterrupt:
        console.print("[dim]keeper stopped[/dim]")


# --- journey reconcile -------------------------------------------------------------------


def reconcile_cmd(
    ctx: typer.Context,
    confirmations: Annotated[
        int | None,
        typer.Option(
            help="Blocks (its own included) before a step's evidence counts as confirmed "
            "(default: $JOURNEY_CONFIRMATIONS, else 0).",
            min=0,
        ),
    ] = None,
) -> None:
    """Settle the evidence vault against the chain: every pending row (a crash or a lost reply
    between sending and recording) is confirmed when the chain has its step, dropped when the
    step was completed with other evidence; evidence whose block was lost (a reorganisation, or
    the local chain restarted from an older state) goes back to pending, so the step can be
    completed again; mined evidence is confirmed once it has its confirmations.
    """
    s = session(ctx)
    reader = s.reader
    with Vault(confirmations=confirmations) as vault:
        counts = vault.reconcile(
            s.chain.w3, reader.engine, s.deployment.block, voice=reader.voice, deployment=s.deployment.key
        )
    s.emit(
        counts,
        f"vault reconciled: {counts['confirmed']} confirmed, {counts['reopened']} back to pending (their "
        f"block was lost), {counts['dropped']} dropped, {counts['mined']} waiting for confirmations, "
        f"{counts['pending']} still pending",
    )


# --- journey prove -----------------------------------------------------------------------


def prove_cmd(
    ctx: typer.Context,
    journey: Annotated[str, typer.Argument(help="The journey: its reference or 0x id.")],
    step: Annotated[str, typer.Argument(help="The step: its number or its playbook name.")],
    field: Annotated[
        str,
        typer.Argument(
            help="The field to disclose (customer_goals, say), or the customer's dispute_reason "
            "or rating_comment of the step."
        ),
    ],
) -> None:
    """Disclose one field of one step from the evidence vault and prove it matches the chain.

    A dispute_reason or rating_comment is proven against the commitment the step's Disputed
    or Rated event carries.
    """
    s = session(ctx)
    reader = s.reader
    jid = reader.journey_id(journey)
    index = reader.step_index(jid, step)
    if field in STATEMENTS:
        with Vault() as vault:
            said = vault.prove_statement(
                s.chain.w3,
                reader.engine,
                reader.voice,
                jid,
                index,
                field,
                from_block=s.deployment.block,
                deployment=s.deployment.key,
            )
        s.emit(
            said.to_dict(),
            f"{field} of step {index} of {journey} = {said.text!r}: matches the commitment "
            f"{said.commitment[:12]}… of its {said.event} event (tx {said.tx[:12]}…, block {said.block})",
        )
        return
    with Vault() as vault:
        proof = vault.prove(
            s.chain.w3,
            reader.engine,
            jid,
            index,
            field,
            from_block=s.deployment.block,
            deployment=s.deployment.key,
        )
    s.emit(
        proof.to_dict(),
        f"{field} of step {index} of {journey} = {proof.value!r}: matches the chain's commitment "
        f"{proof.commitment[:12]}… (tx {proof.tx[:12]}…, block {proof.block}) and the journey's rolling hash",
    )


# --- journey forget ----------------------------------------------------------------------


def forget_cmd(
    ctx: typer.Context,
    target: Annotated[
        str,
        typer.Argument(
            metavar="CUSTOMER_OR_JOURNEY",
            help="A customer (its signing address, alias or dev:N) or one journey (reference or 0x id).",
        ),
    ],
) -> None:
    """Erase the values, statements and salts the vault keeps for a customer's journeys, or one journey's.

    The chain keeps only the salted commitments, which nobody can open any more.
    """
    s = session(ctx)
    key = s.deployment.key
    journeys = _customer_journeys(s, target)
    with Vault() as vault:
        if journeys:
            erased = sum(vault.forget(jid, key, missing_ok=True) for jid in journeys)
        else:
            erased = vault.forget(target, key)
            journeys = [target]
    s.emit(
        {"target": target, "journeys": journeys, "erased": erased},
        f"erased {erased} values and statements, with their salts, from {len(journeys)} "
        f"journey{'' if len(journeys) == 1 else 's'} of {target}",
    )


def _customer_journeys(s: Session, target: str) -> list[str]:
    """The journeys whose customer is `target` (an address, alias or dev:N), from the local records."""
    try:
        address = s.address(target)
    except JourneyError:  # not an account name: a journey reference or id
        return []
    records = s.book.records()
    found = [jid for jid, r in records.items() if r.get("customer", "").lower() == address.lower()]
    if not found:
        raise ConfigError(f"no journey of customer {address} is recorded here")
    return found
