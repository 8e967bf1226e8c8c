// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {IJourneyEngine} from "./interfaces/IJourneyEngine.sol";
import {IEngineHooks, IRulebook} from "./interfaces/IEngineHooks.sol";
import {Status, StepRecord, CustomerSignature, customerCommitment} from "./JourneyTypes.sol";

/// @title CustomerVoice
/// @notice The customer's signed word: confirmations of value, disputes and ratings, by
/// EIP-712 messages that anyone relays, so the customer needs no gas and no wallet
/// balance. A signature counts only if the journey's customer commitment binds its
/// signer: commitment = the first 16 bytes of keccak256(abi.encode(signer, profile)).
/// The engine settles a confirmation itself and asks this contract for its signer;
/// disputes and ratings are relayed here. Signed rulebook acceptances of participants
/// are verified and relayed here too.
contract CustomerVoice is EIP712, IJourneyEngine {
    /*//////////////////////////////////////////////////////////////
                                CONSTANTS
    //////////////////////////////////////////////////////////////*/

    bytes32 public constant CONFIRM_TYPEHASH =
        keccak256("ConfirmValue(bytes32 journeyId,uint16 playbookId,bytes20 history,uint32 nonce,uint256 deadline)");
    bytes32 public constant DISPUTE_TYPEHASH =
        keccak256(
            "Dispute(bytes32 journeyId,uint16 playbookId,uint8 step,bytes32 reason,bytes20 history,uint32 nonce,uint256 deadline)"
        );
    bytes32 public constant ACCEPT_TYPEHASH =
        keccak256("AcceptRulebook(address account,uint32 version,bytes32 rulebook,uint256 deadline)");
    bytes32 public constant REPLY_TYPEHASH = keccak256(
        "Reply(bytes32 journeyId,uint16 playbookId,bytes32 message,bytes20 history,uint32 nonce,uint256 deadline)"
    );
    /// @notice The longest one pause holds a step's clock (past it, the clock runs again).
    uint32 public constant MAX_PAUSE = 30 days;
    /// @notice How many times one step of a journey may be paused.
    uint8 public constant MAX_PAUSES = 3;
    bytes32 public constant RATE_TYPEHASH = keccak256(
        "Rate(bytes32 journeyId,uint16 playbookId,uint8 step,uint8 score,bytes32 comment,bytes20 history,uint32 nonce,uint256 deadline)"
    );

    /*//////////////////////////////////////////////////////////////
                                 STORAGE
    //////////////////////////////////////////////////////////////*/

    /// @dev One slot: the signed-action nonce and the steps rated (bit mask).
    struct Voice {
        uint32 nonce;
        uint16 rated;
        // the current pause, or the last one: its step (plus one), how often that step was
        // paused, when (0: resumed), the SLA's working time left, the deadline held meanwhile
        // and the calendar the SLA counts by (0: wall-clock time)
        uint8 pauseStep;
        uint8 pauses;
        uint40 pausedAt;
        uint32 left;
        uint40 heldUntil;
        uint8 calendar;
    }

    /// @dev One slot: how many ratings an owner received and their sum.
    struct Rating {
        uint128 count;
        uint128 total;
    }

    /// @notice The engine whose journeys this voice speaks for.
    IEngineHooks public immutable engine;

    bytes32 private constant _ARBITER = keccak256("ARBITER");

    mapping(bytes32 journeyId => Voice) private _voices;
    mapping(address owner => Rating) private _ratings;

    /// @param engine_ The engine (which deploys this contract).
    constructor(IEngineHooks engine_) EIP712("journeychain", "1") {
        engine = engine_;
    }

    /*//////////////////////////////////////////////////////////////
                           EXTERNAL FUNCTIONS
    //////////////////////////////////////////////////////////////*/

    /// @notice Reverts with {HistoryMismatch} unless `history` (every completed participant
    /// step's record, in order) matches the journey's rolling hash.
    /// @param journeyId The journey.
    /// @param history The records.
    function checkHistory(bytes32 journeyId, StepRecord[] calldata history) external view {
        _checkHistory(journeyId, _context(journeyId), history);
    }

    /// @notice The signer of the customer's confirmation that value was delivered, for the
    /// engine, which settles the journey (see the engine's `confirmValue`).
    /// @dev Reverts unless the signature is the customer's, for this journey, playbook,
    /// chain and contract, over the journey's current rolling hash, with the current nonce
    /// and an unexpired deadline. The engine, which holds the participants' records,
    /// refuses a signer that is a participant itself (no call back here).
    /// @param journeyId The journey.
    /// @param playbookId Its playbook.
    /// @param customer Its customer commitment.
    /// @param head The journey's rolling hash now.
    /// @param quiet The engine recorded no breach, flag or dispute for the open journey:
    /// the customer has signed no dispute, so its nonce is still 0 and is not read.
    /// @param sig The customer's signature.
    /// @return The customer's signing address.
    function confirmationSigner(
        bytes32 journeyId,
        uint16 playbookId,
        bytes16 customer,
        bytes20 head,
        bool quiet,
        CustomerSignature calldata sig
    ) external view returns (address) {
        return _verifySigner(
            journeyId,
            customer,
            head,
            quiet ? 0 : _voices[journeyId].nonce,
            keccak256(abi.encode(CONFIRM_TYPEHASH, journeyId, playbookId, sig.history, sig.nonce, sig.deadline)),
            sig
        );
    }

    /// @notice Relays a participant's signed acceptance of the rulebook in force.
    /// @dev Requirements: `version` is the version in force; `deadline` has not passed;
    /// the signature is `account`'s. Emits the engine's {RulebookAccepted}.
    /// @param account The participant who signed.
    /// @param version The version signed.
    /// @param deadline The last second the signature is good for.
    /// @param signature The signature (65 bytes, or what a contract wallet accepts under ERC-1271).
    function acceptRulebook(address account, uint32 version, uint256 deadline, bytes calldata signature) external {
        if (block.timestamp > deadline) revert SignatureExpired(deadline);
        IRulebook book = engine.directory();
        (uint32 current, bytes32 hash) = book.rulebook();
        // A signature for an earlier version signed an earlier hash: refuse it as stale
        // before recovering a meaningless signer from the current one.
        if (version != current) revert StaleRulebook(version, current);
        bytes32 digest = _hashTypedDataV4(keccak256(abi.encode(ACCEPT_TYPEHASH, account, version, hash, deadline)));
        if (!_isValidSignature(account, digest, signature)) revert BadSignature(account);
        book.acceptRulebookFor(account, version);
    }

    /// @notice Relays the customer's signed dispute of a completed step; the engine holds
    /// the journey's payouts until an ARBITER resolves it.
    /// @dev Requirements: the signature is the customer's (no participant), over the
    /// journey's current rolling hash, with the current nonce; the engine's own (the
    /// journey is open, the step completed and never disputed).
    /// Emits the engine's {Disputed}.
    /// @param journeyId The journey.
    /// @param step The disputed step.
    /// @param reason Commitment of the customer's reason.
    /// @param sig The customer's signature.
    function dispute(bytes32 journeyId, uint8 step, bytes32 reason, CustomerSignature calldata sig) external {
        Context memory c = _context(journeyId);
        Voice storage voice = _voices[journeyId];
        bytes32 structHash = keccak256(
            abi.encode(DISPUTE_TYPEHASH, journeyId, c.playbookId, step, reason, sig.history, sig.nonce, sig.deadline)
        );
        _verify(journeyId, c.customer, c.head, voice.nonce, structHash, sig);
        ++voice.nonce;
        engine.holdForDispute(journeyId, step, reason);
    }

    /// @notice Pauses the current step's clock while its owner waits on the customer: the
    /// working time left is kept and the deadline is held where it would be if the clock ran
    /// again `MAX_PAUSE` from now; resumed (by the owner, or by the customer's signed `reply`),
    /// the deadline is when the working time left runs out from then (by the step's calendar). A
    /// step may be paused `MAX_PAUSES` times; past its deadline, or flagged, it cannot be.
    /// @dev Requirements: the engine's {holdClock} (the caller owns the step, and so on);
    /// the step is not paused already and was paused fewer than `MAX_PAUSES` times.
    /// Emits the engine's {StepPaused}.
    /// @param journeyId The journey.
    /// @param reason Why it waits (a code the playbook's users agree on; 0: none given).
    function pauseStep(bytes32 journeyId, uint8 reason) external {
        (uint8 step, uint40 was, uint40 held, uint32 left, uint8 calendar) =
            engine.holdClock(journeyId, msg.sender, reason, MAX_PAUSE);
        Voice storage v = _voices[journeyId];
        bool same = v.pauseStep == step + 1;
        // Paused already when the deadline the engine just held was this pause's (an
        // escalation or a restart at funding ends a pause by moving the deadline).
        if (same && v.pausedAt != 0 && v.heldUntil == was) revert StepAlreadyPaused(journeyId, step);
        uint8 count = same ? v.pauses : 0;
        if (count >= MAX_PAUSES) revert TooManyPauses(journeyId, step, MAX_PAUSES);
        v.pauseStep = step + 1;
        v.pauses = count + 1;
        v.pausedAt = uint40(block.timestamp);
        v.left = left;
        v.heldUntil = held;
        v.calendar = calendar;
    }

    /// @notice Resumes the current step's paused clock, as its owner.
    /// @dev Requirements: the step is paused; the caller owns it. Emits the engine's {StepResumed}.
    /// @param journeyId The journey.
    function resumeStep(bytes32 journeyId) external {
        _resume(journeyId, msg.sender, true);
    }

    /// @notice Relays the customer's signed reply to a paused step: its clock runs again.
    /// @dev Requirements: the signature is the customer's (no participant), over the
    /// journey's current rolling hash, with the current nonce; the step is paused. Emits
    /// {CustomerReplied} and the engine's {StepResumed}.
    /// @param journeyId The journey.
    /// @param message Commitment of the customer's reply.
    /// @param sig The customer's signature.
    function reply(bytes32 journeyId, bytes32 message, CustomerSignature calldata sig) external {
        Context memory c = _context(journeyId);
        Voice storage voice = _voices[journeyId];
        bytes32 structHash = keccak256(
            abi.encode(REPLY_TYPEHASH, journeyId, c.playbookId, message, sig.history, sig.nonce, sig.deadline)
        );
        address signer = _verify(journeyId, c.customer, c.head, voice.nonce, structHash, sig);
        ++voice.nonce;
        emit CustomerReplied(journeyId, voice.pauseStep == 0 ? 0 : voice.pauseStep - 1, message);
        _resume(journeyId, signer, false);
    }

    /// @notice Records the customer's signed rating (1 to 5) of a step's owner, once
    /// value is confirmed; one rating per step.
    /// @dev Requirements: value was confirmed; `history` matches the rolling hash;
    /// `step` is a participant's step not rated yet; the signature is the customer's,
    /// with the current nonce. Emits {Rated}.
    /// @param journeyId The journey.
    /// @param history Each completed step's record, in order (it names the owner).
    /// @param step The step rated.
    /// @param score 1 to 5.
    /// @param comment Commitment of the customer's comment.
    /// @param sig The customer's signature.
    function rate(
        bytes32 journeyId,
        StepRecord[] calldata history,
        uint8 step,
        uint8 score,
        bytes32 comment,
        CustomerSignature calldata sig
    ) external {
        Context memory c = _context(journeyId);
        if (c.status != Status.ValueDelivered) revert JourneyNotOpen(journeyId, c.status);
        if (score < 1 || score > 5) revert InvalidScore(score);
        if (step >= history.length) revert StepNotReached(journeyId, step);
        Voice storage voice = _voices[journeyId];
        if (voice.rated & (1 << step) != 0) revert AlreadyRated(journeyId, step);
        _checkHistory(journeyId, c, history);
        _verify(journeyId, c.customer, c.head, voice.nonce, _rateHash(journeyId, c.playbookId, step, score, comment, sig), sig);
        ++voice.nonce;
        voice.rated |= uint16(1 << step);
        address owner = history[step].by;
        Rating storage r = _ratings[owner];
        ++r.count;
        r.total += score;
        emit Rated(journeyId, step, owner, score, comment);
    }

    /// @notice Resolves the journey's open dispute within the playbook's dispute window.
    /// Upheld: the disputed step's share is forfeited, wholly; rejected: the journey goes on.
    /// @dev Requirements: the caller is an ARBITER who accepted the rulebook, completed no
    /// step of the journey (`history`, every completed step's record, must match the
    /// rolling hash) and is not its funder; the journey has an open dispute whose window has
    /// not passed. Emits the engine's {DisputeResolved}.
    /// @param journeyId The journey.
    /// @param upheld Whether the customer was right.
    /// @param history Each completed step's record, in order.
    function resolveDispute(bytes32 journeyId, bool upheld, StepRecord[] calldata history) external {
        // slither-disable-next-line unused-return (it reverts unless the caller may arbitrate)
        engine.checkActor(msg.sender, _ARBITER);
        // slither-disable-next-line unused-return (the fallback does not matter to the arbiter)
        (uint40 since, uint32 window,, address funder) = engine.disputeWindow(journeyId);
        if (since == 0) revert NoOpenDispute(journeyId);
        uint256 closesAt = uint256(since) + window;
        // slither-disable-next-line timestamp (a window is a time)
        if (block.timestamp > closesAt) revert DisputeWindowPassed(journeyId, closesAt);
        _checkHistory(journeyId, _context(journeyId), history);
        bool conflicted = msg.sender == funder;
        for (uint256 i = 0; i < history.length; ++i) {
            if (history[i].by == msg.sender) conflicted = true;
        }
        if (conflicted) revert ArbiterConflict(journeyId, msg.sender);
        engine.endDispute(journeyId, upheld, msg.sender);
    }

    /// @notice Closes a dispute the arbiter left unresolved past the playbook's window, by
    /// its fallback: the pool refunded to the funder (the journey expires), or the dispute
    /// rejected (the journey goes on). Anyone may call it.
    /// @dev Requirements: the journey has an open dispute whose window has passed.
    /// Emits the engine's {JourneyClosed} or {DisputeResolved}.
    /// @param journeyId The journey.
    function closeDispute(bytes32 journeyId) external {
        // slither-disable-next-line unused-return (the funder does not matter to the fallback)
        (uint40 since, uint32 window, bool refund,) = engine.disputeWindow(journeyId);
        if (since == 0) revert NoOpenDispute(journeyId);
        uint256 closesAt = uint256(since) + window;
        // slither-disable-next-line timestamp (a window is a time)
        if (block.timestamp <= closesAt) revert DisputeWindowOpen(journeyId, closesAt);
        if (refund) engine.refundDispute(journeyId);
        else engine.endDispute(journeyId, false, address(0));
    }

    /// @notice The nonce the customer's next signature for a journey must carry.
    /// @param journeyId The journey.
    function nonceOf(bytes32 journeyId) external view returns (uint32) {
        return _voices[journeyId].nonce;
    }

    /// @notice Which steps of a journey were rated (bit i: step i).
    /// @param journeyId The journey.
    function ratedSteps(bytes32 journeyId) external view returns (uint16) {
        return _voices[journeyId].rated;
    }

    /// @notice The ratings a step owner has received.
    /// @param owner The step owner.
    /// @return count How many.
    /// @return total Their sum (the average is total / count).
    function ratingOf(address owner) external view returns (uint128 count, uint128 total) {
        Rating memory r = _ratings[owner];
        return (r.count, r.total);
    }

    /// @notice The EIP-712 domain separator customers sign under.
    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    /*//////////////////////////////////////////////////////////////
                            INTERNAL HELPERS
    //////////////////////////////////////////////////////////////*/

    /// @dev What a signature is checked against, in one memory record (one stack slot).
    struct Context {
        uint16 playbookId;
        Status status;
        bytes16 customer;
        bytes20 head;
    }

    /// @dev Ends the journey's pause: the deadline becomes when the working time left runs
    /// out from now, or stays where it was held once the pause ran longer than `MAX_PAUSE`.
    function _resume(bytes32 journeyId, address by, bool asOwner) private {
        Voice storage v = _voices[journeyId];
        if (v.pausedAt == 0) revert StepNotPaused(journeyId, v.pauseStep == 0 ? 0 : v.pauseStep - 1);
        uint256 resumed = engine.calendars().deadline(v.calendar, block.timestamp, v.left);
        uint40 held = v.heldUntil;
        // slither-disable-next-line timestamp (a deadline is a time)
        uint40 deadline = resumed < held ? uint40(resumed) : held;
        v.pausedAt = 0;
        engine.releaseClock(journeyId, v.pauseStep - 1, held, deadline, by, asOwner);
    }

    /// @notice A journey's pause: its step, how often that step was paused, when (0: not
    /// paused now), the time its SLA had left, and the deadline held meanwhile.
    /// @param journeyId The journey.
    function pauseOf(bytes32 journeyId)
        external
        view
        returns (uint8 step, uint8 pauses, uint40 pausedAt, uint32 left, uint40 heldUntil)
    {
        Voice storage v = _voices[journeyId];
        return (v.pauseStep == 0 ? 0 : v.pauseStep - 1, v.pauses, v.pausedAt, v.left, v.heldUntil);
    }

    /// @dev The journey's context from the engine.
    function _context(bytes32 journeyId) private view returns (Context memory c) {
        (c.playbookId, c.status, c.customer, c.head) = engine.voiceContext(journeyId);
    }

    /// @dev Reverts with {HistoryMismatch} unless `history` replays, from the journey's first
    /// link, to its rolling hash `c.head`, linked exactly as the engine links a completed step:
    /// keccak256(abi.encode(head, uint8 step, by, late, evidence)), truncated to 20 bytes, from
    /// keccak256(abi.encode(journeyId, playbookId, customer)).
    function _checkHistory(bytes32 journeyId, Context memory c, StepRecord[] calldata history) private pure {
        bytes20 h = bytes20(keccak256(abi.encode(journeyId, c.playbookId, c.customer)));
        for (uint256 i = 0; i < history.length; ++i) {
            StepRecord calldata r = history[i];
            // At most 15 steps: `i` fits a step number.
            h = bytes20(keccak256(abi.encode(h, uint8(i), r.by, r.late, r.evidence)));
        }
        if (h != c.head) revert HistoryMismatch(journeyId);
    }

    /// @dev The EIP-712 struct hash of a rating (its own function: one frame fewer for the stack).
    function _rateHash(
        bytes32 journeyId,
        uint16 playbookId,
        uint8 step,
        uint8 score,
        bytes32 comment,
        CustomerSignature calldata sig
    ) private pure returns (bytes32) {
        return keccak256(
            abi.encode(RATE_TYPEHASH, journeyId, playbookId, step, score, comment, sig.history, sig.nonce, sig.deadline)
        );
    }

    /// @dev Checks the nonce and the deadline, that the journey's customer commitment binds
    /// the signer, that the signature is the signer's (an account's key, or a contract
    /// wallet's ERC-1271 answer), that it signed over the journey's current rolling hash
    /// and that it is no participant.
    function _verify(
        bytes32 journeyId,
        bytes16 customer,
        bytes20 head,
        uint32 expectedNonce,
        bytes32 structHash,
        CustomerSignature calldata sig
    ) private view returns (address signer) {
        signer = _verifySigner(journeyId, customer, head, expectedNonce, structHash, sig);
        // slither-disable-next-line unused-return (only the participant number matters here)
        (uint32 id,,) = engine.participant(signer);
        if (id != 0) revert ParticipantAsCustomer(journeyId, signer);
    }

    /// @dev {_verify} but for the participant check, which the caller makes.
    function _verifySigner(
        bytes32 journeyId,
        bytes16 customer,
        bytes20 head,
        uint32 expectedNonce,
        bytes32 structHash,
        CustomerSignature calldata sig
    ) private view returns (address signer) {
        if (customer == bytes16(0)) revert UnknownJourney(journeyId);
        if (sig.nonce != expectedNonce) revert StaleNonce(journeyId, sig.nonce, expectedNonce);
        if (block.timestamp > sig.deadline) revert SignatureExpired(sig.deadline);
        signer = sig.signer;
        if (customerCommitment(signer, sig.profile) != customer) revert NotCustomer(journeyId, signer);
        if (!_isValidSignature(signer, _hashTypedDataV4(structHash), sig.signature)) {
            revert BadSignature(signer);
        }
        // The customer's own signature, over the journey as it stood earlier: stale.
        if (sig.history != head) revert StaleSignature(journeyId, sig.history, head);
    }

    /// @dev Whether `signature` is `signer`'s over `digest`: recovered from an account's
    /// key, or else accepted by a contract wallet under ERC-1271 (a view call: it cannot
    /// change state). An account's signature is tried first, so that the common case reads
    /// no code (no one holds a key whose address is a contract's). OpenZeppelin's
    /// SignatureChecker does the same but needs the cancun EVM.
    function _isValidSignature(address signer, bytes32 digest, bytes calldata signature)
        private
        view
        returns (bool)
    {
        // slither-disable-next-line unused-return (the signature's `s` is not needed)
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecover(digest, signature);
        if (err == ECDSA.RecoverError.NoError && recovered == signer) return true;
        if (signer.code.length == 0) return false;
        (bool ok, bytes memory result) =
            signer.staticcall(abi.encodeCall(IERC1271.isValidSignature, (digest, signature)));
        return ok && result.length >= 32 && abi.decode(result, (bytes32)) == bytes32(IERC1271.isValidSignature.selector);
    }
}
