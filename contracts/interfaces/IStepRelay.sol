// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @dev A signed action as the relay applies it: the call `signer` would have made to `target`
/// (`data`, its calldata), signed under the relay's EIP-712 domain. `nonce` 0: the action is
/// bound to the state of the journey its call names first, its rolling hash `head` (zero for a
/// journey not opened yet), which applying it changes, so that it can never be applied again
/// (the rolling hash names the step as well: each link hashes its step number); any other
/// `nonce`: a one-time number of the signer (the action is then not bound to a journey's
/// state, and `head` is ignored). `signature` is the signer's
/// over the rest (ECDSA, 65 bytes or EIP-2098's 64, or what a contract wallet accepts under
/// ERC-1271), carried with the action as OpenZeppelin's ERC2771Forwarder carries its requests'.
struct Action {
    address signer;
    address target;
    bytes20 head;
    uint64 nonce;
    uint40 deadline;
    bytes data;
    bytes signature;
}

/// @title The errors and events of the step relay
interface IStepRelay {
    /// @param deadline The action's deadline, passed.
    error ActionExpired(uint256 deadline);
    /// @param signer The account (or ERC-1271 contract wallet) whose signature it is not.
    error BadSignature(address signer);
    /// @param journeyId The journey the action names.
    /// @param head The rolling hash it was signed over.
    /// @param currentStep The journey's step now.
    /// @param currentHead The journey's rolling hash now.
    error StaleAction(bytes32 journeyId, bytes20 head, uint8 currentStep, bytes20 currentHead);
    /// @param selector A call whose effect does not change the journey's state it is bound to:
    /// it needs a one-time nonce.
    error NonceRequired(bytes4 selector);
    /// @param signer The signer.
    /// @param nonce A one-time number it used already (or cancelled).
    error NonceUsed(address signer, uint64 nonce);
    /// @dev A nonce of zero names no one-time number.
    error ZeroNonce();
    /// @dev An action may not target the relay itself.
    error RelayTarget();

    /// @param index The action's place in the batch.
    /// @param signer Its signer.
    /// @param journeyId The first argument of its call: the journey, for every journey function of
    /// the engine (zero for a call with no argument).
    /// @param reason The refusal, ABI-encoded as the target (or the relay) reverted with it.
    event ActionRefused(uint256 indexed index, address indexed signer, bytes32 indexed journeyId, bytes reason);
    /// @param signer The signer.
    /// @param nonce The one-time number spent (by an applied action, or cancelled).
    event NonceSpent(address indexed signer, uint64 nonce);
    /// @param relayer Who sent the batch.
    /// @param applied How many of its actions were applied.
    /// @param refused How many were refused (each with an {ActionRefused}).
    event BatchRelayed(address indexed relayer, uint256 applied, uint256 refused);
}
