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
        _checkInstanceCount(layout, instances);
        _checkInput(layout, input, instances);
        outputs = _verifyAndDecode(modelId, version, verifier, layout, proof, instances);
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
        _checkInstanceCount(layout, instances);
        bytes32 actual = _inputRangeHash(layout, instances);
        if (actual != inputCommitment) {
            revert VerifierInputCommitmentMismatch({expected: inputCommitment, actual: actual});
        }
        outputs = _verifyAndDecode(modelId, version, verifier, layout, proof, instances);
        _returnOutputs(outputs);
    }

    /// @dev The shared tail of both entry points once the input is bound: the registered verifier must accept the
    ///      proof, then the output range is decoded.
    function _verifyAndDecode(
        bytes32 modelId,
        uint32 version,
        address verifier,
        IModelRegistry.InstanceLayout memory layout,
        bytes calldata proof,
        uint256[] calldata instances
    ) private view returns (int256[] memory outputs) {
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

    /// @dev The instances must have the layout's length. Every later index into `instances` relies on this check:
    ///      the registry only accepts layouts whose ranges lie inside `[0, instanceCount)`.
    function _checkInstanceCount(
        IModelRegistry.InstanceLayout memory layout,
        uint256[] calldata instances
    ) private pure {
        if (instances.length != layout.instanceCount) {
            revert VerifierInstanceCountMismatch({expected: layout.instanceCount, actual: instances.length});
        }
    }

    /// @dev The instances (already checked by `_checkInstanceCount`) must carry exactly `input` in the input range.
    function _checkInput(
        IModelRegistry.InstanceLayout memory layout,
        int256[] calldata input,
        uint256[] calldata instances
    ) private pure {
        uint256 inputCount = layout.inputCount;
        if (input.length != inputCount)
            revert VerifierInputLengthMismatch({expected: inputCount, actual: input.length});
        uint256 inputOffset = layout.inputOffset;
        uint256 bad = _firstMismatch(input, instances, inputOffset);
        if (bad != type(uint256).max) {
            uint256 expected = FieldElement.encode(input[bad]); // reverts FieldElementIntOutOfRange if out of range
            revert VerifierInputMismatch({
                index: bad,
                expected: expected,
                actual: instances[inputOffset + bad]
            });
        }
    }

    /// @dev The first index at which `input` does not encode to `instances[inputOffset:]`, or
    ///      `type(uint256).max` if none. An element outside [MIN_INT, MAX_INT] counts as a mismatch (x and
    ///      x - MODULUS would alias one field element). In assembly because compiled Solidity spent ~800 gas an
    ///      element here (checked indexing and encoding): over 10% of a bare verification for a 64-pixel input.
    ///      The caller has checked `input.length` and `instances.length` against a layout whose input range the
    ///      registry validated, so every read is in bounds.
    function _firstMismatch(
        int256[] calldata input,
        uint256[] calldata instances,
        uint256 inputOffset
    ) private pure returns (uint256 bad) {
        bad = type(uint256).max;
        uint256 modulus = FieldElement.MODULUS;
        int256 maxInt = FieldElement.MAX_INT;
        int256 minInt = FieldElement.MIN_INT;
        assembly ("memory-safe") {
            let inPtr := input.offset
            let instPtr := add(instances.offset, shl(5, inputOffset))
            for {
                let i := 0
            } lt(i, input.length) {
                i := add(i, 1)
            } {
                let x := calldataload(add(inPtr, shl(5, i)))
                // For negative x, add wraps mod 2^256 to MODULUS - |x|.
                let encoded := x
                if slt(x, 0) {
                    encoded := add(modulus, x)
                }
                if or(
                    or(sgt(x, maxInt), slt(x, minInt)),
                    iszero(eq(encoded, calldataload(add(instPtr, shl(5, i)))))
                ) {
                    bad := i
                    break
                }
            }
        }
    }

    /// @dev Ends the call returning `abi.encode(outputs)`: the offset word written into the free word
    ///      `_decodeOutputs` leaves before the array, then the array as it already lies in memory. Saves Solidity's
    ///      element-by-element re-encoding of the return value (~2.5k gas for 10 outputs).
    function _returnOutputs(int256[] memory outputs) private pure {
        assembly ("memory-safe") {
            let start := sub(outputs, 0x20)
            mstore(start, 0x20)
            return(start, add(0x40, shl(5, mload(outputs))))
        }
    }

    /// @dev keccak256 of the instances' input range, the form of `FieldElement.commit`. The range lies inside
    ///      `instances` (checked by `_checkInstanceCount` against a registry-validated layout). Copied past the free
    ///      memory pointer without moving it: scratch, never read again.
    function _inputRangeHash(
        IModelRegistry.InstanceLayout memory layout,
        uint256[] calldata instances
    ) private pure returns (bytes32 hash) {
        uint256 inputOffset = layout.inputOffset;
        uint256 inputCount = layout.inputCount;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            let len := shl(5, inputCount)
            calldatacopy(ptr, add(instances.offset, shl(5, inputOffset)), len)
            hash := keccak256(ptr, len)
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
        // The same bytes abi.encodeCall(IHalo2Verifier.verifyProof, (proof, instances)) produces, written
        // with two calldatacopy's instead of an element-by-element copy. Built past the free memory pointer
        // (scratch that is never read again), so no memory is allocated.
        bytes4 selector = IHalo2Verifier.verifyProof.selector;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            let proofLen := proof.length
            let proofPadded := and(add(proofLen, 31), not(31))
            mstore(ptr, selector)
            mstore(add(ptr, 0x04), 0x40) // offset of `proof`
            mstore(add(ptr, 0x24), add(0x60, proofPadded)) // offset of `instances`
            mstore(add(ptr, 0x44), proofLen)
            mstore(add(ptr, add(0x44, proofPadded)), 0) // zero the last word's padding before copying
            calldatacopy(add(ptr, 0x64), proof.offset, proofLen)
            let instPos := add(add(ptr, 0x64), proofPadded)
            let instBytes := shl(5, instances.length)
            mstore(instPos, instances.length)
            calldatacopy(add(instPos, 0x20), instances.offset, instBytes)
            let size := sub(add(add(instPos, 0x20), instBytes), ptr)
            let ok := staticcall(gas(), verifier, ptr, size, 0x00, 0x20)
            accepted := and(ok, and(gt(returndatasize(), 0x1f), eq(mload(0x00), 1)))
        }
    }

    /// @dev Decodes the output range of the instances to signed fixed-point integers, as `FieldElement.decode`
    ///      does element by element. In assembly because compiled Solidity spent ~500 gas an element here
    ///      (zero-initialised allocation, checked indexing, an internal call per element). The range lies inside
    ///      `instances` (checked by `_checkInstanceCount` against a registry-validated layout); the array is
    ///      allocated one word past the free memory pointer, which is moved past it. An unreduced instance
    ///      (`>= MODULUS`, which an EZKL verifier already rejects) stops the loop and is re-decoded in Solidity to
    ///      revert with `FieldElementOutOfRange`.
    function _decodeOutputs(
        IModelRegistry.InstanceLayout memory layout,
        uint256[] calldata instances
    ) private pure returns (int256[] memory outputs) {
        uint256 outputCount = layout.outputCount;
        uint256 outputOffset = layout.outputOffset;
        uint256 modulus = FieldElement.MODULUS;
        uint256 negativeStart = FieldElement.NEGATIVE_START;
        uint256 bad = type(uint256).max;
        assembly ("memory-safe") {
            // One word is left free before the array for `_returnOutputs`' ABI offset.
            outputs := add(mload(0x40), 0x20)
            mstore(outputs, outputCount)
            let src := add(instances.offset, shl(5, outputOffset))
            let dst := add(outputs, 0x20)
            for {
                let i := 0
            } lt(i, outputCount) {
                i := add(i, 1)
            } {
                let v := calldataload(add(src, shl(5, i)))
                if iszero(lt(v, modulus)) {
                    bad := i
                    break
                }
                // v >= NEGATIVE_START decodes to v - MODULUS < 0: sub wraps mod 2^256 to its two's complement.
                if iszero(lt(v, negativeStart)) {
                    v := sub(v, modulus)
                }
                mstore(add(dst, shl(5, i)), v)
            }
            mstore(0x40, add(dst, shl(5, outputCount)))
        }
        if (bad != type(uint256).max) FieldElement.decode(instances[outputOffset + bad]); // reverts
    }
}
