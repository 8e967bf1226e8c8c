// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Playbooks} from "./Playbooks.sol";
import {AttestationRegistry} from "./AttestationRegistry.sol";
import {IEngineHooks} from "./interfaces/IEngineHooks.sol";
import {Role, Status, AttestationState} from "./JourneyTypes.sol";

/// @title Journeys
/// @notice One customer's run through one playbook, as a chain of linked, timed steps.
/// Steps complete in order, each by its assignee or any holder of its role; the next
/// step's deadline starts at that completion. A step completed late records a breach
/// against its assignee; past a deadline anyone may flag the breach, and the owner of
/// the previous step (or ADMIN) may escalate the step to someone else. Evidence is kept
/// as commitments in events and folded into the journey's rolling hash.
abstract contract Journeys is Playbooks {
    /*//////////////////////////////////////////////////////////////
                                 STORAGE
    //////////////////////////////////////////////////////////////*/

    /// @dev Journey flag: the current step's deadline was flagged as breached.
    uint8 internal constant _FLAGGED = 1;
    /// @dev Journey flag: a dispute of one of its steps was upheld (settling reads the
    /// dispute record only then).
    uint8 internal constant _UPHELD = 2;

    /// @dev A journey's state, in one slot (32+32+96+40+16+8+8+16+8 = 256 bits):
    /// participant numbers stand for addresses so that the assignee, the funder and the
    /// pool share the slot with the step, its deadline and the breaches.
    struct JourneyState {
        uint32 assignee;
        uint32 funder;
        uint96 pool;
        uint40 deadline;
        uint16 playbookId;
        uint8 step;
        Status status;
        uint16 breaches;
        uint8 flags;
    }

    /// @notice The registry of verifiers' attestations, deployed with the engine.
    AttestationRegistry public immutable attestations;

    mapping(bytes32 journeyId => JourneyState) internal _journeys;
    /// @dev The rolling hash: keccak256 of (journey, playbook, customer), then of
    /// (previous hash, step, owner, late, evidence) for each completed step.
    mapping(bytes32 journeyId => bytes32 head) internal _heads;
    mapping(bytes32 journeyId => bytes32 customer) internal _customers;
    mapping(address account => uint32 count) private _breachCounts;
    /// @dev Breaches flagged against an assignee: keccak256(journey, step, assignee) is
    /// set, so that settling penalises that assignee's completion of the step even after
    /// an escalation gave it a new deadline. Written only when a breach is flagged.
    mapping(bytes32 key => bool flagged) private _flaggedAgainst;

    constructor() {
        attestations = new AttestationRegistry(IEngineHooks(address(this)));
    }

    /*//////////////////////////////////////////////////////////////
                           EXTERNAL FUNCTIONS
    //////////////////////////////////////////////////////////////*/

    /// @notice Opens a journey for a customer commitment (never personal data).
    /// @dev Requirements: the playbook exists; the caller holds its first step's role and
    /// accepted the rulebook; the reference and customer are not zero; the reference was
    /// never used (so a retried script cannot open a duplicate); `assignee`, if not zero,
    /// holds the first step's role. Emits {JourneyOpened}.
    /// @param journeyId The journey's unique external reference.
    /// @param playbookId The playbook to run.
    /// @param customer The customer commitment: keccak256(abi.encode(signer, profile)),
    /// where `signer` is the customer's signing address and `profile` a salted hash.
    /// @param assignee Who owns the first step (zero: any holder of its role).
    function openJourney(bytes32 journeyId, uint16 playbookId, bytes32 customer, address assignee) external {
        StepConfig memory first = _config(playbookId, 0);
        // A published playbook's first step always has a role.
        if (first.role == Role.None) revert UnknownPlaybook(playbookId);
        _checkActor(msg.sender, first.role);
        if (journeyId == bytes32(0) || customer == bytes32(0)) revert EmptyReference();
        if (_load(journeyId).playbookId != 0) revert JourneyExists(journeyId);
        uint40 deadline = _deadline(first.sla);
        _store(journeyId, JourneyState({
            assignee: assignee == address(0) ? 0 : _assignable(assignee, first.role),
            funder: 0,
            pool: 0,
            deadline: deadline,
            playbookId: playbookId,
            step: 0,
            status: Status.Open,
            breaches: 0,
            flags: 0
        }));
        _heads[journeyId] = keccak256(abi.encode(journeyId, playbookId, customer));
        _customers[journeyId] = customer;
        emit JourneyOpened(journeyId, playbookId, customer, msg.sender, deadline);
    }

    /// @notice Completes the journey's current step with its evidence, and starts the next.
    /// @dev Requirements: the journey is open; the step is not the customer's; the caller
    /// is its assignee (or, when none, holds its role) and accepted the rulebook; every
    /// required field comes with a non-zero commitment (in the playbook's order for the
    /// cheapest path; extra fields may follow); every required attestation is valid for
    /// the customer; the pool is funded if the step requires it; `nextAssignee`, if not
    /// zero, holds the next step's role. Completing after the deadline records a breach
    /// against the caller, unless a flag recorded it against an assignee already (a flag
    /// on an unassigned step names no one, so the late completer is recorded then).
    /// Emits {StepCompleted} and, when late and not recorded against an assignee, {BreachRecorded}.
    /// @param journeyId The journey.
    /// @param fields The field keys supplied.
    /// @param commitments The salted commitment of each field's value, in the same order.
    /// @param nextAssignee Who owns the next step (zero: any holder of its role).
    function completeStep(
        bytes32 journeyId,
        bytes32[] calldata fields,
        bytes32[] calldata commitments,
        address nextAssignee
    ) external {
        JourneyState memory j = _openJourney(journeyId);
        uint8 step = j.step;
        bool late = j.deadline != 0 && block.timestamp > j.deadline;
        {
            StepConfig memory c = _checkStep(journeyId, j, fields, commitments);
            // slither-disable-next-line incorrect-equality (a bit test)
            if (late && (j.flags & _FLAGGED == 0 || j.assignee == 0)) _recordBreach(journeyId, j, msg.sender);
            // `step` is below the step count (at most 16), so the increment cannot overflow.
            unchecked {
                j.step = step + 1;
            }
            j.deadline = _deadline(c.nextSla);
            j.flags &= ~_FLAGGED;
            j.assignee = nextAssignee == address(0) ? 0 : _assignable(nextAssignee, c.nextRole);
        }
        _store(journeyId, j);
        bytes32 evidence = keccak256(abi.encode(fields, commitments));
        _heads[journeyId] = keccak256(abi.encode(_heads[journeyId], step, msg.sender, late, evidence));
        emit StepCompleted(journeyId, step, msg.sender, late, evidence, fields, commitments, nextAssignee, j.deadline);
    }

    /// @notice Flags the current step as breached once its deadline has passed, without
    /// waiting for it to complete. Anyone may call it (the SLA keeper does).
    /// @dev Requirements: the journey is open; the step is not the customer's; its
    /// deadline has passed and was not flagged yet. Emits {BreachRecorded}.
    /// @param journeyId The journey.
    function flagBreach(bytes32 journeyId) external {
        JourneyState memory j = _openJourney(journeyId);
        if (_config(j.playbookId, j.step).role == Role.Customer) revert CustomerStep(journeyId, j.step);
        // slither-disable-next-line incorrect-equality (a deadline of 0 means none)
        if (j.deadline == 0 || block.timestamp <= j.deadline) revert DeadlineNotPassed(journeyId, j.step, j.deadline);
        if (j.flags & _FLAGGED != 0) revert AlreadyBreached(journeyId, j.step);
        j.flags |= _FLAGGED;
        address assignee = _accountOf(j.assignee);
        _recordBreach(journeyId, j, assignee);
        if (assignee != address(0)) _flaggedAgainst[keccak256(abi.encode(journeyId, j.step, assignee))] = true;
        _store(journeyId, j);
    }

    /// @notice Reassigns a breached step, with a new deadline from now.
    /// @dev Requirements: the journey is open; the current step's deadline was flagged as
    /// breached; the caller holds the previous step's role (or is ADMIN) and accepted the
    /// rulebook; `to` holds the step's role and is not the assignee who breached (the
    /// step goes to another participant: a breaching assignee cannot renew its own
    /// deadline and so escape the penalty). Emits {Escalated}.
    /// @param journeyId The journey.
    /// @param to The new assignee.
    function escalate(bytes32 journeyId, address to) external {
        JourneyState memory j = _openJourney(journeyId);
        // slither-disable-next-line incorrect-equality (a bit test)
        if (j.flags & _FLAGGED == 0) revert NotBreached(journeyId, j.step);
        StepConfig memory c = _config(j.playbookId, j.step);
        // slither-disable-next-line incorrect-equality (a step index compared)
        Role escalationRole = j.step == 0 ? Role.Admin : _config(j.playbookId, j.step - 1).role;
        _checkActor(msg.sender, _holds(msg.sender, escalationRole) ? escalationRole : Role.Admin);
        address from = _accountOf(j.assignee);
        uint32 toId = _assignable(to, c.role);
        // slither-disable-next-line incorrect-equality (participant numbers compared)
        if (toId == j.assignee) revert SameAssignee(journeyId, j.step, to);
        j.assignee = toId;
        j.deadline = _deadline(c.sla);
        j.flags &= ~_FLAGGED;
        _store(journeyId, j);
        emit Escalated(journeyId, j.step, from, to, j.deadline);
    }

    /// @notice A journey's state.
    /// @param journeyId The journey.
    /// @return playbookId The playbook it runs.
    /// @return step The current step (the next to complete).
    /// @return status Its status.
    /// @return assignee Who owns the current step (zero: any holder of its role).
    /// @return deadline The current step's deadline (0: none).
    /// @return breaches Bit i set: step i was breached.
    /// @return flagged Whether the current deadline was flagged as breached.
    /// @return pool The escrowed incentive pool.
    /// @return funder Who funded the pool.
    function journey(bytes32 journeyId)
        external
        view
        returns (
            uint16 playbookId,
            uint8 step,
            Status status,
            address assignee,
            uint40 deadline,
            uint16 breaches,
            bool flagged,
            uint96 pool,
            address funder
        )
    {
        JourneyState memory j = _known(journeyId);
        return (
            j.playbookId,
            j.step,
            j.status,
            _accountOf(j.assignee),
            j.deadline,
            j.breaches,
            j.flags & _FLAGGED != 0,
            j.pool,
            _accountOf(j.funder)
        );
    }

    /// @notice A journey's customer commitment and rolling hash.
    /// @param journeyId The journey.
    /// @return customer The customer commitment.
    /// @return head The rolling hash of its completed steps.
    function journeyCommitments(bytes32 journeyId) external view returns (bytes32 customer, bytes32 head) {
        return (_customers[journeyId], _heads[journeyId]);
    }

    /// @notice How many breaches have been recorded against an account, for good.
    /// @param account The participant.
    function breachCount(address account) external view returns (uint32) {
        return _breachCounts[account];
    }

    /*//////////////////////////////////////////////////////////////
                            INTERNAL HELPERS
    //////////////////////////////////////////////////////////////*/

    /// @dev The journey, which must be open.
    function _openJourney(bytes32 journeyId) internal view returns (JourneyState memory j) {
        j = _known(journeyId);
        if (j.status != Status.Open) revert JourneyNotOpen(journeyId, j.status);
    }

    /// @dev The journey, which must exist.
    function _known(bytes32 journeyId) internal view returns (JourneyState memory j) {
        j = _load(journeyId);
        // slither-disable-next-line incorrect-equality (playbook 0 is never published: it marks a journey never opened)
        if (j.playbookId == 0) revert UnknownJourney(journeyId);
    }

    /// @dev The journey, which must be open or disputed (value not confirmed, not closed).
    function _liveJourney(bytes32 journeyId) internal view returns (JourneyState memory j) {
        j = _known(journeyId);
        if (j.status != Status.Open && j.status != Status.Disputed) revert JourneyNotOpen(journeyId, j.status);
    }

    /// @dev Every read of a journey's state goes through here, and every write through
    /// {_store}: one copy of the packing code.
    function _load(bytes32 journeyId) internal view returns (JourneyState memory) {
        return _journeys[journeyId];
    }

    function _store(bytes32 journeyId, JourneyState memory j) internal {
        _journeys[journeyId] = j;
    }

    function _deadline(uint32 sla) internal view returns (uint40) {
        // A timestamp plus 2^32 seconds fits 40 bits until the year 36812.
        return sla == 0 ? 0 : uint40(block.timestamp + sla);
    }

    /// @dev The rules a step completion must pass: the step is a participant's, the
    /// caller may complete it, and its fields, attestations and funding are all there.
    function _checkStep(
        bytes32 journeyId,
        JourneyState memory j,
        bytes32[] calldata fields,
        bytes32[] calldata commitments
    ) private view returns (StepConfig memory c) {
        c = _config(j.playbookId, j.step);
        if (c.role == Role.Customer) revert CustomerStep(journeyId, j.step);
        uint32 id = _checkActor(msg.sender, c.role);
        if (j.assignee != 0 && j.assignee != id) {
            revert NotAssignee(journeyId, j.step, msg.sender, _accountOf(j.assignee));
        }
        _checkFields(journeyId, j.playbookId, j.step, c, fields, commitments);
        if (c.attestationCount != 0) _checkAttestations(journeyId, j.playbookId, j.step, c.attestationCount);
        // slither-disable-next-line incorrect-equality (an unfunded pool is exactly zero)
        if (c.flags & _FUND_GATE != 0 && j.pool == 0) revert PoolNotFunded(journeyId, j.step);
    }

    /// @dev Whether the owner of completed step `step` breached its SLA: it completed the
    /// step late, or a breach of the step was flagged against it (`breaches` has the
    /// step's bit, so the record is read only for a breached step).
    function _breached(bytes32 journeyId, uint16 breaches, uint256 step, bool late, address owner)
        internal
        view
        returns (bool)
    {
        if (late) return true;
        // slither-disable-next-line incorrect-equality (a bit test)
        if (breaches & (1 << step) == 0) return false;
        // `step` is below 16: the cast cannot truncate.
        return _flaggedAgainst[keccak256(abi.encode(journeyId, uint8(step), owner))];
    }

    /// @dev Records a breach of the current step against `assignee`, for good.
    function _recordBreach(bytes32 journeyId, JourneyState memory j, address assignee) private {
        j.breaches |= uint16(1 << j.step);
        if (assignee != address(0)) ++_breachCounts[assignee];
        emit BreachRecorded(journeyId, j.step, assignee, j.deadline);
    }

    /// @dev Every required field must come with a non-zero commitment. The supplied keys
    /// in the playbook's order match the step's hash in one comparison; otherwise each
    /// required key is looked for, and the first missing one names the refusal.
    function _checkFields(
        bytes32 journeyId,
        uint16 playbookId,
        uint8 step,
        StepConfig memory c,
        bytes32[] calldata fields,
        bytes32[] calldata commitments
    ) private view {
        if (fields.length != commitments.length) revert FieldsMismatch(fields.length, commitments.length);
        uint256 n = c.fieldCount;
        if (n == 0) return;
        if (fields.length >= n && bytes16(keccak256(abi.encodePacked(fields[:n]))) == c.fieldsHash) {
            for (uint256 i; i < n; ++i) {
                if (commitments[i] == bytes32(0)) revert MissingField(journeyId, step, fields[i]);
            }
            return;
        }
        bytes32[] storage required = _requiredFields(playbookId, step);
        for (uint256 r; r < n; ++r) {
            bytes32 key = required[r];
            bool found = false;
            for (uint256 i = 0; i < fields.length; ++i) {
                if (fields[i] == key && commitments[i] != bytes32(0)) {
                    found = true;
                    break;
                }
            }
            if (!found) revert MissingField(journeyId, step, key);
        }
    }

    /// @dev `n` is the step's attestation count (the schemas' length, kept in its config).
    function _checkAttestations(bytes32 journeyId, uint16 playbookId, uint8 step, uint256 n) private view {
        bytes32 customer = _customers[journeyId];
        bytes32[] storage schemas = _attestationSchemas[playbookId][step];
        for (uint256 i = 0; i < n; ++i) {
            // slither-disable-next-line unused-return (the attester does not matter to a step)
            (AttestationState state,) = attestations.attestationState(schemas[i], customer);
            if (state != AttestationState.Valid) revert AttestationNotValid(journeyId, step, schemas[i], state);
        }
    }
}
