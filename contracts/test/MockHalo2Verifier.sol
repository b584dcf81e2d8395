// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

// =============================================================================================================
// TEST-ONLY. This mock proves nothing. It exists ONLY for unit tests of routing logic (registry lookups, input
// binding, output decoding, rejection handling) where a real EZKL proof would add minutes and no coverage.
// Never register it for a real model or deploy it outside tests. End-to-end and integration tests use real
// EZKL-generated verifiers and real proofs.
// =============================================================================================================

import {IHalo2VerifierReusable} from "../interfaces/IHalo2VerifierReusable.sol";

/// @title MockHalo2Verifier (TEST-ONLY)
/// @notice A stand-in for EZKL's `Halo2VerifierReusable` with a fixed, chosen behaviour.
/// @dev Like the real one, `registerVka` records `keccak256(abi.encodePacked(vka))` and `verifyProof` requires the
///      VKA registered and returns its digest. The behaviour is an immutable, so mocks with different behaviours
///      have different code hashes.
contract MockHalo2Verifier is IHalo2VerifierReusable {
    /// @notice How the mock answers `verifyProof`.
    /// @dev `Digest` imitates the real verifier's contract: accept one specific proof per instance array (here
    ///      `digestProof(instances)`) and revert with empty data otherwise. The others imitate faulty verifiers;
    ///      `WrongDigest` accepts like `Digest` but reports another VKA's digest.
    enum Behaviour {
        Digest,
        ReturnFalse,
        RevertAlways,
        ReturnNothing,
        WrongDigest
    }

    /// @notice Thrown by `verifyProof` for a VKA never registered.
    /// @param digest The VKA's digest.
    error MockVkaNotRegistered(bytes32 digest);

    Behaviour private immutable BEHAVIOUR;
    mapping(bytes32 digest => bool) private _registered;

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

    /// @inheritdoc IHalo2VerifierReusable
    function registerVka(bytes32[] calldata vka) external override returns (bytes32 digest) {
        digest = keccak256(abi.encodePacked(vka));
        _registered[digest] = true;
    }

    /// @inheritdoc IHalo2VerifierReusable
    function verifyProof(
        bytes calldata proof,
        uint256[] calldata instances,
        bytes32[] calldata vka
    ) external view override returns (bool, bytes32, int256[] memory) {
        bytes32 digest = keccak256(abi.encodePacked(vka));
        if (!_registered[digest]) revert MockVkaNotRegistered({digest: digest}); // EZKL's: require(..., "VKA not registered")
        Behaviour b = BEHAVIOUR;
        if (b == Behaviour.ReturnFalse) return (false, digest, new int256[](0));
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
        if (b == Behaviour.WrongDigest) digest = keccak256(abi.encode(digest));
        return (true, digest, new int256[](0));
    }
}
