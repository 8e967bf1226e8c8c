"""The client's participants part: organisations, participants, roles and the rulebook."""

from __future__ import annotations

from typing import Any

from eth_account.signers.local import LocalAccount

from journeychain.accounts import checksum
from journeychain.encoding import from_short_name, short_name
from journeychain.errors import ConfigError
from journeychain.playbook import CUSTOMER, role_id
from journeychain.sdk.core import Part
from journeychain.sdk.types import ORG_KINDS, _hex
from journeychain.signing import sign_typed
from journeychain.tx import Receipt


class Participants(Part):
    """Organisations, participants, roles and the rulebook: who may act, for which organisation.

    `client.participants.grant_role(...)`; the directory contract, and the engine's breach counts.
    """

    def register_organisation(self, name: str, vendor: bool = False) -> tuple[int, Receipt]:
        """Registers an organisation (ADMIN): a company unit, or an outside vendor firm; returns its
        number."""
        receipt = self._send(
            self._directory.functions.registerOrganisation(short_name(name), 1 if vendor else 0)
        )
        return int(receipt.events["OrganisationRegistered"][0]["org"]), receipt

    def organisations(self) -> list[dict[str, Any]]:
        """Every organisation, by number: its name and kind."""
        count = int(self._directory.functions.organisationCount().call())
        out = []
        for org in range(1, count + 1):
            name, kind = self._directory.functions.organisation(org).call()
            out.append({"org": org, "name": from_short_name(name), "kind": ORG_KINDS[kind]})
        return out

    def organisation(self, org: int) -> dict[str, Any]:
        name, kind = self._directory.functions.organisation(int(org)).call()
        if int.from_bytes(bytes(name), "big") == 0:
            raise ConfigError(f"there is no organisation {org} (see `journey org list`)")
        return {"org": int(org), "name": from_short_name(name), "kind": ORG_KINDS[kind]}

    def organisation_id(self, org: int | str) -> int:
        """An organisation's number from its number or its name."""
        if isinstance(org, int) or (isinstance(org, str) and org.isdigit()):
            return self.organisation(int(org))["org"]
        for entry in self.organisations():
            if entry["name"] == org:
                return int(entry["org"])
        raise ConfigError(f"there is no organisation named {org!r} (see `journey org list`)")

    def members(self) -> list[dict[str, Any]]:
        """Every participant, in the order they joined: its address and organisation (from the
        directory's MemberAdded events)."""
        logs = self._logs(self._directory.events.MemberAdded, None)
        return [{"address": e["args"]["account"], "org": int(e["args"]["org"])} for e in logs]

    def add_member(self, org: int | str, account: str) -> Receipt:
        """Makes `account` a participant of organisation `org` (ADMIN), for good."""
        return self._send(self._directory.functions.addMember(self.organisation_id(org), checksum(account)))

    def define_role(self, name: str) -> Receipt:
        """Defines a role a playbook may name (ADMIN); its id is keccak256 of the name."""
        receipt = self._send(self._directory.functions.defineRole(short_name(name.upper())))
        self._core._role_names.clear()
        return receipt

    def role_names(self) -> dict[bytes, str]:
        """Every defined role's id and name (from RoleDefined events)."""
        if not self._core._role_names:
            logs = self._logs(self._directory.events.RoleDefined, None)
            self._core._role_names = {
                bytes(e["args"]["role"]): from_short_name(e["args"]["name"]) for e in logs
            }
            self._core._role_names[role_id(CUSTOMER)] = CUSTOMER
        return self._core._role_names

    def _role_name(self, role: bytes) -> str:
        return self.role_names().get(role) or "0x" + role.hex()

    def grant_role(self, account: str, role: str, org: int | str | None = None) -> Receipt:
        """Grants `role` to `account` (ADMIN), first making it a participant of `org` when given.
        It must then accept the rulebook."""
        rid = role_id(role)
        if not self._directory.functions.isRole(rid).call():
            names = [n for n in self.role_names().values() if n not in (CUSTOMER, "ADMIN")] + ["ADMIN"]
            raise ConfigError(
                f"unknown role {role.upper()!r} (one of {', '.join(names)}; "
                f"`journey role define {role.upper()}` adds one)"
            )
        if org is not None:
            org_id = self.organisation_id(org)
            _, _, current = self.participant_record(account)
            if current != org_id:
                self.add_member(org_id, account)
        return self._send(self._directory.functions.grantRole(rid, checksum(account)))

    add_participant = grant_role

    def has_role(self, account: str, role: str) -> bool:
        return bool(self._directory.functions.hasRole(role_id(role), checksum(account)).call())

    def roles_of(self, account: str) -> list[str]:
        names = [n for n in self.role_names().values() if n != CUSTOMER]
        return [r for r in names if self.has_role(account, r)]

    def rulebook(self) -> tuple[int, str]:
        """The rulebook in force: (version, hash)."""
        version, digest = self._directory.functions.rulebook().call()
        return int(version), _hex(digest)

    def participant_record(self, account: str) -> tuple[int, int, int]:
        """(number, rulebook version accepted, organisation) of `account` (zeros: none)."""
        pid, accepted, org = self._directory.functions.participant(checksum(account)).call()
        return int(pid), int(accepted), int(org)

    def participant(self, account: str) -> dict[str, Any]:
        pid, accepted, org = self.participant_record(account)
        return {
            "address": checksum(account),
            "id": pid,
            "accepted": accepted,
            "org": org or None,
            "roles": self.roles_of(account),
        }

    def accept_rulebook(self) -> Receipt:
        """Accepts the rulebook in force, as the client's account."""
        return self._send(self._directory.functions.acceptRulebook())

    def accept_rulebook_by_signature(self, participant: LocalAccount, deadline: int | None = None) -> Receipt:
        """`participant` signs its acceptance (EIP-712); the client's account relays it."""
        version, digest = self.rulebook()
        deadline = deadline or self._deadline()
        message = {
            "account": participant.address,
            "version": version,
            "rulebook": bytes.fromhex(digest[2:]),
            "deadline": deadline,
        }
        signature = sign_typed(
            participant.key, self.chain.chain_id, self._voice.address, "AcceptRulebook", message
        )
        return self._send(
            self._voice.functions.acceptRulebook(participant.address, version, deadline, signature)
        )

    def breach_count(self, account: str) -> int:
        return int(self._engine.functions.breachCount(checksum(account)).call())

    def organisation_breach_count(self, org: int | str) -> int:
        return int(self._engine.functions.organisationBreachCount(self.organisation_id(org)).call())
