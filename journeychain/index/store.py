"""The index: its database, the sync that folds the chain's events into it, and its reads."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields, is_dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    and_,
    create_engine,
    delete,
    event,
    func,
    insert,
    not_,
    or_,
    select,
    update,
)
from sqlalchemy.exc import SQLAlchemyError

from journeychain.calendar import Calendar
from journeychain.chain import journey_home, private_dir
from journeychain.deployments import Deployment, DeploymentKey
from journeychain.encoding import from_short_name, journey_id
from journeychain.errors import IndexStoreError
from journeychain.index import codec, schema
from journeychain.index.fold import PlaybookRules, RulesBook, fold_journey, rules_from_event
from journeychain.index.source import DIRECTORY_EVENTS, PUBLISHER_EVENTS, ChainSource, web3_of
from journeychain.sdk.types import ORG_KINDS, JourneyState
from journeychain.timeline import LOG_CHUNK, ChainEvent, Timeline, _fold, _new_timeline, hexstr

#: Hashes of indexed blocks older than this many blocks behind the cursor are pruned: a
#: reorganisation deeper than that re-indexes the deployment from its first block.
KEEP_BLOCKS = 1_024
#: How many times a block range is read again when its last block changed while it was read.
READ_ATTEMPTS = 5
#: How many journeys' events are read back in one query when they are folded again.
FOLD_CHUNK = 500
#: `journeys(status=...)` takes the list's names (value_delivered) and the engine's (value delivered).
STATUS_NAMES = ("open", "disputed", "value delivered", "expired", "cancelled")
LIVE = ("open", "disputed")

Progress = Callable[[int, int], None]


def default_path(key: DeploymentKey) -> Path:
    """Where a deployment's SQLite index lives by default: in the journeychain home's index/
    folder, one file per deployment (its chain id, engine and first block's hash), as the
    deployment's other local records are kept."""
    folder = private_dir(journey_home() / "index")
    return folder / f"{key.chain_id}-{key.engine.lower()}-{key.block_hash.removeprefix('0x')[:16]}.sqlite"


def database_url(url: str | None, key: DeploymentKey) -> str:
    """The SQLAlchemy URL of an index: `url`, else $JOURNEY_INDEX, else the default SQLite file.
    A plain path is a SQLite file; postgresql:// URLs use psycopg (v3)."""
    url = url or os.environ.get("JOURNEY_INDEX") or str(default_path(key))
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    if "://" not in url:
        return "sqlite:///" + str(Path(url).expanduser())
    return url


def index_exists(url: str | None, key: DeploymentKey) -> bool:
    """Whether the command line has an index to read: a configured URL, or the default file."""
    return bool(url or os.environ.get("JOURNEY_INDEX")) or default_path(key).exists()


@dataclass(frozen=True)
class Reorganisation:
    """A reorganisation the sync undid: the blocks after `fork` up to `cursor` were removed."""

    fork: int
    cursor: int


@dataclass(frozen=True)
class JourneyFilter:
    """The filters of `Index.journeys`; None: no filter. `overdue` and `at_risk` take True (only
    those that are) or False (only those that are not); `organisation` its number or name."""

    status: str | None = None
    playbook: int | Sequence[int] | None = None
    overdue: bool | None = None
    at_risk: bool | None = None
    organisation: int | str | None = None
    assignee: str | None = None
    now: int | None = None
    limit: int | None = None
    offset: int = 0


def _filters(filters: Any, kw: Mapping[str, Any]) -> JourneyFilter:
    """A JourneyFilter from another filter object (any dataclass with such fields), a mapping or
    keywords; fields it does not know are refused."""
    if filters is None:
        given: dict[str, Any] = {}
    elif is_dataclass(filters) and not isinstance(filters, type):
        given = {f.name: getattr(filters, f.name) for f in fields(filters)}
    else:
        given = dict(filters)
    given |= kw
    known = {f.name for f in fields(JourneyFilter)}
    unknown = sorted(set(given) - known)
    if unknown:
        raise IndexStoreError(
            f"journeys cannot be filtered by {', '.join(unknown)} (filters: {', '.join(sorted(known))})"
        )
    return JourneyFilter(**given)


class Index:
    """A deployment's read model: see the package's docstring."""

    def __init__(self, engine: Engine, deployment: Deployment, url: str, scratch: Path | None = None):
        self.db, self.deployment, self.url = engine, deployment, url
        self.last_reorganisation: Reorganisation | None = None
        self._rules: RulesBook | None = None
        self._scratch = scratch

    # --- opening -------------------------------------------------------------------------
    @classmethod
    def open(cls, url: str | None, deployment: Deployment) -> Index:
        """The index at `url` (None: $JOURNEY_INDEX or the default SQLite file), created or
        migrated as needed; refused when it holds another deployment's events. An in-memory
        SQLite URL (`sqlite://`) is a scratch file removed at `close()`: each thread then reads
        and writes through its own connection, under the database's lock."""
        full = database_url(url, deployment.key)
        scratch = None
        if full in ("sqlite://", "sqlite:///:memory:"):
            scratch = Path(tempfile.mkdtemp(prefix="journey-index-"))
        try:
            engine = _engine(f"sqlite:///{scratch / 'index.db'}" if scratch else full)
            with engine.begin() as conn:
                schema.migrate(conn)
                held = conn.execute(
                    select(schema.meta.c.value).where(schema.meta.c.key == "deployment")
                ).scalar()
                if held is None:
                    conn.execute(insert(schema.meta).values(key="deployment", value=str(deployment.key)))
                elif held != str(deployment.key):
                    engine.dispose()
                    raise IndexStoreError(
                        f"the index at {_shown(full)} holds deployment {held}, not {deployment.key}: "
                        "give each deployment its own database"
                    )
        except SQLAlchemyError as exc:
            if scratch:
                shutil.rmtree(scratch, ignore_errors=True)
            cause = getattr(exc, "orig", None) or exc
            raise IndexStoreError(
                f"cannot open the index at {_shown(full)}: {type(cause).__name__}: "
                f"{(str(cause).strip().splitlines() or [''])[0]}"
            ) from None
        return cls(engine, deployment, full, scratch)

    def close(self) -> None:
        self.db.dispose()
        if self._scratch:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # --- where it stands -----------------------------------------------------------------
    def cursor(self) -> tuple[int, str] | None:
        """The last block indexed and its hash (None: nothing indexed yet)."""
        with self.db.connect() as conn:
            row = conn.execute(select(schema.cursor.c.block, schema.cursor.c.hash)).first()
        return (int(row[0]), str(row[1])) if row else None

    @property
    def confirmations(self) -> int:
        """How many blocks behind the chain's head the index follows (as last synced)."""
        with self.db.connect() as conn:
            value = conn.execute(
                select(schema.meta.c.value).where(schema.meta.c.key == "confirmations")
            ).scalar()
        return int(value) if value is not None else 0

    def counts(self) -> dict[str, int]:
        """How many rows each table holds."""
        tables = (
            schema.events,
            *schema.JOURNEY_TABLES,
            schema.claims,
            schema.participants,
            schema.organisations,
        )
        with self.db.connect() as conn:
            return {
                t.name: int(conn.execute(select(func.count()).select_from(t)).scalar() or 0) for t in tables
            }

    # --- syncing -------------------------------------------------------------------------
    def sync(
        self,
        chain: Any,
        confirmations: int | None = None,
        batch: int = LOG_CHUNK,
        progress: Progress | None = None,
    ) -> int:
        """Folds the events of the blocks not indexed yet, up to the chain's head less
        `confirmations` (None: as the last sync), `batch` blocks per request and transaction,
        after undoing the blocks a reorganisation removed. `chain` is a Chain, a JourneyClient
        or a Web3. Returns the last block indexed; `progress(done, total)` follows a long sync."""
        if batch < 1:
            raise IndexStoreError(f"a sync batch of {batch} blocks reads nothing: give at least 1")
        if confirmations is not None and confirmations < 0:
            raise IndexStoreError(f"{confirmations} confirmations: give 0 or more blocks")
        src = ChainSource(web3_of(chain), self.deployment)
        with self.db.begin() as conn:
            if confirmations is None:
                confirmations = self.confirmations
            else:
                _put_meta(conn, "confirmations", str(confirmations))
        self.last_reorganisation = self._undo_reorganisation(src)
        target = src.head() - confirmations
        origin = self._position()
        if target <= origin:
            return origin
        while (position := self._position()) < target:
            first, last = position + 1, min(position + batch, target)
            evs, end = self._read(src, first, last, batch)
            with self.db.begin() as conn:
                # one sync writes at a time: the lock is held to the commit, and a range another
                # sync wrote meanwhile is read again from where that one stopped
                if _locked_position(conn, self.deployment) != position:
                    continue
                self._write(conn, src, evs, last, end)
            src.forget_blocks()
            if progress:
                progress(last - origin, target - origin)
        return target

    def _position(self) -> int:
        """The last block indexed (the block before the deployment's: none)."""
        found = self.cursor()
        return found[0] if found else self.deployment.block - 1

    def _read(
        self, src: ChainSource, first: int, last: int, batch: int
    ) -> tuple[list[ChainEvent], tuple[str, int]]:
        """The events of blocks [first, last], read again when the last block changed meanwhile,
        and that block's hash and time."""
        for _attempt in range(READ_ATTEMPTS):
            before = src.block(last)
            evs = src.events(first, last, batch)
            src.forget_blocks()
            after = src.block(last)
            if before and after and before[0] == after[0]:
                return evs, after  # no reorganisation while the range was read
        raise IndexStoreError(
            f"blocks {first} to {last} changed each of {READ_ATTEMPTS} times they were read: "
            "the chain is reorganising; sync again later, or with more confirmations"
        )

    def _write(
        self, conn: Connection, src: ChainSource, evs: list[ChainEvent], last: int, end: tuple[str, int]
    ) -> None:
        seen: dict[int, tuple[str, int]] = {last: end}
        setup = [e for e in evs if e.name in DIRECTORY_EVENTS + PUBLISHER_EVENTS]
        rest = [e for e in evs if e.name not in DIRECTORY_EVENTS + PUBLISHER_EVENTS]
        self._insert_events(conn, src, setup, seen)
        if any(e.name in DIRECTORY_EVENTS for e in setup):
            _rebuild_directory(conn)
        if any(e.name in PUBLISHER_EVENTS for e in setup):
            _rebuild_playbooks(conn)
            self._rules = None
        for ev in rest:
            if ev.name == "JourneyOpened":
                ev.args.update(self._first_owner(conn, src, ev))
        self._insert_events(conn, src, rest, seen)
        claims = [e for e in rest if e.name == "Claimed"]
        if claims:
            conn.execute(
                insert(schema.claims),
                [
                    {
                        "block": e.block,
                        "log_index": e.log_index,
                        "account": e.args["account"],
                        "amount": str(int(e.args["amount"])),
                        "time": seen[e.block][1],
                        "tx": e.tx,
                    }
                    for e in claims
                ],
            )
        touched = {hexstr(e.args["journeyId"]) for e in rest if "journeyId" in e.args}
        self._refold(conn, touched)
        existing: set[int] = set(
            conn.execute(
                select(schema.blocks.c.number).where(schema.blocks.c.number.in_(list(seen)))
            ).scalars()
        )
        new_blocks = [{"number": n, "hash": h, "time": t} for n, (h, t) in seen.items() if n not in existing]
        if new_blocks:
            conn.execute(insert(schema.blocks), new_blocks)
        conn.execute(delete(schema.blocks).where(schema.blocks.c.number < last - KEEP_BLOCKS))
        _put_cursor(conn, last, end[0])

    def _insert_events(
        self, conn: Connection, src: ChainSource, evs: list[ChainEvent], seen: dict[int, tuple[str, int]]
    ) -> None:
        rows = []
        for e in evs:
            if e.block not in seen:
                info = src.block(e.block)
                if info is None:
                    raise IndexStoreError(f"block {e.block} disappeared while it was indexed: sync again")
                seen[e.block] = info
            jid = e.args.get("journeyId")
            rows.append(
                {
                    "block": e.block,
                    "log_index": e.log_index,
                    "block_hash": seen[e.block][0],
                    "tx": e.tx,
                    "name": e.name,
                    "address": e.address,
                    "journey_id": hexstr(jid) if jid is not None else None,
                    "time": seen[e.block][1],
                    "args": codec.dumps(e.args),
                }
            )
        if rows:
            conn.execute(insert(schema.events), rows)

    def _first_owner(self, conn: Connection, src: ChainSource, ev: ChainEvent) -> dict[str, Any]:
        """Who owns the first step: the assignee the opening call named, else the opener's
        organisation; from the engine's view at that block when the call cannot be read."""
        assignee, known = src.first_owner(ev)
        if known and assignee:
            return {"_assignee": assignee}
        if known:
            org = conn.execute(
                select(schema.participants.c.org).where(schema.participants.c.account == ev.args["opener"])
            ).scalar()
            if org:
                return {"_org": int(org)}
        owner, org = src.owner_at(bytes(ev.args["journeyId"]), ev.block)
        return {"_assignee": owner} if owner else {"_org": org}

    def _undo_reorganisation(self, src: ChainSource) -> Reorganisation | None:
        found = self.cursor()
        if found is None:
            return None
        with self.db.connect() as conn:
            stored = conn.execute(
                select(schema.blocks.c.number, schema.blocks.c.hash)
                .where(schema.blocks.c.number <= found[0])
                .order_by(schema.blocks.c.number.desc())
            ).all()
        candidates: list[tuple[Any, ...]] = [tuple(r) for r in stored] or [(found[0], found[1])]
        if not stored and not found[1]:
            return None
        fork = self.deployment.block - 1
        for number, stored_hash in candidates:
            on_chain = src.block(int(number))
            if on_chain is not None and on_chain[0] == stored_hash:
                fork = int(number)
                break
        if fork == found[0]:
            return None
        with self.db.begin() as conn:
            self._rollback(conn, fork)
        src.forget_blocks()
        return Reorganisation(fork, found[0])

    def _rollback(self, conn: Connection, fork: int) -> None:
        """Deletes what the blocks after `fork` wrote, and folds again the journeys they touched."""
        after = schema.events.c.block > fork
        touched: set[str] = set(
            conn.execute(
                select(schema.events.c.journey_id)
                .where(after, schema.events.c.journey_id.is_not(None))
                .distinct()
            ).scalars()
        )
        setup = conn.execute(
            select(schema.events.c.name).where(
                after, schema.events.c.name.in_(DIRECTORY_EVENTS + PUBLISHER_EVENTS)
            )
        ).first()
        conn.execute(delete(schema.events).where(after))
        conn.execute(delete(schema.claims).where(schema.claims.c.block > fork))
        conn.execute(delete(schema.blocks).where(schema.blocks.c.number > fork))
        if setup is not None:
            _rebuild_directory(conn)
            _rebuild_playbooks(conn)
            self._rules = None
        self._refold(conn, touched)
        if fork < self.deployment.block:
            conn.execute(delete(schema.cursor))
        else:
            kept = conn.execute(select(schema.blocks.c.hash).where(schema.blocks.c.number == fork)).scalar()
            _put_cursor(conn, fork, kept or "")

    def _book(self, conn: Connection) -> RulesBook:
        if self._rules is None:
            calendars = {
                int(a["id"]): Calendar.from_chain((a["opens"], a["closes"], a["utcOffset"], a["holidays"]))
                for _name, a, _block in _setup_events(conn, ("CalendarPublished",))
            }
            rules: dict[int, PlaybookRules] = {}
            for row in conn.execute(select(schema.playbooks)).mappings():
                args = codec.loads(row["steps"]) | {"options": codec.loads(row["options"])}
                rules[int(row["playbook_id"])] = rules_from_event(args, calendars.get)
            self._rules = RulesBook(rules)
        return self._rules

    def _events_of(self, conn: Connection, jids: Sequence[str]) -> dict[str, list[tuple[ChainEvent, int]]]:
        grouped: dict[str, list[tuple[ChainEvent, int]]] = defaultdict(list)
        for i in range(0, len(jids), FOLD_CHUNK):
            chunk = list(jids[i : i + FOLD_CHUNK])
            rows = conn.execute(
                select(schema.events)
                .where(schema.events.c.journey_id.in_(chunk))
                .order_by(schema.events.c.block, schema.events.c.log_index)
            ).mappings()
            for r in rows:
                ev = ChainEvent(
                    r["name"],
                    codec.loads(r["args"]),
                    int(r["block"]),
                    int(r["log_index"]),
                    r["tx"],
                    r["address"],
                )
                grouped[r["journey_id"]].append((ev, int(r["time"])))
        return grouped

    def _refold(self, conn: Connection, touched: Iterable[str]) -> None:
        jids = sorted(touched)
        if not jids:
            return
        book = self._book(conn)
        grouped = self._events_of(conn, jids)
        rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for jid in jids:
            pairs = grouped.get(jid, [])
            times = {(e.block, e.log_index): t for e, t in pairs}

            def time_of(e: ChainEvent, times: dict[tuple[int, int], int] = times) -> int:
                return times[(e.block, e.log_index)]

            folded = fold_journey([e for e, _ in pairs], time_of, book)
            if folded is None:
                continue
            rows["journeys"].append(folded.journey)
            rows["steps"] += folded.steps
            rows["breaches"] += folded.breaches
            rows["payouts"] += folded.payouts
            rows["ratings"] += folded.ratings
        for i in range(0, len(jids), FOLD_CHUNK):
            chunk = jids[i : i + FOLD_CHUNK]
            for table in schema.JOURNEY_TABLES:
                conn.execute(delete(table).where(table.c.journey_id.in_(chunk)))
        for table in schema.JOURNEY_TABLES:
            if rows[table.name]:
                conn.execute(insert(table), rows[table.name])

    def write_rows(self, rows: Mapping[str, list[dict[str, Any]]]) -> None:
        """Writes rows as the fold makes them, straight into the tables (the benchmark fills an
        index of many journeys this way, without a chain that ran them)."""
        tables = {t.name: t for t in schema.metadata.tables.values()}
        with self.db.begin() as conn:
            for name, batch in rows.items():
                if batch:
                    conn.execute(insert(tables[name]), batch)

    # --- reading -------------------------------------------------------------------------
    def now(self) -> int:
        """The time of the last block indexed (0: none)."""
        found = self.cursor()
        if found is None:
            return 0
        with self.db.connect() as conn:
            t = conn.execute(select(schema.blocks.c.time).where(schema.blocks.c.number == found[0])).scalar()
        return int(t or 0)

    def journey(self, journey: str | bytes, now: int | None = None) -> dict[str, Any] | None:
        """A journey as the index holds it (None: not indexed): where it stands (the fields of
        `client.journey`), its steps, breaches, payouts and ratings."""
        jid = _jid(journey)
        now = self.now() if now is None else now
        with self.db.connect() as conn:
            row = (
                conn.execute(select(schema.journeys).where(schema.journeys.c.journey_id == jid))
                .mappings()
                .first()
            )
            if row is None:
                return None
            data = _summary(row, now)

            def rows(table: Any, order: Any) -> list[dict[str, Any]]:
                found = conn.execute(
                    select(table).where(table.c.journey_id == jid).order_by(*order)
                ).mappings()
                return [dict(r) for r in found]

            data["steps"] = rows(schema.steps, [schema.steps.c.step])
            data["breaches"] = rows(schema.breaches, [schema.breaches.c.block, schema.breaches.c.log_index])
            data["payouts"] = [
                p | {"amount": int(p["amount"]), "penalty": int(p["penalty"])}
                for p in rows(schema.payouts, [schema.payouts.c.step])
            ]
            data["ratings"] = rows(schema.ratings, [schema.ratings.c.step])
        return data

    def state(self, journey: str | bytes, now: int, reference: str | None = None) -> JourneyState | None:
        """A journey's state as `client.journey` gives it (None: not indexed)."""
        with self.db.connect() as conn:
            row = (
                conn.execute(select(schema.journeys).where(schema.journeys.c.journey_id == _jid(journey)))
                .mappings()
                .first()
            )
        return None if row is None else _state(row, now, reference)

    def states(
        self, playbook: int | None, now: int, reference: Callable[[str], str | None] = lambda _j: None
    ) -> list[tuple[int, JourneyState]]:
        """Every journey (of one playbook), oldest first, with the block it was opened in."""
        query = select(schema.journeys).order_by(schema.journeys.c.opened_block, schema.journeys.c.opened_log)
        if playbook:
            query = query.where(schema.journeys.c.playbook_id == playbook)
        with self.db.connect() as conn:
            found = conn.execute(query).mappings().all()
        return [(int(r["opened_block"]), _state(r, now, reference(r["journey_id"]))) for r in found]

    def journeys(self, filters: Any = None, **kw: Any) -> list[dict[str, Any]]:
        """The journeys that pass every filter given, oldest first, as `journey` gives them
        without steps (see JourneyFilter; the filters as an object, a mapping or keywords):
        `status` (open, disputed, value_delivered, expired, cancelled), `playbook` (a number or
        several), `overdue` (open and past the current deadline at `now`), `at_risk` (open,
        past the current step's warning threshold but not its deadline), `organisation` (its
        number or name: it, or one of its participants, owns the current step) and `assignee`
        (an address: it owns the current step); `now` defaults to the last indexed block's
        time; `limit` and `offset` page."""
        f = _filters(filters, kw)
        j = schema.journeys.c
        now = self.now() if f.now is None else int(f.now)
        query = select(schema.journeys).order_by(j.opened_block, j.opened_log)
        if f.status is not None:
            wanted = f.status.strip().lower().replace("_", " ").replace("-", " ")
            if wanted not in STATUS_NAMES:
                raise IndexStoreError(
                    f"status {f.status!r} is not a journey status (one of "
                    f"{', '.join(s.replace(' ', '_') for s in STATUS_NAMES)})"
                )
            query = query.where(j.status == wanted)
        if f.playbook is not None:
            numbers = [f.playbook] if isinstance(f.playbook, int) else list(f.playbook)
            query = query.where(j.playbook_id.in_(numbers))
        overdue = and_(j.status == "open", j.deadline != 0, j.deadline < now)
        if f.overdue is not None:
            query = query.where(overdue if f.overdue else not_(overdue))
        at_risk = and_(
            j.status == "open",
            j.waiting.is_(False),
            j.warn_at.is_not(None),
            j.warn_at <= now,
            j.deadline >= now,
        )
        if f.at_risk is not None:
            query = query.where(at_risk if f.at_risk else not_(at_risk))
        if f.assignee is not None:
            query = query.where(j.status.in_(LIVE), func.lower(j.assignee) == f.assignee.lower())
        if f.organisation is not None:
            org = self._organisation(f.organisation)
            members = select(schema.participants.c.account).where(schema.participants.c.org == org)
            query = query.where(
                j.status.in_(LIVE),
                or_(and_(j.assignee.is_(None), j.org == org), j.assignee.in_(members)),
            )
        if f.offset:
            query = query.offset(int(f.offset))
        if f.limit is not None:
            query = query.limit(int(f.limit))
        with self.db.connect() as conn:
            return [_summary(r, now) for r in conn.execute(query).mappings()]

    def _organisation(self, org: int | str) -> int:
        if isinstance(org, int) or str(org).strip().isdigit():
            return int(org)
        for entry in self.organisations():
            if entry["name"] == org:
                return int(entry["org"])
        raise IndexStoreError(f"there is no organisation named {org!r} (see `journey org list`)")

    def timeline(self, journey: str | bytes) -> Timeline | None:
        """A journey's timeline from its indexed events: the same as `journeychain.timeline`
        builds from the chain's logs (None: not indexed)."""
        jid = _jid(journey)
        with self.db.connect() as conn:
            pairs = self._events_of(conn, [jid]).get(jid, [])
            book = self._book(conn)
        if not pairs or pairs[0][0].name != "JourneyOpened":
            return None
        first, opened_at = pairs[0]
        tl = _new_timeline(bytes.fromhex(jid[2:]), first, opened_at, book)  # type: ignore[arg-type]
        state: dict[str, Any] = {}
        for ev, t in pairs:
            _fold(tl, ev, t, state)
        return tl

    def organisations(self) -> list[dict[str, Any]]:
        with self.db.connect() as conn:
            rows = conn.execute(select(schema.organisations).order_by(schema.organisations.c.org)).mappings()
            return [{"org": int(r["org"]), "name": r["name"], "kind": r["kind"]} for r in rows]

    def participants(self) -> list[dict[str, Any]]:
        with self.db.connect() as conn:
            rows = conn.execute(select(schema.participants).order_by(schema.participants.c.block)).mappings()
            return [{"account": r["account"], "org": r["org"]} for r in rows]

    def report(
        self, since: int | None = None, until: int | None = None, group_by: str = "organisation"
    ) -> list[dict[str, Any]]:
        """The SLA report over [since, until] (times in seconds; None: open-ended), one row per
        organisation, team (the step's role), participant or playbook step: see
        journeychain.index.report."""
        from journeychain.index.report import sla_report

        with self.db.connect() as conn:
            return sla_report(conn, since, until, group_by)


# --- helpers --------------------------------------------------------------------------------


def _engine(url: str) -> Engine:
    if url.startswith("sqlite:///"):
        file = Path(url.removeprefix("sqlite:///"))
        file.parent.mkdir(parents=True, exist_ok=True)
        if not file.exists():
            os.close(os.open(file, os.O_CREAT | os.O_WRONLY, 0o600))
        # the service reads from its request threads: a pooled connection serves one at a time
        engine = create_engine(url, connect_args={"check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=10000")
            cur.close()

        return engine
    if url.startswith("sqlite:"):
        raise IndexStoreError(
            f"{url} is not a SQLite file URL: give sqlite:///PATH, or sqlite:// for a scratch index"
        )
    return create_engine(url, pool_pre_ping=True)


def _shown(url: str) -> str:
    """A URL as messages show it: without its password."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        credentials, host = rest.rsplit("@", 1)
        return f"{scheme}://{credentials.split(':', 1)[0]}@{host}"
    return url


def _jid(journey: str | bytes) -> str:
    if isinstance(journey, bytes | bytearray):
        return "0x" + bytes(journey).hex()
    if journey.startswith("0x") and len(journey) == 66:
        return journey.lower()
    return "0x" + journey_id(journey).hex()


def _put_meta(conn: Connection, key: str, value: str) -> None:
    done = conn.execute(update(schema.meta).where(schema.meta.c.key == key).values(value=value))
    if not done.rowcount:
        conn.execute(insert(schema.meta).values(key=key, value=value))


def _locked_position(conn: Connection, deployment: Deployment) -> int:
    """Takes the index's write lock (a write to its deployment row: a row lock on PostgreSQL, the
    database's on SQLite), then reads the last block indexed."""
    meta = schema.meta.c
    conn.execute(update(schema.meta).where(meta.key == "deployment").values(value=meta.value))
    block = conn.execute(select(schema.cursor.c.block)).scalar()
    return int(block) if block is not None else deployment.block - 1


def _put_cursor(conn: Connection, block: int, block_hash: str) -> None:
    done = conn.execute(
        update(schema.cursor).where(schema.cursor.c.id == 1).values(block=block, hash=block_hash)
    )
    if not done.rowcount:
        conn.execute(insert(schema.cursor).values(id=1, block=block, hash=block_hash))


def _setup_events(conn: Connection, names: Sequence[str]) -> list[tuple[str, dict[str, Any], int]]:
    rows = conn.execute(
        select(schema.events.c.name, schema.events.c.args, schema.events.c.block)
        .where(schema.events.c.name.in_(list(names)))
        .order_by(schema.events.c.block, schema.events.c.log_index)
    ).all()
    return [(r[0], codec.loads(r[1]), int(r[2])) for r in rows]


def _rebuild_directory(conn: Connection) -> None:
    orgs: dict[int, dict[str, Any]] = {}
    people: dict[str, dict[str, Any]] = {}
    for name, a, block in _setup_events(conn, DIRECTORY_EVENTS):
        if name == "OrganisationRegistered":
            orgs[int(a["org"])] = {
                "org": int(a["org"]),
                "name": from_short_name(a["name"]),
                "kind": ORG_KINDS[a["kind"]] if a["kind"] < len(ORG_KINDS) else str(a["kind"]),
                "block": block,
            }
        else:
            who = people.setdefault(
                a["account"], {"account": a["account"], "participant_id": None, "org": None, "block": block}
            )
            if name == "ParticipantRegistered":
                who["participant_id"] = int(a["id"])
            else:
                who["org"] = int(a["org"])
    conn.execute(delete(schema.organisations))
    conn.execute(delete(schema.participants))
    if orgs:
        conn.execute(insert(schema.organisations), list(orgs.values()))
    if people:
        conn.execute(insert(schema.participants), list(people.values()))


def _rebuild_playbooks(conn: Connection) -> None:
    rows = {}
    for _name, a, block in _setup_events(conn, ("PlaybookPublished",)):
        rows[int(a["playbookId"])] = {
            "playbook_id": int(a["playbookId"]),
            "name": from_short_name(a["name"]),
            "version": int(a["version"]),
            "steps": codec.dumps({"steps": a["steps"]}),
            "options": codec.dumps(a["options"]),
            "block": block,
        }
    conn.execute(delete(schema.playbooks))
    if rows:
        conn.execute(insert(schema.playbooks), list(rows.values()))


def _state(row: Mapping[Any, Any], now: int, reference: str | None) -> JourneyState:
    deadline = int(row["deadline"])
    warn_at = int(row["warn_at"]) if row["warn_at"] is not None else None
    at_risk = (
        row["status"] == "open" and not row["waiting"] and warn_at is not None and warn_at <= now <= deadline
    )
    return JourneyState(
        journey_id=row["journey_id"],
        reference=reference,
        playbook_id=int(row["playbook_id"]),
        step=int(row["step"]),
        step_name=row["step_name"],
        status=row["status"],
        assignee=row["assignee"],
        org=int(row["org"]) if row["org"] else None,
        deadline=deadline,
        breached_steps=[int(s) for s in row["breached_steps"].split(",") if s],
        flagged=bool(row["flagged"]),
        pool=int(row["pool"]),
        funder=row["funder"],
        customer=row["customer"],
        head=row["head"],
        at_risk=bool(at_risk),
        warn_at=warn_at or None,
    )


def _summary(row: Mapping[Any, Any], now: int) -> dict[str, Any]:
    """A journey row for programs, as the service shows one: its state's fields (the status as
    the list names it, value_delivered; a closed journey's step owned by nobody and not at
    risk), whether it is overdue at `now`, when and by whom it was opened, and its settlement."""
    state = _state(row, now, None).as_dict()
    state.pop("reference")
    status = state["status"].replace(" ", "_")
    live = status in ("open", "disputed")
    if not live:
        state["assignee"], state["org"], state["at_risk"] = None, None, False
    return state | {
        "status": status,
        "overdue": bool(live and row["deadline"] and now > int(row["deadline"])),
        "opener": row["opener"],
        "opened_block": int(row["opened_block"]),
        "opened_at": int(row["opened_at"]),
        "funded": int(row["funded"]),
        "forfeited": int(row["forfeited"]),
        "remainder": int(row["remainder"]),
        "refund": int(row["refund"]),
    }
