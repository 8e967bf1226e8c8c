// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IJourneyEngine} from "./interfaces/IJourneyEngine.sol";
import {IParticipantCopy} from "./interfaces/IParticipantCopy.sol";
import {IRulebook} from "./interfaces/IEngineHooks.sol";
import {OrgKind, Participant, CUSTOMER_ROLE, RULEBOOK_GRACE_PERIOD, rulebookInForce} from "./JourneyTypes.sol";

/// @title Directory: organisations, participants, roles and the rulebook
/// @notice A participant is an address acting for one organisation (a company unit or an
/// outside firm). Roles are AccessControl roles (ADMIN is the default admin role); the
/// defaults are defined here and a playbook may name roles ADMIN defines. A participant
/// acts only after accepting the rulebook in force, on chain or by an EIP-712 signature
/// that anyone relays through the signature relay (the {CustomerVoice} contract). A new
/// rulebook version leaves those who accepted the previous one a grace period to accept
/// it, so that no deadline runs out against a participant who had no chance to.
/// ADMIN governs here. The engine that deploys the directory keeps a copy of each
/// participant's record and of the rulebook's version, pushed on every change, so that a
/// step checks its actor without a call.
contract Directory is AccessControl, IJourneyEngine, IRulebook {
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

    /// @notice How long those who accepted the previous rulebook may still act after a new
    /// version is published.
    uint256 public constant RULEBOOK_GRACE = RULEBOOK_GRACE_PERIOD;

    /// @dev Role bits, plus one (0: not a role). ADMIN is bit 0; a playbook step stores the
    /// bit plus one of its role, `_CUSTOMER_BIT` for the customer's.
    uint8 private constant _ADMIN_BIT = 1;
    uint8 private constant _CUSTOMER_BIT = 0xff;
    uint256 private constant _MAX_ROLES = 64;

    /*//////////////////////////////////////////////////////////////
                                 STORAGE
    //////////////////////////////////////////////////////////////*/

    /// @dev One slot: the rulebook version in force, when it was published, the numbers of
    /// participants and organisations, and of roles defined.
    struct Book {
        uint32 version;
        uint40 publishedAt;
        uint32 participants;
        uint32 organisations;
        uint8 roles;
    }

    mapping(address account => Participant) private _participants;
    mapping(uint32 id => address account) private _accounts;
    mapping(bytes32 role => uint8 bitPlusOne) private _roleBits;
    mapping(uint8 bitPlusOne => bytes32 role) private _roleIds;
    mapping(uint32 org => bytes32 name) private _orgNames;
    mapping(uint32 org => OrgKind kind) private _orgKinds;
    Book private _book;
    bytes32 private _rulebook;

    /// @notice The engine whose copy of the records this directory keeps in step (the
    /// engine deploys the directory and copies its first records itself).
    IParticipantCopy public immutable engine;

    /*//////////////////////////////////////////////////////////////
                               CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    /// @param engine_ The engine it governs (which keeps a copy of what steps read).
    /// @param admin The first ADMIN, who accepts the first rulebook on deployment.
    /// @param rulebookHash Hash of the consensus rules' text, version 1.
    constructor(IParticipantCopy engine_, address admin, bytes32 rulebookHash) {
        engine = engine_;
        _defineRole(DEFAULT_ADMIN_ROLE, "ADMIN");
        bytes32[7] memory defaults = [bytes32("MARKETING"), "SALES", "SUCCESS", "VENDOR", "VERIFIER", "FUNDER", "ARBITER"];
        for (uint256 i = 0; i < defaults.length; ++i) {
            _defineRole(_roleId(defaults[i]), defaults[i]);
        }
        _publishRulebook(rulebookHash);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _accept(admin, 1);
    }

    /*//////////////////////////////////////////////////////////////
                      ORGANISATIONS, ROLES, MEMBERS
    //////////////////////////////////////////////////////////////*/

    /// @notice Registers an organisation: a company unit or an outside firm, by a short
    /// name (never personal data).
    /// @dev Requirements: the caller is ADMIN and accepted the rulebook in force; `name` is
    /// not zero. Emits {OrganisationRegistered}.
    /// @param name Its short name.
    /// @param kind A company unit or an outside vendor firm.
    /// @return org Its number (from 1).
    function registerOrganisation(bytes32 name, OrgKind kind) external returns (uint32 org) {
        _checkActor(msg.sender, _ADMIN_BIT);
        if (name == bytes32(0)) revert EmptyName();
        org = ++_book.organisations;
        _orgNames[org] = name;
        _orgKinds[org] = kind;
        emit OrganisationRegistered(org, name, kind);
        _syncBook();
    }

    /// @notice Makes `account` a participant of organisation `org`. A participant belongs
    /// to one organisation for good.
    /// @dev Requirements: the caller is ADMIN and accepted the rulebook; `org` exists;
    /// `account` belongs to no organisation yet. Emits {MemberAdded} (and
    /// {ParticipantRegistered} for a new participant).
    /// @param org The organisation.
    /// @param account The participant's address.
    function addMember(uint32 org, address account) external {
        _checkActor(msg.sender, _ADMIN_BIT);
        if (org == 0 || org > _book.organisations) revert UnknownOrganisation(org);
        Participant storage p = _register(account);
        if (p.org != 0) revert AlreadyMember(account, p.org);
        p.org = org;
        emit MemberAdded(org, account);
        _sync(account, p);
    }

    /// @notice Defines a role a playbook may name, by its name (for example "SUPPORT"); its
    /// id is keccak256 of the name, as OpenZeppelin's role ids are.
    /// @dev Requirements: the caller is ADMIN and accepted the rulebook; the name is 1 to
    /// 32 bytes, left-aligned; the role is not the customer's and not defined yet; at most
    /// 64 roles. Emits {RoleDefined}.
    /// @param name The role's name.
    /// @return role The role id.
    function defineRole(bytes32 name) external returns (bytes32 role) {
        _checkActor(msg.sender, _ADMIN_BIT);
        role = _roleId(name);
        _defineRole(role, name);
    }

    /// @notice Grants a defined role to a participant of an organisation.
    /// @dev Requirements: the caller is ADMIN and accepted the rulebook in force; the role
    /// is defined; `account` belongs to an organisation (ADMIN itself needs none).
    /// Emits {RoleGranted}.
    function grantRole(bytes32 role, address account) public override {
        _checkActor(msg.sender, _ADMIN_BIT);
        _grantRole(role, account);
    }

    /// @notice Revokes a role.
    /// @dev Requirements: the caller is ADMIN and accepted the rulebook in force.
    /// Emits {RoleRevoked}.
    function revokeRole(bytes32 role, address account) public override {
        _checkActor(msg.sender, _ADMIN_BIT);
        _revokeRole(role, account);
    }

    /*//////////////////////////////////////////////////////////////
                               THE RULEBOOK
    //////////////////////////////////////////////////////////////*/

    /// @notice Publishes a new rulebook version; every participant must accept it again,
    /// within {RULEBOOK_GRACE} of now.
    /// @dev Requirements: the caller is ADMIN and accepted the rulebook in force; `hash`
    /// is not zero. Emits {RulebookPublished}.
    /// @param hash Hash of the new rules' text.
    function publishRulebook(bytes32 hash) external {
        _checkActor(msg.sender, _ADMIN_BIT);
        _publishRulebook(hash);
    }

    /// @notice Accepts the rulebook in force for the caller.
    /// @dev Requirements: the caller is a participant. Emits {RulebookAccepted}.
    function acceptRulebook() external {
        _accept(msg.sender, _book.version);
    }

    /// @notice Accepts the rulebook in force for `account`, whose EIP-712 signature the
    /// signature relay has verified.
    /// @dev Requirements: the caller is the signature relay; `version` is the version in
    /// force; `account` is a participant. Emits {RulebookAccepted}.
    /// @param account The participant who signed.
    /// @param version The version signed.
    function acceptRulebookFor(address account, uint32 version) external {
        if (msg.sender != engine.voice()) revert NotVoice(msg.sender);
        if (version != _book.version) revert StaleRulebook(version, _book.version);
        _accept(account, version);
    }

    /*//////////////////////////////////////////////////////////////
                                  VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @notice The rulebook in force.
    /// @return version Its version number.
    /// @return hash Its hash.
    function rulebook() external view returns (uint32 version, bytes32 hash) {
        return (_book.version, _rulebook);
    }

    /// @notice A participant's record.
    /// @param account The address.
    /// @return id Its number (0: not a participant).
    /// @return accepted The rulebook version it accepted (0: none).
    /// @return org Its organisation (0: none).
    function participant(address account) external view returns (uint32 id, uint32 accepted, uint32 org) {
        Participant memory p = _participants[account];
        return (p.id, p.accepted, p.org);
    }

    /// @notice An organisation.
    /// @param org Its number.
    /// @return name Its short name (zero: no such organisation).
    /// @return kind A company unit or an outside firm.
    function organisation(uint32 org) external view returns (bytes32 name, OrgKind kind) {
        return (_orgNames[org], _orgKinds[org]);
    }

    /// @notice How many organisations are registered (their numbers run from 1).
    function organisationCount() external view returns (uint32) {
        return _book.organisations;
    }

    /// @notice What the engine copies when it deploys the directory: the first ADMIN's
    /// record, the rulebook slot and the default roles, in bit order.
    /// @param admin The first ADMIN.
    /// @return record Its record.
    /// @return version The rulebook version (1).
    /// @return publishedAt When it was published.
    /// @return roles The role ids defined, in bit order.
    function snapshot(address admin)
        external
        view
        returns (Participant memory record, uint32 version, uint40 publishedAt, bytes32[] memory roles)
    {
        Book memory b = _book;
        roles = new bytes32[](b.roles);
        for (uint8 i = 0; i < b.roles; ++i) {
            roles[i] = _roleIds[i + 1];
        }
        return (_participants[admin], b.version, b.publishedAt, roles);
    }

    /// @notice Whether `role` is defined (a playbook may name it).
    function isRole(bytes32 role) external view returns (bool) {
        return _roleBits[role] != 0;
    }

    /// @notice The bit plus one of a defined role, as a playbook's step records keep it.
    /// @param role The role id.
    function roleBit(bytes32 role) external view returns (uint8) {
        return _bitOf(role);
    }

    /*//////////////////////////////////////////////////////////////
                            INTERNAL HELPERS
    //////////////////////////////////////////////////////////////*/

    /// @dev Every action of a participant goes through here: the account must hold the
    /// role of `bit` (a role bit plus one) and have accepted the rulebook in force, or the
    /// previous one within its grace period. Returns the participant's record.
    function _checkActor(address account, uint8 bit) private view returns (Participant memory p) {
        p = _participants[account];
        // slither-disable-next-line incorrect-equality (role bits compared)
        if (bit == 0 || bit == _CUSTOMER_BIT || p.roles & (uint64(1) << (bit - 1)) == 0) {
            revert MissingRole(account, _roleIdOf(bit));
        }
        Book memory b = _book;
        if (!rulebookInForce(p.accepted, b.version, b.publishedAt)) {
            revert RulebookNotAccepted(account, p.accepted, b.version);
        }
    }

    /// @dev The bit plus one of a defined role; reverts for any other.
    function _bitOf(bytes32 role) private view returns (uint8 bit) {
        bit = _roleBits[role];
        // slither-disable-next-line incorrect-equality (0 marks a role never defined)
        if (bit == 0) revert UnknownRole(role);
    }

    /// @dev Keeps the role bits in step; a role goes only to a member of an organisation
    /// (ADMIN excepted), and only a defined role.
    function _grantRole(bytes32 role, address account) internal override returns (bool granted) {
        uint8 bit = _bitOf(role);
        Participant storage p = _register(account);
        if (p.org == 0 && role != DEFAULT_ADMIN_ROLE) revert NoOrganisation(account);
        granted = super._grantRole(role, account);
        if (granted) {
            p.roles |= uint64(1) << (bit - 1);
            _sync(account, p);
        }
    }

    /// @dev Keeps the role bits in step when a role is revoked or renounced.
    function _revokeRole(bytes32 role, address account) internal override returns (bool revoked) {
        revoked = super._revokeRole(role, account);
        uint8 bit = _roleBits[role];
        if (revoked && bit != 0) {
            Participant storage p = _participants[account];
            p.roles &= ~(uint64(1) << (bit - 1));
            _sync(account, p);
        }
    }

    /// @dev The role id of a role bit plus one (the customer's for anything else).
    function _roleIdOf(uint8 bit) private view returns (bytes32) {
        return bit == 0 || bit == _CUSTOMER_BIT ? CUSTOMER_ROLE : _roleIds[bit];
    }

    /// @dev Numbers `account` as a participant the first time it is seen.
    function _register(address account) private returns (Participant storage p) {
        p = _participants[account];
        if (p.id == 0) {
            uint32 id = ++_book.participants;
            p.id = id;
            _accounts[id] = account;
            emit ParticipantRegistered(account, id);
        }
    }

    /// @dev Pushes a participant's record to the engine's copy (not while the engine is
    /// being deployed: it copies the first records itself, see {snapshot}).
    function _sync(address account, Participant storage p) private {
        if (address(engine).code.length != 0) engine.copyParticipant(account, p);
    }

    /// @dev Pushes the rulebook version, when it was published and the number of
    /// organisations to the engine's copy (likewise).
    function _syncBook() private {
        Book memory b = _book;
        if (address(engine).code.length != 0) engine.copyBook(b.version, b.publishedAt, b.organisations);
    }

    /// @dev keccak256 of a name's bytes (a left-aligned short string of 1 to 32 bytes).
    function _roleId(bytes32 name) private pure returns (bytes32 role) {
        uint256 length = 0;
        while (length < 32 && name[length] != 0) ++length;
        for (uint256 i = length; i < 32; ++i) {
            if (name[i] != 0) revert InvalidRole(name);
        }
        if (length == 0) revert InvalidRole(name);
        assembly ("memory-safe") {
            mstore(0, name)
            role := keccak256(0, length)
        }
    }

    function _defineRole(bytes32 role, bytes32 name) private {
        if (role == CUSTOMER_ROLE || (role == bytes32(0) && _book.roles != 0)) revert InvalidRole(role);
        if (_roleBits[role] != 0) revert RoleExists(role);
        uint8 count = _book.roles;
        if (count >= _MAX_ROLES) revert TooManyRoles();
        // `count` is below 64: the bit fits.
        uint8 bit = count + 1;
        _roleBits[role] = bit;
        _roleIds[bit] = role;
        _book.roles = bit;
        emit RoleDefined(role, bit - 1, name);
        if (address(engine).code.length != 0) engine.copyRole(role, bit);
    }

    function _publishRulebook(bytes32 hash) private {
        if (hash == bytes32(0)) revert EmptyRulebook();
        uint32 version = ++_book.version;
        _book.publishedAt = uint40(block.timestamp);
        _rulebook = hash;
        emit RulebookPublished(version, hash);
        _syncBook();
    }

    function _accept(address account, uint32 version) private {
        Participant storage p = _participants[account];
        if (p.id == 0) revert NotParticipant(account);
        p.accepted = version;
        emit RulebookAccepted(account, version);
        _sync(account, p);
    }
}
