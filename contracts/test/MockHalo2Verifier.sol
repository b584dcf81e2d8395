// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

// =============================================================================================================
// TEST-ONLY. This mock proves nothing. It exists ONLY for unit tests of routing logic (registry lookups, input
// binding, output decoding, rejection handling) where a real EZKL proof would add minutes and no coverage.
// Never register it for a real model or deploy it outside tests. End-to-end and integration tests use real
// EZKL-generated verifiers and real proofs.
// =============================================================================================================

import {IHalo2Verifier} from "../interfaces/IHalo2Verifier.sol";

/// @title MockHalo2Verifier (TEST-ONLY)
/// @notice A stand-in for an EZKL `Halo2Verifier` with a fixed, chosen behaviour.
/// @dev The behaviour is an immutable, so mocks with different behaviours have different code hashes, which lets
///      tests swap the code at a registered address and observe the route's code-hash check.
contract MockHalo2Verifier is IHalo2Verifier {
    /// @notice How the mock answers `verifyProof`.
    /// @dev `Digest` imitates the real verifier's contract: accept one specific proof per instance array (here
    ///      `digestProof(instances)`) and revert with empty data otherwise. The others imitate faulty verifiers.
    enum Behaviour {
        Digest,
        ReturnFalse,
        RevertAlways,
        ReturnNothing
    }

    Behaviour private immutable BEHAVIOUR;

    /// @param behaviour_ How `verifyProof` answers.
    constructor(Behaviour behaviour_) {
        BEHAVIOUR = behaviour_;
    }

    /// @notice The mock's behaviour.
    /// @return The behaviour.
    function behaviour() external view returns (Behaviour) {
        return BEHAVIOUR;
    }

    /// @notice The only proof the `Digest` behaviour accepts for `instances`.
    /// @param instances The public instances.
    /// @return The 32-byte proof `keccak256(abi.encode(instances))`.
    function digestProof(uint256[] calldata instances) external pure returns (bytes memory) {
        return abi.encodePacked(keccak256(abi.encode(instances)));
    }

    /// @inheritdoc IHalo2Verifier
    function verifyProof(
        bytes calldata proof,
        uint256[] calldata instances
    ) external view override returns (bool) {
        Behaviour b = BEHAVIOUR;
        if (b == Behaviour.ReturnFalse) return false;
        if (b == Behaviour.ReturnNothing) {
            assembly ("memory-safe") {
                return(0, 0)
            }
        }
        // Digest (and RevertAlways, which never matches): revert with no data, as EZKL's verifier does.
        if (
            b == Behaviour.RevertAlways ||
            keccak256(proof) != keccak256(abi.encodePacked(keccak256(abi.encode(instances))))
        ) {
            assembly ("memory-safe") {
                revert(0, 0)
            }
        }
        return true;
    }
}
