// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IJourneyEngine} from "./interfaces/IJourneyEngine.sol";
import {Role} from "./JourneyTypes.sol";

/// @title Participants and the rulebook
/// @notice Roles (OpenZeppelin AccessControl; ADMIN is the default admin role) and the
/// versioned rulebook: a participant acts only after accepting the version in force,
/// on chain or by an EIP-712 signature that anyone relays through the signature relay
/// (the {CustomerVoice} contract, which verifies it).
abstract contract Participants is AccessControl, IJourneyEngine {
    /*//////////////////////////////////////////////////////////////
                                  ROLES
    //////////////////////////////////////////////////////////////*/

    bytes32 public constant MARKETING_ROLE = keccak256("MARKETING");
    bytes32 public constant SALES_ROLE = keccak256("SALES");
    bytes32 public constant SUCCESS_ROLE = keccak256("SUCCESS");
    bytes32 public constant VENDOR_ROLE = keccak256("VENDOR");
    bytes32 public constant VERIFIER_ROLE = keccak256("VERIFIER");
    bytes32 public constant FUNDER_ROLE = keccak256("FUNDER");
    bytes32 public constant ARBITER_ROLE = keccak256("ARBITER");


    /*//////////////////////////////////////////////////////////////
                                 STORAGE
    //////////////////////////////////////////////////////////////*/

    /// @dev One slot: the participant's number, the rulebook version it accepted and its
    /// playbook roles (bit r set: it holds `Role(r)`), kept in step with AccessControl so
    /// that checking an actor reads this slot and the rulebook version, nothing else.
    struct Participant {
        uint32 id;
        uint32 accepted;
        uint16 roles;
    }

    mapping(address account => Participant) private _participants;
    mapping(uint32 id => address account) private _accounts;
    /// @dev One slot: the rulebook version in force and the number of participants.
    uint32 private _rulebookVersion;
    uint32 private _participantCount;
    bytes32 private _rulebook;

    /*//////////////////////////////////////////////////////////////
                               CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    /// @param admin The first ADMIN, who accepts the first rulebook on deployment.
    /// @param rulebookHash Hash of the consensus rules' text, version 1.
    constructor(address admin, bytes32 rulebookHash) {
        _publishRulebook(rulebookHash);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _accept(admin, 1);
    }

    /*//////////////////////////////////////////////////////////////
                           EXTERNAL FUNCTIONS
    //////////////////////////////////////////////////////////////*/

    /// @notice Publishes a new rulebook version; every participant must accept it again.
    /// @dev Requirements: the caller is ADMIN; `rulebook` is not zero.
    /// Emits {RulebookPublished}.
    /// @param hash Hash of the new rules' text.
    function publishRulebook(bytes32 hash) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _publishRulebook(hash);
    }

    /// @notice Accepts the rulebook in force for the caller.
    /// @dev Requirements: the caller is a participant. Emits {RulebookAccepted}.
    function acceptRulebook() external {
        _accept(msg.sender, _rulebookVersion);
    }

    /// @notice Accepts the rulebook in force for `account`, whose EIP-712 signature the
    /// signature relay has verified.
    /// @dev Requirements: the caller is the signature relay; `version` is the version in
    /// force; `account` is a participant. Emits {RulebookAccepted}.
    /// @param account The participant who signed.
    /// @param version The version signed.
    function acceptRulebookFor(address account, uint32 version) external {
        if (msg.sender != _signatureRelay()) revert NotVoice(msg.sender);
        if (version != _rulebookVersion) revert StaleRulebook(version, _rulebookVersion);
        _accept(account, version);
    }

    /// @notice The rulebook in force.
    /// @return version Its version number.
    /// @return hash Its hash.
    function rulebook() external view returns (uint32 version, bytes32 hash) {
        return (_rulebookVersion, _rulebook);
    }

    /// @notice A participant's record.
    /// @param account The address.
    /// @return id Its number (0: not a participant).
    /// @return accepted The rulebook version it accepted (0: none).
    function participant(address account) external view returns (uint32 id, uint32 accepted) {
        Participant memory p = _participants[account];
        return (p.id, p.accepted);
    }

    /// @notice Reverts unless `account` holds `role` and accepted the rulebook in force.
    /// @param account The participant.
    /// @param role The role needed.
    /// @return id The account's participant number.
    function checkActor(address account, Role role) external view returns (uint32 id) {
        return _checkActor(account, role);
    }

    /// @notice The AccessControl role id for a playbook role.
    /// @param role The role; `Customer` and `None` have no id.
    /// @return The role id (bytes32(0) for ADMIN, AccessControl's default admin role).
    function _roleId(Role role) private pure returns (bytes32) {
        if (role == Role.Marketing) return MARKETING_ROLE;
        if (role == Role.Sales) return SALES_ROLE;
        if (role == Role.Success) return SUCCESS_ROLE;
        if (role == Role.Vendor) return VENDOR_ROLE;
        if (role == Role.Verifier) return VERIFIER_ROLE;
        if (role == Role.Funder) return FUNDER_ROLE;
        if (role == Role.Arbiter) return ARBITER_ROLE;
        if (role == Role.Admin) return DEFAULT_ADMIN_ROLE;
        return keccak256("NO_ROLE");
    }

    /*//////////////////////////////////////////////////////////////
                            INTERNAL HELPERS
    //////////////////////////////////////////////////////////////*/

    /// @dev Every action of a participant goes through here: the account must hold
    /// `role` and have accepted the rulebook in force. Returns the account's number.
    function _checkActor(address account, Role role) internal view returns (uint32 id) {
        Participant memory p = _participants[account];
        if (p.roles & (1 << uint8(role)) == 0) revert MissingRole(account, role);
        uint32 current = _rulebookVersion;
        if (p.accepted != current) revert RulebookNotAccepted(account, p.accepted, current);
        return p.id;
    }

    /// @dev The number of `account`, which must hold `role` (assignment does not need
    /// the assignee's acceptance yet: it needs it to act).
    function _assignable(address account, Role role) internal view returns (uint32) {
        Participant memory p = _participants[account];
        if (p.roles & (1 << uint8(role)) == 0) revert MissingRole(account, role);
        return p.id;
    }

    /// @dev Whether `account` holds `role` (`Customer` and `None`: never).
    function _holds(address account, Role role) internal view returns (bool) {
        return _participants[account].roles & (1 << uint8(role)) != 0;
    }

    /// @dev The contract that verifies signed actions and relays them.
    function _signatureRelay() internal view virtual returns (address);

    function _accountOf(uint32 id) internal view returns (address) {
        return _accounts[id];
    }

    /// @dev Numbers every new participant the first time it is granted a role, and keeps
    /// its role bits in step.
    function _grantRole(bytes32 role, address account) internal override returns (bool granted) {
        granted = super._grantRole(role, account);
        if (granted) {
            Participant storage p = _participants[account];
            p.roles |= _roleBit(role);
            if (p.id == 0) {
                uint32 id = ++_participantCount;
                p.id = id;
                _accounts[id] = account;
                emit ParticipantRegistered(account, id);
            }
        }
    }

    /// @dev Keeps the role bits in step when a role is revoked or renounced.
    function _revokeRole(bytes32 role, address account) internal override returns (bool revoked) {
        revoked = super._revokeRole(role, account);
        if (revoked) _participants[account].roles &= ~_roleBit(role);
    }

    /// @dev The bit of a playbook role's AccessControl id (0 for any other id).
    function _roleBit(bytes32 role) private pure returns (uint16 bit) {
        bit = 0;
        for (uint8 r = uint8(Role.Marketing); r <= uint8(Role.Admin); ++r) {
            if (_roleId(Role(r)) == role) bit = uint16(1 << r);
        }
    }

    function _publishRulebook(bytes32 hash) private {
        if (hash == bytes32(0)) revert EmptyRulebook();
        uint32 version = ++_rulebookVersion;
        _rulebook = hash;
        emit RulebookPublished(version, hash);
    }

    function _accept(address account, uint32 version) private {
        Participant storage p = _participants[account];
        if (p.id == 0) revert NotParticipant(account);
        p.accepted = version;
        emit RulebookAccepted(account, version);
    }
}
