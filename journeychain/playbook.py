"""Playbooks authored in YAML: load, validate with clear errors, and encode for the chain."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml
from eth_utils import keccak

from journeychain.calendar import Calendar
from journeychain.encoding import short_name
from journeychain.errors import ConfigError, EvidenceError, PlaybookError
from journeychain.toolchain import project_file

#: The roles every deployment defines (the directory's defaults, in bit order after ADMIN).
DEFAULT_ROLES = ("MARKETING", "SALES", "SUCCESS", "VENDOR", "VERIFIER", "FUNDER", "ARBITER")
#: The role of the customer's step: never granted, the customer completes it by signature.
CUSTOMER = "CUSTOMER"
PENALTY_TO = ("funder", "customer")
#: whom a step's clock is owed to, in the contract's order: the customer (SLA), another
#: internal team (OLA), or the company by an outside vendor (UC, an underpinning contract)
SLA_TYPES = ("SLA", "OLA", "UC")
SLA_KINDS = {
    "SLA": "owed to the customer",
    "OLA": "between internal teams",
    "UC": "a vendor's underpinning contract",
}
#: What a schema's attestations are about, in the contracts' order (the `Subject` enum).
SUBJECTS = ("customer", "journey", "step")
DISPUTE_FALLBACKS = ("reject", "refund")
_ROLE_NAME = re.compile(r"^[A-Z][A-Z0-9_]{0,31}$")


def role_id(role: str) -> bytes:
    """A role's id: keccak256 of its name, as OpenZeppelin's role ids (ADMIN: zero, the default
    admin role)."""
    name = role.upper()
    if not _ROLE_NAME.match(name):
        raise ConfigError(f"{role!r} is not a role name (letters, digits and _, up to 32)")
    return b"\x00" * 32 if name == "ADMIN" else keccak(text=name)


#: the checkout's playbooks/default.yaml, or the copy an installed wheel carries
DEFAULT_PLAYBOOK = project_file("playbooks", "default.yaml")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw]?)\s*$")
_MAX_STEPS = 15
MAX_CALENDARS = 255  # a step names its calendar in 8 bits
_BPS = 10_000


def parse_duration(value: Any, where: str) -> int:
    """Seconds from 90, "45s", "90m", "24h", "30d" or "2w"."""
    if isinstance(value, bool):
        raise PlaybookError(f"{where}: {value!r} is not a duration (use e.g. 24h, 30d)")
    if isinstance(value, int):
        seconds = value
    else:
        match = _DURATION.match(str(value))
        if not match:
            raise PlaybookError(f"{where}: {value!r} is not a duration (use e.g. 90m, 24h, 30d)")
        seconds = int(match.group(1)) * _UNITS[match.group(2) or "s"]
    if not 0 <= seconds < 2**32:
        raise PlaybookError(f"{where}: {value!r} is out of range")
    return seconds


@dataclass(frozen=True)
class Schema:
    """An attestation schema: its short name (at most 30 bytes), the role its verifiers hold
    and what its attestations are about (one of SUBJECTS)."""

    name: str
    role: str = "VERIFIER"
    subject: str = "customer"

    def as_tuple(self) -> tuple:
        """Arguments of AttestationRegistry.registerSchema."""
        return (schema_name(self.name), role_id(self.role), SUBJECTS.index(self.subject))


def schema_name(name: str) -> bytes:
    """A schema's id: its short name, at most 30 bytes (the engine keeps its rule in the last two)."""
    raw = short_name(name)
    if raw[30:] != b"\0\0":
        raise ConfigError(f"schema name {name!r} must be at most 30 bytes long")
    return raw


@dataclass(frozen=True)
class Step:
    name: str
    role: str
    sla: int = 0
    share_bps: int = 0
    penalty_bps: int = 0
    fields: tuple[str, ...] = ()
    # whom the clock is owed to (one of SLA_TYPES), and the share of the SLA in basis points
    # after which the step is at risk of breaching (0: it never warns)
    sla_type: str = "SLA"
    warn_bps: int = 0
    attestations: tuple[str, ...] = ()
    # fields the step takes besides the required ones; off chain only (the engine ignores
    # extra fields), so a playbook rebuilt from the chain takes them from its YAML file
    optional_fields: tuple[str, ...] = ()
    # the calendar whose working time the SLA counts: 0 wall-clock time, a number a calendar
    # published on chain, a name one the playbook declares under calendars:
    calendar: int | str = 0

    def calendar_id(self, ids: Mapping[str, int] | None = None) -> int:
        """The number of the step's calendar on chain (0: wall-clock time); a calendar the
        playbook declares is looked up in `ids` (its name -> its number once published)."""
        if isinstance(self.calendar, int):
            return self.calendar
        if ids is None or self.calendar not in ids:
            raise PlaybookError(
                f"step {self.name!r} counts by calendar {self.calendar!r}, which is not published yet "
                "(journey playbook publish publishes the calendars a playbook declares)"
            )
        return ids[self.calendar]

    def as_tuple(self, calendar_ids: Mapping[str, int] | None = None) -> tuple:
        return (
            short_name(self.name),
            role_id(self.role),
            self.sla,
            self.share_bps,
            self.penalty_bps,
            SLA_TYPES.index(self.sla_type),
            self.warn_bps,
            [short_name(f) for f in self.fields],
            [schema_name(a) for a in self.attestations],
            self.calendar_id(calendar_ids),
        )


@dataclass(frozen=True)
class Playbook:
    name: str
    version: int
    steps: tuple[Step, ...]
    commit_step: int
    fund_before_commit: bool = True
    penalty_to: str = "funder"
    confirm_window: int = 0
    verifier_may_confirm: bool = False
    dispute_window: int = 14 * 86400
    dispute_fallback: str = "reject"
    roles: tuple[str, ...] = ()
    schemas: tuple[Schema, ...] = ()
    # working-time calendars the playbook declares, by name (published with it)
    calendars: tuple[tuple[str, Calendar], ...] = ()
    source: str = field(default="", compare=False)

    def options_tuple(self) -> tuple:
        return (
            self.commit_step,
            self.fund_before_commit,
            PENALTY_TO.index(self.penalty_to),
            self.confirm_window,
            self.verifier_may_confirm,
            self.dispute_window,
            self.dispute_fallback == "refund",
        )

    def publish_args(self, calendar_ids: Mapping[str, int] | None = None) -> tuple:
        """Arguments of PlaybookPublisher.publishPlaybook; `calendar_ids` numbers the
        calendars the playbook declares (name -> number on chain)."""
        return (
            short_name(self.name),
            self.version,
            [s.as_tuple(calendar_ids) for s in self.steps],
            self.options_tuple(),
        )

    def step_index(self, name: str) -> int:
        for i, step in enumerate(self.steps):
            if step.name == name:
                return i
        raise PlaybookError(f"playbook {self.name!r} has no step named {name!r}")


def _names(raw: Any, where: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(x, str) and x for x in raw):
        raise PlaybookError(f"{where} must be a list of names")
    for name in raw:
        short_name(name)
    if len(set(raw)) != len(raw):
        raise PlaybookError(f"{where} names a field twice")
    return tuple(raw)


def _roles(raw: Any, where: str) -> tuple[str, ...]:
    """The roles a playbook names beyond the defaults (upper-case names, defined on publishing)."""
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
        raise PlaybookError(f"{where} must be a list of role names")
    names = tuple(x.upper() for x in raw)
    for name in names:
        if not _ROLE_NAME.match(name) or name in ("ADMIN", CUSTOMER):
            raise PlaybookError(
                f"{where}: {name!r} is not a role name "
                "(letters, digits and _, up to 32, not ADMIN or CUSTOMER)"
            )
    if len(set(names)) != len(names):
        raise PlaybookError(f"{where} names a role twice")
    return tuple(n for n in names if n not in DEFAULT_ROLES)


def _schemas(raw: Any, where: str, roles: set[str]) -> tuple[Schema, ...]:
    """The attestation schemas a playbook's steps require: name -> {role, subject}."""
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        raise PlaybookError(f"{where} must map each schema name to its role and subject")
    schemas = []
    for name, spec in raw.items():
        at = f"{where}: {name}"
        if not isinstance(name, str) or not name:
            raise PlaybookError(f"{where}: a schema name must be text")
        try:
            schema_name(name)
        except ConfigError as exc:
            raise PlaybookError(f"{at}: {exc}") from exc
        spec = spec or {}
        if not isinstance(spec, dict) or set(spec) - {"role", "subject"}:
            raise PlaybookError(f"{at} must be a mapping with role and subject")
        role = str(spec.get("role", "VERIFIER")).upper()
        if role not in roles or role == "ADMIN":
            raise PlaybookError(f"{at}: unknown verifier role {spec.get('role')!r} (declare it under roles:)")
        subject = str(spec.get("subject", "customer")).lower()
        if subject not in SUBJECTS:
            raise PlaybookError(f"{at}: subject must be one of {', '.join(SUBJECTS)}")
        schemas.append(Schema(name, role, subject))
    return tuple(schemas)


def _calendars(raw: Any, where: str) -> tuple[tuple[str, Calendar], ...]:
    """The calendars a playbook declares: name -> {hours: {mon: "09:00-17:00", ...},
    utc_offset: "+01:00", holidays: [ISO dates]}."""
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        raise PlaybookError(f"{where} must map each calendar's name to its hours, utc_offset and holidays")
    out = []
    for name, spec in raw.items():
        if not isinstance(spec, dict) or not isinstance(spec.get("hours"), dict):
            raise PlaybookError(f"{where}: calendar {name!r} needs hours (e.g. mon: 09:00-17:00)")
        extra = set(spec) - {"hours", "utc_offset", "holidays"}
        if extra:
            raise PlaybookError(f"{where}: calendar {name!r}: unknown key(s) {', '.join(sorted(extra))}")
        holidays = spec.get("holidays") or []
        if not isinstance(holidays, list):
            raise PlaybookError(f"{where}: calendar {name!r}: holidays is a list of ISO dates")
        try:
            calendar = Calendar.from_spec(
                {str(k).lower(): str(v) for k, v in spec["hours"].items()},
                str(spec.get("utc_offset", "+00:00")),
                [str(d) for d in holidays],
            )
        except ConfigError as exc:
            raise PlaybookError(f"{where}: calendar {name!r}: {exc}") from None
        out.append((str(name), calendar))
    return tuple(out)


def _step_calendar(raw: Any, where: str, declared: Mapping[str, Calendar]) -> int | str:
    """A step's calendar: none (wall-clock time), a published calendar's number, or the name
    of one the playbook declares."""
    if raw is None or raw == 0:
        return 0
    if isinstance(raw, bool):
        raise PlaybookError(f"{where}: calendar is a calendar's number or a name declared under calendars:")
    if isinstance(raw, int):
        if not 0 < raw <= MAX_CALENDARS:
            raise PlaybookError(f"{where}: calendar {raw} is not a calendar's number (1 to {MAX_CALENDARS})")
        return raw
    if str(raw) not in declared:
        known = ", ".join(sorted(declared)) or "none"
        raise PlaybookError(f"{where}: calendar {raw!r} is not declared under calendars: (declared: {known})")
    return str(raw)


def _bps(raw: Any, where: str) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= _BPS:
        raise PlaybookError(f"{where} must be a whole number of basis points from 0 to 10000")
    return raw


def _warning(raw: Any, where: str) -> int:
    """A warning threshold as basis points: "80%" (or 80, a percentage) of the SLA; none: 0."""
    if raw is None:
        return 0
    text = str(raw).strip()
    number = text[:-1].strip() if text.endswith("%") else text
    try:
        percent = float(number)
    except ValueError:
        percent = -1.0
    if isinstance(raw, bool) or not 0 < percent < 100 or percent != percent:
        raise PlaybookError(f"{where} must be a share of the SLA above 0% and below 100%, such as 80%")
    return round(percent * 100)


def parse_playbook(data: Any, source: str = "<playbook>") -> Playbook:
    """Validate a playbook document and return it; every refusal names the place."""
    if not isinstance(data, dict):
        raise PlaybookError(f"{source}: a playbook is a mapping with name, version, options and steps")
    unknown = set(data) - {"name", "version", "options", "steps", "roles", "schemas", "calendars"}
    if unknown:
        raise PlaybookError(f"{source}: unknown key(s) {', '.join(sorted(unknown))}")
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise PlaybookError(f"{source}: name is missing")
    short_name(name)
    version = data.get("version", 1)
    if isinstance(version, bool) or not isinstance(version, int) or not 0 < version < 2**32:
        raise PlaybookError(f"{source}: version must be a positive whole number")
    declared = _roles(data.get("roles"), f"{source}: roles")
    known = set(DEFAULT_ROLES) | set(declared)
    schemas = _schemas(data.get("schemas"), f"{source}: schemas", known)
    calendars = _calendars(data.get("calendars"), f"{source}: calendars")
    raw_steps = data.get("steps")
    if not isinstance(raw_steps, list) or not 2 <= len(raw_steps) <= _MAX_STEPS:
        raise PlaybookError(f"{source}: steps must be a list of 2 to {_MAX_STEPS} steps")
    steps: list[Step] = []
    for i, raw in enumerate(raw_steps):
        where = f"{source}: step {i + 1}"
        if not isinstance(raw, dict):
            raise PlaybookError(f"{where} must be a mapping")
        extra = set(raw) - {
            "name",
            "role",
            "sla",
            "share_bps",
            "penalty_bps",
            "fields",
            "optional_fields",
            "attestations",
            "sla_type",
            "warn_at",
            "calendar",
        }
        if extra:
            raise PlaybookError(f"{where}: unknown key(s) {', '.join(sorted(extra))}")
        step_name = raw.get("name")
        if not isinstance(step_name, str) or not step_name:
            raise PlaybookError(f"{where}: name is missing")
        where = f"{source}: step {step_name!r}"
        role = str(raw.get("role", "")).upper()
        if role in ("", "NONE"):
            raise PlaybookError(f"{where}: role is missing")
        if role == "ADMIN":
            raise PlaybookError(f"{where}: ADMIN never owns a step")
        if role not in known and role != CUSTOMER:
            raise PlaybookError(
                f"{where}: unknown role {raw.get('role')!r} (one of {', '.join(sorted(known))}, "
                "or declare it under roles:)"
            )
        last = i == len(raw_steps) - 1
        if (role == CUSTOMER) != last:
            raise PlaybookError(f"{where}: the last step, and only it, is the CUSTOMER's")
        required = _names(raw.get("fields"), f"{where}: fields")
        optional = _names(raw.get("optional_fields"), f"{where}: optional_fields")
        both = [name for name in optional if name in required]
        if both:
            raise PlaybookError(f"{where}: field {both[0]} is both required and optional")
        sla = parse_duration(raw.get("sla", 0), f"{where}: sla")
        sla_type = str(raw.get("sla_type", "SLA")).upper()
        if sla_type not in SLA_TYPES:
            raise PlaybookError(
                f"{where}: sla_type {raw.get('sla_type')!r} is not one of {', '.join(SLA_TYPES)} "
                "(owed to the customer, between internal teams, a vendor's underpinning contract)"
            )
        warn_bps = _warning(raw.get("warn_at"), f"{where}: warn_at")
        if warn_bps and not sla:
            raise PlaybookError(f"{where}: warn_at needs an sla to warn of")
        calendar = _step_calendar(raw.get("calendar"), where, dict(calendars))
        if calendar and last:
            raise PlaybookError(f"{where}: the customer's step counts wall-clock time: it names no calendar")
        steps.append(
            Step(
                name=step_name,
                role=role,
                sla=sla,
                sla_type=sla_type,
                warn_bps=warn_bps,
                share_bps=_bps(raw.get("share_bps", 0), f"{where}: share_bps"),
                penalty_bps=_bps(raw.get("penalty_bps", 0), f"{where}: penalty_bps"),
                fields=required,
                attestations=_names(raw.get("attestations"), f"{where}: attestations"),
                optional_fields=optional,
                calendar=calendar,
            )
        )
    if len({s.name for s in steps}) != len(steps):
        raise PlaybookError(f"{source}: two steps share a name")
    declared_schemas = {s.name for s in schemas}
    for step in steps:
        for needed in step.attestations:
            if needed not in declared_schemas:
                raise PlaybookError(
                    f"{source}: step {step.name!r} requires attestation {needed!r}: declare it under "
                    "schemas: "
                    "with the role its verifiers hold and its subject (customer, journey or step)"
                )
    total = sum(s.share_bps for s in steps)
    if total > _BPS:
        raise PlaybookError(f"{source}: shares add up to {total} basis points, above 10000")
    options = data.get("options") or {}
    if not isinstance(options, dict):
        raise PlaybookError(f"{source}: options must be a mapping")
    extra = set(options) - {
        "commit_step",
        "fund_before_commit",
        "penalty_to",
        "confirm_window",
        "verifier_may_confirm",
        "dispute_window",
        "dispute_fallback",
    }
    if extra:
        raise PlaybookError(f"{source}: unknown option(s) {', '.join(sorted(extra))}")
    commit_name = options.get("commit_step", steps[0].name)
    commit_step = next((i for i, s in enumerate(steps) if s.name == commit_name), None)
    if commit_step is None or commit_step == len(steps) - 1:
        raise PlaybookError(f"{source}: commit_step {commit_name!r} must name a participant step")
    penalty_to = str(options.get("penalty_to", "funder")).lower()
    if penalty_to not in PENALTY_TO:
        raise PlaybookError(f"{source}: penalty_to must be funder or customer")
    for i, step in enumerate(steps):
        if i >= commit_step and step.sla == 0:
            raise PlaybookError(
                f"{source}: step {step.name!r} needs an sla: every step from the commit step on, and the "
                "customer's, has one (otherwise its pool could be locked for good)"
            )
    window = parse_duration(options.get("confirm_window", 0), f"{source}: confirm_window")
    if window and window >= steps[-1].sla:
        raise PlaybookError(f"{source}: confirm_window must be shorter than the customer's sla")
    dispute_window = parse_duration(options.get("dispute_window", "14d"), f"{source}: dispute_window")
    if dispute_window == 0:
        raise PlaybookError(f"{source}: dispute_window must not be 0: every dispute has an end")
    fallback = str(options.get("dispute_fallback", "reject")).lower()
    if fallback not in DISPUTE_FALLBACKS:
        raise PlaybookError(f"{source}: dispute_fallback must be reject or refund")
    return Playbook(
        name=name,
        version=version,
        steps=tuple(steps),
        commit_step=commit_step,
        fund_before_commit=bool(options.get("fund_before_commit", True)),
        penalty_to=penalty_to,
        confirm_window=window,
        verifier_may_confirm=bool(options.get("verifier_may_confirm", False)),
        dispute_window=dispute_window,
        dispute_fallback=fallback,
        roles=declared,
        schemas=schemas,
        calendars=calendars,
        source=source,
    )


def find_playbook(path: str | Path) -> Path:
    """`path` if it exists; else the file of that name (with .yaml added to a bare name) in the
    playbook folders: `playbooks/default.yaml` or `default` finds the default playbook that an
    installed wheel carries, from any folder."""
    path = Path(path).expanduser()
    if path.exists():
        return path
    names = [path.name] if path.suffix else [f"{path.name}.yaml", f"{path.name}.yml"]
    for folder in playbook_dirs():
        for name in names:
            if (folder / name).is_file():
                return folder / name
    return path


def load_playbook(path: str | Path = DEFAULT_PLAYBOOK) -> Playbook:
    """Read and validate a playbook YAML file (found as `find_playbook` says)."""
    path = find_playbook(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PlaybookError(f"cannot read playbook {path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise PlaybookError(f"{path} is not a playbook: byte {exc.start} is not UTF-8 text") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PlaybookError(_yaml_error(path, exc)) from None
    return parse_playbook(data, str(path))


def _yaml_error(path: Path, exc: yaml.YAMLError) -> str:
    """One sentence for a YAML parser's error: the file, the line and column, the problem."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or getattr(exc, "context", None) or type(exc).__name__
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    return f"{path} is not valid YAML{where}: {' '.join(str(problem).split())}"


def playbook_dirs() -> list[Path]:
    """Where playbook files are looked for: `$JOURNEY_PLAYBOOKS` (folders separated by the
    path separator), else the project's playbooks/ folder (the copy a wheel carries)."""
    configured = os.environ.get("JOURNEY_PLAYBOOKS")
    if configured:
        return [Path(p).expanduser() for p in configured.split(os.pathsep) if p]
    return [DEFAULT_PLAYBOOK.parent]


def with_optional_fields(published: Playbook, folders: Sequence[Path] | None = None) -> Playbook:
    """A playbook rebuilt from the chain, with the optional fields that its YAML file declares:
    the first file in the playbook folders that publishes exactly the same playbook (same name,
    version, steps and options). Without such a file the steps declare none."""
    wanted = _by_shape(published.publish_args())
    for folder in playbook_dirs() if folders is None else folders:
        for path in sorted(folder.glob("*.y*ml")):
            try:
                local = load_playbook(path)
            except PlaybookError:
                continue
            if _by_shape(local.publish_args({name: 0 for name, _ in local.calendars})) == wanted:
                steps = tuple(
                    replace(s, optional_fields=f.optional_fields)
                    for s, f in zip(published.steps, local.steps, strict=True)
                )
                return replace(published, steps=steps)
    return published


def _by_shape(args: tuple) -> tuple:
    """Publish arguments without the steps' calendar numbers (a calendar a YAML file declares
    by name gets its number only when published)."""
    name, version, steps, options = args
    return (name, version, [tuple(s[:-1]) for s in steps], options)


def _listing(names: Sequence[str]) -> str:
    return ", ".join(names) if names else "none"


def check_evidence(
    step: Step, fields: Mapping[str, str] | Iterable[tuple[str, str]], where: str
) -> dict[str, str]:
    """A step's fields as name -> value, once they are clean; refused (EvidenceError) when a
    key is given twice, a required field is empty (or blank), or a key is neither required
    by the step nor declared optional. `where` names the step ("step 2 (deal_booked) of
    journey OPP-1")."""
    pairs = list(fields.items()) if isinstance(fields, Mapping) else [(k, v) for k, v in fields]
    clean: dict[str, str] = {}
    seen: set[bytes] = set()
    for name, raw in pairs:
        key = short_name(name)
        if key in seen:
            raise EvidenceError(f"field {name} is given twice for {where}")
        seen.add(key)
        value = str(raw)
        if name in step.fields:
            if not value.strip():
                raise EvidenceError(f"field {name} of {where} is required and cannot be empty")
        elif name not in step.optional_fields:
            raise EvidenceError(
                f"{where} takes no field {name} (it requires {_listing(step.fields)} and declares "
                f"{_listing(step.optional_fields)} optional)"
            )
        clean[name] = value
    return clean


def check_evidence_keys(step: Step, keys: Iterable[bytes], where: str) -> None:
    """The same checks for fields committed elsewhere, by key: no key twice, none unknown."""
    known = {short_name(n) for n in (*step.fields, *step.optional_fields)}
    seen: set[bytes] = set()
    for key in (bytes(k) for k in keys):
        name = key.rstrip(b"\0").decode("utf-8", "replace")
        if key in seen:
            raise EvidenceError(f"field {name} is given twice for {where}")
        seen.add(key)
        if key not in known:
            raise EvidenceError(
                f"{where} takes no field {name} (it requires {_listing(step.fields)} and declares "
                f"{_listing(step.optional_fields)} optional)"
            )
