// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Status, AttestationState, StepSpec, PlaybookOptions, Field, OrgKind, Subject} from "../JourneyTypes.sol";

/// @title The errors and events of the journey engine
/// @notice Every refusal names the rule that refused and carries the values a caller
/// needs to understand it; every state change emits one of these events.
interface IJourneyEngine {
    /*//////////////////////////////////////////////////////////////
                        PARTICIPANTS AND THE RULEBOOK
    //////////////////////////////////////////////////////////////*/

    /// @param account The caller.
    /// @param role The role the action needs.
    error MissingRole(address account, bytes32 role);
    /// @param role A role no playbook may name: zero after ADMIN, or the customer's.
    error InvalidRole(bytes32 role);
    /// @param role A role already defined.
    error RoleExists(bytes32 role);
    /// @param role A role that was never defined.
    error UnknownRole(bytes32 role);
    /// @dev 64 roles are defined already.
    error TooManyRoles();
    /// @dev An organisation needs a name.
    error EmptyName();
    /// @param org An organisation that was never registered.
    error UnknownOrganisation(uint32 org);
    /// @param account A participant that belongs to an organisation already.
    /// @param org Its organisation.
    error AlreadyMember(address account, uint32 org);
    /// @param account An account that belongs to no organisation, so holds no role.
    error NoOrganisation(address account);
    /// @param caller Not the engine's directory.
    error NotDirectory(address caller);
    /// @param account ADMIN, which never owns, completes or is assigned a step.
    error AdminMayNotOwnStep(address account);
    /// @param account An address that has never been granted a role.
    error NotParticipant(address account);
    /// @param account The participant.
    /// @param accepted The rulebook version it accepted (0: none).
    /// @param current The version in force.
    error RulebookNotAccepted(address account, uint32 accepted, uint32 current);
    /// @param version The version the signature accepts.
    /// @param current The version in force.
    error StaleRulebook(uint32 version, uint32 current);
    /// @dev A rulebook hash of zero.
    error EmptyRulebook();
    /// @param deadline The signature's deadline, already passed.
    error SignatureExpired(uint256 deadline);
    /// @param signer The account (or ERC-1271 contract wallet) whose signature it is not.
    error BadSignature(address signer);

    /// @param version The new version number.
    /// @param rulebook Hash of the consensus rules' text.
    event RulebookPublished(uint32 indexed version, bytes32 rulebook);
    /// @param account The participant.
    /// @param version The version it accepted.
    event RulebookAccepted(address indexed account, uint32 indexed version);
    /// @param account The new participant.
    /// @param id Its number, used in packed journey state.
    event ParticipantRegistered(address indexed account, uint32 id);
    /// @param org The new organisation's number.
    /// @param name Its short name.
    /// @param kind A company unit or an outside firm.
    event OrganisationRegistered(uint32 indexed org, bytes32 name, OrgKind kind);
    /// @param org The organisation.
    /// @param account Its new participant.
    event MemberAdded(uint32 indexed org, address indexed account);
    /// @param role The role id.
    /// @param bit Its bit in a participant's role bits.
    /// @param name Its name (the id is keccak256 of it; ADMIN's id is zero).
    event RoleDefined(bytes32 indexed role, uint8 bit, bytes32 name);

    /*//////////////////////////////////////////////////////////////
                                PLAYBOOKS
    //////////////////////////////////////////////////////////////*/

    /// @param count The number of steps offered (2 to 16 allowed).
    error StepCountOutOfRange(uint256 count);
    /// @param totalBps The sum of the steps' payout shares, above 10,000.
    error SharesExceedTotal(uint256 totalBps);
    /// @param step The step with no owning role.
    error EmptyRole(uint256 step);
    /// @param step The step naming a calendar.
    /// @param calendar A calendar that was never published.
    error UnknownStepCalendar(uint256 step, uint8 calendar);
    /// @param step The customer's step, which names a calendar: the customer's clock is wall-clock time.
    error CustomerStepCalendar(uint256 step);
    /// @param step The step whose penalty is above 10,000 basis points.
    error PenaltyOutOfRange(uint256 step);
    /// @param step A customer step that is not the last one.
    error CustomerStepNotLast(uint256 step);
    /// @param step The last step, which is not the customer's.
    error LastStepNotCustomer(uint256 step);
    /// @param step A step with more than 32 required fields or attestations.
    error TooManyRequirements(uint256 step);
    /// @param step The commit step named by the options, out of range.
    error InvalidCommitStep(uint256 step);
    /// @param window A confirmation window not shorter than the customer's SLA.
    error InvalidConfirmWindow(uint32 window);
    /// @dev A dispute window of zero: a dispute would have no end.
    error InvalidDisputeWindow();
    /// @param step A step from the commit step on (or the customer's) with no SLA.
    error MissingSla(uint256 step);
    /// @param step A step whose warning threshold is not below 10,000 basis points, or
    /// that warns with no SLA to warn of.
    error InvalidWarning(uint256 step);
    /// @param step The step.
    /// @param key A field or attestation it names twice.
    error DuplicateRequirement(uint256 step, bytes32 key);
    /// @param playbookId A playbook that was never published.
    error UnknownPlaybook(uint256 playbookId);

    /// @param playbookId Its number, from 1.
    /// @param name Its short name.
    /// @param version Its author's version number.
    /// @param steps Its steps, as authored.
    /// @param options Its options.
    event PlaybookPublished(
        uint16 indexed playbookId, bytes32 name, uint32 version, StepSpec[] steps, PlaybookOptions options
    );

    /*//////////////////////////////////////////////////////////////
                               ATTESTATIONS
    //////////////////////////////////////////////////////////////*/

    /// @param schema The schema.
    /// @param subject The subject.
    /// @param attester An account that never attested the schema about the subject.
    error NoAttestation(bytes32 schema, bytes32 subject, address attester);
    /// @param uid An attestation that is not its attester's newest of its schema and subject.
    /// @param newest The newest, which replaced it.
    error AttestationReplaced(bytes32 uid, bytes32 newest);
    /// @param uid An attestation revoked already.
    error AttestationAlreadyRevoked(bytes32 uid);
    /// @param expiry An expiry that is not in the future.
    error ExpiryNotInFuture(uint64 expiry);
    /// @dev A zero subject.
    error EmptyAttestation();
    /// @param schema A schema name that is zero or longer than 30 bytes.
    error InvalidSchema(bytes32 schema);
    /// @param schema A schema registered already (schemas never change).
    error SchemaExists(bytes32 schema);
    /// @param schema A schema never registered.
    error UnknownSchema(bytes32 schema);

    /// @param schema Its short name.
    /// @param role The role its verifiers hold.
    /// @param subject What its attestations are about.
    event SchemaRegistered(bytes32 indexed schema, bytes32 role, Subject subject);

    /// @param uid Its unique id.
    /// @param schema What it states (for example "identity_verified").
    /// @param subject The customer commitment (or journey) it is about.
    /// @param attester The verifier.
    /// @param expiry When it stops being valid (0: never).
    /// @param data Hash of the off-chain statement.
    event Attested(
        bytes32 indexed uid, bytes32 indexed schema, bytes32 indexed subject, address attester, uint64 expiry, bytes32 data
    );
    /// @param uid The attestation.
    /// @param attester The verifier who revoked it.
    event AttestationRevoked(bytes32 indexed uid, address attester);

    /*//////////////////////////////////////////////////////////////
                                 JOURNEYS
    //////////////////////////////////////////////////////////////*/

    /// @param journeyId A reference already used by another journey.
    error JourneyExists(bytes32 journeyId);
    /// @param journeyId A journey that was never opened.
    error UnknownJourney(bytes32 journeyId);
    /// @dev A zero journey reference or customer commitment.
    error EmptyReference();
    /// @param journeyId The journey.
    /// @param status Its status, which does not allow the action.
    error JourneyNotOpen(bytes32 journeyId, Status status);
    /// @param journeyId The journey.
    /// @param step The current step.
    /// @param account The caller.
    /// @param assignee The participant the step is assigned to.
    error NotAssignee(bytes32 journeyId, uint8 step, address account, address assignee);
    /// @param journeyId The journey.
    /// @param step The current step.
    /// @param account The caller, not of the organisation that owns the step.
    /// @param org The organisation that owns it.
    error WrongOrganisation(bytes32 journeyId, uint8 step, address account, uint32 org);
    /// @param account The assignee named.
    /// @param org The organisation named with it, which it does not belong to.
    error NotInOrganisation(address account, uint32 org);
    /// @param journeyId The journey.
    /// @param step The next step, whose owner (an organisation or a participant) must be named.
    error OwnerRequired(bytes32 journeyId, uint8 step);
    /// @param journeyId The journey.
    /// @param step The step.
    /// @param field A field key given twice.
    error DuplicateField(bytes32 journeyId, uint8 step, bytes32 field);
    /// @param journeyId The journey.
    /// @param step The step.
    /// @param account Neither ADMIN nor the account that completed the previous step.
    error NotEscalator(bytes32 journeyId, uint8 step, address account);
    /// @param journeyId The journey.
    /// @param step The step.
    /// @param account The caller, who may not escalate a step to itself.
    error SelfEscalation(bytes32 journeyId, uint8 step, address account);
    /// @param journeyId The journey.
    /// @param step The step whose completion was refused.
    /// @param field The first required field missing or with a zero commitment.
    error MissingField(bytes32 journeyId, uint8 step, bytes32 field);
    /// @param journeyId The journey.
    /// @param step The step whose completion was refused.
    /// @param schema The first required attestation that is not valid.
    /// @param state Missing, expired, revoked or unauthorised (its attester lost the
    /// schema's role); Missing too when no attester was named for it.
    error AttestationNotValid(bytes32 journeyId, uint8 step, bytes32 schema, AttestationState state);
    /// @param journeyId The journey.
    /// @param step The step, owned by the customer: it completes by the customer's signature.
    error CustomerStep(bytes32 journeyId, uint8 step);
    /// @param journeyId The journey.
    /// @param step The current step.
    /// @param deadline Its deadline, not yet passed (or none).
    error DeadlineNotPassed(bytes32 journeyId, uint8 step, uint40 deadline);
    /// @param journeyId The journey.
    /// @param step The customer's step, whose deadline passed before value was confirmed.
    /// @param deadline That deadline.
    error DeadlinePassed(bytes32 journeyId, uint8 step, uint40 deadline);
    /// @param journeyId The journey.
    /// @param step The step already flagged as breached.
    error AlreadyBreached(bytes32 journeyId, uint8 step);
    /// @param journeyId The journey.
    /// @param step The current step, with no deadline, past it, or flagged as breached.
    /// @param deadline Its deadline (0: none).
    error CannotPause(bytes32 journeyId, uint8 step, uint40 deadline);
    /// @param journeyId The journey.
    /// @param step The current step, paused already.
    error StepAlreadyPaused(bytes32 journeyId, uint8 step);
    /// @param journeyId The journey.
    /// @param step The current step, paused as often as a step may be.
    /// @param max How often a step may be paused.
    error TooManyPauses(bytes32 journeyId, uint8 step, uint8 max);
    /// @param journeyId The journey.
    /// @param step The current step, not paused.
    error StepNotPaused(bytes32 journeyId, uint8 step);
    /// @param journeyId The journey.
    /// @param step The step that needs a funded pool before it completes.
    error PoolNotFunded(bytes32 journeyId, uint8 step);
    /// @param journeyId The journey.
    /// @param step The breached step.
    /// @param assignee The owner who breached it, to whom it cannot be escalated.
    error SameAssignee(bytes32 journeyId, uint8 step, address assignee);

    /// @param journeyId The journey (its unique external reference).
    /// @param playbookId The playbook it runs.
    /// @param customer The customer commitment.
    /// @param opener Who opened it.
    /// @param funder The funder, who alone may fund its pool.
    /// @param deadline The first step's deadline (0: none).
    event JourneyOpened(
        bytes32 indexed journeyId,
        uint16 indexed playbookId,
        bytes16 customer,
        address indexed opener,
        address funder,
        uint40 deadline
    );
    /// @param journeyId The journey.
    /// @param step The step completed.
    /// @param by Who completed it (the step's owner for payouts).
    /// @param late Whether it was completed after its deadline.
    /// @param fields The fields supplied: each key with the salted commitment of its value.
    /// keccak256(abi.encode(fields)) is the step's evidence hash, folded into the journey's
    /// rolling hash.
    /// @param nextOrg The organisation named to own the next step (zero: the assignee's).
    /// @param nextAssignee The participant named to own the next step (zero: any participant of `nextOrg`).
    /// @param nextDeadline The next step's deadline (0: none).
    event StepCompleted(
        bytes32 indexed journeyId,
        uint8 step,
        address indexed by,
        bool late,
        Field[] fields,
        uint32 nextOrg,
        address indexed nextAssignee,
        uint40 nextDeadline
    );
    /// @param journeyId The journey.
    /// @param step The step breached.
    /// @param assignee The participant the breach is recorded against (zero: an organisation).
    /// @param org The organisation it is recorded against (zero: a participant).
    /// @param deadline The deadline that passed.
    event BreachRecorded(bytes32 indexed journeyId, uint8 step, address indexed assignee, uint32 org, uint40 deadline);
    /// @param journeyId The journey.
    /// @param step The step paused.
    /// @param by Its owner, who paused it.
    /// @param reason Why it waits (a code; 0: none given).
    /// @param left The seconds its SLA had left.
    /// @param deadline Its deadline while paused (the time left plus the longest pause).
    event StepPaused(bytes32 indexed journeyId, uint8 step, address indexed by, uint8 reason, uint32 left, uint40 deadline);
    /// @param journeyId The journey.
    /// @param step The step resumed.
    /// @param by Its owner, or the customer who replied.
    /// @param deadline Its deadline from now: the time it had left when paused.
    event StepResumed(bytes32 indexed journeyId, uint8 step, address indexed by, uint40 deadline);
    /// @param journeyId The journey.
    /// @param step The step reassigned.
    /// @param from The previous owner, a participant (zero: an organisation).
    /// @param fromOrg The previous owner, an organisation (zero: a participant).
    /// @param to The new owner.
    /// @param deadline The new deadline.
    event Escalated(
        bytes32 indexed journeyId, uint8 step, address indexed from, uint32 fromOrg, address indexed to, uint40 deadline
    );

    /*//////////////////////////////////////////////////////////////
                      INCENTIVES AND THE CUSTOMER'S VOICE
    //////////////////////////////////////////////////////////////*/

    /// @dev A zero amount.
    error ZeroAmount();
    /// @param journeyId The journey.
    /// @param account The caller.
    /// @param funder The funder named when the journey opened, who alone may fund it.
    error NotFunder(bytes32 journeyId, address account, address funder);
    /// @param journeyId The journey.
    /// @param account A participant, which can never be a journey's customer.
    error ParticipantAsCustomer(bytes32 journeyId, address account);
    /// @param journeyId The journey.
    /// @param signed The rolling hash the customer signed over.
    /// @param current The journey's rolling hash now.
    error StaleSignature(bytes32 journeyId, bytes20 signed, bytes20 current);
    /// @param journeyId The journey.
    /// @param arbiter An arbiter that completed a step of the journey or is its funder.
    error ArbiterConflict(bytes32 journeyId, address arbiter);
    /// @param journeyId The journey.
    /// @param closedAt When the arbiter's window closed.
    error DisputeWindowPassed(bytes32 journeyId, uint256 closedAt);
    /// @param journeyId The journey.
    /// @param closesAt When the arbiter's window closes.
    error DisputeWindowOpen(bytes32 journeyId, uint256 closesAt);
    /// @param journeyId The journey.
    /// @param pool The pool that would exceed the largest amount a pool holds.
    error PoolTooLarge(bytes32 journeyId, uint256 pool);
    /// @param journeyId The journey.
    /// @param nonce The nonce signed.
    /// @param expected The journey's current customer nonce.
    error StaleNonce(bytes32 journeyId, uint32 nonce, uint32 expected);
    /// @param balance The standing budget that would exceed the largest amount a budget holds.
    error BudgetTooLarge(uint256 balance);
    /// @param balance What the caller's standing budget for the playbook holds.
    /// @param amount The amount asked for.
    error BudgetShort(uint256 balance, uint256 amount);
    /// @param caller An address other than the signature relay (the customer voice contract).
    error NotVoice(address caller);
    /// @param caller Who called: only the engine's attestation registry records attestations.
    error NotRegistry(address caller);
    /// @param caller Not the engine's playbook publisher, which alone has playbooks kept.
    error NotPublisher(address caller);
    /// @param journeyId The journey.
    /// @param signer The address that signed, which the customer commitment does not bind.
    error NotCustomer(bytes32 journeyId, address signer);
    /// @param journeyId The journey whose step records do not match its rolling hash.
    error HistoryMismatch(bytes32 journeyId);
    /// @param journeyId The journey.
    /// @param step The step the customer's action needs, not reached yet.
    error StepNotReached(bytes32 journeyId, uint8 step);
    /// @param journeyId The journey.
    /// @param step A step disputed once already.
    error AlreadyDisputed(bytes32 journeyId, uint8 step);
    /// @param journeyId A journey with no open dispute.
    error NoOpenDispute(bytes32 journeyId);
    /// @param journeyId The journey.
    /// @param releaseAt When the confirmation window closes (0: the playbook has none).
    error WindowNotElapsed(bytes32 journeyId, uint256 releaseAt);
    /// @param journeyId The journey, committed already: it can no longer be cancelled.
    /// @param step Its current step.
    error NotCancellable(bytes32 journeyId, uint8 step);
    /// @param score A rating outside 1 to 5.
    error InvalidScore(uint8 score);
    /// @param journeyId The journey.
    /// @param step A step rated once already.
    error AlreadyRated(bytes32 journeyId, uint8 step);
    /// @param playbookId A playbook that does not let a verifier confirm value.
    error VerifierConfirmationOff(uint16 playbookId);
    /// @param account A caller with no credit.
    error NothingToClaim(address account);

    /// @param journeyId The journey.
    /// @param funder Who funded.
    /// @param amount Tokens added.
    /// @param pool The pool after funding.
    event PoolFunded(bytes32 indexed journeyId, address indexed funder, uint256 amount, uint256 pool);
    /// @param funder The funder whose standing budget it is.
    /// @param playbookId The playbook whose journeys draw on it.
    /// @param perJourney The pool each journey draws at its opening (0: none draws).
    /// @param openerOrg The organisation whose openings may draw.
    /// @param balance The tokens the budget holds now.
    event BudgetChanged(
        address indexed funder, uint16 indexed playbookId, uint96 perJourney, uint32 openerOrg, uint96 balance
    );
    /// @param journeyId The journey.
    /// @param by The customer who signed, the verifier who attested, or zero on optimistic release.
    /// @param customer The customer, owner of the customer's step.
    /// @param amounts What each step's owner was credited, after penalties, in step order:
    /// the owner of step i is the `by` of its {StepCompleted}; the last is the customer.
    /// @param forfeited Penalties and upheld disputes' shares.
    /// @param forfeitedTo Who was credited the forfeited amount (zero when nothing was
    /// forfeited and nothing went back to the funder).
    /// @param remainder Unallocated share and rounding, credited to the funder.
    event ValueConfirmed(
        bytes32 indexed journeyId,
        address indexed by,
        address customer,
        uint256[] amounts,
        uint256 forfeited,
        address forfeitedTo,
        uint256 remainder
    );
    /// @param account Who claimed.
    /// @param amount Tokens transferred.
    event Claimed(address indexed account, uint256 amount);
    /// @param journeyId The journey.
    /// @param step The disputed step.
    /// @param reason Commitment of the customer's reason.
    event Disputed(bytes32 indexed journeyId, uint8 step, bytes32 reason);
    /// @param journeyId The journey.
    /// @param step The disputed step.
    /// @param upheld Whether the customer was right (the step's share is forfeited).
    /// @param arbiter Who resolved it.
    event DisputeResolved(bytes32 indexed journeyId, uint8 step, bool upheld, address indexed arbiter);
    /// @param journeyId The journey.
    /// @param step The step rated.
    /// @param owner The step's owner.
    /// @param score 1 to 5.
    /// @param comment Commitment of the customer's comment.
    event Rated(bytes32 indexed journeyId, uint8 step, address indexed owner, uint8 score, bytes32 comment);
    /// @param journeyId The journey.
    /// @param step The paused step replied to.
    /// @param message Commitment of the customer's reply.
    event CustomerReplied(bytes32 indexed journeyId, uint8 step, bytes32 message);
    /// @param journeyId The journey.
    /// @param step The step waiting for its pool, whose clock started again.
    /// @param deadline Its new deadline.
    event ClockRestarted(bytes32 indexed journeyId, uint8 step, uint40 deadline);
    /// @param journeyId The journey, expired (value never confirmed, or a dispute left
    /// past its window with a refund fallback) or cancelled.
    /// @param status Expired or Cancelled.
    /// @param refund The pool credited back to its funder.
    event JourneyClosed(bytes32 indexed journeyId, Status status, uint256 refund);
}
