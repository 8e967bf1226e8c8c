// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";

/// @title JourneyToken
/// @notice The incentive token held in journeys' escrowed pools: an ERC-20 with
/// EIP-2612 permit, minted only by holders of the minter role.
contract JourneyToken is ERC20, ERC20Permit, AccessControl {
    /// @notice The role allowed to mint.
    bytes32 public constant MINTER_ROLE = keccak256("MINTER");

    /// @param admin Who administers the minter role, and is the first minter.
    constructor(address admin) ERC20("Journey Incentive", "JIT") ERC20Permit("Journey Incentive") {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(MINTER_ROLE, admin);
    }

    /// @notice Mints `amount` tokens to `to`.
    /// @dev Requirements: the caller holds the minter role. Emits {Transfer}.
    /// @param to The recipient.
    /// @param amount Tokens to mint.
    function mint(address to, uint256 amount) external onlyRole(MINTER_ROLE) {
        _mint(to, amount);
    }
}
