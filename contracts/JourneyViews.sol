// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {EngineStorage} from "./EngineStorage.sol";
import {Calendars} from "./Calendars.sol";
import {Status, StepConfig, PlaybookOptions} from "./JourneyTypes.sol";

/// @title JourneyViews
/// @notice The engine's read-only functions that no other contract's rule depends on: a
/// journey's state, its owner, its risk and release times, playbooks, credits, breaches and
/// disputes. The engine runs this code by delegatecall, from its fallback, over its own
/// storage (the layout both inherit from {EngineStorage}): its address answers these calls
/// and its ABI lists them. This contract writes nothing, calls nothing but the calendars'
/// views, creates nothing and logs nothing (a test reads its bytecode to check it), so the
/// delegatecall cannot change the engine's state. Called directly, it reads its own empty
/// storage. Its `CompanionFactory` deploys it, with the engine's calendars.
contract JourneyViews is EngineStorage {
    /// @dev The engine's calendars (an engine's immutable is not in this code).
    Calendars private immutable _calendars;

    /// @param calendars_ The calendars of the engine that runs this code.
    constructor(Calendars calendars_) {
        _calendars = calendars_;
    }

    /// @notice A playbook's header.
    /// @param playbookId Its number.
    /// @return name Its short name.
    /// @return version The author's version number.
    /// @return stepCount How many steps it has.
    /// @return options Its options.
    function playbook(uint16 playbookId)
        external
        view
        returns (bytes32 name, uint32 version, uint8 stepCount, PlaybookOptions memory options)
    {
        PlaybookHeader memory h = _header(playbookId);
        return (_playbookNames[playbookId], h.version, h.stepCount, h.options);
    }

    /// @notice The rules of one step of a playbook (its name, fields and attestation
    /// schemas are in the {PlaybookPublished} event).
    /// @param playbookId The playbook's number.
    /// @param index The step's index, from 0.
    /// @return role Its owning role's id.
    /// @return sla Seconds from the previous step's completion (0: no deadline).
    /// @return shareBps Its payout share.
    /// @return penaltyBps Its breach penalty, in basis points of its share.
    /// @return fieldCount How many fields it requires.
    /// @return attestationCount How many attestations it requires.
    function stepRules(uint16 playbookId, uint256 index)
        external
        view
        returns (bytes32 role, uint32 sla, uint16 shareBps, uint16 penaltyBps, uint8 fieldCount, uint8 attestationCount)
    {
        if (index >= _header(playbookId).stepCount) revert StepCountOutOfRange(index);
        StepConfig memory c = _config(playbookId, index);
        uint256 entry = _payoutTables[playbookId][index / 8] >> (32 * (index % 8));
        return (
            _roleIdOf(c.role),
            c.sla,
            uint16(entry & _BPS_MASK),
            uint16((entry >> 16) & _BPS_MASK),
            c.fieldCount,
            c.attestationCount
        );
    }

    /// @notice How many playbooks have been published (their numbers run from 1).
    function playbookCount() external view returns (uint16) {
        return _playbookCount;
    }

    /// @notice A journey's state.
    /// @param journeyId The journey.
    /// @return playbookId The playbook it runs.
    /// @return step The current step (the next to complete).
    /// @return status Its status.
    /// @return assignee The participant who owns the current step (zero: its organisation does).
    /// @return deadline The current step's deadline (0: none).
    /// @return breaches Bit i set: step i was breached.
    /// @return flagged Whether the current deadline was flagged as breached.
    /// @return pool The escrowed incentive pool (0 once spent).
    /// @return funder The journey's funder, named when it opened.
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
        Journey memory j = _known(journeyId);
        Funds memory f = _funds[journeyId];
        Exceptions memory x = _exceptions[journeyId];
        // slither-disable-next-line incorrect-equality (statuses and step numbers compared)
        bool live = j.status == Status.Open || j.status == Status.Disputed;
        // slither-disable-next-line incorrect-equality (statuses and step numbers compared)
        return (
            j.playbookId,
            j.step,
            j.status,
            _ownerAccount(j.owner),
            j.deadline,
            x.breaches,
            x.flagged != 0 && x.flagged == j.step + 1,
            live ? f.pool : 0,
            _accountOf(f.funder)
        );
    }

    /// @notice Whether a journey's current step is at risk of breaching: its playbook sets
    /// a warning threshold for it, the journey is open, and that share of the step's SLA has
    /// passed without the deadline passing yet (a step waiting for its pool is not at risk:
    /// its clock starts again when the pool is funded).
    /// @param journeyId The journey.
    /// @return atRisk Whether the step is at risk now.
    /// @return warnAt When it is (or was, or will be) at risk (0: it never warns).
    /// @return deadline The step's deadline (0: none).
    function stepAtRisk(bytes32 journeyId) external view returns (bool atRisk, uint40 warnAt, uint40 deadline) {
        Journey memory j = _known(journeyId);
        deadline = j.deadline;
        StepConfig memory c = _config(j.playbookId, j.step);
        // slither-disable-next-line incorrect-equality (a threshold of 0 means none)
        if (c.warnBps == 0 || deadline == 0) return (false, 0, deadline);
        // An SLA counts back from the deadline, in the step's working time: a restarted or
        // escalated clock is a whole SLA, a resumed one what was left of it.
        warnAt = uint40(_calendars.before(c.calendar, deadline, c.sla - (uint256(c.sla) * c.warnBps) / _BPS));
        bool waiting = c.flags & _FUND_GATE != 0 && _funds[journeyId].pool == 0;
        // slither-disable-next-line timestamp,incorrect-equality (a warning threshold is a time; a status compared)
        atRisk = j.status == Status.Open && !waiting && block.timestamp >= warnAt && block.timestamp <= deadline;
    }

    /// @notice Who owns a journey's current step.
    /// @param journeyId The journey.
    /// @return assignee The participant who owns it (zero: its organisation does, or none).
    /// @return org The organisation that owns it (zero: a participant does, or none).
    function ownerOf(bytes32 journeyId) external view returns (address assignee, uint32 org) {
        uint32 owner = _known(journeyId).owner;
        return (_ownerAccount(owner), _ownerOrg(owner));
    }

    /// @notice A journey's customer commitment and rolling hash.
    /// @param journeyId The journey.
    /// @return customer The customer commitment.
    /// @return head The rolling hash of its completed steps.
    function journeyCommitments(bytes32 journeyId) external view returns (bytes16 customer, bytes20 head) {
        return (_funds[journeyId].customer, _load(journeyId).head);
    }

    /// @notice How many breaches have been recorded against an account, for good.
    /// @param account The participant.
    function breachCount(address account) external view returns (uint32) {
        return _breachCounts[account];
    }

    /// @notice How many breaches have been recorded against an organisation (of steps it
    /// owned with no one participant named), for good.
    /// @param org The organisation.
    function organisationBreachCount(uint32 org) external view returns (uint32) {
        return _orgBreachCounts[org];
    }

    /// @notice When optimistic release becomes possible (0: the playbook has no window,
    /// or the journey is not open at the customer's step).
    /// @param journeyId The journey.
    function releaseTime(bytes32 journeyId) external view returns (uint256) {
        return _releaseTime(_known(journeyId));
    }

    /// @notice Tokens credited to `account` and not claimed yet.
    /// @param account The participant, funder or customer.
    function creditOf(address account) external view returns (uint256) {
        uint256 stored = _credits[account];
        // stored is 0 or at least 1: no underflow.
        unchecked {
            // slither-disable-next-line incorrect-equality (zero: never credited)
            return stored == 0 ? 0 : stored - 1;
        }
    }

    /// @notice A journey's disputes.
    /// @param journeyId The journey.
    /// @return disputed Bit i set: step i was disputed.
    /// @return upheld Bit i set: the dispute of step i was upheld.
    /// @return step The step last disputed.
    /// @return since When the open dispute began (0: none open).
    function disputeOf(bytes32 journeyId)
        external
        view
        returns (uint16 disputed, uint16 upheld, uint8 step, uint40 since)
    {
        Exceptions memory x = _exceptions[journeyId];
        return (x.disputed, x.upheld, x.disputeStep, x.since);
    }

    /// @notice A funder's standing budget for a playbook (see the engine's `setBudget`).
    /// @param funder The funder.
    /// @param playbookId The playbook.
    /// @return perJourney The pool each journey draws at its opening (0: none draws).
    /// @return openerOrg The organisation whose openings may draw (0: no budget set).
    /// @return balance The tokens the budget holds.
    function budgetOf(address funder, uint16 playbookId)
        external
        view
        returns (uint96 perJourney, uint32 openerOrg, uint96 balance)
    {
        Budget memory b = _budgets[funder][playbookId];
        return (b.perJourney, b.openerOrg, b.balance);
    }

    /// @notice An attester's newest attestation of a (schema, subject) pair, as the engine
    /// keeps it (the registry's `attestationState` reads it).
    /// @param key keccak256(abi.encode(schema, subject, attester)).
    /// @return exists Whether the attester ever attested the pair.
    /// @return expiry When its newest attestation stops being valid (0: never).
    /// @return revoked Whether its newest attestation is revoked.
    /// @return version How many attestations of the pair it made.
    function attestationRecord(bytes32 key)
        external
        view
        returns (bool exists, uint64 expiry, bool revoked, uint32 version)
    {
        AttestationCopy memory a = _attested[key];
        return (a.exists, a.expiry, a.revoked, a.version);
    }
}
