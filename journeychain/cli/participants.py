"""`journey participant`, `org`, `role` and `rulebook`: who may act, for which organisation,
under which rules."""

from __future__ import annotations

from typing import Annotated

import typer
from rich import box
from rich.table import Table

from journeychain.amounts import tokens
from journeychain.cli.session import _receipt_note, session
from journeychain.cli.show import named
from journeychain.client import role_id
from journeychain.errors import ConfigError
from journeychain.timeline import label, org_label

# --- participants and the rulebook -------------------------------------------------------

participant_app = typer.Typer(
    help="Participants: addresses with a role, acting for a team or a vendor.", no_args_is_help=True
)


@participant_app.command("add")
def participant_add(
    ctx: typer.Context,
    address: Annotated[str, typer.Argument(help="Address, keystore alias or dev:N.")],
    role: Annotated[
        str,
        typer.Argument(
            help="MARKETING, SALES, SUCCESS, VENDOR, VERIFIER, FUNDER, ARBITER, ADMIN "
            "or a role a playbook defines."
        ),
    ],
    org: Annotated[
        str | None,
        typer.Option(
            help="The organisation it acts for (name or number), needed the first time; a new name "
            "registers the organisation."
        ),
    ] = None,
    vendor: Annotated[
        bool, typer.Option("--vendor", help="A new --org is an outside firm, not a company unit.")
    ] = False,
) -> None:
    """Grant ROLE to ADDRESS (as ADMIN), in organisation --org. A participant belongs to one
    organisation for good and must then accept the rulebook."""
    s = session(ctx)
    role_id(role)  # a bad role is refused before connecting
    target = s.address(address)
    client = s.client()
    org_id: int | None = None
    if org is not None:
        try:
            org_id = client.organisation_id(org)
        except ConfigError:
            if org.isdigit():
                raise
            org_id, _ = client.register_organisation(org, vendor=vendor)
            s.note(f"organisation {org_id} ({org}) registered")
    receipt = client.grant_role(target, role, org=org_id)
    where = f" of {org}" if org else ""
    s.emit(
        {"address": target, "role": role.upper(), "org": org} | receipt.as_dict(),
        f"{target} is now {role.upper()}{where} {_receipt_note(receipt)}",
    )


org_app = typer.Typer(help="Organisations: the company's units and the outside firms.", no_args_is_help=True)


@org_app.command("add")
def org_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A short name (no personal data), up to 32 bytes.")],
    vendor: Annotated[bool, typer.Option("--vendor", help="An outside firm, not a company unit.")] = False,
) -> None:
    """Register an organisation (as ADMIN)."""
    s = session(ctx)
    org, receipt = s.client().register_organisation(name, vendor=vendor)
    kind = "vendor firm" if vendor else "company unit"
    s.emit(
        {"org": org, "name": name, "kind": kind} | receipt.as_dict(),
        f"organisation {org} ({name}, {kind}) registered {_receipt_note(receipt)}",
    )


@org_app.command("list")
def org_list(ctx: typer.Context) -> None:
    """Every organisation, by number."""
    s = session(ctx)
    orgs = s.reader.organisations()
    table = Table("org", "name", "kind")
    for o in orgs:
        table.add_row(str(o["org"]), o["name"], o["kind"])
    s.emit(orgs, table)


role_app = typer.Typer(help="Roles a playbook may name beyond the defaults.", no_args_is_help=True)


@role_app.command("define")
def role_define(
    ctx: typer.Context, name: Annotated[str, typer.Argument(help="The role's name, e.g. SUPPORT.")]
) -> None:
    """Define a role (as ADMIN); its id is keccak256 of its name. `playbook publish` defines the
    roles a playbook declares under `roles:` itself."""
    role_id(name)  # a bad name is refused before connecting
    if name.upper() in ("ADMIN", "CUSTOMER"):
        raise ConfigError(f"{name.upper()} is a role of its own, never defined: choose another name")
    s = session(ctx)
    receipt = s.client().define_role(name)
    s.emit(
        {"role": name.upper()} | receipt.as_dict(), f"role {name.upper()} defined {_receipt_note(receipt)}"
    )


@participant_app.command("show")
def participant_show(
    ctx: typer.Context, address: Annotated[str, typer.Argument(help="Address, alias or name.")]
) -> None:
    """A participant's roles, rulebook acceptance, breaches, credit and rating."""
    s = session(ctx)
    c = s.reader
    target = s.address(address)
    info = c.participant(target)
    rating = c.rating_of(target)
    names = s.names
    info |= {
        "name": named(target, names),
        "breaches": c.breach_count(target),
        "credit": c.credit_of(target),
        "balance": c.balance_of(target),
        "ratings": rating.count,
        "average_rating": rating.average,
    }
    title = f"{names[target]} ({target})" if target in names else target
    table = Table(show_header=False, title=title)
    for key, value in info.items():
        if key == "name":
            continue
        shown = tokens(value) if key in ("credit", "balance") else value
        if key == "org" and value:
            shown = org_label(value, names)
        table.add_row(key, ", ".join(value) if isinstance(value, list) else str(shown))
    s.emit(info, table)


@participant_app.command("list")
def participant_list(ctx: typer.Context) -> None:
    """Every participant of the deployment, by name where the address book has one: its
    organisation, roles and breaches."""
    s = session(ctx)
    c = s.reader
    names = s.names
    rows = []
    for member in c.members():
        address = member["address"]
        rows.append(
            {
                "address": address,
                "name": named(address, names),
                "org": member["org"],
                "org_name": names.get(f"org:{member['org']}"),
                "roles": c.roles_of(address),
                "breaches": c.breach_count(address),
            }
        )
    table = Table("participant", "organisation", "roles", "breaches", box=box.SIMPLE_HEAD)
    for r in rows:
        table.add_row(
            label(r["address"], names),
            org_label(r["org"], names),
            ", ".join(r["roles"]) or "-",
            str(r["breaches"]),
        )
    s.emit(rows, table if rows else "no participants yet")


@participant_app.command("name")
def participant_name(
    ctx: typer.Context,
    address: Annotated[
        str, typer.Argument(help="The address (EIP-55 checksum, or lower case), alias or dev:N.")
    ],
    name: Annotated[
        str | None, typer.Argument(help='What to call it in tables and timelines, e.g. "Sales rep A".')
    ] = None,
    remove: Annotated[bool, typer.Option("--remove", help="Remove the address's name instead.")] = False,
) -> None:
    """Name an address in the local address book ($JOURNEY_HOME/names.json, this chain's): every
    table and timeline shows the name instead of the address, and commands take the name where
    they take an account. Names stay on this machine; --json output keeps the addresses."""
    s = session(ctx)
    if remove == (name is not None):
        raise ConfigError(
            'give a name (journey participant name ADDRESS "Sales rep A") or --remove, one of the two'
        )
    target = s.address(address)
    book = s.address_book
    if remove:
        old = book.remove(target)
        s.emit({"address": target, "name": None, "was": old}, f"{target} is no longer named {old!r}")
        return
    assert name is not None
    before = book.name(target, name)
    kept = book.names()[target]
    was = f" (was {before!r})" if before and before != kept else ""
    s.emit({"address": target, "name": kept, "was": before}, f"{target} is now named {kept!r}{was}")


@participant_app.command("names")
def participant_names(ctx: typer.Context) -> None:
    """The address book of this chain: every named address."""
    s = session(ctx)
    names = s.address_book.names()
    rows = [{"address": a, "name": n} for a, n in sorted(names.items(), key=lambda item: item[1].casefold())]
    table = Table("name", "address", box=box.SIMPLE_HEAD)
    for r in rows:
        table.add_row(r["name"], r["address"])
    empty = 'no names yet: `journey participant name ADDRESS "Sales rep A"` gives one'
    s.emit(rows, table if rows else empty)


rulebook_app = typer.Typer(
    help="The rulebook: the consensus rules every participant accepts.", no_args_is_help=True
)


@rulebook_app.command("accept")
def rulebook_accept(
    ctx: typer.Context,
    by_signature: Annotated[
        bool, typer.Option("--by-signature", help="Sign the acceptance (EIP-712); --relay sends it.")
    ] = False,
    relay: Annotated[
        str | None, typer.Option("--relay", help="With --by-signature: the account that sends it.")
    ] = None,
) -> None:
    """Accept the rulebook in force, as --account (required before acting)."""
    s = session(ctx)
    who: str
    if by_signature:
        participant = s.account()
        receipt = s.client(relay or "dev:0").accept_rulebook_by_signature(participant)
        who = participant.address
    else:
        client = s.client()
        receipt = client.accept_rulebook()
        who = client.address
    version, _ = s.reader.rulebook()
    s.emit(
        {"account": who, "version": version} | receipt.as_dict(),
        f"{who} accepted rulebook version {version} {_receipt_note(receipt)}",
    )


@rulebook_app.command("show")
def rulebook_show(ctx: typer.Context) -> None:
    """The rulebook version and hash in force."""
    s = session(ctx)
    version, digest = s.reader.rulebook()
    s.emit({"version": version, "hash": digest}, f"rulebook version {version}: {digest}")
