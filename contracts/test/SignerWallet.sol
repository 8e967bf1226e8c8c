// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";

/// @title SignerWallet
/// @notice A minimal contract wallet for the tests: it accepts under ERC-1271 what its owner's
/// key signed, and nothing while switched off. It stands for a customer's or a participant's
/// smart account.
contract SignerWallet is IERC1271 {
    /// @notice The key whose signatures the wallet accepts.
    address public immutable owner;
    /// @notice Whether the wallet accepts signatures at all.
    bool public accepting = true;

    /// @param owner_ The key whose signatures the wallet accepts.
    constructor(address owner_) {
        owner = owner_;
    }

    /// @notice Switches acceptance on or off (only the owner).
    /// @param on Whether to accept signatures.
    function setAccepting(bool on) external {
        require(msg.sender == owner, "not the owner");
        accepting = on;
    }

    /// @inheritdoc IERC1271
    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecover(hash, signature);
        if (accepting && err == ECDSA.RecoverError.NoError && signer == owner) return IERC1271.isValidSignature.selector;
        return 0xffffffff;
    }
}
