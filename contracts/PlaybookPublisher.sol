// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IJourneyEngine} from "./interfaces/IJourneyEngine.sol";
import {IPlaybookStore} from "./interfaces/IPlaybookStore.sol";
import {IRulebook} from "./interfaces/IEngineHooks.sol";
import {
    StepSpec,
    StepConfig,
    PlaybookOptions,
    PenaltyTo,
    Subject,
    CUSTOMER_ROLE,
    CUSTOMER_BIT,
    STEP_FUND_GATE,
    STEP_COMMIT,
    CUSTOMER_ENTRY,
    FORFEIT_ENTRY,
    schemaRule
} from "./JourneyTypes.sol";

/// @title PlaybookPublisher
/// @notice Validates playbooks and has the engine keep them: published, immutable,
/// numbered templates of a journey, an ordered list of steps, each with an owning role, an
/// SLA, required fields and attestations, a payout share and a breach penalty. The last
/// step is the customer's. A playbook cannot lock a pool: every step from the commit step
/// on has an SLA, the confirmation window ends before the customer's deadline, and every
/// dispute has a window for the arbiter. The engine deploys it and keeps only what its
/// steps read; the rules of what a playbook may be live here, and so does its compilation
/// into the records the engine keeps (each step's record, the payout table, the required
/// field keys and attestation rules).
contract PlaybookPublisher is IJourneyEngine {
    uint256 private constant _MAX_STEPS = 15;
    uint256 private constant _MAX_REQUIREMENTS = 32;
    uint256 private constant _BPS = 10_000;
    /// @dev ADMIN is the directory's DEFAULT_ADMIN_ROLE.
    bytes32 private constant _ADMIN = bytes32(0);

    /// @notice The engine that keeps the playbooks.
    IPlaybookStore public immutable engine;

    /// @param engine_ The engine (which deploys this contract).
    constructor(IPlaybookStore engine_) {
        engine = engine_;
    }

    /// @notice Publishes a playbook. It can never change afterwards; a new version is a new playbook.
    /// @dev Requirements: the caller is ADMIN and has accepted the rulebook; 2 to 15 steps;
    /// shares sum to at most 10,000 bps; every step has a defined role other than ADMIN;
    /// penalties at most 10,000 bps; only the last step, which must exist, is the
    /// customer's; a step's calendar, if it names one, is published, and the customer's step
    /// names none (the customer keeps no office hours); at most 32 fields and 32 attestations per step, none named twice, each
    /// attestation of a registered schema; the commit step is a participant step; every
    /// step from the commit step on has an SLA; the confirmation window is shorter than the
    /// customer's SLA; the dispute window is not zero. Emits {PlaybookPublished}.
    /// @param name Short name of the playbook.
    /// @param version The author's version number.
    /// @param steps The ordered steps.
    /// @param options Options that are not per step.
    /// @return playbookId The new playbook's number.
    function publishPlaybook(bytes32 name, uint32 version, StepSpec[] calldata steps, PlaybookOptions calldata options)
        external
        returns (uint16 playbookId)
    {
        // slither-disable-next-line unused-return (it reverts unless the caller is ADMIN)
        engine.checkActor(msg.sender, _ADMIN);
        uint256 count = steps.length;
        if (count < 2 || count > _MAX_STEPS) revert StepCountOutOfRange(count);
        if (options.commitStep >= count - 1) revert InvalidCommitStep(options.commitStep);
        if (options.confirmWindow != 0 && options.confirmWindow >= steps[count - 1].sla) {
            revert InvalidConfirmWindow(options.confirmWindow);
        }
        if (options.disputeWindow == 0) revert InvalidDisputeWindow();
        uint256 totalBps = 0;
        for (uint256 i = 0; i < count; ++i) {
            _validateStep(steps[i], i, count, options.commitStep);
            totalBps += steps[i].shareBps;
        }
        if (totalBps > _BPS) revert SharesExceedTotal(totalBps);
        (StepConfig[] memory configs, uint256[2] memory table, bytes32[] memory requirements) =
            _compile(steps, options);
        playbookId = engine.storePlaybook(name, version, options, configs, table, requirements);
        emit PlaybookPublished(playbookId, name, version, steps, options);
    }

    /// @dev Validates one step.
    function _validateStep(StepSpec calldata spec, uint256 i, uint256 count, uint256 commitStep) private view {
        if (spec.role == _ADMIN) revert EmptyRole(i);
        if (spec.role == CUSTOMER_ROLE) {
            if (i != count - 1) revert CustomerStepNotLast(i);
        } else {
            if (i == count - 1) revert LastStepNotCustomer(i);
            if (!engine.directory().isRole(spec.role)) revert UnknownRole(spec.role);
        }
        if (i >= commitStep && spec.sla == 0) revert MissingSla(i);
        if (spec.penaltyBps > _BPS) revert PenaltyOutOfRange(i);
        if (spec.warnBps >= _BPS || (spec.warnBps != 0 && spec.sla == 0)) revert InvalidWarning(i);
        if (spec.calendar != 0) {
            if (spec.role == CUSTOMER_ROLE) revert CustomerStepCalendar(i);
            if (spec.calendar > engine.calendars().calendarCount()) revert UnknownStepCalendar(i, spec.calendar);
        }
        if (spec.fields.length > _MAX_REQUIREMENTS || spec.attestations.length > _MAX_REQUIREMENTS) {
            revert TooManyRequirements(i);
        }
        _checkDistinct(spec.fields, i);
        _checkDistinct(spec.attestations, i);
        for (uint256 a = 0; a < spec.attestations.length; ++a) {
            // slither-disable-next-line unused-return (only whether it is registered matters here)
            (bytes32 role,) = engine.attestations().schemaOf(spec.attestations[a]);
            if (role == bytes32(0)) revert UnknownSchema(spec.attestations[a]);
        }
    }

    /// @dev Refuses a requirement named twice in one step (at most 32: bounded).
    function _checkDistinct(bytes32[] calldata keys, uint256 i) private pure {
        for (uint256 a = 1; a < keys.length; ++a) {
            for (uint256 b = 0; b < a; ++b) {
                if (keys[a] == keys[b]) revert DuplicateRequirement(i, keys[a]);
            }
        }
    }

    /// @dev The records the engine keeps of a validated playbook: each step's record (its
    /// role bit and the next step's, SLAs, calendars, counts, flags and field-key hash), the
    /// payout table (each step's share and penalty, 32 bits a step, eight steps a word, with
    /// the customer's marks) and every step's required keys then attestation rules, in order.
    function _compile(StepSpec[] calldata steps, PlaybookOptions calldata options)
        private
        view
        returns (StepConfig[] memory configs, uint256[2] memory table, bytes32[] memory requirements)
    {
        uint256 count = steps.length;
        IRulebook dir = engine.directory();
        uint8[] memory bits = new uint8[](count + 1);
        uint256 total = 0;
        for (uint256 i = 0; i < count; ++i) {
            bits[i] = steps[i].role == CUSTOMER_ROLE ? CUSTOMER_BIT : dir.roleBit(steps[i].role);
            total += steps[i].fields.length + steps[i].attestations.length;
        }
        configs = new StepConfig[](count);
        requirements = new bytes32[](total);
        uint256 at = 0;
        for (uint256 i = 0; i < count; ++i) {
            table[i / 8] |= _entry(steps[i], bits[i], options) << (32 * (i % 8));
            configs[i] = _config(steps, i, bits, options);
            at = _putRequirements(steps[i], dir, requirements, at);
        }
    }

    /// @dev Step `spec`'s payout table entry: its share and penalty, and the customer's marks.
    function _entry(StepSpec calldata spec, uint8 bit, PlaybookOptions calldata options)
        private
        pure
        returns (uint256 entry)
    {
        entry = uint256(spec.shareBps) | (uint256(spec.penaltyBps) << 16);
        if (bit == CUSTOMER_BIT) {
            entry |= CUSTOMER_ENTRY;
            if (options.penaltyTo == PenaltyTo.Customer) entry |= FORFEIT_ENTRY;
        }
    }

    /// @dev Writes a step's required keys, then its attestation rules, into `requirements`
    /// from `at`; returns where the next step's begin.
    function _putRequirements(StepSpec calldata spec, IRulebook dir, bytes32[] memory requirements, uint256 at)
        private
        view
        returns (uint256)
    {
        for (uint256 k = 0; k < spec.fields.length; ++k) {
            requirements[at++] = spec.fields[k];
        }
        for (uint256 k = 0; k < spec.attestations.length; ++k) {
            (bytes32 role, Subject subject) = engine.attestations().schemaOf(spec.attestations[k]);
            requirements[at++] = schemaRule(spec.attestations[k], dir.roleBit(role), subject);
        }
        return at;
    }

    /// @dev Step `i`'s record.
    function _config(StepSpec[] calldata steps, uint256 i, uint8[] memory bits, PlaybookOptions calldata options)
        private
        pure
        returns (StepConfig memory c)
    {
        StepSpec calldata spec = steps[i];
        c.role = bits[i];
        c.sla = spec.sla;
        c.nextRole = bits[i + 1];
        // at most 32 of each (validated): the casts cannot truncate
        c.fieldCount = uint8(spec.fields.length);
        c.attestationCount = uint8(spec.attestations.length);
        if (i == options.commitStep) c.flags = options.fundBeforeCommit ? STEP_COMMIT | STEP_FUND_GATE : STEP_COMMIT;
        c.fieldsHash = bytes15(keccak256(abi.encodePacked(spec.fields)));
        c.warnBps = spec.warnBps;
        c.calendar = spec.calendar;
        if (i + 1 < steps.length) {
            c.nextSla = steps[i + 1].sla;
            c.nextCalendar = steps[i + 1].calendar;
        }
    }
}
