// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IJourneyEngine} from "./interfaces/IJourneyEngine.sol";
import {IPlaybookStore} from "./interfaces/IPlaybookStore.sol";
import {StepSpec, PlaybookOptions, CUSTOMER_ROLE} from "./JourneyTypes.sol";

/// @title PlaybookPublisher
/// @notice Validates playbooks and has the engine keep them: published, immutable,
/// numbered templates of a journey, an ordered list of steps, each with an owning role, an
/// SLA, required fields and attestations, a payout share and a breach penalty. The last
/// step is the customer's. A playbook cannot lock a pool: every step from the commit step
/// on has an SLA, the confirmation window ends before the customer's deadline, and every
/// dispute has a window for the arbiter. The engine deploys it and keeps only what its
/// steps read; the rules of what a playbook may be live here.
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
        playbookId = engine.storePlaybook(name, version, steps, options);
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
}
