// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Multicall} from "@openzeppelin/contracts/utils/Multicall.sol";
import {Directory} from "./Directory.sol";
import {CompanionFactory} from "./CompanionFactory.sol";
import {EngineStorage} from "./EngineStorage.sol";
import {IParticipantCopy} from "./interfaces/IParticipantCopy.sol";
import {Participant, CUSTOMER_ROLE, rulebookInForce} from "./JourneyTypes.sol";

/// @title The engine's copy of the directory
/// @notice Organisations, participants, roles and the rulebook are governed in the
/// {Directory}, which the engine deploys; it pushes every change of a participant's
/// record, of the rulebook and of the roles here, so that a step checks its actor (role,
/// organisation, rulebook accepted) in one slot, without a call. The actor of every action is
/// `_msgSender()`: the caller, or, for a call from the engine's step relay (its one trusted
/// forwarder, ERC-2771), the signer the relay appended after verifying its signature. This is
/// OpenZeppelin's ERC2771Context reduced to what the engine uses (its `trustedForwarder()`
/// getter left out for the engine's size: the registry, which trusts the same relay, has it).
/// The engine's Multicall lives here, below the context it passes on to each call.
abstract contract Participants is Multicall, EngineStorage, IParticipantCopy {
    /*//////////////////////////////////////////////////////////////
                                CONSTANTS
    //////////////////////////////////////////////////////////////*/


    /*//////////////////////////////////////////////////////////////
                                 STORAGE
    //////////////////////////////////////////////////////////////*/


    /// @notice The directory of organisations, participants, roles and the rulebook.
    Directory public immutable directory;

    /// @dev The step relay: the one forwarder whose appended sender the engine honours.
    address private immutable _relay;


    /*//////////////////////////////////////////////////////////////
                               CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    /// @param admin The first ADMIN, who accepts the first rulebook on deployment.
    /// @param rulebookHash Hash of the consensus rules' text, version 1.
    /// @param factory Deploys the directory (its code is not part of the engine's) and the
    /// step relay, the one forwarder whose appended sender (ERC-2771) the engine honours.
    constructor(address admin, bytes32 rulebookHash, CompanionFactory factory)
    {
        _relay = address(factory.relay());
        Directory d = factory.newDirectory(admin, rulebookHash);
        directory = d;
        (Participant memory record, uint32 version, uint40 publishedAt, bytes32[] memory roles) = d.snapshot(admin);
        _participants[admin] = record;
        _accounts[record.id] = admin;
        _book = Book({version: version, publishedAt: publishedAt, organisations: 0});
        for (uint256 i = 0; i < roles.length; ++i) {
            // At most 64 roles: the bit fits.
            _putRole(roles[i], uint8(i + 1));
        }
    }

    /*//////////////////////////////////////////////////////////////
                          THE DIRECTORY'S COPY
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IParticipantCopy
    function copyParticipant(address account, Participant calldata record) external {
        _onlyDirectory();
        _participants[account] = record;
        _accounts[record.id] = account;
    }

    /// @inheritdoc IParticipantCopy
    function copyBook(uint32 version, uint40 publishedAt, uint32 organisations) external {
        _onlyDirectory();
        _book = Book({version: version, publishedAt: publishedAt, organisations: organisations});
    }

    /// @inheritdoc IParticipantCopy
    function copyRole(bytes32 role, uint8 bit) external {
        _onlyDirectory();
        _putRole(role, bit);
    }

    /*//////////////////////////////////////////////////////////////
                                  VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @notice Whether `forwarder` is the engine's trusted forwarder (ERC-2771): its step relay.
    function isTrustedForwarder(address forwarder) external view returns (bool) {
        return forwarder == _relay;
    }

    /// @notice A participant's record as the engine checks it.
    /// @param account The address.
    /// @return id Its number (0: not a participant).
    /// @return accepted The rulebook version it accepted (0: none).
    /// @return org Its organisation (0: none).
    function participant(address account) external view returns (uint32 id, uint32 accepted, uint32 org) {
        Participant memory p = _participants[account];
        return (p.id, p.accepted, p.org);
    }

    /// @notice Reverts unless `account` holds `role` and accepted the rulebook in force.
    /// @param account The participant.
    /// @param role The role id needed.
    /// @return id The account's participant number.
    function checkActor(address account, bytes32 role) external view returns (uint32 id) {
        return _checkActor(account, _bitOf(role)).id;
    }

    /*//////////////////////////////////////////////////////////////
                            INTERNAL HELPERS
    //////////////////////////////////////////////////////////////*/

    /// @dev The actor: the caller, or the signer the step relay appended (the last 20 bytes of
    /// its call, ERC-2771). No one but the relay can make the engine read an appended sender.
    function _msgSender() internal view override returns (address sender) {
        sender = msg.sender;
        if (sender == _relay && msg.data.length >= 20) {
            assembly ("memory-safe") {
                sender := shr(96, calldataload(sub(calldatasize(), 20)))
            }
        }
    }

    /// @dev 20: the relay appends its signer's address (ERC-2771); Multicall passes it on.
    function _contextSuffixLength() internal pure override returns (uint256) {
        return 20;
    }

    /// @dev Every action of a participant goes through here: the account must hold the
    /// role of `bit` (a role bit plus one) and have accepted the rulebook in force, or the
    /// previous one within its grace period. Returns the participant's record.
    function _checkActor(address account, uint8 bit) internal view returns (Participant storage p) {
        p = _holder(account, bit);
        Book storage b = _book;
        uint32 accepted = p.accepted;
        if (!rulebookInForce(accepted, b.version, b.publishedAt)) {
            revert RulebookNotAccepted(account, accepted, b.version);
        }
    }

    /// @dev The record of `account`, which must hold the role of `bit` and must not be
    /// ADMIN (ADMIN never owns a step). Assignment does not need the assignee's acceptance
    /// yet: it needs it to act.
    function _assignable(address account, uint8 bit) internal view returns (Participant storage p) {
        p = _holder(account, bit);
        if (p.roles & 1 != 0) revert AdminMayNotOwnStep(account);
    }

    /// @dev The record of `account`, which must hold the role of `bit`. Records are read
    /// where they lie (a storage reference), with no copy to memory.
    function _holder(address account, uint8 bit) private view returns (Participant storage p) {
        p = _participants[account];
        if (bit == 0 || bit == _CUSTOMER_BIT || p.roles & (uint64(1) << (bit - 1)) == 0) {
            revert MissingRole(account, bit == 0 || bit == _CUSTOMER_BIT ? CUSTOMER_ROLE : _roleIds[bit]);
        }
    }

    /// @dev Whether `account` holds the role of `bit` (a role bit plus one, not zero).
    function _holds(address account, uint8 bit) internal view returns (bool) {
        return _participants[account].roles & (uint64(1) << (bit - 1)) != 0;
    }

    /// @dev Whether `account` holds ADMIN.
    function _isAdmin(address account) internal view returns (bool) {
        return _participants[account].roles & 1 != 0;
    }

    /// @dev The participant number of `account` (0: not a participant).
    function _idOf(address account) internal view returns (uint32) {
        return _participants[account].id;
    }

    /// @dev Whether organisation `org` exists.
    function _orgExists(uint32 org) internal view returns (bool) {
        return org != 0 && org <= _book.organisations;
    }

    /// @dev The bit plus one of a defined role; reverts for any other.
    function _bitOf(bytes32 role) internal view returns (uint8 bit) {
        bit = _roleBits[role];
        if (bit == 0) revert UnknownRole(role);
    }


    function _onlyDirectory() private view {
        if (msg.sender != address(directory)) revert NotDirectory(msg.sender);
    }

    function _putRole(bytes32 role, uint8 bit) private {
        _roleBits[role] = bit;
        _roleIds[bit] = role;
    }
}
