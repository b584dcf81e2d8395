// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {IModelRegistry} from "./IModelRegistry.sol";

/// @title IInferenceVerifier
/// @notice The route from a (model, version) to the suite verifier: checks that a proof's public instances carry
///         exactly the given input, that the version's suite verifier accepts the proof against the version's VKA
///         and reports the version's VKA digest, and hands back the proven outputs as signed fixed-point integers.
/// @dev One surface that reverts on any failure and returns only verified data, so callers (the coordinator, a
///      dApp, an emergency-stop wrapper) never have to interpret a boolean. Fixed-point integers use the
///      version's scales (`IModelRegistry.ModelVersion.inputScale` / `outputScale`); field elements map to
///      integers as in `FieldElement`.
interface IInferenceVerifier {
    /// @notice Thrown by the constructor when the registry address holds no code.
    /// @param registry The address given.
    error VerifierRegistryHasNoCode(address registry);

    /// @notice Thrown when the model is not registered.
    /// @param modelId The unknown model.
    error VerifierModelUnknown(bytes32 modelId);

    /// @notice Thrown when the version does not exist for the model.
    /// @param modelId The model.
    /// @param version The unknown version.
    /// @param latestVersion The model's latest version (0 when it has none).
    error VerifierVersionUnknown(bytes32 modelId, uint32 version, uint32 latestVersion);

    /// @notice Thrown when the owner has revoked the version (a broken circuit): its proofs are not accepted.
    /// @param modelId The model.
    /// @param version The revoked version.
    error VerifierVersionRevoked(bytes32 modelId, uint32 version);

    /// @notice Thrown when the version's suite verifier was stopped by the suite admin (e.g. a soundness bug in that
    ///         EZKL release): none of its versions' proofs are accepted.
    /// @param modelId The model.
    /// @param version The version.
    /// @param verifier The stopped verifier.
    error VerifierSuiteVerifierStopped(bytes32 modelId, uint32 version, address verifier);

    /// @notice Thrown when the suite verifier accepted the proof for another VKA than the version's: the proof is
    ///         another version's (or another model's) and was checked against that one's key.
    /// @param modelId The model.
    /// @param version The version.
    /// @param expected The version's registered VKA digest.
    /// @param actual The digest the verifier returned.
    error VerifierVkaDigestMismatch(bytes32 modelId, uint32 version, bytes32 expected, bytes32 actual);

    /// @notice Thrown when the input has a different length from the version's input count.
    /// @param expected The layout's input count.
    /// @param actual The input's length.
    error VerifierInputLengthMismatch(uint256 expected, uint256 actual);

    /// @notice Thrown when the instances have a different length from the version's instance count; the proof
    ///         was likely made for another circuit.
    /// @param expected The layout's instance count.
    /// @param actual The instances' length.
    error VerifierInstanceCountMismatch(uint256 expected, uint256 actual);

    /// @notice Thrown when the proof's input instances are not the given input: the proof is for another input.
    /// @dev Reports the first differing position only.
    /// @param index Index into `input` of the first difference.
    /// @param expected The field encoding of `input[index]`.
    /// @param actual The instance at `layout.inputOffset + index`.
    error VerifierInputMismatch(uint256 index, uint256 expected, uint256 actual);

    /// @notice Thrown by `verifyCommitted` when the keccak256 of the proof's input instances is not the
    ///         commitment given: the proof is for another input (or the instances are not in the version's layout).
    /// @param expected The commitment given (the one stored with the request).
    /// @param actual The keccak256 of the instances' input range.
    error VerifierInputCommitmentMismatch(bytes32 expected, bytes32 actual);

    /// @notice Thrown when the suite verifier rejects the proof against the version's VKA (it reverted, returned
    ///         false or returned malformed data).
    /// @param modelId The model.
    /// @param version The version.
    /// @param verifier The verifier that rejected it.
    error VerifierProofRejected(bytes32 modelId, uint32 version, address verifier);

    /// @notice The registry this route reads.
    /// @return The registry.
    function registry() external view returns (IModelRegistry);

    /// @notice Verifies a proof of an inference of `version` of `modelId` on `input` and returns its output.
    /// @dev Reverts with one of this interface's errors, or `FieldElement`'s for an input whose magnitude has no
    ///      field encoding / an output instance that is not a reduced field element; never returns on failure.
    /// @param modelId The model.
    /// @param version The version; must exist and not be revoked (a deprecated version's proofs still verify).
    /// @param input The flattened input tensor as fixed-point integers at the version's input scale.
    /// @param proof The proof bytes.
    /// @param instances The proof's public instances, in the version's layout.
    /// @return outputs The flattened output tensor as fixed-point integers at the version's output scale.
    function verify(
        bytes32 modelId,
        uint32 version,
        int256[] calldata input,
        bytes calldata proof,
        uint256[] calldata instances
    ) external view returns (int256[] memory outputs);

    /// @notice Like `verify`, but the input is given as a commitment instead of in full: the caller stored
    ///         `inputCommitment` when the input was known (e.g. when an inference was requested) and no longer
    ///         needs the input itself.
    /// @dev `inputCommitment` must be `keccak256(abi.encodePacked(e))` where `e` is the input encoded as field
    ///      elements, each a `uint256` (see `FieldElement.commit`): exactly the keccak256 of the input range of
    ///      the instances of a proof of that input. The hash binds the input's length too, because the range has
    ///      the layout's fixed length. Reverts with one of this interface's errors
    ///      (`VerifierInputCommitmentMismatch` where `verify` says `VerifierInputMismatch`), or `FieldElement`'s
    ///      for an output instance that is not a reduced field element; never returns on failure.
    /// @param modelId The model.
    /// @param version The version; must exist and not be revoked (a deprecated version's proofs still verify).
    /// @param inputCommitment The commitment to the input, as above.
    /// @param proof The proof bytes.
    /// @param instances The proof's public instances, in the version's layout.
    /// @return outputs The flattened output tensor as fixed-point integers at the version's output scale.
    function verifyCommitted(
        bytes32 modelId,
        uint32 version,
        bytes32 inputCommitment,
        bytes calldata proof,
        uint256[] calldata instances
    ) external view returns (int256[] memory outputs);
}
