// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

// Test names follow `test_<subject>_<behaviour>` / `testFuzz_...` (see STYLE.md), and gas rules do not apply here.
/* solhint-disable func-name-mixedcase, gas-small-strings, gas-strict-inequalities, function-max-lines */

import {RegistryFixture} from "./utils/RegistryFixture.t.sol";
import {IModelRegistry} from "../interfaces/IModelRegistry.sol";
import {IInferenceVerifier} from "../interfaces/IInferenceVerifier.sol";
import {ModelRegistry} from "../registry/ModelRegistry.sol";
import {InferenceVerifier} from "../verifier/InferenceVerifier.sol";
import {FieldElement} from "../libraries/FieldElement.sol";
import {MockHalo2Verifier} from "./MockHalo2Verifier.sol";

/// @dev Unit tests of the route's logic with MockHalo2Verifier (TEST-ONLY). Real EZKL proofs through the route
///      are exercised by the integration tests.
contract InferenceVerifierTest is RegistryFixture {
    uint256 internal constant P = FieldElement.MODULUS;

    InferenceVerifier internal route;
    bytes32 internal modelId;

    function setUp() public override {
        super.setUp();
        route = new InferenceVerifier(registry);
        modelId = _register(alice, "digits-mlp");
        _addVersion(alice, modelId, _params(_defaultLayout(3, 2), 1));
    }

    // ---------------------------------------------------------------------------------------------------------
    // Helpers
    // ---------------------------------------------------------------------------------------------------------

    function _ints(int256 a, int256 b, int256 c) internal pure returns (int256[] memory xs) {
        xs = new int256[](3);
        (xs[0], xs[1], xs[2]) = (a, b, c);
    }

    function _ints(int256 a, int256 b) internal pure returns (int256[] memory xs) {
        xs = new int256[](2);
        (xs[0], xs[1]) = (a, b);
    }

    /// @dev Instances in EZKL's default layout: `[encode(input)..., encode(output)...]`.
    function _instances(
        int256[] memory input,
        int256[] memory output
    ) internal pure returns (uint256[] memory xs) {
        xs = new uint256[](input.length + output.length);
        for (uint256 i = 0; i < input.length; ++i) xs[i] = FieldElement.encode(input[i]);
        for (uint256 i = 0; i < output.length; ++i) xs[input.length + i] = FieldElement.encode(output[i]);
    }

    /// @dev The proof the Digest mock accepts, computed locally so it is not an external call that would consume
    ///      a pending `expectRevert` (kept equal to `MockHalo2Verifier.digestProof` by a test below).
    function _proof(uint256[] memory instances) internal pure returns (bytes memory) {
        return abi.encodePacked(keccak256(abi.encode(instances)));
    }

    function _assertOutputs(int256[] memory actual, int256[] memory expected) internal pure {
        assertEq(actual.length, expected.length, "output length");
        for (uint256 i = 0; i < expected.length; ++i) assertEq(actual[i], expected[i], "output value");
    }

    // ---------------------------------------------------------------------------------------------------------
    // Happy paths
    // ---------------------------------------------------------------------------------------------------------

    function test_constructor_storesTheRegistry() public view {
        assertEq(address(route.registry()), address(registry), "registry");
    }

    function test_constructor_revertsWhenRegistryHasNoCode() public {
        vm.expectRevert(abi.encodeWithSelector(IInferenceVerifier.VerifierRegistryHasNoCode.selector, bob));
        new InferenceVerifier(IModelRegistry(bob));
    }

    function testFuzz_localProofMatchesTheMock(uint256[] memory instances) public view {
        assertEq(_proof(instances), digestVerifier.digestProof(instances), "digest proof");
    }

    function test_verify_returnsTheDecodedOutputs() public view {
        int256[] memory input = _ints(1, -2, 3);
        int256[] memory output = _ints(5, -7);
        uint256[] memory instances = _instances(input, output);
        assertEq(instances[1], P - 2, "negative input encodes as p - |x|");
        _assertOutputs(route.verify(modelId, 1, input, _proof(instances), instances), output);
    }

    function testFuzz_verify_returnsTheDecodedOutputs(
        int64[3] memory rawIn,
        int64[2] memory rawOut
    ) public view {
        int256[] memory input = _ints(rawIn[0], rawIn[1], rawIn[2]);
        int256[] memory output = _ints(rawOut[0], rawOut[1]);
        uint256[] memory instances = _instances(input, output);
        _assertOutputs(route.verify(modelId, 1, input, _proof(instances), instances), output);
    }

    function test_verify_isCallableUnderStaticcall() public view {
        int256[] memory input = _ints(1, 2, 3);
        uint256[] memory instances = _instances(input, _ints(4, 5));
        (bool ok, bytes memory ret) = address(route).staticcall(
            abi.encodeCall(IInferenceVerifier.verify, (modelId, 1, input, _proof(instances), instances))
        );
        assertTrue(ok, "staticcall succeeded");
        _assertOutputs(abi.decode(ret, (int256[])), _ints(4, 5));
    }

    /// @dev Offsets are read from the registry, not assumed: outputs first, a foreign public value between the
    ///      ranges and one after them.
    function testFuzz_verify_honoursExplicitOffsets(
        uint8 lead,
        uint8 gap,
        uint8 tail,
        uint256 foreign
    ) public {
        lead = uint8(bound(lead, 0, 4));
        gap = uint8(bound(gap, 0, 4));
        tail = uint8(bound(tail, 0, 4));
        uint32 outputOffset = lead;
        uint32 inputOffset = lead + 2 + gap;
        IModelRegistry.InstanceLayout memory layout = IModelRegistry.InstanceLayout({
            instanceCount: inputOffset + 3 + tail,
            inputOffset: inputOffset,
            inputCount: 3,
            outputOffset: outputOffset,
            outputCount: 2
        });
        uint32 version = _addVersion(alice, modelId, _params(layout, 2));

        int256[] memory input = _ints(-11, 0, 12);
        uint256[] memory instances = new uint256[](layout.instanceCount);
        for (uint256 i = 0; i < instances.length; ++i) instances[i] = foreign % P; // unrelated public values
        instances[outputOffset] = FieldElement.encode(-3);
        instances[outputOffset + 1] = FieldElement.encode(4);
        for (uint256 i = 0; i < 3; ++i) instances[inputOffset + i] = FieldElement.encode(input[i]);

        _assertOutputs(route.verify(modelId, version, input, _proof(instances), instances), _ints(-3, 4));
    }

    // ---------------------------------------------------------------------------------------------------------
    // Registry-driven rejections
    // ---------------------------------------------------------------------------------------------------------

    function testFuzz_verify_revertsForUnknownModel(bytes32 unknownId) public {
        vm.assume(unknownId != modelId);
        int256[] memory input = _ints(1, 2, 3);
        uint256[] memory instances = _instances(input, _ints(4, 5));
        vm.expectRevert(abi.encodeWithSelector(IInferenceVerifier.VerifierModelUnknown.selector, unknownId));
        route.verify(unknownId, 1, input, _proof(instances), instances);
    }

    function testFuzz_verify_revertsForUnknownVersion(uint32 version) public {
        vm.assume(version != 1);
        int256[] memory input = _ints(1, 2, 3);
        uint256[] memory instances = _instances(input, _ints(4, 5));
        vm.expectRevert(
            abi.encodeWithSelector(IInferenceVerifier.VerifierVersionUnknown.selector, modelId, version, 1)
        );
        route.verify(modelId, version, input, _proof(instances), instances);
    }

    /// @dev Deprecation stops new requests, not verification: a deprecated version's proofs still verify.
    function test_verify_acceptsADeprecatedVersion() public {
        int256[] memory input = _ints(1, 2, 3);
        uint256[] memory instances = _instances(input, _ints(4, 5));
        vm.prank(alice);
        registry.deprecateVersion(modelId, 1);
        _assertOutputs(route.verify(modelId, 1, input, _proof(instances), instances), _ints(4, 5));
    }

    function test_verify_revertsForARevokedVersion() public {
        int256[] memory input = _ints(1, 2, 3);
        uint256[] memory instances = _instances(input, _ints(4, 5));
        bytes memory proof = _proof(instances);
        vm.prank(alice);
        registry.revokeVersion(modelId, 1);
        vm.expectRevert(
            abi.encodeWithSelector(IInferenceVerifier.VerifierVersionRevoked.selector, modelId, 1)
        );
        route.verify(modelId, 1, input, proof, instances);
    }

    function test_verify_revertsWhenTheSuiteVerifierWasStopped() public {
        int256[] memory input = _ints(1, 2, 3);
        uint256[] memory instances = _instances(input, _ints(4, 5));
        bytes memory proof = _proof(instances);
        vm.prank(admin);
        registry.stopSuiteVerifier(1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceVerifier.VerifierSuiteVerifierStopped.selector,
                modelId,
                1,
                address(digestVerifier)
            )
        );
        route.verify(modelId, 1, input, proof, instances);
    }

    /// @dev The verifier reports the digest of the VKA it checked: another than the version's is refused.
    function test_verify_revertsWhenTheVerifierReportsAnotherVka() public {
        ModelRegistry r = _registryWith(wrongDigestVerifier);
        InferenceVerifier otherRoute = new InferenceVerifier(r);
        vm.startPrank(alice);
        bytes32 id = r.registerModel("digits-mlp");
        r.addVersion(id, _params(1), _vka(1, false), _noVariants(), false);
        vm.stopPrank();
        int256[] memory input = _ints(1, 2, 3);
        uint256[] memory instances = _instances(input, _ints(4, 5));
        bytes32 digest = keccak256(abi.encodePacked(_vka(1, false)));
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceVerifier.VerifierVkaDigestMismatch.selector,
                id,
                1,
                digest,
                keccak256(abi.encode(digest))
            )
        );
        otherRoute.verify(id, 1, input, _proof(instances), instances);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Shape and input binding
    // ---------------------------------------------------------------------------------------------------------

    function testFuzz_verify_revertsWhenInstanceCountDiffers(uint8 count) public {
        vm.assume(count != 5);
        int256[] memory input = _ints(1, 2, 3);
        uint256[] memory instances = new uint256[](count);
        vm.expectRevert(
            abi.encodeWithSelector(IInferenceVerifier.VerifierInstanceCountMismatch.selector, 5, count)
        );
        route.verify(modelId, 1, input, _proof(instances), instances);
    }

    function testFuzz_verify_revertsWhenInputLengthDiffers(uint8 length) public {
        vm.assume(length != 3);
        int256[] memory input = new int256[](length);
        uint256[] memory instances = _instances(_ints(0, 0, 0), _ints(4, 5));
        vm.expectRevert(
            abi.encodeWithSelector(IInferenceVerifier.VerifierInputLengthMismatch.selector, 3, length)
        );
        route.verify(modelId, 1, input, _proof(instances), instances);
    }

    /// @dev A valid proof for one input cannot be replayed for another: the first differing index is named with
    ///      both values, whichever position differs and by however little.
    function testFuzz_verify_revertsWhenInputDiffersFromTheProvenInput(
        int64[3] memory rawIn,
        uint8 index,
        int64 delta
    ) public {
        vm.assume(delta != 0);
        index = uint8(bound(index, 0, 2));
        int256[] memory proven = _ints(rawIn[0], rawIn[1], rawIn[2]);
        uint256[] memory instances = _instances(proven, _ints(4, 5));
        bytes memory proof = _proof(instances);

        int256[] memory claimed = _ints(rawIn[0], rawIn[1], rawIn[2]);
        claimed[index] += delta;
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceVerifier.VerifierInputMismatch.selector,
                index,
                FieldElement.encode(claimed[index]),
                instances[index]
            )
        );
        route.verify(modelId, 1, claimed, proof, instances);
    }

    function test_verify_namesTheFirstDifferingIndex() public {
        int256[] memory proven = _ints(1, 2, 3);
        uint256[] memory instances = _instances(proven, _ints(4, 5));
        int256[] memory claimed = _ints(1, -2, -3);
        vm.expectRevert(
            abi.encodeWithSelector(IInferenceVerifier.VerifierInputMismatch.selector, 1, P - 2, 2)
        );
        route.verify(modelId, 1, claimed, _proof(instances), instances);
    }

    function test_verify_rejectsAnInputInstanceOffByTheModulus() public {
        // p + x is congruent to x but is not the canonical encoding: it must not bind.
        int256[] memory input = _ints(1, 2, 3);
        uint256[] memory instances = _instances(input, _ints(4, 5));
        instances[0] += P;
        vm.expectRevert(
            abi.encodeWithSelector(IInferenceVerifier.VerifierInputMismatch.selector, 0, 1, P + 1)
        );
        route.verify(modelId, 1, input, _proof(instances), instances);
    }

    function test_verify_revertsForAnInputWithNoFieldEncoding() public {
        int256 tooBig = FieldElement.MAX_INT + 1;
        int256[] memory input = _ints(1, tooBig, 3);
        uint256[] memory instances = _instances(_ints(1, 2, 3), _ints(4, 5));
        vm.expectRevert(abi.encodeWithSelector(FieldElement.FieldElementIntOutOfRange.selector, tooBig));
        route.verify(modelId, 1, input, _proof(instances), instances);
    }

    function test_verify_revertsForAnOutputThatIsNotAFieldElement() public {
        // The mock accepts anything with the right digest; a real EZKL verifier would already reject this.
        int256[] memory input = _ints(1, 2, 3);
        uint256[] memory instances = _instances(input, _ints(4, 5));
        instances[4] = P;
        vm.expectRevert(abi.encodeWithSelector(FieldElement.FieldElementOutOfRange.selector, P));
        route.verify(modelId, 1, input, _proof(instances), instances);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Proof rejection
    // ---------------------------------------------------------------------------------------------------------

    function testFuzz_verify_revertsWhenTheVerifierRevertsOnAForgedProof(bytes memory forged) public {
        int256[] memory input = _ints(1, 2, 3);
        uint256[] memory instances = _instances(input, _ints(4, 5));
        vm.assume(keccak256(forged) != keccak256(_proof(instances)));
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceVerifier.VerifierProofRejected.selector,
                modelId,
                1,
                address(digestVerifier)
            )
        );
        route.verify(modelId, 1, input, forged, instances);
    }

    function test_verify_revertsWhenAValidProofIsPairedWithOtherOutputs() public {
        int256[] memory input = _ints(1, 2, 3);
        uint256[] memory instances = _instances(input, _ints(4, 5));
        bytes memory proof = _proof(instances);
        instances[4] = FieldElement.encode(6); // claim another output for the same proof
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceVerifier.VerifierProofRejected.selector,
                modelId,
                1,
                address(digestVerifier)
            )
        );
        route.verify(modelId, 1, input, proof, instances);
    }

    function test_verify_treatsFalseRevertAndEmptyReturnAsRejection() public {
        MockHalo2Verifier[3] memory faulty = [falseVerifier, revertVerifier, silentVerifier];
        int256[] memory input = _ints(1, 2, 3);
        uint256[] memory instances = _instances(input, _ints(4, 5));
        bytes memory proof = _proof(instances);
        for (uint256 i = 0; i < faulty.length; ++i) {
            ModelRegistry r = _registryWith(faulty[i]);
            InferenceVerifier otherRoute = new InferenceVerifier(r);
            vm.startPrank(alice);
            bytes32 id = r.registerModel("digits-mlp");
            r.addVersion(id, _params(10 + i), _vka(10 + i, false), _noVariants(), false);
            vm.stopPrank();
            vm.expectRevert(
                abi.encodeWithSelector(
                    IInferenceVerifier.VerifierProofRejected.selector,
                    id,
                    1,
                    address(faulty[i])
                )
            );
            otherRoute.verify(id, 1, input, proof, instances);
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // verifyCommitted
    // ---------------------------------------------------------------------------------------------------------

    /// @dev The coordinator's commitment, computed independently: keccak256 of the encodings as 32-byte words.
    function _commit(int256[] memory input) internal pure returns (bytes32) {
        uint256[] memory encoded = new uint256[](input.length);
        for (uint256 i = 0; i < input.length; ++i) encoded[i] = FieldElement.encode(input[i]);
        return keccak256(abi.encodePacked(encoded));
    }

    function testFuzz_verifyCommitted_returnsTheDecodedOutputs(
        int64[3] memory rawIn,
        int64[2] memory rawOut
    ) public view {
        int256[] memory input = _ints(rawIn[0], rawIn[1], rawIn[2]);
        int256[] memory output = _ints(rawOut[0], rawOut[1]);
        uint256[] memory instances = _instances(input, output);
        _assertOutputs(
            route.verifyCommitted(modelId, 1, _commit(input), _proof(instances), instances),
            output
        );
    }

    function testFuzz_verifyCommitted_agreesWithVerify(
        int64[3] memory rawIn,
        int64[2] memory rawOut
    ) public view {
        int256[] memory input = _ints(rawIn[0], rawIn[1], rawIn[2]);
        uint256[] memory instances = _instances(input, _ints(rawOut[0], rawOut[1]));
        bytes memory proof = _proof(instances);
        _assertOutputs(
            route.verifyCommitted(modelId, 1, _commit(input), proof, instances),
            route.verify(modelId, 1, input, proof, instances)
        );
    }

    /// @dev A valid proof for one input cannot fulfil a commitment to another, however small the difference.
    function testFuzz_verifyCommitted_revertsWhenTheProofIsForAnotherInput(
        int64[3] memory rawIn,
        uint8 index,
        int64 delta
    ) public {
        vm.assume(delta != 0);
        index = uint8(bound(index, 0, 2));
        int256[] memory proven = _ints(rawIn[0], rawIn[1], rawIn[2]);
        uint256[] memory instances = _instances(proven, _ints(4, 5));
        int256[] memory committed = _ints(rawIn[0], rawIn[1], rawIn[2]);
        committed[index] += delta;
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceVerifier.VerifierInputCommitmentMismatch.selector,
                _commit(committed),
                _commit(proven)
            )
        );
        route.verifyCommitted(modelId, 1, _commit(committed), _proof(instances), instances);
    }

    function test_verifyCommitted_rejectsAnInputInstanceOffByTheModulus() public {
        int256[] memory input = _ints(1, 2, 3);
        uint256[] memory instances = _instances(input, _ints(4, 5));
        instances[0] += P;
        uint256[] memory inputSlice = new uint256[](3);
        (inputSlice[0], inputSlice[1], inputSlice[2]) = (instances[0], instances[1], instances[2]);
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceVerifier.VerifierInputCommitmentMismatch.selector,
                _commit(input),
                keccak256(abi.encodePacked(inputSlice))
            )
        );
        route.verifyCommitted(modelId, 1, _commit(input), _proof(instances), instances);
    }

    function testFuzz_verifyCommitted_hashesOnlyTheInputRange(
        uint8 lead,
        uint8 gap,
        uint8 tail,
        uint256 foreign
    ) public {
        lead = uint8(bound(lead, 0, 4));
        gap = uint8(bound(gap, 0, 4));
        tail = uint8(bound(tail, 0, 4));
        uint32 inputOffset = lead + 2 + gap;
        IModelRegistry.InstanceLayout memory layout = IModelRegistry.InstanceLayout({
            instanceCount: inputOffset + 3 + tail,
            inputOffset: inputOffset,
            inputCount: 3,
            outputOffset: lead,
            outputCount: 2
        });
        uint32 version = _addVersion(alice, modelId, _params(layout, 3));
        int256[] memory input = _ints(7, -8, 9);
        uint256[] memory instances = new uint256[](layout.instanceCount);
        for (uint256 i = 0; i < instances.length; ++i) instances[i] = foreign % P;
        instances[lead] = FieldElement.encode(-3);
        instances[lead + 1] = FieldElement.encode(4);
        for (uint256 i = 0; i < 3; ++i) instances[inputOffset + i] = FieldElement.encode(input[i]);
        _assertOutputs(
            route.verifyCommitted(modelId, version, _commit(input), _proof(instances), instances),
            _ints(-3, 4)
        );
    }

    function testFuzz_verifyCommitted_revertsWhenInstanceCountDiffers(uint8 count) public {
        vm.assume(count != 5);
        uint256[] memory instances = new uint256[](count);
        vm.expectRevert(
            abi.encodeWithSelector(IInferenceVerifier.VerifierInstanceCountMismatch.selector, 5, count)
        );
        route.verifyCommitted(modelId, 1, _commit(_ints(0, 0, 0)), _proof(instances), instances);
    }

    function test_verifyCommitted_checksTheVersionLikeVerify() public {
        int256[] memory input = _ints(1, 2, 3);
        uint256[] memory instances = _instances(input, _ints(4, 5));
        bytes32 commitment = _commit(input);
        bytes memory proof = _proof(instances);

        vm.expectRevert(abi.encodeWithSelector(IInferenceVerifier.VerifierModelUnknown.selector, bytes32(0)));
        route.verifyCommitted(bytes32(0), 1, commitment, proof, instances);

        vm.expectRevert(
            abi.encodeWithSelector(IInferenceVerifier.VerifierVersionUnknown.selector, modelId, 2, 1)
        );
        route.verifyCommitted(modelId, 2, commitment, proof, instances);

        vm.prank(alice);
        registry.revokeVersion(modelId, 1);
        vm.expectRevert(
            abi.encodeWithSelector(IInferenceVerifier.VerifierVersionRevoked.selector, modelId, 1)
        );
        route.verifyCommitted(modelId, 1, commitment, proof, instances);
    }

    function testFuzz_verifyCommitted_revertsWhenTheVerifierRejects(bytes memory forged) public {
        int256[] memory input = _ints(1, 2, 3);
        uint256[] memory instances = _instances(input, _ints(4, 5));
        vm.assume(keccak256(forged) != keccak256(_proof(instances)));
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceVerifier.VerifierProofRejected.selector,
                modelId,
                1,
                address(digestVerifier)
            )
        );
        route.verifyCommitted(modelId, 1, _commit(input), forged, instances);
    }

    function test_verifyCommitted_revertsForAnOutputThatIsNotAFieldElement() public {
        int256[] memory input = _ints(1, 2, 3);
        uint256[] memory instances = _instances(input, _ints(4, 5));
        instances[3] = P + 4;
        vm.expectRevert(abi.encodeWithSelector(FieldElement.FieldElementOutOfRange.selector, P + 4));
        route.verifyCommitted(modelId, 1, _commit(input), _proof(instances), instances);
    }
}
