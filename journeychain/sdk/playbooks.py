"""The client's playbooks part: playbooks, the working-time calendars their steps count by,
and attestation schemas."""

from __future__ import annotations

from web3.logs import DISCARD

from journeychain.calendar import Calendar
from journeychain.encoding import ZERO32, from_short_name
from journeychain.errors import ConfigError, PlaybookError
from journeychain.playbook import (
    CUSTOMER,
    DEFAULT_ROLES,
    DISPUTE_FALLBACKS,
    PENALTY_TO,
    SLA_TYPES,
    SUBJECTS,
    Playbook,
    Schema,
    Step,
    role_id,
    schema_name,
    with_optional_fields,
)
from journeychain.sdk.core import Part
from journeychain.sdk.types import PublishedPlaybook, _field
from journeychain.tx import Receipt


class Playbooks(Part):
    """Playbooks and the attestation schemas their steps require: publish, read back.

    `client.playbooks.publish_playbook(...)`; the engine's playbooks and the registry's schemas.
    """

    def publish_playbook(self, playbook: Playbook) -> tuple[int, Receipt]:
        """Publishes a playbook (ADMIN), defining first the roles it declares that are not
        defined yet; returns its number and the receipt."""
        for name in playbook.roles:
            if not self._directory.functions.isRole(role_id(name)).call():
                self._core.participants.define_role(name)
        for schema in playbook.schemas:
            self._ensure_schema(schema)
        ids = {name: self.ensure_calendar(calendar) for name, calendar in playbook.calendars}
        receipt = self._send(self._publisher.functions.publishPlaybook(*playbook.publish_args(ids)))
        playbook_id = int(receipt.events["PlaybookPublished"][0]["playbookId"])
        self._playbooks[playbook_id] = PublishedPlaybook(playbook_id, playbook, receipt.block)
        return playbook_id, receipt

    def playbook_count(self) -> int:
        return int(self._engine.functions.playbookCount().call())

    def playbook(self, playbook_id: int) -> PublishedPlaybook:
        """A published playbook, rebuilt from its PlaybookPublished event."""
        if playbook_id in self._playbooks:
            return self._playbooks[playbook_id]
        self._call(self._engine.functions.playbook(playbook_id))  # UnknownPlaybook if it is not there
        logs = self._logs(self._publisher.events.PlaybookPublished, {"playbookId": playbook_id})
        if not logs:
            raise ConfigError(f"playbook {playbook_id} exists but its PlaybookPublished event was not found")
        log = logs[0]
        args = log["args"]
        steps = tuple(
            Step(
                name=from_short_name(_field(s, "name", 0)),
                role=self._core.participants.role_names().get(
                    bytes(_field(s, "role", 1)), "0x" + bytes(_field(s, "role", 1)).hex()
                ),
                sla=int(_field(s, "sla", 2)),
                share_bps=int(_field(s, "shareBps", 3)),
                penalty_bps=int(_field(s, "penaltyBps", 4)),
                sla_type=SLA_TYPES[int(_field(s, "slaType", 5))],
                warn_bps=int(_field(s, "warnBps", 6)),
                fields=tuple(from_short_name(f) for f in _field(s, "fields", 7)),
                attestations=tuple(from_short_name(a) for a in _field(s, "attestations", 8)),
                calendar=int(_field(s, "calendar", 9)),
            )
            for s in args["steps"]
        )
        opts = args["options"]
        playbook = Playbook(
            name=from_short_name(args["name"]),
            version=int(args["version"]),
            steps=steps,
            commit_step=int(_field(opts, "commitStep", 0)),
            fund_before_commit=bool(_field(opts, "fundBeforeCommit", 1)),
            penalty_to=PENALTY_TO[_field(opts, "penaltyTo", 2)],
            confirm_window=int(_field(opts, "confirmWindow", 3)),
            verifier_may_confirm=bool(_field(opts, "verifierMayConfirm", 4)),
            dispute_window=int(_field(opts, "disputeWindow", 5)),
            dispute_fallback=DISPUTE_FALLBACKS[int(bool(_field(opts, "refundOnTimeout", 6)))],
            roles=tuple(
                r
                for r in (
                    self._core.participants.role_names().get(bytes(_field(s, "role", 1)))
                    for s in args["steps"]
                )
                if r and r not in DEFAULT_ROLES and r != CUSTOMER
            ),
            schemas=tuple(
                self.schema(name) for name in dict.fromkeys(a for st in steps for a in st.attestations)
            ),
            source=f"playbook {playbook_id}",
        )
        playbook = with_optional_fields(playbook)  # off chain: from the playbook's own YAML file
        published = PublishedPlaybook(playbook_id, playbook, int(log["blockNumber"]))
        self._playbooks[playbook_id] = published
        return published

    def publish_calendar(self, calendar: Calendar) -> tuple[int, Receipt]:
        """Publishes a working-time calendar (ADMIN); returns its number and the receipt. It
        never changes afterwards."""
        receipt = self._send(self._calendars.functions.publish(calendar.as_tuple()))
        # the calendars' own event (the client decodes the engine's contracts' events)
        logs = self._calendars.events.CalendarPublished().process_receipt(receipt.raw, errors=DISCARD)
        number = int(logs[0]["args"]["id"])
        receipt.events["CalendarPublished"] = [dict(log["args"]) for log in logs]
        self._core._calendar_cache[number] = calendar
        return number, receipt

    def calendar(self, number: int) -> Calendar:
        """A published calendar (read once: calendars never change)."""
        cache = self._core._calendar_cache
        if number not in cache:
            cache[number] = Calendar.from_chain(self._call(self._calendars.functions.calendar(number)))
        return cache[number]

    def step_calendar(self, playbook_id: int, step: int) -> Calendar | None:
        """The calendar a playbook's step counts its SLA by (None: wall-clock time)."""
        steps = self.playbook(playbook_id).playbook.steps
        number = steps[step].calendar if step < len(steps) else 0
        return self.calendar(int(number)) if number else None

    def calendars(self) -> list[tuple[int, Calendar]]:
        """Every published calendar, with its number."""
        count = int(self._calendars.functions.calendarCount().call())
        return [(n, self.calendar(n)) for n in range(1, count + 1)]

    def ensure_calendar(self, calendar: Calendar) -> int:
        """The number of a published calendar identical to `calendar`, publishing it if none is."""
        for number, known in self.calendars():
            if known == calendar:
                return number
        return self.publish_calendar(calendar)[0]

    def register_schema(self, name: str, role: str = "VERIFIER", subject: str = "customer") -> Receipt:
        """Registers an attestation schema (ADMIN): the role its verifiers hold and what its
        attestations are about (customer, journey or step). It never changes afterwards."""
        if subject not in SUBJECTS:
            raise ConfigError(f"a schema's subject is one of {', '.join(SUBJECTS)}, not {subject!r}")
        spec = Schema(name, role.upper(), subject)
        return self._send(self._registry.functions.registerSchema(*spec.as_tuple()))

    def schema(self, name: str) -> Schema:
        """A registered schema; ConfigError when it is not registered."""
        role, subject = self._registry.functions.schemaOf(schema_name(name)).call()
        if bytes(role) == ZERO32:
            raise ConfigError(f"schema {name!r} is not registered (journey schema add {name} --role ROLE)")
        return Schema(name, self._core.participants._role_name(bytes(role)), SUBJECTS[int(subject)])

    def schemas(self) -> list[Schema]:
        """Every registered schema, in the order registered."""
        return [
            Schema(
                from_short_name(e["args"]["schema"]),
                self._core.participants._role_name(bytes(e["args"]["role"])),
                SUBJECTS[int(e["args"]["subject"])],
            )
            for e in self._logs(self._registry.events.SchemaRegistered, None)
        ]

    def _ensure_schema(self, schema: Schema) -> None:
        """Registers a playbook's schema unless it is; refuses one registered with another rule."""
        try:
            known = self.schema(schema.name)
        except ConfigError:
            self.register_schema(schema.name, schema.role, schema.subject)
            return
        if (known.role, known.subject) != (schema.role, schema.subject):
            raise PlaybookError(
                f"schema {schema.name!r} is registered for {known.role} verifiers about the "
                f"{known.subject}; the playbook declares {schema.role} about the {schema.subject} "
                "(schemas never change: name a new one)"
            )
