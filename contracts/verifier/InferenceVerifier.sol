// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IInferenceVerifier} from "../interfaces/IInferenceVerifier.sol";
import {IModelRegistry} from "../interfaces/IModelRegistry.sol";
import {IHalo2Verifier} from "../interfaces/IHalo2Verifier.sol";
import {FieldElement} from "../libraries/FieldElement.sol";

/// @title InferenceVerifier
/// @notice Routes a proof for (modelId, version) to the EZKL verifier the registry names for it, binds the
///         proof's input instances to the caller's input, and returns the decoded outputs.
/// @dev Stateless apart from the immutable registry. Overhead on top of the verifier itself is kept small: one
///      registry call returning a fixed-size struct, one `extcodehash`, one ABI encoding of the verifier's
///      calldata (the only copy of the proof), and a linear pass over the inputs and outputs.
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
        _checkInput(layout, input, instances);
        if (!_callVerifier(verifier, proof, instances)) {
            revert VerifierProofRejected({modelId: modelId, version: version, verifier: verifier});
        }
        outputs = _decodeOutputs(layout, instances);
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
        bytes32 current = verifier.codehash;
        if (current != target.verifierCodeHash) {
            revert VerifierCodeHashChanged({
                modelId: modelId,
                version: version,
                verifier: verifier,
                registeredCodeHash: target.verifierCodeHash,
                currentCodeHash: current
            });
        }
        layout = target.layout;
    }

    /// @dev The instances must have the layout's length and carry exactly `input` in the input range.
    ///      Index arithmetic stays within `instances` because the registry only accepts layouts whose ranges lie
    ///      inside `[0, instanceCount)` and the length was just checked.
    function _checkInput(
        IModelRegistry.InstanceLayout memory layout,
        int256[] calldata input,
        uint256[] calldata instances
    ) private pure {
        if (instances.length != layout.instanceCount) {
            revert VerifierInstanceCountMismatch({expected: layout.instanceCount, actual: instances.length});
        }
        uint256 inputCount = layout.inputCount;
        if (input.length != inputCount)
            revert VerifierInputLengthMismatch({expected: inputCount, actual: input.length});
        uint256 inputOffset = layout.inputOffset;
        for (uint256 i = 0; i < inputCount; ++i) {
            uint256 expected = FieldElement.encode(input[i]);
            uint256 actual = instances[inputOffset + i];
            if (expected != actual)
                revert VerifierInputMismatch({index: i, expected: expected, actual: actual});
        }
    }

    /// @dev Calls `verifyProof` with STATICCALL and the canonical ABI encoding (EZKL verifiers read calldata at
    ///      fixed offsets). Accepts only a successful call returning at least one word equal to 1: a revert
    ///      (how EZKL rejects), a `false`, or short return data all count as rejection. Only the first return
    ///      word is copied, into scratch space, so a verifier cannot make this contract copy large return data.
    function _callVerifier(
        address verifier,
        bytes calldata proof,
        uint256[] calldata instances
    ) private view returns (bool accepted) {
        bytes memory data = abi.encodeCall(IHalo2Verifier.verifyProof, (proof, instances));
        assembly ("memory-safe") {
            let ok := staticcall(gas(), verifier, add(data, 0x20), mload(data), 0x00, 0x20)
            accepted := and(ok, and(gt(returndatasize(), 0x1f), eq(mload(0x00), 1)))
        }
    }

    /// @dev Decodes the output range of the instances to signed fixed-point integers.
    function _decodeOutputs(
        IModelRegistry.InstanceLayout memory layout,
        uint256[] calldata instances
    ) private pure returns (int256[] memory outputs) {
        uint256 outputCount = layout.outputCount;
        uint256 outputOffset = layout.outputOffset;
        outputs = new int256[](outputCount);
        for (uint256 i = 0; i < outputCount; ++i) {
            outputs[i] = FieldElement.decode(instances[outputOffset + i]);
        }
    }
}
