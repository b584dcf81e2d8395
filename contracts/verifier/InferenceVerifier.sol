// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {IInferenceVerifier} from "../interfaces/IInferenceVerifier.sol";
import {IModelRegistry} from "../interfaces/IModelRegistry.sol";
import {InferenceProof} from "../libraries/InferenceProof.sol";

/// @title InferenceVerifier
/// @notice Routes a proof for (modelId, version) to the version's suite verifier with the version's VKA, binds the
///         proof's input instances to the caller's input, checks the VKA digest, and returns the decoded outputs.
/// @dev Stateless apart from the immutable registry. The checks themselves are `InferenceProof`'s, the code the
///      coordinator's `fulfill` runs too. Overhead on top of the verifier itself is kept small: one registry call
///      returning a fixed-size struct, one ABI encoding of the verifier's calldata (the only copy of the proof, the
///      VKA copied in from its on-chain store), and a linear pass over the inputs and outputs. Meant for `eth_call`
///      pre-checks and dApps that verify a proof themselves: it verifies or reverts.
contract InferenceVerifier is IInferenceVerifier {
    IModelRegistry private immutable REGISTRY;

    /// @param registry_ The model registry to route by.
    constructor(IModelRegistry registry_) {
        if (address(registry_).code.length == 0) {
            revert VerifierRegistryHasNoCode({registry: address(registry_)});
        }
        REGISTRY = registry_;
    }

    /// @inheritdoc IInferenceVerifier
    function registry() external view override returns (IModelRegistry) {
        return REGISTRY;
    }

    /// @inheritdoc IInferenceVerifier
    function verify(
        bytes32 modelId,
        uint32 version,
        int256[] calldata input,
        bytes calldata proof,
        uint256[] calldata instances
    ) external view override returns (int256[] memory outputs) {
        IModelRegistry.VerificationTarget memory target = _target(modelId, version);
        IModelRegistry.InstanceLayout memory layout = target.layout;
        InferenceProof.checkInstanceCount(layout, instances);
        InferenceProof.checkInput(layout, input, instances);
        _verifyProof(modelId, version, target, proof, instances);
        (outputs, ) = InferenceProof.decodeOutputs(layout, instances);
        _returnOutputs(outputs);
    }

    /// @inheritdoc IInferenceVerifier
    function verifyCommitted(
        bytes32 modelId,
        uint32 version,
        bytes32 inputCommitment,
        bytes calldata proof,
        uint256[] calldata instances
    ) external view override returns (int256[] memory outputs) {
        IModelRegistry.VerificationTarget memory target = _target(modelId, version);
        IModelRegistry.InstanceLayout memory layout = target.layout;
        InferenceProof.checkInstanceCount(layout, instances);
        InferenceProof.checkInputCommitment(layout, instances, inputCommitment);
        _verifyProof(modelId, version, target, proof, instances);
        (outputs, ) = InferenceProof.decodeOutputs(layout, instances);
        _returnOutputs(outputs);
    }

    /// @dev Reads the version from the registry and checks it is usable: known, not revoked, verifier not stopped.
    function _target(
        bytes32 modelId,
        uint32 version
    ) private view returns (IModelRegistry.VerificationTarget memory target) {
        target = REGISTRY.verificationTarget(modelId, version);
        if (!target.modelExists) revert VerifierModelUnknown({modelId: modelId});
        IModelRegistry.VersionStatus status = target.status;
        if (status == IModelRegistry.VersionStatus.None) {
            revert VerifierVersionUnknown({
                modelId: modelId,
                version: version,
                latestVersion: target.latestVersion
            });
        }
        if (status == IModelRegistry.VersionStatus.Revoked) {
            revert VerifierVersionRevoked({modelId: modelId, version: version});
        }
        if (target.verifierStopped) {
            revert VerifierSuiteVerifierStopped({
                modelId: modelId,
                version: version,
                verifier: target.verifier
            });
        }
    }

    /// @dev The suite verifier must accept the proof against the version's VKA and report the version's digest.
    function _verifyProof(
        bytes32 modelId,
        uint32 version,
        IModelRegistry.VerificationTarget memory target,
        bytes calldata proof,
        uint256[] calldata instances
    ) private view {
        bytes32 digest = InferenceProof.verifyProof(
            modelId,
            version,
            target.verifier,
            target.vka,
            InferenceProof.VERSION_VKA_OFFSET,
            proof,
            instances
        );
        InferenceProof.checkVkaDigest(modelId, version, target.vkaDigest, digest);
    }

    /// @dev Ends the call returning `abi.encode(outputs)` as it already lies in memory (see
    ///      `InferenceProof.encodedOutputs`). Saves Solidity's element-by-element re-encoding of the return value
    ///      (~2.5k gas for 10 outputs).
    function _returnOutputs(int256[] memory outputs) private pure {
        (uint256 start, uint256 length) = InferenceProof.encodedOutputs(outputs);
        assembly ("memory-safe") {
            return(start, length)
        }
    }
}
