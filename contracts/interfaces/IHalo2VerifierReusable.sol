// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title IHalo2VerifierReusable
/// @notice The call surface of EZKL's reusable verifier (`create_evm_verifier(..., reusable=True)`, contract
///         `Halo2VerifierReusable`): one contract verifies proofs of every circuit, each circuit described by its
///         verifying-key artifact (VKA, `create_evm_vka`), a list of 32-byte words registered once.
/// @dev Behaviour of the generated code (EZKL 23.0.5) that callers must handle:
///      - `registerVka` stores `keccak256(abi.encodePacked(vka))` as registered; anyone may call it;
///      - `verifyProof` `require`s the VKA registered ("VKA not registered"), reverts with empty data for an invalid
///        proof, and returns `(true, digest, rescaled)` with an assembly `return` whose third word is NOT a valid
///        ABI offset: read only the first two words;
///      - it reads the VKA's rescaling data from calldata right after the instances, so the call must be
///        ABI-encoded in the canonical layout (proof, instances, vka, in that order, no gaps);
///      - `verifyProof` is declared non-view but writes no state, so it runs under STATICCALL; it is declared
///        `view` here for that reason, and callers must not rely on the real contract's declared mutability.
///      - The VKA holds the SRS's G2 points: words 16..19 are [1]2 and words 20..23 are -[tau]2 (x1, x2, y1, y2 each),
///        the points the pairing check uses (see `IModelRegistry.usesCeremonySrs`).
interface IHalo2VerifierReusable {
    /// @notice Registers a verifying-key artifact so that `verifyProof` accepts it.
    /// @param vka The artifact's words.
    /// @return digest `keccak256(abi.encodePacked(vka))`.
    function registerVka(bytes32[] calldata vka) external returns (bytes32 digest);

    /// @notice Verifies a Halo2 (KZG, BN254) proof of the circuit `vka` describes.
    /// @param proof The proof bytes as written by EZKL.
    /// @param instances The public instances as BN254 scalar field elements.
    /// @param vka The circuit's registered verifying-key artifact.
    /// @return success True (an invalid proof reverts).
    /// @return vkaDigest `keccak256(abi.encodePacked(vka))`.
    /// @return rescaledInstances Not ABI-decodable (see above); ignore.
    function verifyProof(
        bytes calldata proof,
        uint256[] calldata instances,
        bytes32[] calldata vka
    ) external view returns (bool success, bytes32 vkaDigest, int256[] memory rescaledInstances);
}
