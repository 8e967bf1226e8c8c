// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC2771Context} from "@openzeppelin/contracts/metatx/ERC2771Context.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IJourneyEngine} from "./interfaces/IJourneyEngine.sol";
import {IEngineHooks} from "./interfaces/IEngineHooks.sol";
import {AttestationState, Subject} from "./JourneyTypes.sol";

/// @title AttestationRegistry
/// @notice Verifiers' statements about a customer commitment, a journey or one step of
/// a journey, under registered schemas, the way the Ethereum Attestation Service models
/// them. A schema names the role its verifiers must hold and what its subjects are; it
/// never changes once registered. Each verifier's attestations stand on their own: a
/// verifier's newest attestation of a (schema, subject) pair replaces only its own
/// earlier one, so no verifier can shorten, supersede or revive another's. A step that
/// requires a schema is satisfied by any valid attestation of it by a verifier that
/// still holds the schema's role (the engine checks the role when the step completes).
/// The registry records each attestation's validity in the engine, so that a step checks
/// it without a call. It trusts the engine's step relay as its forwarder (ERC-2771), so that a
/// verifier's signed attestations are relayed in batches, each checked as if the verifier sent it.
contract AttestationRegistry is ERC2771Context, IJourneyEngine {
    /*//////////////////////////////////////////////////////////////
                                 STORAGE
    //////////////////////////////////////////////////////////////*/

    /// @dev A registered schema: the role its verifiers hold and what it is about.
    struct Schema {
        bytes32 role;
        Subject subject;
        bool registered;
    }

    /// @dev ADMIN is the directory's DEFAULT_ADMIN_ROLE.
    bytes32 private constant _ADMIN = bytes32(0);
    bytes32 private constant _VERIFIER = keccak256("VERIFIER");

    /// @notice The schema a verifier uses to attest that value was delivered: about the
    /// journey, by VERIFIER. It is registered with the registry.
    bytes32 public constant VALUE_DELIVERED = "value_delivered";

    /// @notice The engine whose participants attest.
    IEngineHooks public immutable engine;

    /// @dev The schemas: the registry's only state. Each attestation is recorded in the engine
    /// alone (one slot: the attester's newest of its pair, with a count that makes its uid).
    mapping(bytes32 schema => Schema) private _schemas;

    /// @param engine_ The engine (which deploys this registry).
    /// @param relay The engine's step relay: the one forwarder whose appended sender counts.
    constructor(IEngineHooks engine_, address relay) ERC2771Context(relay) {
        engine = engine_;
        _register(VALUE_DELIVERED, _VERIFIER, Subject.Journey);
    }

    /*//////////////////////////////////////////////////////////////
                           EXTERNAL FUNCTIONS
    //////////////////////////////////////////////////////////////*/

    /// @notice Registers a schema: what its attestations are about and which role its
    /// verifiers must hold. It can never change afterwards.
    /// @dev Requirements: the caller is ADMIN and accepted the rulebook; the schema is a
    /// short name of at most 30 bytes (its last two bytes are zero) never registered; the
    /// role is defined and is not ADMIN. Emits {SchemaRegistered}.
    /// @param schema Its short name (for example "identity_verified").
    /// @param role The role its verifiers hold (for example keccak256("VERIFIER")).
    /// @param subject What its attestations are about.
    function registerSchema(bytes32 schema, bytes32 role, Subject subject) external {
        // slither-disable-next-line unused-return (it reverts unless the caller is ADMIN; the number is not needed)
        engine.checkActor(_msgSender(), _ADMIN);
        if (schema == bytes32(0) || uint16(uint256(schema)) != 0) revert InvalidSchema(schema);
        if (_schemas[schema].registered) revert SchemaExists(schema);
        if (role == _ADMIN || !engine.directory().isRole(role)) revert UnknownRole(role);
        _register(schema, role, subject);
    }

    /// @notice Attests `schema` about `subject`; it replaces the caller's own earlier
    /// attestation of the same pair, never another verifier's.
    /// @dev Requirements: the schema is registered; the caller holds its role and accepted
    /// the rulebook; the subject is not zero; `expiry` is 0 (never) or in the future.
    /// Emits {Attested}.
    /// @param schema What is attested (a registered schema).
    /// @param subject keccak256(abi.encode(journeyId, customer commitment)), the journey id,
    /// or keccak256(abi.encode(journeyId, uint8 step)), as the schema says.
    /// @param expiry When it stops being valid (0: never).
    /// @param data Hash of the off-chain statement.
    /// @return uid The attestation's unique id.
    function attest(bytes32 schema, bytes32 subject, uint64 expiry, bytes32 data) external returns (bytes32 uid) {
        Schema memory s = _schemas[schema];
        if (!s.registered) revert UnknownSchema(schema);
        address attester = _msgSender();
        // slither-disable-next-line unused-return (it reverts unless the caller may attest; the number is not needed)
        engine.checkActor(attester, s.role);
        if (subject == bytes32(0)) revert EmptyAttestation();
        // slither-disable-next-line timestamp (an expiry is a time)
        if (expiry != 0 && expiry <= block.timestamp) revert ExpiryNotInFuture(expiry);
        bytes32 key = attestationKey(schema, subject, attester);
        // slither-disable-next-line unused-return (only the count makes the uid: a new attestation replaces any record)
        (,, uint32 version) = engine.recordAttestation(key, expiry, false);
        uid = _uid(key, version + 1);
        emit Attested(uid, schema, subject, attester, expiry, data);
    }

    /// @notice Revokes the caller's attestation of `schema` about `subject` numbered `version`
    /// (its uid's), which must be its newest of them (its earlier ones were replaced by it and
    /// count for nothing). Naming the version means a revocation signed for one attestation
    /// never revokes a later one, whenever and in whatever order a relayer lands them. A
    /// verifier that lost its role may still revoke what it attested (its attestations no
    /// longer count anyway); no one revokes another's.
    /// @dev Requirements: the caller attested the pair; `version` is its newest attestation of
    /// it, not revoked already. Emits {AttestationRevoked}.
    /// @param schema What was attested.
    /// @param subject What it was about.
    /// @param version Which of the caller's attestations of them (1 for the first).
    /// @return uid The attestation revoked.
    function revoke(bytes32 schema, bytes32 subject, uint32 version) external returns (bytes32 uid) {
        address sender = _msgSender();
        bytes32 key = attestationKey(schema, subject, sender);
        (bool existed, bool revoked, uint32 newest) = engine.recordAttestation(key, 0, true);
        if (!existed) revert NoAttestation(schema, subject, sender);
        uid = _uid(key, version);
        // the revert undoes the engine's revocation of the newest
        if (version != newest) revert AttestationReplaced(uid, _uid(key, newest));
        if (revoked) revert AttestationAlreadyRevoked(uid);
        emit AttestationRevoked(uid, sender);
    }

    /*//////////////////////////////////////////////////////////////
                                  VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @notice A registered schema.
    /// @param schema Its short name.
    /// @return role The role its verifiers hold (zero: not registered).
    /// @return subject What its attestations are about.
    function schemaOf(bytes32 schema) external view returns (bytes32 role, Subject subject) {
        Schema memory s = _schemas[schema];
        return (s.role, s.subject);
    }

    /// @notice The state of `attester`'s newest attestation of `schema` about `subject`,
    /// as a step would see it.
    /// @param schema What is attested.
    /// @param subject What it is about.
    /// @param attester The verifier.
    /// @return state Missing, valid, expired, revoked, or unauthorised (the attester no
    /// longer holds the schema's role).
    /// @return uid The attestation (zero when missing).
    function attestationState(bytes32 schema, bytes32 subject, address attester)
        external
        view
        returns (AttestationState state, bytes32 uid)
    {
        bytes32 key = attestationKey(schema, subject, attester);
        (bool exists, uint64 expiry, bool revoked, uint32 version) = engine.attestationRecord(key);
        if (!exists) return (AttestationState.Missing, uid);
        uid = _uid(key, version);
        if (revoked) return (AttestationState.Revoked, uid);
        // slither-disable-next-line timestamp (an expiry is a time)
        if (expiry != 0 && expiry <= block.timestamp) return (AttestationState.Expired, uid);
        if (!IAccessControl(address(engine.directory())).hasRole(_schemas[schema].role, attester)) {
            return (AttestationState.Unauthorised, uid);
        }
        return (AttestationState.Valid, uid);
    }

    /// @notice The key under which the engine keeps `attester`'s attestation of `schema`
    /// about `subject`.
    function attestationKey(bytes32 schema, bytes32 subject, address attester) public pure returns (bytes32) {
        return keccak256(abi.encode(schema, subject, attester));
    }

    /*//////////////////////////////////////////////////////////////
                             INTERNAL HELPERS
    //////////////////////////////////////////////////////////////*/

    /// @dev The uid of the `version`th attestation under `key` (unique: the key names the
    /// schema, subject and attester, the version counts the attester's attestations of them).
    function _uid(bytes32 key, uint32 version) private pure returns (bytes32) {
        return keccak256(abi.encode(key, version));
    }

    function _register(bytes32 schema, bytes32 role, Subject subject) private {
        _schemas[schema] = Schema({role: role, subject: subject, registered: true});
        emit SchemaRegistered(schema, role, subject);
    }
}
