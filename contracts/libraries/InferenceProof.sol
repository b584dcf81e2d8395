// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {IInferenceVerifier} from "../interfaces/IInferenceVerifier.sol";
import {IModelRegistry} from "../interfaces/IModelRegistry.sol";
import {IHalo2VerifierReusable} from "../interfaces/IHalo2VerifierReusable.sol";
import {FieldElement} from "./FieldElement.sol";

/// @title InferenceProof
/// @notice The checks that make an EZKL proof a verified inference of a registered model version: the instances
///         have the version's layout, their input range is the expected input, the suite verifier accepts the proof
///         against the version's VKA and returns the version's VKA digest; and the decoding of the output range to
///         signed fixed-point integers.
/// @dev Internal functions, compiled into each caller, so the route (`InferenceVerifier`, which reads the version
///      from the registry on every call) and the coordinator (which snapshots the version's immutable content at
///      request time and calls the verifier itself) run the same code. Reverts with `IInferenceVerifier`'s errors
///      and `FieldElement`'s. Every function that indexes `instances` relies on `checkInstanceCount` having passed
///      for the same layout: the registry only accepts layouts whose ranges lie inside `[0, instanceCount)`.
library InferenceProof {
    /// @notice The registry's VKA stores (see `IModelRegistry.ModelVersion.vka`): a STOP byte, a version's
    ///         description (five artefact hashes and two uint32 metrics: 168 bytes; none in a batch variant's store),
    ///         then the VKA's words to the end of the code.
    uint256 internal constant DESCRIPTION_BYTES = 5 * 32 + 2 * 4;
    /// @notice Where the VKA starts in a version's store.
    uint256 internal constant VERSION_VKA_OFFSET = 1 + DESCRIPTION_BYTES;
    /// @notice Where the VKA starts in a batch variant's store.
    uint256 internal constant VARIANT_VKA_OFFSET = 1;

    /// @notice Reverts with `VerifierInstanceCountMismatch` unless `instances` has the layout's instance count.
    /// @param layout The version's layout.
    /// @param instances The proof's public instances.
    function checkInstanceCount(
        IModelRegistry.InstanceLayout memory layout,
        uint256[] calldata instances
    ) internal pure {
        if (instances.length != layout.instanceCount) {
            revert IInferenceVerifier.VerifierInstanceCountMismatch({
                expected: layout.instanceCount,
                actual: instances.length
            });
        }
    }

    /// @notice Reverts with `VerifierInputCommitmentMismatch` unless `inputHash(layout, instances)` is
    ///         `inputCommitment`.
    /// @param layout The version's layout (instance count already checked).
    /// @param instances The proof's public instances.
    /// @param inputCommitment The commitment to the expected input.
    function checkInputCommitment(
        IModelRegistry.InstanceLayout memory layout,
        uint256[] calldata instances,
        bytes32 inputCommitment
    ) internal pure {
        bytes32 actual = inputHash(layout, instances);
        if (actual != inputCommitment) {
            revert IInferenceVerifier.VerifierInputCommitmentMismatch({
                expected: inputCommitment,
                actual: actual
            });
        }
    }

    /// @notice The keccak256 of the instances' input range: the form of `FieldElement.commit`, so it equals the
    ///         commitment to the input the proof is of.
    /// @dev The range has the layout's fixed length, so the hash binds the input's length too. Hashed past the
    ///      free memory pointer without moving it: scratch, never read again.
    /// @param layout The version's layout (instance count already checked).
    /// @param instances The proof's public instances.
    /// @return hash The keccak256 of `instances[inputOffset:inputOffset + inputCount]` as packed words.
    function inputHash(
        IModelRegistry.InstanceLayout memory layout,
        uint256[] calldata instances
    ) internal pure returns (bytes32 hash) {
        uint256 inputOffset = layout.inputOffset;
        uint256 inputCount = layout.inputCount;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            let len := shl(5, inputCount)
            calldatacopy(ptr, add(instances.offset, shl(5, inputOffset)), len)
            hash := keccak256(ptr, len)
        }
    }

    /// @notice Reverts unless the instances' input range is exactly `input`'s field encoding:
    ///         `VerifierInputLengthMismatch` for a wrong length, `VerifierInputMismatch` at the first difference.
    /// @param layout The version's layout (instance count already checked).
    /// @param input The expected input as fixed-point integers.
    /// @param instances The proof's public instances.
    function checkInput(
        IModelRegistry.InstanceLayout memory layout,
        int256[] calldata input,
        uint256[] calldata instances
    ) internal pure {
        uint256 inputCount = layout.inputCount;
        if (input.length != inputCount) {
            revert IInferenceVerifier.VerifierInputLengthMismatch({
                expected: inputCount,
                actual: input.length
            });
        }
        uint256 inputOffset = layout.inputOffset;
        uint256 bad = _firstMismatch(input, instances, inputOffset);
        if (bad != type(uint256).max) {
            uint256 expected = FieldElement.encode(input[bad]); // reverts FieldElementIntOutOfRange if out of range
            revert IInferenceVerifier.VerifierInputMismatch({
                index: bad,
                expected: expected,
                actual: instances[inputOffset + bad]
            });
        }
    }

    /// @notice Reverts with `VerifierProofRejected` unless the suite verifier accepts the proof against the VKA
    ///         held by `vka`; returns the digest the verifier reports for that VKA (compare it with the version's, e.g.
    ///         with `checkVkaDigest`).
    /// @param modelId The model (for the error).
    /// @param version The version (for the error).
    /// @param verifier The version's suite verifier.
    /// @param vka The registry's contract holding the version's VKA.
    /// @param vkaOffset Where the VKA starts in the store's code, running to its end (`VERSION_VKA_OFFSET` or
    ///        `VARIANT_VKA_OFFSET`).
    /// @param proof The proof bytes.
    /// @param instances The proof's public instances.
    /// @return vkaDigest The digest the verifier returned.
    function verifyProof(
        bytes32 modelId,
        uint32 version,
        address verifier,
        address vka,
        uint256 vkaOffset,
        bytes calldata proof,
        uint256[] calldata instances
    ) internal view returns (bytes32 vkaDigest) {
        bool accepted;
        (accepted, vkaDigest, , ) = _callVerifier(verifier, vka, vkaOffset, proof, instances, false);
        if (!accepted) {
            revert IInferenceVerifier.VerifierProofRejected({
                modelId: modelId,
                version: version,
                verifier: verifier
            });
        }
    }

    /// @notice `verifyProof`, also returning `keccak256(proof)` and the digest of the VKA copied from `vka`, each
    ///         hashed where the verifier's calldata already holds it, so nothing is copied twice. A store's code is
    ///         the VKA whose digest was registered and never changes, so the copy's digest is the circuit's: compare
    ///         it with the digest the verifier returned (`checkVkaDigest`) instead of reading the registered one.
    /// @param modelId The model (for the error).
    /// @param version The version (for the error).
    /// @param verifier The version's suite verifier.
    /// @param vka The registry's contract holding the version's VKA.
    /// @param vkaOffset Where the VKA starts in the store's code, running to its end (`VERSION_VKA_OFFSET` or
    ///        `VARIANT_VKA_OFFSET`).
    /// @param proof The proof bytes.
    /// @param instances The proof's public instances.
    /// @return vkaDigest The digest the verifier returned.
    /// @return proofHash `keccak256(proof)`.
    /// @return storedDigest `keccak256` of the VKA words copied from `vka`.
    function verifyProofAndHash(
        bytes32 modelId,
        uint32 version,
        address verifier,
        address vka,
        uint256 vkaOffset,
        bytes calldata proof,
        uint256[] calldata instances
    ) internal view returns (bytes32 vkaDigest, bytes32 proofHash, bytes32 storedDigest) {
        bool accepted;
        (accepted, vkaDigest, proofHash, storedDigest) = _callVerifier(
            verifier,
            vka,
            vkaOffset,
            proof,
            instances,
            true
        );
        if (!accepted) {
            revert IInferenceVerifier.VerifierProofRejected({
                modelId: modelId,
                version: version,
                verifier: verifier
            });
        }
    }

    /// @notice Reverts with `VerifierVkaDigestMismatch` unless the digest the verifier returned is the version's.
    /// @param modelId The model (for the error).
    /// @param version The version (for the error).
    /// @param expected The version's registered VKA digest.
    /// @param actual The digest the verifier returned.
    function checkVkaDigest(bytes32 modelId, uint32 version, bytes32 expected, bytes32 actual) internal pure {
        if (actual != expected) {
            revert IInferenceVerifier.VerifierVkaDigestMismatch({
                modelId: modelId,
                version: version,
                expected: expected,
                actual: actual
            });
        }
    }

    /// @notice Decodes the instances' output range to signed fixed-point integers, as `FieldElement.decode` does
    ///         element by element; reverts with `FieldElementOutOfRange` for an unreduced instance.
    /// @dev The array is allocated one word past the free memory pointer, which is moved past it: the free word
    ///      just before the array lets `encodedOutputs` turn it into `abi.encode(outputs)` in place. In assembly
    ///      because compiled Solidity spent ~500 gas an element here (zero-initialised allocation, checked
    ///      indexing, an internal call per element). An unreduced instance (`>= MODULUS`, which an EZKL verifier
    ///      already rejects) stops the loop and is re-decoded in Solidity to revert with the named error.
    ///      The same pass ORs every output's magnitude bits (x ^ (x >> 255): x for x >= 0, ~x for x < 0), from which
    ///      the coordinator packs `InferenceFulfilled`'s outputs at their narrowest width without a second read of
    ///      them (see `packedWidth`).
    /// @param layout The version's layout (instance count already checked).
    /// @param instances The proof's public instances.
    /// @return outputs The outputs.
    /// @return magnitudes The OR of every output's magnitude bits (below 2^255).
    function decodeOutputs(
        IModelRegistry.InstanceLayout memory layout,
        uint256[] calldata instances
    ) internal pure returns (int256[] memory outputs, uint256 magnitudes) {
        uint256 outputCount = layout.outputCount;
        uint256 outputOffset = layout.outputOffset;
        uint256 modulus = FieldElement.MODULUS;
        uint256 bad = type(uint256).max;
        assembly ("memory-safe") {
            // FieldElement.HALF_MODULUS, (p - 1) / 2 = p >> 1 as p is odd: one SHR where Solidity evaluates the
            // constant's expression at run time with checked arithmetic.
            let half := shr(1, modulus)
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
                // v > HALF_MODULUS decodes to v - MODULUS < 0: sub wraps mod 2^256 to its two's complement.
                if gt(v, half) {
                    v := sub(v, modulus)
                }
                mstore(add(dst, shl(5, i)), v)
                magnitudes := or(magnitudes, xor(v, sar(255, v)))
            }
            mstore(0x40, add(dst, shl(5, outputCount)))
        }
        if (bad != type(uint256).max) FieldElement.decode(instances[outputOffset + bad]); // reverts
    }

    /// @notice The fewest bytes (1..32) that hold, as two's complement with its sign, every integer whose magnitude
    ///         bits (x ^ (x >> 255)) OR to `magnitudes` (see `decodeOutputs`).
    /// @dev The offset of the highest non-zero byte by a binary search (no loop), plus one byte when that byte's top
    ///      bit is set (the sign needs a bit of its own). (A fast path of three comparisons for widths 1..4 measured
    ///      dearer: the branch costs what it saves.)
    /// @param magnitudes The OR of the integers' magnitude bits, below 2^255.
    /// @return width The bytes per integer.
    function packedWidth(uint256 magnitudes) internal pure returns (uint256 width) {
        assembly ("memory-safe") {
            // r: the bit offset (a multiple of 8) of the highest non-zero byte, 0 below 256.
            let r := shl(7, lt(0xffffffffffffffffffffffffffffffff, magnitudes))
            r := or(r, shl(6, lt(0xffffffffffffffff, shr(r, magnitudes))))
            r := or(r, shl(5, lt(0xffffffff, shr(r, magnitudes))))
            r := or(r, shl(4, lt(0xffff, shr(r, magnitudes))))
            r := or(r, shl(3, lt(0xff, shr(r, magnitudes))))
            width := add(add(shr(3, r), 1), gt(shr(r, magnitudes), 0x7f))
        }
    }

    /// @notice `abi.encode(outputs)` for an array returned by `decodeOutputs`, in place: writes the ABI offset
    ///         word into the free word `decodeOutputs` left before the array and returns where the encoding starts
    ///         and its length. Nothing is copied.
    /// @param outputs An array returned by `decodeOutputs` (and not moved since).
    /// @return start Memory offset of the encoding.
    /// @return length Its length in bytes.
    function encodedOutputs(int256[] memory outputs) internal pure returns (uint256 start, uint256 length) {
        assembly ("memory-safe") {
            start := sub(outputs, 0x20)
            mstore(start, 0x20)
            length := add(0x40, shl(5, mload(outputs)))
        }
    }

    /// @dev The first index at which `input` does not encode to `instances[inputOffset:]`, or `type(uint256).max`
    ///      if none. An element outside [MIN_INT, MAX_INT] counts as a mismatch (x and x - MODULUS would alias one
    ///      field element). In assembly because compiled Solidity spent ~800 gas an element here (checked indexing
    ///      and encoding). The caller has checked `input.length` and `instances.length` against a layout whose
    ///      input range the registry validated, so every read is in bounds.
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

    /// @dev Calls the suite verifier's `verifyProof(proof, instances, vka)` with STATICCALL and the canonical ABI
    ///      encoding (EZKL's verifier reads calldata at fixed offsets, and the VKA's rescaling data right after the
    ///      instances): the bytes `abi.encodeCall(IHalo2VerifierReusable.verifyProof, (proof, instances, vka))`
    ///      produces, written with two calldatacopy's and one EXTCODECOPY of the VKA from its store (its code from
    ///      `vkaOffset` on) past the free memory pointer (scratch that is never read again, so no memory is
    ///      allocated). The VKA is copied from code into memory (3 gas a word plus memory) instead of being sent as
    ///      16-gas-a-byte calldata by every prover. With `hash`, the proof and the VKA are hashed where they lie in
    ///      that encoding. Accepts only a successful call returning at least two words, the first equal to 1: a revert
    ///      (how EZKL rejects), a `false`, or short return data all count as rejection. Only the first two return
    ///      words are copied, into scratch space, so a verifier cannot make its caller copy large return data.
    function _callVerifier(
        address verifier,
        address vka,
        uint256 vkaOffset,
        bytes calldata proof,
        uint256[] calldata instances,
        bool hash
    ) private view returns (bool accepted, bytes32 vkaDigest, bytes32 proofHash, bytes32 storedDigest) {
        (uint256 ptr, uint256 end, bytes32 h) = _encodeProofAndInstances(proof, instances, hash);
        proofHash = h;
        (accepted, vkaDigest, storedDigest) = _appendVkaAndCall(verifier, vka, vkaOffset, ptr, end, hash);
    }

    /// @dev Appends the VKA from its store at `end` (the length word, then the words: the store's code from
    ///      `vkaOffset` to its end) to the calldata that starts at `ptr`, hashes the words with `hashVka`, and makes
    ///      the call (see `_callVerifier`). The registry's stores are at most 24,576 bytes, so the copy is bounded.
    function _appendVkaAndCall(
        address verifier,
        address vka,
        uint256 vkaOffset,
        uint256 ptr,
        uint256 end,
        bool hashVka
    ) private view returns (bool accepted, bytes32 vkaDigest, bytes32 storedDigest) {
        assembly ("memory-safe") {
            let vkaBytes := 0
            let size := extcodesize(vka)
            if gt(size, vkaOffset) {
                vkaBytes := sub(size, vkaOffset)
            }
            mstore(end, shr(5, vkaBytes))
            extcodecopy(vka, add(end, 0x20), vkaOffset, vkaBytes)
            if hashVka {
                storedDigest := keccak256(add(end, 0x20), vkaBytes)
            }
            let ok := staticcall(gas(), verifier, ptr, sub(add(add(end, 0x20), vkaBytes), ptr), 0x00, 0x40)
            accepted := and(ok, and(gt(returndatasize(), 0x3f), eq(mload(0x00), 1)))
            vkaDigest := mload(0x20)
        }
    }

    /// @dev Writes the selector, the three head words, the proof and the instances of the verifier's calldata past
    ///      the free memory pointer (see `_callVerifier`); returns where the calldata starts, where the VKA's length
    ///      word goes, and the proof's hash when asked for.
    function _encodeProofAndInstances(
        bytes calldata proof,
        uint256[] calldata instances,
        bool hashProof
    ) private pure returns (uint256 ptr, uint256 end, bytes32 proofHash) {
        bytes4 selector = IHalo2VerifierReusable.verifyProof.selector;
        assembly ("memory-safe") {
            ptr := mload(0x40)
            let proofPadded := and(add(proof.length, 31), not(31))
            let instBytes := shl(5, instances.length)
            mstore(ptr, selector)
            mstore(add(ptr, 0x04), 0x60) // offset of `proof`
            mstore(add(ptr, 0x24), add(0x80, proofPadded)) // offset of `instances`: 3 heads, length, proof
            mstore(add(ptr, 0x44), add(add(0xa0, proofPadded), instBytes)) // offset of `vka`
            mstore(add(ptr, 0x64), proof.length)
            mstore(add(ptr, add(0x64, proofPadded)), 0) // zero the last word's padding before copying
            calldatacopy(add(ptr, 0x84), proof.offset, proof.length)
            if hashProof {
                proofHash := keccak256(add(ptr, 0x84), proof.length)
            }
            end := add(add(ptr, 0x84), proofPadded)
            mstore(end, instances.length)
            calldatacopy(add(end, 0x20), instances.offset, instBytes)
            end := add(add(end, 0x20), instBytes)
        }
    }
}
