// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Playbooks} from "./Playbooks.sol";
import {AttestationRegistry} from "./AttestationRegistry.sol";
import {Calendars} from "./Calendars.sol";
import {CompanionFactory} from "./CompanionFactory.sol";
import {IEngineHooks} from "./interfaces/IEngineHooks.sol";
import {Status, AttestationState, Field, StepRecord, Participant, Subject, StepConfig, rulebookInForce} from "./JourneyTypes.sol";

/// @title Journeys
/// @notice One customer's run through one playbook, as a chain of linked, timed steps.
/// Each step is owned by one organisation of the journey's cast, or narrowed to one of
/// its participants, bound no later than the completion of the step before it; only a
/// participant of that organisation holding the step's role completes it, and the next
/// step's deadline starts at that completion. Past a deadline anyone may flag the breach,
/// recorded for good against the party responsible then; the account that completed the
/// previous step (or ADMIN) may escalate the step to another participant, and the breach
/// stays on the step: whoever completes it is paid its share less the penalty. Evidence
/// is kept as commitments in events and folded into the journey's rolling hash.
abstract contract Journeys is Playbooks {
    /*//////////////////////////////////////////////////////////////
                                 STORAGE
    //////////////////////////////////////////////////////////////*/


    /// @notice The registry of verifiers' attestations, deployed with the engine.
    AttestationRegistry public immutable attestations;

    /// @notice The working-time calendars the steps' SLAs may count by, deployed with the engine.
    Calendars public immutable calendars;


    /// @param factory Deployed the calendars, which it binds to this engine, and the step
    /// relay, which this engine and its registry trust.
    constructor(CompanionFactory factory) {
        attestations = new AttestationRegistry(IEngineHooks(address(this)), address(factory.relay()));
        calendars = factory.bindCalendars();
    }

    /*//////////////////////////////////////////////////////////////
                           EXTERNAL FUNCTIONS
    //////////////////////////////////////////////////////////////*/

    /// @notice Opens a journey for a customer commitment (never personal data), with the
    /// funder who alone may fund its pool. The pool is funded at once from the funder's
    /// standing budget for the playbook (see `setBudget`) when the budget holds its
    /// per-journey amount, the opener is of the organisation the budget names and the
    /// funder's acceptance of the rulebook is in force.
    /// @dev Requirements: the playbook exists; the caller holds its first step's role and
    /// accepted the rulebook; the reference and customer are not zero; the reference was
    /// never used (so a retried script cannot open a duplicate); `assignee`, if not zero,
    /// holds the first step's role and is not ADMIN (zero: the first step is owned by the
    /// opener's organisation); `funder` holds FUNDER. Emits {JourneyOpened}, then
    /// {PoolFunded} when the funder's standing budget funds the pool.
    /// @param journeyId The journey's unique external reference.
    /// @param playbookId The playbook to run.
    /// @param customer The customer commitment: the first 16 bytes of
    /// keccak256(abi.encode(signer, profile)), where `signer` is the customer's signing
    /// address and `profile` a salted hash of the customer's profile.
    /// @param assignee Who owns the first step (zero: the opener's organisation).
    /// @param funder The journey's funder.
    function openJourney(bytes32 journeyId, uint16 playbookId, bytes16 customer, address assignee, address funder)
        external
    {
        StepConfig memory first = _config(playbookId, 0);
        // A published playbook's first step always has a role.
        if (first.role == 0) revert UnknownPlaybook(playbookId);
        address sender = _msgSender();
        Participant storage opener = _checkActor(sender, first.role);
        if (journeyId == bytes32(0) || customer == bytes16(0)) revert EmptyReference();
        if (_journeys[journeyId] != 0) revert JourneyExists(journeyId);
        uint40 deadline = _deadline(first.calendar, first.sla);
        _store(journeyId, Journey({
            head: _genesis(journeyId, playbookId, customer),
            deadline: deadline,
            playbookId: playbookId,
            step: 0,
            status: Status.Open,
            exceptional: false,
            owner: assignee == address(0) ? _ORG | opener.org : _assignable(assignee, first.role).id
        }));
        Participant storage f = _assignable(funder, _FUNDER_BIT);
        uint96 pool = _draw(funder, f, playbookId, opener.org);
        _funds[journeyId] = Funds({customer: customer, funder: f.id, pool: pool});
        emit JourneyOpened(journeyId, playbookId, customer, sender, funder, deadline);
        if (pool != 0) emit PoolFunded(journeyId, funder, pool, pool);
    }

    /// @notice Completes the journey's current step with its evidence, starts the next and
    /// binds its owner.
    /// @dev Requirements: the journey is open; the step is not the customer's; the caller
    /// is not ADMIN, holds the step's role, accepted the rulebook and is the step's owner
    /// (or a participant of the owning organisation); every required field comes with a
    /// non-zero commitment and no key is given twice (in the playbook's order for the
    /// cheapest path; extra fields may follow); every required attestation is valid for
    /// its subject by the attester named for it in `attesters` (in the playbook's order),
    /// who still holds the schema's verifier role; the pool is funded if the step requires
    /// it; unless the next step is
    /// the customer's, its owner is named: `nextAssignee` (holding the next step's role, not
    /// ADMIN, of `nextOrg` when that is not zero) or else the organisation `nextOrg`.
    /// Completing after the deadline records the breach against the owner, unless a flag
    /// recorded it already. Emits {StepCompleted} and, when late and not flagged, {BreachRecorded}.
    /// @param journeyId The journey.
    /// @param fields The fields supplied: each key with the salted commitment of its value.
    /// @param attesters For each attestation the step requires, the verifier whose
    /// attestation satisfies it (empty when the step requires none).
    /// @param nextOrg The organisation that owns the next step (zero: `nextAssignee`'s).
    /// @param nextAssignee The participant who owns the next step (zero: any participant of `nextOrg`).
    function completeStep(
        bytes32 journeyId,
        Field[] calldata fields,
        address[] calldata attesters,
        uint32 nextOrg,
        address nextAssignee
    ) external {
        Journey memory j = _openJourney(journeyId);
        address sender = _msgSender();
        uint8 step = j.step;
        bool late = j.deadline != 0 && block.timestamp > j.deadline;
        {
            StepConfig memory c = _config(j.playbookId, step);
            _checkStep(journeyId, j, c, fields, attesters, sender);
            if (late) _completeLate(journeyId, j);
            // `step` is below the step count (at most 15), so the increment cannot overflow.
            unchecked {
                j.step = step + 1;
            }
            j.deadline = _deadline(c.nextCalendar, c.nextSla);
            j.owner = _nextOwner(journeyId, j.step, c.nextRole, nextOrg, nextAssignee);
        }
        j.head = _link(j.head, step, sender, late, _evidence(fields));
        _store(journeyId, j);
        _emitStepCompleted(journeyId, step, late, fields, nextOrg, nextAssignee, j.deadline, sender);
    }

    /// @notice Flags the current step as breached once its deadline has passed, without
    /// waiting for it to complete. Anyone may call it (the SLA keeper does). The breach is
    /// recorded for good against the step's owner: its participant, or its organisation.
    /// @dev Requirements: the journey is open; the step is not the customer's; its
    /// deadline has passed and was not flagged yet; a step that needs the pool funded is
    /// not waiting for the funding (its clock restarts when the pool is funded).
    /// Emits {BreachRecorded}.
    /// @param journeyId The journey.
    function flagBreach(bytes32 journeyId) external {
        Journey memory j = _openJourney(journeyId);
        Exceptions memory x = _flag(journeyId, j);
        _putExceptions(journeyId, j, x);
    }

    /// @notice Reassigns a breached step to another participant, with a new deadline from
    /// now. The breach stays on the step: whoever completes it is paid its share less the
    /// penalty.
    /// @dev Requirements: the journey is open; the current step's deadline has passed
    /// (it is flagged now if it was not); the caller is ADMIN, or the account that
    /// completed the previous step, proven by `before` (the rolling hash before that
    /// step) and `previous` (its record), and accepted the rulebook; `to` holds the
    /// step's role, is not ADMIN, not the caller and not the owner that breached.
    /// Emits {Escalated} (and {BreachRecorded} when it flags).
    /// @param journeyId The journey.
    /// @param to The new owner.
    /// @param before The rolling hash before the previous step (ignored for ADMIN).
    /// @param previous The previous step's record (ignored for ADMIN).
    function escalate(bytes32 journeyId, address to, bytes20 before, StepRecord calldata previous) external {
        Journey memory j = _openJourney(journeyId);
        Exceptions memory x = _exceptionsOf(journeyId, j);
        // slither-disable-next-line incorrect-equality (step numbers compared)
        if (x.flagged != j.step + 1) x = _flag(journeyId, j);
        address sender = _msgSender();
        _checkEscalator(journeyId, j, before, previous, sender);
        if (to == sender) revert SelfEscalation(journeyId, j.step, to);
        StepConfig memory c = _config(j.playbookId, j.step);
        uint32 toId = _assignable(to, c.role).id;
        // slither-disable-next-line incorrect-equality (participant numbers compared)
        if (toId == j.owner) revert SameAssignee(journeyId, j.step, to);
        uint32 from = j.owner;
        x.flagged = 0;
        j.owner = toId;
        j.deadline = _deadline(c.calendar, c.sla);
        _putExceptions(journeyId, j, x);
        _store(journeyId, j);
        emit Escalated(journeyId, j.step, _ownerAccount(from), _ownerOrg(from), to, j.deadline);
    }

    /// @notice Records an attester's new attestation of a (schema, subject) pair, or the
    /// revocation of its newest; only the engine's registry calls it. This record is the only
    /// one (the registry keeps none): a new attestation replaces the attester's earlier one of
    /// the pair, never another attester's. Returns the record as it was before.
    /// @param key keccak256(abi.encode(schema, subject, attester)).
    /// @param expiry When the new attestation stops being valid (0: never; unused to revoke).
    /// @param revoke Whether this revokes the newest attestation (else it records a new one).
    /// @return existed Whether the attester had attested the pair.
    /// @return revoked Whether its newest attestation of it was revoked.
    /// @return version How many attestations of the pair it had made.
    function recordAttestation(bytes32 key, uint64 expiry, bool revoke)
        external
        returns (bool existed, bool revoked, uint32 version)
    {
        if (msg.sender != address(attestations)) revert NotRegistry(msg.sender);
        AttestationCopy storage a = _attested[key];
        (existed, revoked, version) = (a.exists, a.revoked, a.version);
        if (!revoke) {
            _attested[key] = AttestationCopy({exists: true, expiry: expiry, revoked: false, version: version + 1});
        } else if (existed && !revoked) {
            a.revoked = true;
        }
    }

    /// @notice Where a journey stands for a signed action (see `StepRelay`): its current step and
    /// rolling hash (zeros for a journey never opened). (Its selector, 0x0832e61c, is the
    /// lowest of the engine's: the dispatcher, which tries selectors in order, finds it first,
    /// and the relay reads it for nearly every action.)
    /// @param journeyId The journey.
    /// @return step The current step (the next to complete).
    /// @return head The rolling hash of its completed steps.
    function currentHead(bytes32 journeyId) external view returns (uint8 step, bytes20 head) {
        Journey memory j = _load(journeyId);
        return (j.step, j.head);
    }

    /*//////////////////////////////////////////////////////////////
                            INTERNAL HELPERS
    //////////////////////////////////////////////////////////////*/

    /// @dev The journey, which must be open.
    function _openJourney(bytes32 journeyId) internal view returns (Journey memory j) {
        uint256 w = _knownWord(journeyId);
        Status status = Status((w >> 220) & 0x07);
        if (status != Status.Open) revert JourneyNotOpen(journeyId, status);
        _decode(w, j);
    }

    /// @dev The journey, which must be open or disputed (value not confirmed, not closed).
    function _liveJourney(bytes32 journeyId) internal view returns (Journey memory j) {
        uint256 w = _knownWord(journeyId);
        Status status = Status((w >> 220) & 0x07);
        if (status != Status.Open && status != Status.Disputed) revert JourneyNotOpen(journeyId, status);
        _decode(w, j);
    }



    function _store(bytes32 journeyId, Journey memory j) internal {
        _journeys[journeyId] = uint256(uint160(j.head)) | (uint256(j.deadline) << 160)
            | (uint256(j.playbookId) << 200) | (uint256(j.step) << 216) | (uint256(j.status) << 220)
            | (j.exceptional ? uint256(1) << 223 : 0) | (uint256(j.owner) << 224);
    }

    /// @dev The journey's exceptions record (all zero when it has none).
    function _exceptionsOf(bytes32 journeyId, Journey memory j) internal view returns (Exceptions memory x) {
        if (j.exceptional) x = _exceptions[journeyId];
    }

    /// @dev Writes the exceptions record and marks the journey as having one; the
    /// journey's slot is written by the caller, or here when the mark is new.
    function _putExceptions(bytes32 journeyId, Journey memory j, Exceptions memory x) internal {
        _exceptions[journeyId] = x;
        if (!j.exceptional) {
            j.exceptional = true;
            _store(journeyId, j);
        }
    }

    /// @dev The rolling hash's first link: the journey, its playbook and its customer.
    function _genesis(bytes32 journeyId, uint16 playbookId, bytes16 customer) internal pure returns (bytes20) {
        return bytes20(keccak256(abi.encode(journeyId, playbookId, customer)));
    }

    /// @dev The rolling hash after a step: the previous hash, the step, its owner, whether
    /// it was late and its evidence hash.
    function _link(bytes20 head, uint256 step, address by, bool late, bytes32 evidence)
        internal
        pure
        returns (bytes20 h)
    {
        // keccak256(abi.encode(head, uint8(step), by, late, evidence)), truncated to 20
        // bytes, hashed in scratch memory past the free memory pointer (`step` < 16). A
        // bytes20 may carry dirty low-order bits on the stack: they are cleared first.
        assembly ("memory-safe") {
            let low := 0xffffffffffffffffffffffff
            let m := mload(0x40)
            mstore(m, and(head, not(low)))
            mstore(add(m, 0x20), step)
            mstore(add(m, 0x40), by)
            mstore(add(m, 0x60), late)
            mstore(add(m, 0x80), evidence)
            h := and(keccak256(m, 0xa0), not(low))
        }
    }

    /// @dev keccak256(abi.encode(a, b)) for two words, hashed in scratch memory.
    function _hashPair(bytes32 a, bytes32 b) internal pure returns (bytes32 h) {
        assembly ("memory-safe") {
            mstore(0, a)
            mstore(0x20, b)
            h := keccak256(0, 0x40)
        }
    }

    /// @dev A step's evidence hash, keccak256(abi.encode(fields)), hashed in scratch memory
    /// past the free memory pointer (the fields lie in calldata exactly as they encode).
    function _evidence(Field[] calldata fields) internal pure returns (bytes32 e) {
        assembly ("memory-safe") {
            let size := shl(6, fields.length)
            let m := mload(0x40)
            mstore(m, 0x20)
            mstore(add(m, 0x20), fields.length)
            calldatacopy(add(m, 0x40), fields.offset, size)
            e := keccak256(m, add(0x40, size))
        }
    }

    /// @dev Emits {StepCompleted} (by `by`, the caller or the signer a relay names) exactly as `emit` would, copying the fields from calldata
    /// in one piece instead of element by element (they lie in calldata as they encode).
    function _emitStepCompleted(
        bytes32 journeyId,
        uint8 step,
        bool late,
        Field[] calldata fields,
        uint32 nextOrg,
        address nextAssignee,
        uint40 nextDeadline,
        address by
    ) private {
        bytes32 topic = StepCompleted.selector;
        assembly ("memory-safe") {
            let size := shl(6, fields.length)
            let m := mload(0x40)
            mstore(m, step)
            mstore(add(m, 0x20), late)
            mstore(add(m, 0x40), 0xa0)
            mstore(add(m, 0x60), nextOrg)
            mstore(add(m, 0x80), nextDeadline)
            mstore(add(m, 0xa0), fields.length)
            calldatacopy(add(m, 0xc0), fields.offset, size)
            log4(m, add(0xc0, size), topic, journeyId, by, nextAssignee)
        }
    }

    /// @dev The pool a journey opened under `playbookId` draws from `funder`'s standing budget:
    /// its per-journey amount, taken from the budget, when the budget holds it, names the
    /// opener's organisation, and the funder's acceptance of the rulebook is in force
    /// (a draw is the funder's standing action); otherwise none (0).
    function _draw(address funder, Participant storage f, uint16 playbookId, uint32 openerOrg)
        private
        returns (uint96 pool)
    {
        Budget storage b = _budgets[funder][playbookId];
        Budget memory m = b;
        Book storage book = _book;
        if (
            m.perJourney == 0 || m.balance < m.perJourney || m.openerOrg != openerOrg
                || !rulebookInForce(f.accepted, book.version, book.publishedAt)
        ) return 0;
        // Checked just above: the balance holds the amount.
        unchecked {
            b.balance = m.balance - m.perJourney;
        }
        return m.perJourney;
    }

    /// @dev The deadline of an SLA of `sla` seconds (0: none) starting now, counted in the
    /// working time of `calendar` (0: wall-clock time, computed here without a call).
    function _deadline(uint8 calendar, uint32 sla) internal view returns (uint40) {
        // slither-disable-next-line incorrect-equality (0 means none)
        if (sla == 0) return 0;
        // A timestamp plus 2^32 seconds fits 40 bits until the year 36812; the calendars
        // refuse a deadline past 40 bits.
        if (calendar == 0) return uint40(block.timestamp + sla);
        return uint40(calendars.deadline(calendar, block.timestamp, sla));
    }

    /// @dev The rules a step completion must pass: the step is a participant's, the
    /// caller may complete it, and its fields, attestations and funding are all there.
    function _checkStep(
        bytes32 journeyId,
        Journey memory j,
        StepConfig memory c,
        Field[] calldata fields,
        address[] calldata attesters,
        address sender
    ) private view {
        _checkOwner(journeyId, j, c, sender);
        _checkFields(journeyId, j.playbookId, j.step, c, fields);
        bool gated = c.flags & _FUND_GATE != 0;
        if (c.attestationCount == 0 && !gated) return;
        Funds memory f = _funds[journeyId];
        if (c.attestationCount != 0) _checkAttestations(journeyId, j, c.attestationCount, f.customer, attesters);
        // slither-disable-next-line incorrect-equality (an unfunded pool is exactly zero)
        if (gated && f.pool == 0) revert PoolNotFunded(journeyId, j.step);
    }

    /// @dev Reverts unless `account` may act on the current step, whose configuration is
    /// `c`, as its owner: it holds the step's role, accepted the rulebook, is not ADMIN, and
    /// is the assignee or a member of the owning organisation.
    function _checkOwner(bytes32 journeyId, Journey memory j, StepConfig memory c, address account)
        internal
        view
    {
        if (c.role == _CUSTOMER_BIT) revert CustomerStep(journeyId, j.step);
        Participant storage p = _checkActor(account, c.role);
        if (p.roles & 1 != 0) revert AdminMayNotOwnStep(account);
        if (j.owner & _ORG != 0) {
            if (_ORG | p.org != j.owner) revert WrongOrganisation(journeyId, j.step, account, j.owner & ~_ORG);
        } else if (j.owner != p.id) {
            revert NotAssignee(journeyId, j.step, account, _accountOf(j.owner));
        }
    }

    /// @dev The owner of step `step` as the completer of the step before it names it.
    function _nextOwner(bytes32 journeyId, uint8 step, uint8 role, uint32 org, address assignee)
        private
        view
        returns (uint32)
    {
        if (role == _CUSTOMER_BIT) return 0;
        if (assignee != address(0)) {
            Participant storage p = _assignable(assignee, role);
            if (org != 0 && org != p.org) revert NotInOrganisation(assignee, org);
            return p.id;
        }
        if (!_orgExists(org)) revert OwnerRequired(journeyId, step);
        return _ORG | org;
    }

    /// @dev Flags the current step's passed deadline and records the breach against its
    /// owner; returns the exceptions record to write.
    function _flag(bytes32 journeyId, Journey memory j) private returns (Exceptions memory x) {
        StepConfig memory c = _config(j.playbookId, j.step);
        if (c.role == _CUSTOMER_BIT) revert CustomerStep(journeyId, j.step);
        // slither-disable-next-line incorrect-equality,timestamp (a deadline of 0 means none)
        if (j.deadline == 0 || block.timestamp <= j.deadline) revert DeadlineNotPassed(journeyId, j.step, j.deadline);
        // slither-disable-next-line incorrect-equality (an unfunded pool is exactly zero)
        if (c.flags & _FUND_GATE != 0 && _funds[journeyId].pool == 0) revert PoolNotFunded(journeyId, j.step);
        x = _exceptionsOf(journeyId, j);
        // slither-disable-next-line incorrect-equality (step numbers compared)
        if (x.flagged == j.step + 1) revert AlreadyBreached(journeyId, j.step);
        x.flagged = j.step + 1;
        _recordBreach(journeyId, j, x);
    }

    /// @dev Reverts unless the caller may escalate the current step: ADMIN, or the account
    /// that completed the previous step (proven against the rolling hash), having
    /// accepted the rulebook in force.
    function _checkEscalator(
        bytes32 journeyId,
        Journey memory j,
        bytes20 before,
        StepRecord calldata previous,
        address sender
    ) private view {
        if (_isAdmin(sender)) {
            _checkActor(sender, _ADMIN_BIT);
            return;
        }
        // slither-disable-next-line incorrect-equality (a step index and hashes compared)
        bool proven = j.step != 0 && previous.by == sender
            && _link(before, j.step - 1, previous.by, previous.late, previous.evidence) == j.head;
        if (!proven) revert NotEscalator(journeyId, j.step, sender);
        _checkActor(sender, _config(j.playbookId, j.step - 1).role);
    }

    /// @dev A late completion: records the breach against the owner unless a flag
    /// recorded it already, and clears the flag.
    function _completeLate(bytes32 journeyId, Journey memory j) private {
        Exceptions memory x = _exceptionsOf(journeyId, j);
        if (x.flagged != j.step + 1) _recordBreach(journeyId, j, x);
        x.flagged = 0;
        _exceptions[journeyId] = x;
        j.exceptional = true;
    }

    /// @dev Records a breach of the current step against its owner (the participant, or
    /// the organisation), for good; the step stays breached whoever completes it.
    function _recordBreach(bytes32 journeyId, Journey memory j, Exceptions memory x) private {
        x.breaches |= uint16(1 << j.step);
        address account = _ownerAccount(j.owner);
        uint32 org = _ownerOrg(j.owner);
        if (account != address(0)) ++_breachCounts[account];
        else ++_orgBreachCounts[org];
        emit BreachRecorded(journeyId, j.step, account, org, j.deadline);
    }


    /// @dev Every required field must come with a non-zero commitment, and no key may be
    /// given twice. Keys supplied in the playbook's order match the step's hash in one
    /// comparison; otherwise each required key is looked for, and the first missing one
    /// names the refusal. Extra fields are checked against every key before them.
    function _checkFields(
        bytes32 journeyId,
        uint16 playbookId,
        uint8 step,
        StepConfig memory c,
        Field[] calldata fields
    ) private view {
        uint256 n = c.fieldCount;
        uint256 checkedFrom = 0;
        bool leading = false;
        if (n != 0 && fields.length >= n) {
            (bytes15 h, uint256 blank) = _leadingKeys(fields, n);
            if (h == c.fieldsHash) {
                // The leading keys are the playbook's, which are distinct.
                if (blank < n) revert MissingField(journeyId, step, fields[blank].key);
                checkedFrom = n;
                leading = true;
            }
        }
        if (n != 0 && !leading) {
            bytes32[] storage required = _requiredFields(playbookId, step);
            for (uint256 r; r < n; ++r) {
                bytes32 key = _element(required, r);
                bool found = false;
                for (uint256 i = 0; i < fields.length; ++i) {
                    if (fields[i].key == key && fields[i].commitment != bytes32(0)) {
                        found = true;
                        break;
                    }
                }
                if (!found) revert MissingField(journeyId, step, key);
            }
        }
        // The caller pays for its own fields: the loop is bounded by its calldata.
        for (uint256 i = checkedFrom == 0 ? 1 : checkedFrom; i < fields.length; ++i) {
            for (uint256 k = 0; k < i; ++k) {
                if (fields[k].key == fields[i].key) revert DuplicateField(journeyId, step, fields[i].key);
            }
        }
    }

    /// @dev The first 15 bytes of keccak256 of the first `n` keys, packed (see {StepConfig}),
    /// and the index of the first of them with a zero commitment (`n`: none), in one pass.
    function _leadingKeys(Field[] calldata fields, uint256 n) private pure returns (bytes15 h, uint256 blank) {
        assembly ("memory-safe") {
            let m := mload(0x40)
            blank := n
            for { let i := 0 } lt(i, n) { i := add(i, 1) } {
                let at := add(fields.offset, shl(6, i))
                mstore(add(m, shl(5, i)), calldataload(at))
                if and(iszero(calldataload(add(at, 0x20))), eq(blank, n)) { blank := i }
            }
            h := and(keccak256(m, shl(5, n)), not(0xffffffffffffffffffffffffffffffffff))
        }
    }

    /// @dev `n` is the step's attestation count (the rules' length, kept in its config).
    function _checkAttestations(
        bytes32 journeyId,
        Journey memory j,
        uint256 n,
        bytes16 customer,
        address[] calldata attesters
    ) private view {
        bytes32[] storage rules = _attestationSchemas[j.playbookId][j.step];
        for (uint256 i = 0; i < n; ++i) {
            bytes32 rule = _element(rules, i);
            bytes32 schema = rule & ~bytes32(uint256(0xffff));
            AttestationState state = AttestationState.Missing;
            if (i < attesters.length) {
                Subject kind = Subject(uint8(uint256(rule)));
                bytes32 subject = kind == Subject.Customer
                    ? _hashPair(journeyId, bytes32(customer))
                    : kind == Subject.Journey ? journeyId : _hashPair(journeyId, bytes32(uint256(j.step)));
                state = _attestationState(schema, subject, attesters[i], uint8(uint256(rule) >> 8));
            }
            if (state != AttestationState.Valid) revert AttestationNotValid(journeyId, j.step, schema, state);
        }
    }

    /// @dev The state of `attester`'s newest attestation of `schema` about `subject`, which
    /// counts only while the attester holds the schema's role (`bit`, a role bit plus one).
    function _attestationState(bytes32 schema, bytes32 subject, address attester, uint8 bit)
        internal
        view
        returns (AttestationState state)
    {
        bytes32 key;
        // keccak256(abi.encode(schema, subject, attester)), hashed past the free memory pointer.
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, schema)
            mstore(add(m, 0x20), subject)
            mstore(add(m, 0x40), and(attester, 0xffffffffffffffffffffffffffffffffffffffff))
            key := keccak256(m, 0x60)
        }
        AttestationCopy memory a = _attested[key];
        if (!a.exists) state = AttestationState.Missing;
        else if (a.revoked) state = AttestationState.Revoked;
        // slither-disable-next-line timestamp (an expiry is a time)
        else if (a.expiry != 0 && a.expiry <= block.timestamp) state = AttestationState.Expired;
        else if (!_holds(attester, bit)) state = AttestationState.Unauthorised;
        else state = AttestationState.Valid;
    }
}
