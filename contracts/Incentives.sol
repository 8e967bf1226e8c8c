// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Journeys} from "./Journeys.sol";
import {CompanionFactory} from "./CompanionFactory.sol";
import {CustomerVoice} from "./CustomerVoice.sol";
import {IEngineHooks} from "./interfaces/IEngineHooks.sol";
import {
    Status, StepRecord, CustomerSignature, AttestationState, StepConfig, customerCommitment
} from "./JourneyTypes.sol";

/// @title Incentives and the customer's voice
/// @notice Each journey escrows a pool of incentive tokens. Nobody is paid until the
/// customer confirms value was delivered (by an EIP-712 signature relayed by anyone,
/// by a verifier's "value delivered" attestation where the playbook allows it, or by
/// silence past the playbook's confirmation window). Then every step's owner is
/// credited its share less its breach penalty; credits are claimed by pull, in one
/// transfer for any number of journeys. The customer may dispute a step, which holds
/// the payouts until an arbiter resolves it, and rate the step owners afterwards.
abstract contract Incentives is Journeys {
    using SafeERC20 for IERC20;

    /*//////////////////////////////////////////////////////////////
                                 STORAGE
    //////////////////////////////////////////////////////////////*/

    /// @notice The incentive token the pools hold.
    IERC20 public immutable token;

    /// @notice The contract that verifies the customer's signatures and relays its disputes and ratings.
    address public immutable voice;

    /// @dev The attestation schema a verifier uses to attest that value was delivered (the
    /// subject is the journey id); the registry registers it (see its VALUE_DELIVERED).
    bytes32 private constant _VALUE_DELIVERED = "value_delivered";


    /// @param token_ The incentive token.
    /// @param factory Deploys the customer voice (its code is not part of the engine's).
    constructor(IERC20 token_, CompanionFactory factory) {
        token = token_;
        voice = address(factory.newVoice());
    }

    /*//////////////////////////////////////////////////////////////
                                 FUNDING
    //////////////////////////////////////////////////////////////*/

    /// @notice Adds `amount` tokens to a journey's pool (after `approve`). Only the funder
    /// named when the journey opened may fund it. A step that needs the pool funded does
    /// not count its clock against its owner while it waits: the first funding restarts
    /// its deadline from now if that is later.
    /// @dev Requirements: the journey is open or disputed (value not confirmed yet); the
    /// caller is its funder, holds FUNDER and accepted the rulebook; `amount` is not zero.
    /// Emits {PoolFunded} (and {ClockRestarted} when the waiting step's deadline moves).
    /// @param journeyId The journey.
    /// @param amount Tokens to add.
    function fund(bytes32 journeyId, uint256 amount) public {
        Journey memory j = _liveJourney(journeyId);
        address sender = _msgSender();
        uint32 funder = _checkActor(sender, _FUNDER_BIT).id;
        Funds memory f = _funds[journeyId];
        if (f.funder != funder) revert NotFunder(journeyId, sender, _accountOf(f.funder));
        if (amount == 0) revert ZeroAmount();
        uint256 pool = f.pool + amount;
        if (pool > type(uint96).max) revert PoolTooLarge(journeyId, pool);
        // slither-disable-next-line incorrect-equality (an unfunded pool is exactly zero)
        if (f.pool == 0) _restartGatedClock(journeyId, j);
        // Checked just above: `pool` fits 96 bits.
        f.pool = uint96(pool);
        _funds[journeyId] = f;
        emit PoolFunded(journeyId, sender, amount, pool);
        token.safeTransferFrom(sender, address(this), amount);
    }

    /// @notice Funds a pool with an EIP-2612 permit instead of a prior `approve`, in one call.
    /// @dev A permit already used (for example by someone who saw it first) is ignored;
    /// the transfer then needs the allowance it gave. Same requirements as {fund}.
    /// @param journeyId The journey.
    /// @param amount Tokens to add.
    /// @param deadline The permit's deadline.
    /// @param v The permit signature's v.
    /// @param r The permit signature's r.
    /// @param s The permit signature's s.
    function fundWithPermit(bytes32 journeyId, uint256 amount, uint256 deadline, uint8 v, bytes32 r, bytes32 s)
        external
    {
        try IERC20Permit(address(token)).permit(_msgSender(), address(this), amount, deadline, v, r, s) {} catch {}
        fund(journeyId, amount);
    }

    /// @notice Sets the caller's standing budget for a playbook and adds `deposit` tokens to it
    /// (after `approve`): every journey opened afterwards under that playbook naming the caller
    /// as its funder draws `perJourney` from it as its pool, at its opening, while the budget
    /// holds that much, and only when a participant of `openerOrg` opens it: the funder names the
    /// one organisation it trusts to open its journeys, never "anyone". A programme's funding is
    /// then one deposit, not one transaction per journey. Journeys opened
    /// before are not touched; what a journey drew is its pool, refunded to the funder (as a
    /// credit) if it expires or is cancelled, like any pool.
    /// @dev Requirements: the caller holds FUNDER and accepted the rulebook; the playbook
    /// exists; `openerOrg` is a registered organisation; the balance stays within 96
    /// bits. Emits {BudgetChanged}.
    /// @param playbookId The playbook whose journeys draw on the budget.
    /// @param perJourney The pool each journey draws (0: none draws; the balance stays).
    /// @param openerOrg The organisation whose openings may draw.
    /// @param deposit Tokens added to the budget (0: terms only).
    function setBudget(uint16 playbookId, uint96 perJourney, uint32 openerOrg, uint96 deposit) external {
        address sender = _msgSender();
        _checkActor(sender, _FUNDER_BIT);
        _header(playbookId);
        if (!_orgExists(openerOrg)) revert UnknownOrganisation(openerOrg);
        Budget storage b = _budgets[sender][playbookId];
        uint256 balance = uint256(b.balance) + deposit;
        if (balance > type(uint96).max) revert BudgetTooLarge(balance);
        // Checked just above: the balance fits 96 bits.
        _budgets[sender][playbookId] = Budget({perJourney: perJourney, balance: uint96(balance), openerOrg: openerOrg});
        emit BudgetChanged(sender, playbookId, perJourney, openerOrg, uint96(balance));
        if (deposit != 0) token.safeTransferFrom(sender, address(this), deposit);
    }

    /// @notice Takes `amount` tokens back from the caller's standing budget for a playbook.
    /// Always open to the budget's funder, even one that no longer holds FUNDER: a budget
    /// never locks its tokens.
    /// @dev Requirements: `amount` is not zero and the budget holds it. Emits {BudgetChanged}.
    /// @param playbookId The playbook.
    /// @param amount Tokens to take back.
    function withdrawBudget(uint16 playbookId, uint96 amount) external {
        address sender = _msgSender();
        if (amount == 0) revert ZeroAmount();
        Budget storage b = _budgets[sender][playbookId];
        Budget memory m = b;
        if (m.balance < amount) revert BudgetShort(m.balance, amount);
        // Checked just above: the balance holds the amount.
        unchecked {
            b.balance = m.balance - amount;
        }
        emit BudgetChanged(sender, playbookId, m.perJourney, m.openerOrg, m.balance - amount);
        token.safeTransfer(sender, amount);
    }

    /*//////////////////////////////////////////////////////////////
                            VALUE CONFIRMATION
    //////////////////////////////////////////////////////////////*/

    /// @notice Completes the customer's step on the customer's signed confirmation that
    /// value was delivered, relayed by anyone, and credits every step owner. Value must be
    /// confirmed before the customer's step's deadline: past it the journey can only
    /// expire, so that a refund and a payout never race. A replay is refused: value is
    /// confirmed once.
    /// @dev Requirements: the signature is the customer's (checked by the customer voice,
    /// under its EIP-712 domain), for this journey, playbook and chain, over the journey's
    /// current rolling hash (a confirmation signed before the last step is stale), with the
    /// current nonce and an unexpired deadline, by an address that is no participant; the journey is open (no dispute pending) at the
    /// customer's step, whose deadline has not passed; `history` is the record of every
    /// completed step and matches the rolling hash. Emits {ValueConfirmed}.
    /// @param journeyId The journey.
    /// @param history Each completed step's owner, lateness and evidence hash, in order.
    /// @param sig The customer's signature.
    function confirmValue(bytes32 journeyId, StepRecord[] calldata history, CustomerSignature calldata sig)
        external
    {
        Journey memory j = _known(journeyId);
        Funds memory f = _funds[journeyId];
        // Only a dispute (which marks the journey) or a rating (once value is confirmed)
        // uses a customer nonce: an open journey with nothing recorded is still at nonce 0.
        // slither-disable-next-line incorrect-equality (a status compared)
        bool quiet = j.status == Status.Open && !j.exceptional;
        address signer =
            CustomerVoice(voice).confirmationSigner(journeyId, j.playbookId, f.customer, j.head, quiet, sig);
        // The voice checked the signature; a participant never signs as the customer.
        if (_idOf(signer) != 0) revert ParticipantAsCustomer(journeyId, signer);
        _settle(journeyId, j, f, history, signer, signer);
    }

    /// @notice Establishes value on a verifier's valid "value delivered" attestation about
    /// the journey, where the playbook allows it, and credits every step owner. Anyone may
    /// relay it.
    /// @dev Requirements: the playbook allows it; `verifier`'s newest "value_delivered"
    /// attestation of the journey is valid and `verifier` still holds VERIFIER; `customer` and `profile` open the customer commitment (a
    /// make-good goes to the customer) and `customer` is no participant; the rest as {confirmValue}. Emits {ValueConfirmed}.
    /// @param journeyId The journey.
    /// @param history Each completed step's record, in order.
    /// @param customer The customer's signing address.
    /// @param profile The profile hash the customer commitment binds.
    /// @param verifier The verifier whose attestation establishes value.
    function confirmByAttestation(
        bytes32 journeyId,
        StepRecord[] calldata history,
        address customer,
        bytes32 profile,
        address verifier
    ) external {
        Journey memory j = _known(journeyId);
        if (!_header(j.playbookId).options.verifierMayConfirm) revert VerifierConfirmationOff(j.playbookId);
        AttestationState state = _attestationState(_VALUE_DELIVERED, journeyId, verifier, _VERIFIER_BIT);
        if (state != AttestationState.Valid) revert AttestationNotValid(journeyId, j.step, _VALUE_DELIVERED, state);
        Funds memory f = _funds[journeyId];
        _openCustomer(journeyId, f, customer, profile);
        _settle(journeyId, j, f, history, customer, verifier);
    }

    /// @notice Optimistic release: once the playbook's confirmation window has passed
    /// since the customer's step started, with neither confirmation nor dispute, the
    /// customer is taken to have received value. Anyone may trigger the payouts.
    /// @dev Requirements: the playbook has a window and it has elapsed; `customer` and
    /// `profile` open the customer commitment and `customer` is no participant; the rest
    /// as {confirmValue}. Emits {ValueConfirmed}.
    /// @param journeyId The journey.
    /// @param history Each completed step's record, in order.
    /// @param customer The customer's signing address.
    /// @param profile The profile hash the customer commitment binds.
    function release(bytes32 journeyId, StepRecord[] calldata history, address customer, bytes32 profile) external {
        Journey memory j = _known(journeyId);
        uint256 releaseAt = _releaseTime(j);
        // slither-disable-next-line incorrect-equality,timestamp (0 means no window; a window is a time)
        if (releaseAt == 0 || block.timestamp <= releaseAt) revert WindowNotElapsed(journeyId, releaseAt);
        Funds memory f = _funds[journeyId];
        _openCustomer(journeyId, f, customer, profile);
        _settle(journeyId, j, f, history, customer, address(0));
    }


    /*//////////////////////////////////////////////////////////////
                            THE CUSTOMER'S VOICE
    //////////////////////////////////////////////////////////////*/

    /// @notice Holds the journey on the customer's dispute of a completed step, verified
    /// by the customer voice: no step, confirmation or release until an ARBITER resolves it.
    /// @dev Requirements: the caller is the customer voice; the journey is open; `step`
    /// was completed and never disputed. Emits {Disputed}.
    /// @param journeyId The journey.
    /// @param step The disputed step.
    /// @param reason Commitment of the customer's reason.
    function holdForDispute(bytes32 journeyId, uint8 step, bytes32 reason) external {
        if (msg.sender != voice) revert NotVoice(msg.sender);
        Journey memory j = _openJourney(journeyId);
        if (step >= j.step) revert StepNotReached(journeyId, step);
        Exceptions memory x = _exceptionsOf(journeyId, j);
        if (x.disputed & (1 << step) != 0) revert AlreadyDisputed(journeyId, step);
        x.disputed |= uint16(1 << step);
        x.disputeStep = step;
        x.since = uint40(block.timestamp);
        _exceptions[journeyId] = x;
        j.exceptional = true;
        j.status = Status.Disputed;
        _store(journeyId, j);
        emit Disputed(journeyId, step, reason);
    }

    /// @notice Holds the current step's clock while its owner waits on the customer (the
    /// customer voice keeps the pause and its limits): the working time the step's SLA has
    /// left is kept, and the deadline held is when it would run out if the clock ran again
    /// `extension` seconds from now (by the step's calendar: paused time never counts).
    /// A step past its deadline, flagged, or waiting for its pool cannot be held, so a pause
    /// never hides a breach.
    /// @dev Requirements: the caller is the customer voice; the journey is open; `owner`
    /// may act on the current step as its owner; the step has a deadline, not passed and
    /// not flagged, and its pool is funded if it must be. Emits {StepPaused}.
    /// @param journeyId The journey.
    /// @param owner The step's owner, who pauses it.
    /// @param reason Why it waits (a code; 0: none given).
    /// @param extension The longest pause: the clock runs again after it.
    /// @return step The step held.
    /// @return was Its deadline before.
    /// @return deadline Its deadline while held.
    /// @return left The working seconds its SLA had left.
    /// @return calendar The calendar its SLA counts by (0: wall-clock time).
    function holdClock(bytes32 journeyId, address owner, uint8 reason, uint32 extension)
        external
        returns (uint8 step, uint40 was, uint40 deadline, uint32 left, uint8 calendar)
    {
        if (msg.sender != voice) revert NotVoice(msg.sender);
        Journey memory j = _openJourney(journeyId);
        StepConfig memory c = _config(j.playbookId, j.step);
        _checkOwner(journeyId, j, c, owner);
        step = j.step;
        was = j.deadline;
        // slither-disable-next-line timestamp,incorrect-equality (a deadline is a time; steps compared)
        if (was == 0 || block.timestamp > was || _exceptionsOf(journeyId, j).flagged == step + 1) {
            revert CannotPause(journeyId, step, was);
        }
        // slither-disable-next-line incorrect-equality (an unfunded pool is exactly zero)
        if (c.flags & _FUND_GATE != 0 && _funds[journeyId].pool == 0) revert PoolNotFunded(journeyId, step);
        calendar = c.calendar;
        (uint256 kept, uint256 held) =
            calendars.moveDeadline(calendar, block.timestamp, was, block.timestamp + extension);
        // What is left of an SLA is at most the SLA, which fits 32 bits; the calendars refuse
        // a deadline past 40 bits.
        left = uint32(kept);
        deadline = uint40(held);
        j.deadline = deadline;
        // The customer's voice now counts a signed reply: settlement must read its nonce.
        j.exceptional = true;
        _store(journeyId, j);
        emit StepPaused(journeyId, step, owner, reason, left, deadline);
    }

    /// @notice Ends a pause the customer voice kept: the step's deadline becomes `deadline`.
    /// @dev Requirements: the caller is the customer voice; the journey is open, still at
    /// `step`, and its deadline is still `held` (an escalation, or the clock restarting at
    /// the first funding, ended the pause already); when `asOwner`, `by` may act on the step
    /// as its owner. Emits {StepResumed}.
    /// @param journeyId The journey.
    /// @param step The step paused.
    /// @param held Its deadline while held.
    /// @param deadline Its deadline from now.
    /// @param by Its owner, or the customer who replied.
    /// @param asOwner Whether `by` resumes it as its owner (else the voice verified the customer).
    function releaseClock(bytes32 journeyId, uint8 step, uint40 held, uint40 deadline, address by, bool asOwner)
        external
    {
        if (msg.sender != voice) revert NotVoice(msg.sender);
        Journey memory j = _openJourney(journeyId);
        // slither-disable-next-line incorrect-equality (steps and deadlines compared)
        if (j.step != step || j.deadline != held) revert StepNotPaused(journeyId, j.step);
        if (asOwner) _checkOwner(journeyId, j, _config(j.playbookId, j.step), by);
        j.deadline = deadline;
        _store(journeyId, j);
        emit StepResumed(journeyId, step, by, deadline);
    }

    /// @notice Ends the open dispute as the customer voice decided it: by the arbiter's
    /// resolution, or by the playbook's fallback once the arbiter's window has passed.
    /// Upheld: the step's share is forfeited as if breached, wholly. Rejected: the journey
    /// goes on. Either way the current step's deadline moves by the time the dispute held
    /// the journey.
    /// @dev Requirements: the caller is the customer voice (which checked the arbiter and
    /// the window); the journey has an open dispute. Emits {DisputeResolved}.
    /// @param journeyId The journey.
    /// @param upheld Whether the customer was right.
    /// @param arbiter Who resolved it (zero: the fallback).
    function endDispute(bytes32 journeyId, bool upheld, address arbiter) external {
        Journey memory j = _disputed(journeyId);
        Exceptions memory x = _exceptions[journeyId];
        if (upheld) x.upheld |= uint16(1 << x.disputeStep);
        // The deadline moves by the working time the dispute held the journey (the calendars
        // refuse a deadline past 40 bits).
        if (j.deadline != 0) {
            // slither-disable-next-line unused-return (only the moved deadline matters here)
            (, uint256 moved) = calendars.moveDeadline(
                _config(j.playbookId, j.step).calendar, x.since, j.deadline, block.timestamp
            );
            j.deadline = uint40(moved);
        }
        x.since = 0;
        _exceptions[journeyId] = x;
        j.status = Status.Open;
        _store(journeyId, j);
        emit DisputeResolved(journeyId, x.disputeStep, upheld, arbiter);
    }

    /// @notice Closes a journey whose dispute the arbiter left past its window, where the
    /// playbook's fallback refunds the pool to the funder: the journey expires.
    /// @dev Requirements: the caller is the customer voice (which checked the window and
    /// the fallback); the journey has an open dispute. Emits {JourneyClosed}.
    /// @param journeyId The journey.
    function refundDispute(bytes32 journeyId) external {
        _close(journeyId, _disputed(journeyId), Status.Expired);
    }

    /// @dev The journey, which must have an open dispute; the caller must be the voice.
    function _disputed(bytes32 journeyId) private view returns (Journey memory j) {
        if (msg.sender != voice) revert NotVoice(msg.sender);
        j = _load(journeyId);
        if (j.status != Status.Disputed) revert NoOpenDispute(journeyId);
    }

    /*//////////////////////////////////////////////////////////////
                          EXPIRY AND CANCELLATION
    //////////////////////////////////////////////////////////////*/

    /// @notice Expires a journey whose value was not confirmed before the customer's
    /// step's deadline; the whole pool is credited back to its funder, nobody else is.
    /// Anyone may call it. A pending dispute holds the journey, and its deadline moves by
    /// the time the dispute lasts: a disputed journey does not expire.
    /// @dev Requirements: the journey is open (no dispute pending), at the customer's
    /// step, whose deadline has passed. Emits {JourneyClosed}.
    /// @param journeyId The journey.
    function expire(bytes32 journeyId) external {
        Journey memory j = _openJourney(journeyId);
        if (_config(j.playbookId, j.step).role != _CUSTOMER_BIT) revert StepNotReached(journeyId, j.step);
        // slither-disable-next-line incorrect-equality (a deadline of 0 means none)
        if (j.deadline == 0 || block.timestamp <= j.deadline) revert DeadlineNotPassed(journeyId, j.step, j.deadline);
        _close(journeyId, j, Status.Expired);
    }

    /// @notice Cancels a journey before it is committed (before the deal is booked); the pool
    /// is credited back to its funder. ADMIN may cancel any such journey; the journey's funder
    /// may cancel one that nobody started: still at its first step, once that step's deadline
    /// has passed or at any time where it has none (so a pool drawn from a standing budget into
    /// a journey no one works is never stuck).
    /// @dev Requirements: the journey is open or disputed; the caller is ADMIN, has accepted
    /// the rulebook and the commit step is not completed, or the caller is the journey's funder
    /// and the first step is not completed, its deadline (if it has one) passed. Emits {JourneyClosed}.
    /// @param journeyId The journey.
    function cancel(bytes32 journeyId) external {
        address sender = _msgSender();
        Journey memory j = _liveJourney(journeyId);
        // slither-disable-next-line timestamp,incorrect-equality (a deadline is a time; step 0 compared)
        bool stalled = j.step == 0 && (j.deadline == 0 || block.timestamp > j.deadline);
        if (!stalled || _idOf(sender) != _funds[journeyId].funder) {
            _checkActor(sender, _ADMIN_BIT);
            if (j.step > _header(j.playbookId).options.commitStep) revert NotCancellable(journeyId, j.step);
        }
        _close(journeyId, j, Status.Cancelled);
    }

    /*//////////////////////////////////////////////////////////////
                                 CLAIMS
    //////////////////////////////////////////////////////////////*/

    /// @notice Transfers all of the caller's credit, from any number of journeys, in one transfer.
    /// @dev Requirements: the caller has credit. Emits {Claimed}.
    /// @return amount Tokens transferred.
    function claim() external returns (uint256 amount) {
        address sender = _msgSender();
        uint256 stored = _credits[sender];
        if (stored < 2) revert NothingToClaim(sender);
        // stored >= 2: no underflow.
        unchecked {
            amount = stored - 1;
        }
        _credits[sender] = 1;
        emit Claimed(sender, amount);
        token.safeTransfer(sender, amount);
    }

    /*//////////////////////////////////////////////////////////////
                                  VIEWS
    //////////////////////////////////////////////////////////////*/


    /// @notice A journey's open dispute as its arbiter's window sees it.
    /// @param journeyId The journey.
    /// @return since When the open dispute began (0: none open).
    /// @return window The seconds the arbiter has, from `since`.
    /// @return refundOnTimeout The playbook's fallback past the window: refund (or reject).
    /// @return funder The journey's funder.
    function disputeWindow(bytes32 journeyId)
        external
        view
        returns (uint40 since, uint32 window, bool refundOnTimeout, address funder)
    {
        Journey memory j = _known(journeyId);
        PlaybookHeader memory h = _header(j.playbookId);
        return (
            _exceptions[journeyId].since,
            h.options.disputeWindow,
            h.options.refundOnTimeout,
            _accountOf(_funds[journeyId].funder)
        );
    }

    /// @notice What a customer's signature is checked against.
    /// @param journeyId The journey.
    /// @return playbookId The journey's playbook (0: no such journey).
    /// @return status Its status.
    /// @return customer Its customer commitment.
    /// @return head Its rolling hash, which the customer signs over.
    function voiceContext(bytes32 journeyId)
        external
        view
        returns (uint16 playbookId, Status status, bytes16 customer, bytes20 head)
    {
        Journey memory j = _load(journeyId);
        return (j.playbookId, j.status, _funds[journeyId].customer, j.head);
    }


    /*//////////////////////////////////////////////////////////////
                            INTERNAL HELPERS
    //////////////////////////////////////////////////////////////*/

    /// @dev Replays `history` from the journey's first link and reverts with
    /// {HistoryMismatch} unless the result is the journey's rolling hash. Returns each
    /// step's owner (`last` for the customer's step, last). Each record's three words in
    /// calldata are exactly its ABI encoding, so they are hashed where they lie; a non-canonical record (dirty address
    /// or boolean) hashes differently and is refused by the comparison.
    function _replay(
        bytes32 journeyId,
        Journey memory j,
        bytes16 customer,
        StepRecord[] calldata history,
        address last
    ) private pure returns (address[] memory owners) {
        uint256 n = history.length;
        owners = new address[](n + 1);
        owners[n] = last;
        bytes20 h = _genesis(journeyId, j.playbookId, customer);
        assembly ("memory-safe") {
            let high := not(0xffffffffffffffffffffffff)
            let m := mload(0x40)
            h := and(h, high)
            for { let i := 0 } lt(i, n) { i := add(i, 1) } {
                let p := add(history.offset, mul(i, 0x60))
                mstore(m, h)
                mstore(add(m, 0x20), i)
                calldatacopy(add(m, 0x40), p, 0x60)
                h := and(keccak256(m, 0xa0), high)
                mstore(add(owners, shl(5, add(i, 1))), calldataload(p))
            }
        }
        if (h != j.head) revert HistoryMismatch(journeyId);
    }

    /// @dev Value is delivered: credit each step owner its share of the pool less its
    /// penalty if the step was breached (completed late, or flagged, before or after an
    /// escalation), all of it if a dispute of the step was upheld; forfeits
    /// go where the playbook says; the unallocated share and rounding go back to the funder.
    /// Requirements: the journey is open (no dispute pending) at the customer's step, whose
    /// deadline has not passed; `history` matches the rolling hash.
    function _settle(
        bytes32 journeyId,
        Journey memory j,
        Funds memory f,
        StepRecord[] calldata history,
        address customer,
        address confirmedBy
    ) private {
        if (j.status != Status.Open) revert JourneyNotOpen(journeyId, j.status);
        uint256 entry = _payoutEntry(j.playbookId, j.step);
        // slither-disable-next-line incorrect-equality (a bit test)
        if (entry & _CUSTOMER_ENTRY == 0) revert StepNotReached(journeyId, j.step);
        // slither-disable-next-line timestamp (a deadline is a time)
        if (j.deadline != 0 && block.timestamp > j.deadline) revert DeadlinePassed(journeyId, j.step, j.deadline);
        if (history.length != j.step) revert HistoryMismatch(journeyId);
        address[] memory owners = _replay(journeyId, j, f.customer, history, customer);
        Exceptions memory x = _exceptionsOf(journeyId, j);
        // The pool is spent: a journey no longer open or disputed keeps its funded amount
        // in its record, and no function reads it again.
        j.status = Status.ValueDelivered;
        j.step += 1;
        j.deadline = 0;
        _store(journeyId, j);
        // A breached step stays breached whoever completed it (a late completion records
        // its breach too): every breach bit costs the step's owner its penalty.
        uint256 marks = uint256(x.breaches) | (uint256(x.upheld) << 16);
        _payout(journeyId, j.playbookId, f, marks, owners, entry & _FORFEIT_ENTRY != 0, confirmedBy);
    }

    /// @dev Credits every owner (the customer last), then the forfeits and the remainder;
    /// emits {ValueConfirmed}.
    function _payout(
        bytes32 journeyId,
        uint16 playbookId,
        Funds memory f,
        uint256 marks,
        address[] memory owners,
        bool forfeitToCustomer,
        address confirmedBy
    ) private {
        uint256[] memory amounts = new uint256[](owners.length);
        (uint256 paid, uint256 forfeited) = _credit(playbookId, f.pool, marks, owners, amounts);
        address customer = owners[owners.length - 1];
        (address forfeitTo, uint256 remainder) =
            _payBack(f, paid, forfeited, forfeitToCustomer ? customer : address(0));
        emit ValueConfirmed(journeyId, confirmedBy, customer, amounts, forfeited, forfeitTo, remainder);
    }

    /// @dev Reverts unless `customer` and `profile` open the journey's customer commitment.
    function _openCustomer(bytes32 journeyId, Funds memory f, address customer, bytes32 profile) private view {
        if (customerCommitment(customer, profile) != f.customer) revert NotCustomer(journeyId, customer);
        if (_idOf(customer) != 0) revert ParticipantAsCustomer(journeyId, customer);
    }

    /// @dev The first funding of a journey waiting at a step that needs it: the step's
    /// clock starts again from now, if that is later than its deadline.
    function _restartGatedClock(bytes32 journeyId, Journey memory j) private {
        // slither-disable-next-line incorrect-equality (a status compared)
        if (j.status != Status.Open) return;
        StepConfig memory c = _config(j.playbookId, j.step);
        if (c.flags & _FUND_GATE == 0) return;
        uint40 restarted = _deadline(c.calendar, c.sla);
        if (restarted <= j.deadline) return;
        j.deadline = restarted;
        _store(journeyId, j);
        emit ClockRestarted(journeyId, j.step, restarted);
    }

    /// @dev Credits the forfeits to `makeGood` (the customer; zero: the funder) and the
    /// remainder of the pool (unallocated shares and rounding) to the funder, whose
    /// address is looked up only when something goes back to it.
    function _payBack(Funds memory f, uint256 paid, uint256 forfeited, address makeGood)
        private
        returns (address forfeitTo, uint256 remainder)
    {
        // Shares sum to at most 10,000 bps, so `paid` never exceeds the pool.
        remainder = f.pool - paid;
        bool toFunder = remainder != 0 || (forfeited != 0 && makeGood == address(0));
        address funder = toFunder ? _accountOf(f.funder) : address(0);
        forfeitTo = makeGood == address(0) ? funder : makeGood;
        if (forfeited != 0) _addCredit(forfeitTo, forfeited);
        if (remainder != 0) _addCredit(funder, remainder);
    }

    /// @dev Credits every step's owner (the customer for the customer's step), in order,
    /// writing each net amount into `amounts`; returns the gross paid and the forfeits.
    /// Bit i of `marks`: step i's owner breached its SLA; bit 16 + i: a dispute of step i
    /// was upheld.
    function _credit(
        uint16 playbookId,
        uint256 pool,
        uint256 marks,
        address[] memory owners,
        uint256[] memory amounts
    ) private returns (uint256 paid, uint256 forfeited) {
        uint256 packed = _payoutTables[playbookId][0];
        for (uint256 i = 0; i < owners.length; ++i) {
            if (i == 8) packed = _payoutTables[playbookId][1];
            (uint256 gross, uint256 penalty) = _share(pool, packed >> ((i & 7) << 5), marks >> i);
            paid += gross;
            forfeited += penalty;
            if (gross > penalty) {
                // Checked just above: no underflow.
                unchecked {
                    amounts[i] = gross - penalty;
                }
                _addCredit(owners[i], amounts[i]);
            }
        }
    }

    /// @dev A step's gross share of `pool` and its penalty. `entry`: its payout table
    /// entry (share and penalty); bit 0 of `marks`: its owner breached; bit 16: a
    /// dispute of it was upheld (the whole share is forfeited).
    function _share(uint256 pool, uint256 entry, uint256 marks) private pure returns (uint256 gross, uint256 penalty) {
        // pool < 2^96 and share, penalty <= 10,000 (< 2^14): no product overflows, and
        // floor(pool * share * penalty / BPS^2) never exceeds floor(pool * share / BPS).
        unchecked {
            uint256 share = entry & _BPS_MASK;
            gross = (pool * share) / _BPS;
            if (marks & (1 << 16) != 0) penalty = gross;
            else if (marks & 1 != 0) penalty = (pool * share * ((entry >> 16) & _BPS_MASK)) / (_BPS * _BPS);
        }
    }

    /// @dev Adds `amount` to the credit of `account` (stored plus one: see `_credits`).
    function _addCredit(address account, uint256 amount) private {
        uint256 stored = _credits[account];
        // slither-disable-next-line incorrect-equality (zero: never credited)
        _credits[account] = (stored == 0 ? 1 : stored) + amount;
    }

    /// @dev Closes the journey; its pool, spent from now on, is credited back to its funder.
    function _close(bytes32 journeyId, Journey memory j, Status status) private {
        Funds memory f = _funds[journeyId];
        uint256 refund = f.pool;
        j.status = status;
        _store(journeyId, j);
        if (refund != 0) _addCredit(_accountOf(f.funder), refund);
        emit JourneyClosed(journeyId, status, refund);
    }
}
