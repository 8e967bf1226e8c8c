// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {Action, IStepRelay} from "./interfaces/IStepRelay.sol";
import {Field} from "./JourneyTypes.sol";

/// @dev What the relay reads of its engine and which of its calls bind to a journey's state.
interface IRelayedEngine {
    /// @notice A journey's current step and rolling hash (zeros for a journey never opened).
    function currentHead(bytes32 journeyId) external view returns (uint8 step, bytes20 head);

    function openJourney(bytes32 journeyId, uint16 playbookId, bytes16 customer, address assignee, address funder)
        external;

    function completeStep(
        bytes32 journeyId,
        Field[] calldata fields,
        address[] calldata attesters,
        uint32 nextOrg,
        address nextAssignee
    ) external;

    function flagBreach(bytes32 journeyId) external;
}

/// @title StepRelay
/// @notice Signed steps, relayed in batches. A participant signs the call it would have made
/// to the engine (a step completion, a flag, an escalation, a funding, an attestation to the
/// registry, ...) as EIP-712 data, and anyone relays a batch of such actions, from many
/// participants and many journeys, in one transaction. The relay checks each signature (an
/// account's, or a contract wallet's under ERC-1271) and its deadline, then calls the target
/// with the signer's address appended (ERC-2771): the engine and its registry trust this
/// relay, and no other contract, as their forwarder, so each action gets exactly the checks
/// it would have had if its signer had sent it. The relay holds no role and no tokens: a call
/// to a contract that does not trust it acts as the relay, which can do nothing. The signed
/// action names its target, so a signature for one engine (or chain, or relay: the EIP-712
/// domain) is worth nothing on another.
/// Replay: an opening, a step completion or a flag is bound to the journey's rolling hash
/// (which names its step) (`nonce` 0), which it changes (a flag is refused once recorded); any other call
/// carries a one-time nonce of its signer, spent once its signature is checked, whether its target
/// then accepts it or refuses it (so that a signer who signs again after a refusal never has
/// both applied). An action may not target the relay itself. A refused action is
/// skipped with its reason in {ActionRefused}, unless the batch is atomic, which then reverts
/// with that reason.
contract StepRelay is EIP712, IStepRelay {
    /*//////////////////////////////////////////////////////////////
                                CONSTANTS
    //////////////////////////////////////////////////////////////*/

    /// @notice The EIP-712 type of a signed action.
    bytes32 public constant ACTION_TYPEHASH = keccak256(
        "Action(address signer,address target,bytes20 head,uint64 nonce,uint40 deadline,bytes data)"
    );

    /// @notice The most bytes of a target's refusal that the relay keeps (and logs).
    uint256 public constant MAX_REASON = 260;

    /// @notice The gas a contract wallet gets to answer whether a signature is its own (ERC-1271).
    uint256 public constant WALLET_GAS = 200_000;

    /*//////////////////////////////////////////////////////////////
                                 STORAGE
    //////////////////////////////////////////////////////////////*/

    /// @dev Each signer's spent one-time numbers: bit `nonce % 256` of word `nonce / 256`.
    mapping(address signer => mapping(uint256 word => uint256 bits)) private _spent;

    /*//////////////////////////////////////////////////////////////
                               CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    constructor() EIP712("journeychain relay", "1") {}

    /*//////////////////////////////////////////////////////////////
                           EXTERNAL FUNCTIONS
    //////////////////////////////////////////////////////////////*/

    /// @notice Applies a batch of signed actions, each as if its signer had sent it.
    /// @dev Each action must: be signed by its signer over
    /// {hashAction} under this relay's domain (chain, address), or be the caller's own (its
    /// signer is the caller and its signature empty: applied as the caller's call, unchecked
    /// here); not be past its deadline; with nonce 0, be an opening, a step completion or a
    /// flag, and find the journey its call names with rolling hash `head`; with
    /// another nonce, carry one its signer has not spent (spent now, even if the target then
    /// refuses the action); not target the relay. Then the target must accept it, by its own
    /// rules. A refused action is skipped and {ActionRefused}
    /// carries its reason, unless `atomic`: the batch then reverts with that reason.
    /// Emits {NonceSpent} for each nonce spent and {BatchRelayed}.
    /// @param actions The actions, applied in order.
    /// @param atomic Whether one refusal reverts the whole batch.
    /// @return refused How many actions were refused.
    function relay(Action[] calldata actions, bool atomic)
        external
        returns (uint256 refused)
    {
        uint256 n = actions.length;
        for (uint256 i = 0; i < n; ++i) {
            Action calldata a = actions[i];
            uint256 memoryStart;
            // Each action's memory is given back after it: a batch's memory does not grow with it.
            assembly ("memory-safe") {
                memoryStart := mload(0x40)
            }
            (bool ok, bytes memory reason) = _apply(a);
            if (!ok) {
                if (atomic) {
                    assembly ("memory-safe") {
                        revert(add(reason, 0x20), mload(reason))
                    }
                }
                // Checked: at most `n` refusals.
                unchecked {
                    ++refused;
                }
                emit ActionRefused(i, a.signer, _journeyOf(a), reason);
            }
            assembly ("memory-safe") {
                mstore(0x40, memoryStart)
            }
        }
        // refused <= n: no underflow.
        unchecked {
            emit BatchRelayed(msg.sender, n - refused, refused);
        }
    }

    /// @notice Spends one of the caller's one-time numbers without applying anything, so that
    /// an action signed with it can no longer be relayed.
    /// @dev Requirements: `nonce` is not zero and not spent. Emits {NonceSpent}.
    /// @param nonce The number.
    function cancelNonce(uint64 nonce) external {
        if (nonce == 0) revert ZeroNonce();
        if (!_spend(msg.sender, nonce)) revert NonceUsed(msg.sender, nonce);
        emit NonceSpent(msg.sender, nonce);
    }

    /*//////////////////////////////////////////////////////////////
                                  VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @notice Whether `signer` spent the one-time number `nonce`.
    function nonceSpent(address signer, uint64 nonce) external view returns (bool) {
        return _spent[signer][nonce >> 8] & (uint256(1) << (nonce & 0xff)) != 0;
    }

    /// @notice The EIP-712 digest a signer signs for `a` (all of it but its signature), under
    /// this relay's domain.
    function hashAction(Action calldata a) public view returns (bytes32) {
        return _hashTypedDataV4(_structHash(a));
    }

    /*//////////////////////////////////////////////////////////////
                            INTERNAL HELPERS
    //////////////////////////////////////////////////////////////*/

    /// @dev Checks one action and calls its target with its signer appended; returns whether
    /// it was applied and, if not, the reason.
    function _apply(Action calldata a) private returns (bool ok, bytes memory reason) {
        bytes calldata signature = a.signature;
        address signer = a.signer;
        // The relay never calls itself: a nested batch would be its own action, relayed as the
        // relay (and the engine's multicall passes no sender on for a caller that is its own
        // sender).
        if (a.target == address(this)) return (false, abi.encodeWithSelector(RelayTarget.selector));
        bool own = signer == msg.sender && signature.length == 0;
        if (!own) {
            // slither-disable-next-line timestamp (a deadline is a time)
            if (block.timestamp > a.deadline) return (false, abi.encodeWithSelector(ActionExpired.selector, a.deadline));
            if (!_validSignature(signer, hashAction(a), signature)) {
                return (false, abi.encodeWithSelector(BadSignature.selector, signer));
            }
            if (a.nonce == 0) {
                reason = _checkState(a);
                if (reason.length != 0) return (false, reason);
            } else {
                if (!_spend(signer, a.nonce)) return (false, abi.encodeWithSelector(NonceUsed.selector, signer, a.nonce));
                emit NonceSpent(signer, a.nonce);
            }
        }
        (ok, reason) = _call(a.target, a.data, signer);
    }

    /// @dev keccak256(abi.encode(ACTION_TYPEHASH, signer, target, head, nonce, deadline,
    /// keccak256(data))), hashed past the free memory pointer (the fields are read, and so
    /// checked, as Solidity reads them).
    function _structHash(Action calldata a) private pure returns (bytes32 h) {
        bytes calldata data = a.data;
        bytes32 typehash = ACTION_TYPEHASH;
        address signer = a.signer;
        address target = a.target;
        bytes20 head = a.head;
        uint64 nonce = a.nonce;
        uint40 deadline = a.deadline;
        assembly ("memory-safe") {
            let m := mload(0x40)
            calldatacopy(m, data.offset, data.length)
            let dataHash := keccak256(m, data.length)
            mstore(m, typehash)
            mstore(add(m, 0x20), signer)
            mstore(add(m, 0x40), target)
            mstore(add(m, 0x60), head)
            mstore(add(m, 0x80), nonce)
            mstore(add(m, 0xa0), deadline)
            mstore(add(m, 0xc0), dataHash)
            h := keccak256(m, 0xe0)
        }
    }

    /// @dev Empty when `a` (nonce 0) is a state-bound call (an opening, a step completion or a
    /// flag) and its target finds the journey at its rolling hash; else the refusal.
    /// The target is the engine the signer signed for: a contract that is not an engine answers
    /// nothing that counts, since no other contract trusts the relay for its calls.
    function _checkState(Action calldata a) private view returns (bytes memory) {
        bytes calldata data = a.data;
        bytes4 selector = data.length >= 36 ? bytes4(data[:4]) : bytes4(0);
        bool bound = selector == IRelayedEngine.completeStep.selector || selector == IRelayedEngine.openJourney.selector
            || selector == IRelayedEngine.flagBreach.selector;
        if (!bound) return abi.encodeWithSelector(NonceRequired.selector, selector);
        bytes32 journeyId = bytes32(data[4:36]);
        uint8 step = 0;
        bytes20 head = bytes20(0);
        // An opening is signed for a journey not opened yet (step 0, head zero), which the engine
        // itself guarantees: it never opens a journey twice. Every other call reads the state.
        if (selector != IRelayedEngine.openJourney.selector) (step, head) = _currentHead(a.target, journeyId);
        if (head != a.head) return abi.encodeWithSelector(StaleAction.selector, journeyId, a.head, step, head);
        return "";
    }

    /// @dev The target's `currentHead` of the journey; zeros from a target that answers nothing
    /// (a contract that is no engine: the action is then refused as stale, not the batch).
    function _currentHead(address target, bytes32 journeyId) private view returns (uint8 step, bytes20 head) {
        bytes4 selector = IRelayedEngine.currentHead.selector;
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, selector)
            mstore(add(m, 0x04), journeyId)
            // the call first: Yul evaluates arguments right to left
            let ok := staticcall(gas(), target, m, 0x24, m, 0x40)
            if and(ok, eq(returndatasize(), 0x40)) {
                step := and(mload(m), 0xff)
                head := and(mload(add(m, 0x20)), not(0xffffffffffffffffffffffff))
            }
        }
    }

    /// @dev Calls `target` with `data` and `signer` appended (ERC-2771); returns whether it
    /// succeeded and, if not, its revert data.
    function _call(address target, bytes calldata data, address signer) private returns (bool ok, bytes memory reason) {
        assembly ("memory-safe") {
            let m := mload(0x40)
            calldatacopy(m, data.offset, data.length)
            mstore(add(m, data.length), shl(96, signer))
            ok := call(gas(), target, 0, m, add(data.length, 20), 0, 0)
            if iszero(ok) {
                // At most MAX_REASON bytes of the reason: a target cannot make the relay pay for
                // copying (and logging) a huge one.
                let size := returndatasize()
                if gt(size, MAX_REASON) { size := MAX_REASON }
                reason := m
                mstore(reason, size)
                returndatacopy(add(reason, 0x20), 0, size)
                mstore(0x40, add(add(reason, 0x20), and(add(size, 0x1f), not(0x1f))))
            }
        }
        if (!ok) return (false, reason);
        return (true, "");
    }

    /// @dev The first argument of the action's call: the journey, for every journey function of
    /// the engine (zero for a call with no argument).
    function _journeyOf(Action calldata a) private pure returns (bytes32) {
        return a.data.length >= 36 ? bytes32(a.data[4:36]) : bytes32(0);
    }

    /// @dev Whether `signature` is `signer`'s over `digest`: an ECDSA signature by its key, or else
    /// accepted by a contract wallet under ERC-1271 (a view call). OpenZeppelin's SignatureChecker
    /// does the same but needs the cancun EVM (see the customer voice).
    function _validSignature(address signer, bytes32 digest, bytes calldata signature) private view returns (bool) {
        if (signer != address(0) && _recover(digest, signature) == signer) return true;
        if (signer.code.length == 0) return false;
        bytes memory query = abi.encodeCall(IERC1271.isValidSignature, (digest, signature));
        bool ok;
        bytes32 answer;
        // A wallet gets WALLET_GAS to answer, and only its answer's first word is read: a wallet
        // cannot spend the batch's gas or make the relay copy a huge answer.
        assembly ("memory-safe") {
            ok := staticcall(WALLET_GAS, signer, add(query, 0x20), mload(query), 0, 0x20)
            answer := mload(0)
            ok := and(ok, iszero(lt(returndatasize(), 0x20)))
        }
        return ok && answer == bytes32(IERC1271.isValidSignature.selector);
    }

    /// @dev The address whose key made the ECDSA signature of `digest`, 65 bytes (r, s, v) or
    /// 64 (r, vs: EIP-2098, one calldata word fewer), as OpenZeppelin's ECDSA recovers it (zero
    /// for any other signature); read where it lies in calldata, with no copy to memory.
    function _recover(bytes32 digest, bytes calldata signature) private pure returns (address) {
        uint256 length = signature.length;
        if (length != 65 && length != 64) return address(0);
        bytes32 r;
        bytes32 s;
        uint8 v;
        assembly ("memory-safe") {
            r := calldataload(signature.offset)
            s := calldataload(add(signature.offset, 0x20))
            v := byte(0, calldataload(add(signature.offset, 0x40)))
        }
        // slither-disable-next-line unused-return (the error's argument is not needed)
        (address recovered, ECDSA.RecoverError err,) =
            length == 65 ? ECDSA.tryRecover(digest, v, r, s) : ECDSA.tryRecover(digest, r, s);
        return err == ECDSA.RecoverError.NoError ? recovered : address(0);
    }

    /// @dev Spends `nonce` of `signer`; false if it was spent already.
    function _spend(address signer, uint64 nonce) private returns (bool) {
        uint256 bit = uint256(1) << (nonce & 0xff);
        uint256 bits = _spent[signer][nonce >> 8];
        if (bits & bit != 0) return false;
        _spent[signer][nonce >> 8] = bits | bit;
        return true;
    }
}
