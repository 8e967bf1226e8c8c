"""`journey playbook` and `journey schema`: the templates journeys run through and the
attestation schemas their steps require."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.table import Table

from journeychain.cli.session import PLAYBOOK_MAX, _duration, _receipt_note, session
from journeychain.playbook import load_playbook

# --- playbooks -----------------------------------------------------------------------

playbook_app = typer.Typer(
    help="Playbooks: published, immutable templates of a journey's steps.", no_args_is_help=True
)


@playbook_app.command("publish")
def playbook_publish(
    ctx: typer.Context, file: Annotated[Path, typer.Argument(help="A playbook YAML file.")]
) -> None:
    """Validate a playbook YAML file and publish it (as ADMIN)."""
    s = session(ctx)
    playbook = load_playbook(file)
    playbook_id, receipt = s.client().publish_playbook(playbook)
    s.emit(
        {"playbook_id": playbook_id, "name": playbook.name} | receipt.as_dict(),
        f"playbook {playbook.name!r} published as playbook {playbook_id} {_receipt_note(receipt)}",
    )


@playbook_app.command("show")
def playbook_show(
    ctx: typer.Context,
    playbook_id: Annotated[
        int | None, typer.Argument(help="Its number (omit: all).", min=1, max=PLAYBOOK_MAX)
    ] = None,
) -> None:
    """Show a published playbook's steps, or list every playbook."""
    s = session(ctx)
    c = s.reader
    if playbook_id is None:
        published = [c.playbook(i) for i in range(1, c.playbook_count() + 1)]
        table = Table("id", "name", "version", "steps")
        for entry in published:
            book = entry.playbook
            table.add_row(str(entry.playbook_id), book.name, str(book.version), str(len(book.steps)))
        s.emit([entry.as_dict() for entry in published], table if published else "no playbook published yet")
        return
    shown = c.playbook(playbook_id)
    p = shown.playbook
    table = Table(
        "step", "role", "sla", "share", "penalty", "requires",
        title=f"playbook {playbook_id}: {p.name} v{p.version} (booking: step {p.commit_step})",
        caption="sla: SLA owed to the customer, OLA between teams, UC a vendor's contract; "
        "requires: fields, then attestations (marked @)",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )  # fmt: skip
    table.columns[5].min_width = 20
    for column in table.columns[:5]:
        column.no_wrap = True
    for i, step in enumerate(p.steps):
        table.add_row(
            f"{i} {step.name}",
            step.role,
            _duration(step.sla)
            + (f" {step.sla_type}" if step.sla else "")
            + (f"\nwarn {step.warn_bps / 100:g}%" if step.warn_bps else ""),
            f"{step.share_bps / 100:g}%",
            f"{step.penalty_bps / 100:g}%",
            "\n".join([*step.fields, *(f"@{a}" for a in step.attestations)]),
        )
    s.emit(shown.as_dict(), table)


schema_app = typer.Typer(
    help="Attestation schemas: the role their verifiers hold and what they are about.", no_args_is_help=True
)


@schema_app.command("add")
def schema_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Its short name (at most 30 bytes), e.g. parts_certified.")],
    role: Annotated[str, typer.Option(help="The role its verifiers hold.")] = "VERIFIER",
    subject: Annotated[str, typer.Option(help="customer, journey or step.")] = "customer",
) -> None:
    """Register an attestation schema (as ADMIN); it never changes afterwards.
    `journey playbook publish` registers the schemas a playbook declares by itself."""
    s = session(ctx)
    receipt = s.client().register_schema(name, role, subject.lower())
    s.emit(
        {"schema": name, "role": role.upper(), "subject": subject.lower()} | receipt.as_dict(),
        f"schema {name}: attested by {role.upper()} about the {subject.lower()} {_receipt_note(receipt)}",
    )


@schema_app.command("list")
def schema_list(ctx: typer.Context) -> None:
    """The registered attestation schemas."""
    s = session(ctx)
    schemas = s.client().schemas()
    table = Table("schema", "verifiers", "about", title="attestation schemas")
    for schema in schemas:
        table.add_row(schema.name, schema.role, schema.subject)
    s.emit([{"schema": x.name, "role": x.role, "subject": x.subject} for x in schemas], table)
