// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IInferenceVerifier} from "../interfaces/IInferenceVerifier.sol";
import {IModelRegistry} from "../interfaces/IModelRegistry.sol";
import {InferenceProof} from "../libraries/InferenceProof.sol";

/// @title InferenceVerifier
/// @notice Routes a proof for (modelId, version) to the EZKL verifier the registry names for it, binds the
///         proof's input instances to the caller's input, and returns the decoded outputs.
/// @dev Stateless apart from the immutable registry. The checks themselves are `InferenceProof`'s, the code the
///      coordinator's `fulfill` runs too. Overhead on top of the verifier itself is kept small: one registry call
///      returning a fixed-size struct, one `extcodehash`, one ABI encoding of the verifier's calldata (the only
///      copy of the proof), and a linear pass over the inputs and outputs.
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
        (address verifier, IModelRegistry.InstanceLayout memory layout) = _target(modelId, version);
        InferenceProof.checkInstanceCount(layout, instances);
        InferenceProof.checkInput(layout, input, instances);
        InferenceProof.verifyProof(modelId, version, verifier, proof, instances);
        outputs = InferenceProof.decodeOutputs(layout, instances);
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
        (address verifier, IModelRegistry.InstanceLayout memory layout) = _target(modelId, version);
        InferenceProof.checkInstanceCount(layout, instances);
        InferenceProof.checkInputCommitment(layout, instances, inputCommitment);
        InferenceProof.verifyProof(modelId, version, verifier, proof, instances);
        outputs = InferenceProof.decodeOutputs(layout, instances);
        _returnOutputs(outputs);
    }

    /// @dev Reads the version from the registry and checks it is usable: known, active, verifier unchanged.
    function _target(
        bytes32 modelId,
        uint32 version
    ) private view returns (address verifier, IModelRegistry.InstanceLayout memory layout) {
        IModelRegistry.VerificationTarget memory target = REGISTRY.verificationTarget(modelId, version);
        if (!target.modelExists) revert VerifierModelUnknown({modelId: modelId});
        if (!target.versionExists) {
            revert VerifierVersionUnknown({
                modelId: modelId,
                version: version,
                latestVersion: target.latestVersion
            });
        }
        if (target.deprecated) revert VerifierVersionDeprecated({modelId: modelId, version: version});
        verifier = target.verifier;
        InferenceProof.checkCodeHash(modelId, version, verifier, target.verifierCodeHash);
        layout = target.layout;
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
