// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IJourneyEngine} from "./interfaces/IJourneyEngine.sol";
import {IEngineHooks} from "./interfaces/IEngineHooks.sol";
import {AttestationState} from "./JourneyTypes.sol";

/// @title AttestationRegistry
/// @notice A verifier's statement about a customer commitment (or a journey), with a
/// schema, an expiry and a data hash, revocable by its attester: the way the Ethereum
/// Attestation Service models them. The newest attestation of a schema for a subject
/// is the one a step checks: the registry records its validity in the engine too, so
/// that a step checks it without a call. Verifiers are the engine's VERIFIER participants.
contract AttestationRegistry is IJourneyEngine {
    /*//////////////////////////////////////////////////////////////
                                 STORAGE
    //////////////////////////////////////////////////////////////*/

    /// @dev Attester (160 bits), expiry (64) and revoked (8) in one slot; the key of its
    /// (schema, subject) pair, keccak256(abi.encode(schema, subject)), in the next.
    struct Attestation {
        address attester;
        uint64 expiry;
        bool revoked;
        bytes32 key;
    }

    bytes32 private constant _VERIFIER = keccak256("VERIFIER");

    /// @notice The engine whose VERIFIER participants attest.
    IEngineHooks public immutable engine;

    mapping(bytes32 uid => Attestation) private _attestations;
    mapping(bytes32 key => bytes32 uid) private _latest;
    uint256 private _nonce;

    /// @param engine_ The engine (which deploys this registry).
    constructor(IEngineHooks engine_) {
        engine = engine_;
    }

    /*//////////////////////////////////////////////////////////////
                           EXTERNAL FUNCTIONS
    //////////////////////////////////////////////////////////////*/

    /// @notice Attests `schema` about `subject`; it replaces any earlier attestation of
    /// the same schema for the same subject.
    /// @dev Requirements: the caller is a VERIFIER who accepted the rulebook; schema and
    /// subject are not zero; `expiry` is 0 (never) or in the future. Emits {Attested}.
    /// @param schema What is attested (for example "identity_verified").
    /// @param subject The customer commitment, or the journey id for "value_delivered".
    /// @param expiry When it stops being valid (0: never).
    /// @param data Hash of the off-chain statement.
    /// @return uid The attestation's unique id.
    function attest(bytes32 schema, bytes32 subject, uint64 expiry, bytes32 data) external returns (bytes32 uid) {
        // slither-disable-next-line unused-return (it reverts unless the caller may attest; the number is not needed)
        engine.checkActor(msg.sender, _VERIFIER);
        if (schema == bytes32(0) || subject == bytes32(0)) revert EmptyAttestation();
        if (expiry != 0 && expiry <= block.timestamp) revert ExpiryNotInFuture(expiry);
        uid = keccak256(abi.encode(schema, subject, msg.sender, expiry, data, ++_nonce));
        bytes32 key = keccak256(abi.encode(schema, subject));
        _attestations[uid] = Attestation({attester: msg.sender, expiry: expiry, revoked: false, key: key});
        _latest[key] = uid;
        emit Attested(uid, schema, subject, msg.sender, expiry, data);
        engine.recordAttestation(key, msg.sender, expiry, false);
    }

    /// @notice Revokes an attestation.
    /// @dev Requirements: the caller is its attester, still a VERIFIER who accepted the
    /// rulebook; it is not revoked already. Emits {AttestationRevoked}.
    /// @param uid The attestation.
    function revoke(bytes32 uid) external {
        // slither-disable-next-line unused-return (it reverts unless the caller may revoke; the number is not needed)
        engine.checkActor(msg.sender, _VERIFIER);
        Attestation storage a = _attestations[uid];
        if (a.attester == address(0)) revert UnknownAttestation(uid);
        if (a.attester != msg.sender) revert NotAttester(uid, msg.sender);
        if (a.revoked) revert AttestationAlreadyRevoked(uid);
        a.revoked = true;
        emit AttestationRevoked(uid, msg.sender);
        if (_latest[a.key] == uid) engine.recordAttestation(a.key, msg.sender, a.expiry, true);
    }

    /// @notice An attestation by its id.
    /// @param uid The attestation.
    /// @return attester The verifier (zero: no such attestation).
    /// @return expiry When it stops being valid (0: never).
    /// @return revoked Whether it was revoked.
    function attestation(bytes32 uid) external view returns (address attester, uint64 expiry, bool revoked) {
        Attestation memory a = _attestations[uid];
        return (a.attester, a.expiry, a.revoked);
    }

    /// @notice The state of the newest attestation of `schema` about `subject`.
    /// @param schema What is attested.
    /// @param subject What it is about.
    /// @return state Missing, valid, expired or revoked.
    /// @return attester Who attested it (zero when missing).
    function attestationState(bytes32 schema, bytes32 subject)
        external
        view
        returns (AttestationState state, address attester)
    {
        bytes32 uid = _latest[keccak256(abi.encode(schema, subject))];
        if (uid == bytes32(0)) return (AttestationState.Missing, address(0));
        Attestation memory a = _attestations[uid];
        if (a.revoked) return (AttestationState.Revoked, a.attester);
        if (a.expiry != 0 && a.expiry <= block.timestamp) return (AttestationState.Expired, a.attester);
        return (AttestationState.Valid, a.attester);
    }
}
