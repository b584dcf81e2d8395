// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

// Test names follow `test_<subject>_<behaviour>` / `testFuzz_...` (see STYLE.md), and gas rules do not apply here.
/* solhint-disable func-name-mixedcase, gas-small-strings, gas-strict-inequalities, function-max-lines, gas-increment-by-one */

import {Vm} from "./utils/TestBase.t.sol";
import {CoordinatorFixture} from "./utils/CoordinatorFixture.t.sol";
import {IInferenceCoordinator} from "../interfaces/IInferenceCoordinator.sol";
import {IInferenceVerifier} from "../interfaces/IInferenceVerifier.sol";
import {IModelRegistry} from "../interfaces/IModelRegistry.sol";
import {InferenceProof} from "../libraries/InferenceProof.sol";
import {FieldElement} from "../libraries/FieldElement.sol";
import {RecordingConsumer, RevertingConsumer, GasBurningConsumer, MockConsumer} from "./MockConsumers.sol";

/// @dev Batch variants in the registry and `fulfillBatch`: the block layout, per-request checks, receipts, payments
///      and callbacks, and every way a prover could make one proof serve the wrong requests. Routing and escrow
///      logic only: the suite verifier is MockHalo2Verifier (TEST-ONLY), which accepts exactly
///      `keccak256(abi.encode(instances))` as the proof. Real batch proofs: test/contracts/batch.real.test.ts.
contract InferenceCoordinatorBatchTest is CoordinatorFixture {
    /// @dev Version 2 of the fixture's model, (3 inputs, 2 outputs), with variants at batch sizes 2 and 4.
    uint32 internal constant BATCHED = 2;
    uint32 internal constant CALLBACK_GAS = 200_000;

    error StarvedCallbackNotReverted();

    function setUp() public override {
        super.setUp();
        IModelRegistry.Variant[] memory variants = new IModelRegistry.Variant[](2);
        variants[0] = IModelRegistry.Variant({batchSize: 2, vka: _vka(1002, false)});
        variants[1] = IModelRegistry.Variant({batchSize: 4, vka: _vka(1004, false)});
        vm.prank(alice);
        registry.addVersion(modelId, _params(_defaultLayout(3, 2), 2), _vka(1000, false), variants, false);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Helpers
    // ---------------------------------------------------------------------------------------------------------

    /// @dev Request i's input and the output its proof carries: distinct per i, so a swap shows.
    function _inputOf(uint256 i) internal pure returns (int256[] memory) {
        int256 x = int256(i) + 1;
        return _ints(x, -x, 10 * x);
    }

    function _outputOf(uint256 i) internal pure returns (int256[] memory) {
        int256 x = int256(i) + 1;
        return _ints(100 * x, -7 * x);
    }

    /// @dev A batch's instances: every block's input, then every block's output; blocks from `inputs.length` up are
    ///      zero padding (a padding block's output is what the model gives for a zero input; here any value).
    function _batchInstances(
        int256[][] memory inputs,
        int256[][] memory outputs,
        uint256 batchSize
    ) internal pure returns (uint256[] memory xs) {
        xs = new uint256[](batchSize * 5);
        for (uint256 b = 0; b < inputs.length; ++b) {
            for (uint256 j = 0; j < 3; ++j) xs[b * 3 + j] = FieldElement.encode(inputs[b][j]);
            for (uint256 j = 0; j < 2; ++j)
                xs[batchSize * 3 + b * 2 + j] = FieldElement.encode(outputs[b][j]);
        }
        for (uint256 b = inputs.length; b < batchSize; ++b) xs[batchSize * 3 + b * 2] = 99; // padding's output
    }

    /// @dev Blocks 0..count-1 holding `_inputOf(first + b)` -> `_outputOf(first + b)`.
    function _blocks(
        uint256 first,
        uint256 count,
        uint256 batchSize
    ) internal pure returns (uint256[] memory) {
        int256[][] memory inputs = new int256[][](count);
        int256[][] memory outputs = new int256[][](count);
        for (uint256 b = 0; b < count; ++b) {
            inputs[b] = _inputOf(first + b);
            outputs[b] = _outputOf(first + b);
        }
        return _batchInstances(inputs, outputs, batchSize);
    }

    /// @dev Which `_inputOf(k)` each request was made on.
    mapping(uint256 requestId => uint256 k) internal _k;

    /// @dev `requester` asks for `version` on `_inputOf(i)`, and `prover` locks it.
    function _requestFor(uint32 version, uint256 i) internal returns (uint256 id) {
        id = _requestOpenFor(version, i);
        _lock(prover, id);
    }

    /// @dev `requester` asks for `version` on `_inputOf(i)`; the request stays open.
    function _requestOpenFor(uint32 version, uint256 i) internal returns (uint256 id) {
        vm.prank(requester);
        id = coordinator.requestInference{value: FEE}(
            modelId,
            version,
            _inputOf(i),
            _offer(0, uint64(block.timestamp) + TTL)
        );
        _sync();
        _k[id] = i;
    }

    /// @dev `count` locked requests on version 2, request k on `_inputOf(k)`, in id order (the order
    ///      `fulfillBatch` takes them in; see `_blocksOf`).
    function _requests(uint256 count) internal returns (uint256[] memory ids) {
        ids = new uint256[](count);
        for (uint256 k = 0; k < count; ++k) ids[k] = _requestFor(BATCHED, k);
        _sorted(ids);
    }

    /// @dev Block b holding request `ids[b]`'s input and output, of a batch of `batchSize`.
    function _blocksOf(uint256[] memory ids, uint256 batchSize) internal view returns (uint256[] memory) {
        int256[][] memory inputs = new int256[][](ids.length);
        int256[][] memory outputs = new int256[][](ids.length);
        for (uint256 b = 0; b < ids.length; ++b) {
            inputs[b] = _inputOf(_k[ids[b]]);
            outputs[b] = _outputOf(_k[ids[b]]);
        }
        return _batchInstances(inputs, outputs, batchSize);
    }

    /// @dev The first `n` of `ids`.
    function _first(uint256[] memory ids, uint256 n) internal pure returns (uint256[] memory head) {
        head = new uint256[](n);
        for (uint256 i = 0; i < n; ++i) head[i] = ids[i];
    }

    /// @dev `_fulfilBatch`, returning the logs it emitted (read by the fixture too).
    function _fulfilBatchLogged(
        uint256[] memory ids,
        uint256[] memory instances
    ) internal returns (Vm.Log[] memory logs) {
        IInferenceCoordinator.Terms[] memory terms = _termsList(coordinator, ids);
        IInferenceCoordinator.LockState[] memory held = _locksList(coordinator, ids);
        bytes memory proof = _proof(instances);
        vm.prank(prover);
        coordinator.fulfillBatch(ids, terms, held, proof, instances);
        logs = vm.getRecordedLogs();
        vm.recordLogs();
        _absorb(logs);
    }

    function _fulfilBatch(uint256[] memory ids, uint256[] memory instances) internal {
        _fulfilBatchAs(prover, ids, _proof(instances), instances);
    }

    function _expectBatchRevert(
        uint256[] memory ids,
        uint256[] memory instances,
        bytes memory reason
    ) internal {
        _expectBatchRevert(
            ids,
            _termsList(coordinator, ids),
            _locksList(coordinator, ids),
            instances,
            reason
        );
    }

    /// @dev `prover`'s `fulfillBatch` of `ids` on `terms` and `held` reverts with `reason`.
    function _expectBatchRevert(
        uint256[] memory ids,
        IInferenceCoordinator.Terms[] memory terms,
        IInferenceCoordinator.LockState[] memory held,
        uint256[] memory instances,
        bytes memory reason
    ) internal {
        bytes memory proof = _proof(instances);
        vm.prank(prover);
        vm.expectRevert(reason);
        coordinator.fulfillBatch(ids, terms, held, proof, instances);
    }

    function _ids(uint256 a, uint256 b) internal pure returns (uint256[] memory ids) {
        ids = new uint256[](2);
        (ids[0], ids[1]) = (a, b);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Registry: variants are part of the version
    // ---------------------------------------------------------------------------------------------------------

    function test_addVersion_registersItsVariantsWithTheVersion() public view {
        IModelRegistry.VariantInfo[] memory list = registry.variants(modelId, BATCHED);
        assertEq(list.length, 2, "two variants");
        assertEq(uint256(list[0].batchSize), 2, "first: batch 2");
        assertEq(uint256(list[1].batchSize), 4, "second: batch 4");
        assertEq(list[1].vkaDigest, keccak256(abi.encodePacked(_vka(1004, false))), "batch 4's digest");
        assertEq(list[1].vka.code.length, 32 * 32 + 1, "batch 4's VKA stored as code");
        // A variant's store is the bare VKA (no description); the version's has its description before the VKA.
        assertEq(
            keccak256(list[1].vka.code),
            keccak256(abi.encodePacked(bytes1(0x00), _vka(1004, false))),
            "batch 4's store: STOP and the VKA"
        );
        IModelRegistry.FulfilmentCircuit memory c4 = registry.fulfilmentCircuit(modelId, BATCHED, 4 * 5);
        assertEq(c4.vka, list[1].vka, "the batch-4 circuit's store");
        IModelRegistry.FulfilmentCircuit memory c1 = registry.fulfilmentCircuit(modelId, BATCHED, 5);
        assertEq(c1.vka.code.length, 1 + 168 + 32 * 32, "the version's store: description and VKA");
        // The offsets the coordinator and the route copy the VKA from are the registry's store format.
        assertEq(
            InferenceProof.VERSION_VKA_OFFSET + 32 * 32,
            c1.vka.code.length,
            "a version's VKA runs to the end"
        );
        assertEq(
            InferenceProof.VARIANT_VKA_OFFSET + 32 * 32,
            c4.vka.code.length,
            "a variant's VKA runs to the end"
        );
        assertEq(registry.variants(modelId, 1).length, 0, "version 1 has none");

        (, , , address vka1, bytes32 digest1) = registry.batchTarget(modelId, BATCHED, 1);
        assertEq(
            vka1,
            registry.verificationTarget(modelId, BATCHED).vka,
            "batch size 1: the version's own VKA"
        );
        assertEq(digest1, registry.verificationTarget(modelId, BATCHED).vkaDigest, "and its digest");
        (, , , address vka4, bytes32 digest4) = registry.batchTarget(modelId, BATCHED, 4);
        assertEq(vka4, list[1].vka, "batch size 4: the variant's VKA");
        assertEq(digest4, list[1].vkaDigest, "and its digest");
        (, , , address vka3, bytes32 digest3) = registry.batchTarget(modelId, BATCHED, 3);
        assertEq(vka3, address(0), "no batch-3 variant");
        assertEq(digest3, bytes32(0), "no batch-3 digest");
    }

    function test_addVersion_emitsVariantRegistered() public {
        IModelRegistry.Variant[] memory variants = new IModelRegistry.Variant[](1);
        variants[0] = IModelRegistry.Variant({batchSize: 8, vka: _vka(2008, false)});
        vm.recordLogs();
        vm.prank(alice);
        uint32 version = registry.addVersion(
            modelId,
            _params(_defaultLayout(3, 2), 3),
            _vka(2000, false),
            variants,
            false
        );
        Vm.Log[] memory logs = vm.getRecordedLogs();
        bytes32 topic = keccak256("VariantRegistered(bytes32,uint32,uint32,bytes32,address)");
        uint256 seen;
        for (uint256 i = 0; i < logs.length; ++i) {
            if (logs[i].topics[0] != topic) continue;
            ++seen;
            assertEq(logs[i].topics[1], modelId, "model");
            assertEq(uint256(logs[i].topics[2]), uint256(version), "version");
            (uint32 batchSize, bytes32 digest, ) = abi.decode(logs[i].data, (uint32, bytes32, address));
            assertEq(uint256(batchSize), 8, "batch size");
            assertEq(digest, keccak256(abi.encodePacked(_vka(2008, false))), "digest");
        }
        assertEq(seen, 1, "one VariantRegistered");
    }

    function test_addVersion_rejectsVariantBatchSizesOutOfOrderOrRange() public {
        uint32[3][4] memory cases = [
            [uint32(1), 4, 1], // 1 is the version itself
            [uint32(4), 4, 4], // a second batch-4 variant
            [uint32(4), 2, 4], // descending
            [uint32(2), 65, 2] // above MAX_BATCH_SIZE
        ];
        for (uint256 c = 0; c < cases.length; ++c) {
            IModelRegistry.Variant[] memory variants = new IModelRegistry.Variant[](2);
            variants[0] = IModelRegistry.Variant({batchSize: cases[c][0], vka: _vka(3000 + c, false)});
            variants[1] = IModelRegistry.Variant({batchSize: cases[c][1], vka: _vka(3100 + c, false)});
            uint32 bad = c == 0 ? cases[c][0] : cases[c][1];
            uint32 previous = c == 0 ? 1 : cases[c][2];
            IModelRegistry.VersionParams memory p = _params(_defaultLayout(3, 2), 30 + c);
            bytes32[] memory vka = _vka(3200 + c, false);
            uint32 max = registry.MAX_BATCH_SIZE();
            vm.prank(alice);
            vm.expectRevert(
                abi.encodeWithSelector(
                    IModelRegistry.RegistryVariantBatchSizeInvalid.selector,
                    bad,
                    previous,
                    max
                )
            );
            registry.addVersion(modelId, p, vka, variants, false);
        }
    }

    function test_addVersion_rejectsVariantsOfALayoutWithoutTheBlockForm() public {
        // Outputs first, then inputs: a valid batch-1 layout, but not one the block layout of a variant derives from.
        IModelRegistry.InstanceLayout memory layout = IModelRegistry.InstanceLayout({
            instanceCount: 5,
            inputOffset: 2,
            inputCount: 3,
            outputOffset: 0,
            outputCount: 2
        });
        IModelRegistry.Variant[] memory variants = new IModelRegistry.Variant[](1);
        variants[0] = IModelRegistry.Variant({batchSize: 2, vka: _vka(4002, false)});
        IModelRegistry.VersionParams memory p = _params(layout, 40);
        bytes32[] memory vka = _vka(4000, false);
        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(IModelRegistry.RegistryVariantLayoutUnsupported.selector, 2, 0, 5)
        );
        registry.addVersion(modelId, p, vka, variants, false);
    }

    function test_addVersion_rejectsAVariantOnAnotherSrs() public {
        // A dev-SRS version cannot carry a ceremony-SRS variant, and a ceremony-SRS version no dev-SRS variant: a
        // consumer that checked `usesCeremonySrs` gets that SRS from every circuit that can fulfil its request.
        for (uint256 c = 0; c < 2; ++c) {
            bool ceremony = c == 1;
            IModelRegistry.Variant[] memory variants = new IModelRegistry.Variant[](1);
            variants[0] = IModelRegistry.Variant({batchSize: 2, vka: _vka(5002 + c, !ceremony)});
            IModelRegistry.VersionParams memory p = _params(_defaultLayout(3, 2), 50 + c);
            bytes32[] memory vka = _vka(5000 + c, ceremony);
            vm.prank(alice);
            vm.expectRevert(
                abi.encodeWithSelector(IModelRegistry.RegistryVariantSrsMismatch.selector, 2, ceremony)
            );
            registry.addVersion(modelId, p, vka, variants, false);
        }
    }

    function test_addVersion_rejectsTooManyVariantsAndABadVariantVka() public {
        uint256 max = registry.MAX_VARIANTS();
        IModelRegistry.Variant[] memory many = new IModelRegistry.Variant[](max + 1);
        for (uint256 i = 0; i < many.length; ++i) {
            many[i] = IModelRegistry.Variant({batchSize: uint32(2 + i), vka: _vka(6000 + i, false)});
        }
        IModelRegistry.VersionParams memory p = _params(_defaultLayout(3, 2), 60);
        bytes32[] memory vka = _vka(6100, false);
        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(IModelRegistry.RegistryTooManyVariants.selector, max + 1, max)
        );
        registry.addVersion(modelId, p, vka, many, false);

        IModelRegistry.Variant[] memory short = new IModelRegistry.Variant[](1);
        short[0] = IModelRegistry.Variant({batchSize: 2, vka: new bytes32[](3)});
        vm.prank(alice);
        vm.expectRevert(abi.encodeWithSelector(IModelRegistry.RegistryVkaLengthInvalid.selector, 3, 24, 762));
        registry.addVersion(modelId, p, vka, short, false);
    }

    // ---------------------------------------------------------------------------------------------------------
    // fulfillBatch: one proof, each request its own block, receipt, payment and callback
    // ---------------------------------------------------------------------------------------------------------

    function test_fulfillBatch_fulfilsAFullBatchBlockByBlock() public {
        uint256[] memory ids = _requests(4);
        uint256[] memory instances = _blocksOf(ids, 4);
        uint256 creditBefore = coordinator.credits(prover);
        Vm.Log[] memory logs = _fulfilBatchLogged(ids, instances);
        for (uint256 k = 0; k < 4; ++k) {
            IInferenceCoordinator.Receipt memory rc = _receipt(ids[k]);
            assertEq(
                rc.outputsHash,
                keccak256(abi.encode(_outputOf(_k[ids[k]]))),
                "each request's own outputs"
            );
            assertEq(rc.inputCommitment, _commit(_inputOf(_k[ids[k]])), "its own input");
            assertEq(rc.proofHash, keccak256(_proof(instances)), "the batch proof");
            assertEq(rc.fulfiller, prover, "paid to the locker");
            assertEq(uint256(rc.version), uint256(BATCHED), "the version");
        }
        assertEq(coordinator.credits(prover) - creditBefore, 4 * FEE, "four fees");

        bytes32 fulfilled = IInferenceCoordinator.InferenceFulfilled.selector;
        bytes32 batched = IInferenceCoordinator.BatchFulfilled.selector;
        uint256 perRequest;
        uint256 batches;
        for (uint256 i = 0; i < logs.length; ++i) {
            if (logs[i].topics[0] == fulfilled) {
                (, uint8 width, bytes memory packed) = abi.decode(logs[i].data, (bytes32, uint8, bytes));
                _assertOutputs(_unpackOutputs(width, packed), _outputOf(_k[uint256(logs[i].topics[1])]));
                ++perRequest;
            }
            if (logs[i].topics[0] == batched) {
                (uint32 version, uint32 batchSize, uint256[] memory listed) = abi.decode(
                    logs[i].data,
                    (uint32, uint32, uint256[])
                );
                assertEq(uint256(version), uint256(BATCHED), "BatchFulfilled: version");
                assertEq(uint256(batchSize), 4, "BatchFulfilled: batch size");
                assertEq(
                    keccak256(abi.encode(listed)),
                    keccak256(abi.encode(ids)),
                    "BatchFulfilled: the requests"
                );
                ++batches;
            }
        }
        assertEq(perRequest, 4, "one InferenceFulfilled per request");
        assertEq(batches, 1, "one BatchFulfilled");
    }

    function test_fulfillBatch_fulfilsFewerRequestsThanBlocksWithPadding() public {
        uint256[] memory ids = _requests(3);
        _fulfilBatch(ids, _blocksOf(ids, 4));
        for (uint256 k = 0; k < 3; ++k) {
            assertEq(
                uint256(_status(ids[k])),
                uint256(IInferenceCoordinator.RequestStatus.Fulfilled),
                "fulfilled"
            );
            assertEq(
                _receipt(ids[k]).outputsHash,
                keccak256(abi.encode(_outputOf(_k[ids[k]]))),
                "own outputs"
            );
        }
    }

    function test_fulfillBatch_fulfilsOneRequestAtBatchSizeOneOnAVersionWithoutVariants() public {
        uint256 id = _requestFor(1, 0);
        uint256[] memory ids = new uint256[](1);
        ids[0] = id;
        _fulfilBatch(ids, _instances(_inputOf(0), _outputOf(0)));
        assertEq(_receipt(id).outputsHash, keccak256(abi.encode(_outputOf(0))), "own outputs");
    }

    function test_fulfillBatch_callsEachConsumerBackWithItsOwnOutputsAndContainsAFailure() public {
        RecordingConsumer first = new RecordingConsumer(coordinator);
        RevertingConsumer second = new RevertingConsumer(coordinator);
        RecordingConsumer third = new RecordingConsumer(coordinator);
        MockConsumer[3] memory consumers = [MockConsumer(first), MockConsumer(second), MockConsumer(third)];
        uint256[] memory ids = new uint256[](3); // by consumer
        for (uint256 k = 0; k < 3; ++k) {
            vm.prank(requester);
            ids[k] = consumers[k].request{value: FEE}(
                modelId,
                BATCHED,
                _inputOf(k),
                CALLBACK_GAS,
                uint64(block.timestamp) + TTL
            );
            _sync();
            _k[ids[k]] = k;
            _lock(prover, ids[k]);
        }
        uint256[] memory ordered = _sorted(_first(ids, 3));
        _fulfilBatch(ordered, _blocksOf(ordered, 4));
        assertEq(first.calls(), 1, "first called once");
        assertEq(first.lastRequestId(), ids[0], "first: its request");
        _assertOutputs(first.lastOutputs(), _outputOf(0));
        assertEq(third.calls(), 1, "third called once");
        assertEq(third.lastRequestId(), ids[2], "third: its request");
        _assertOutputs(third.lastOutputs(), _outputOf(2));
        assertEq(
            uint256(_receipt(ids[1]).callback),
            uint256(IInferenceCoordinator.CallbackStatus.Failed),
            "the reverting consumer's callback failed"
        );
        assertEq(
            uint256(_receipt(ids[2]).callback),
            uint256(IInferenceCoordinator.CallbackStatus.Succeeded),
            "and the next one's did not"
        );
    }

    function test_fulfillBatch_revertsRatherThanStarveALaterCallback() public {
        // The first consumer burns its whole limit, so what is left for the second is exactly predictable.
        GasBurningConsumer burner = new GasBurningConsumer(coordinator);
        RecordingConsumer later = new RecordingConsumer(coordinator);
        uint256[] memory ids = new uint256[](2);
        vm.prank(requester);
        ids[0] = burner.request{value: FEE}(
            modelId,
            BATCHED,
            _inputOf(0),
            1_000_000,
            uint64(block.timestamp) + TTL
        );
        _sync();
        // The burner's request must come first in id order: ask again (a new id each time) until it does.
        do {
            vm.prank(requester);
            ids[1] = later.request{value: FEE}(
                modelId,
                BATCHED,
                _inputOf(1),
                1_000_000,
                uint64(block.timestamp) + TTL
            );
            _sync();
        } while (ids[1] < ids[0]);
        _lock(prover, ids[0]);
        _lock(prover, ids[1]);
        uint256[] memory instances = _blocks(0, 2, 2);
        IInferenceCoordinator.Terms[] memory terms = _termsList(coordinator, ids);
        IInferenceCoordinator.LockState[] memory held = _locksList(coordinator, ids);
        bytes memory proof = _proof(instances);
        // Enough for the batch and the first callback's full limit, not for the second's.
        vm.prank(prover);
        try coordinator.fulfillBatch{gas: 1_600_000}(ids, terms, held, proof, instances) {
            revert StarvedCallbackNotReverted();
        } catch (bytes memory reason) {
            assertEq(
                bytes4(reason),
                IInferenceCoordinator.CoordinatorInsufficientGasForCallback.selector,
                "named error"
            );
            (uint256 requestId, , ) = abi.decode(_args(reason), (uint256, uint256, uint256));
            assertEq(requestId, ids[1], "the second request's callback");
        }
        assertEq(
            uint256(_status(ids[0])),
            uint256(IInferenceCoordinator.RequestStatus.Locked),
            "nothing fulfilled"
        );
        vm.prank(prover);
        coordinator.fulfillBatch{gas: 3_000_000}(ids, terms, held, proof, instances);
        _sync();
        assertEq(later.calls(), 1, "with enough gas the second is called back");
        assertEq(
            uint256(_receipt(ids[0]).callback),
            uint256(IInferenceCoordinator.CallbackStatus.Failed),
            "the burner ran out of its own gas"
        );
    }

    function test_fulfillBatch_paysAnOpenFillOnlyWithTheSendersCommitmentToTheBatchProof() public {
        uint256 locked = _requestFor(BATCHED, 0);
        uint256 open = _requestOpenFor(BATCHED, 1);
        uint256[] memory ids = _sorted(_ids(locked, open));
        uint256[] memory instances = _blocksOf(ids, 2);
        bytes memory proof = _proof(instances);
        bytes32 needed = coordinator.fillCommitment(prover, ids, keccak256(proof));
        _expectBatchRevert(
            ids,
            instances,
            abi.encodeWithSelector(
                IInferenceCoordinator.CoordinatorFillNotCommitted.selector,
                open,
                prover,
                needed
            )
        );
        // A commitment to the open request alone (as for `fulfill`) is not one to this batch.
        _commitFill(prover, open, proof);
        _expectBatchRevert(
            ids,
            instances,
            abi.encodeWithSelector(
                IInferenceCoordinator.CoordinatorFillNotCommitted.selector,
                open,
                prover,
                needed
            )
        );
        _commitFill(prover, ids, proof);
        _fulfilBatch(ids, instances);
        assertEq(_receipt(open).fulfiller, prover, "the committed sender is paid");
        assertEq(_receipt(locked).fulfiller, prover, "and the locker");
        assertEq(coordinator.commitmentBlock(needed), 0, "the commitment is used up");
    }

    /// @dev One commitment covers every open request of a batch; a copy of the batch by a sender without a
    ///      commitment of its own pays nobody and reverts.
    function test_fulfillBatch_oneCommitmentCoversTheWholeOpenBatchAndACopyHasNone() public {
        uint256[] memory ids = new uint256[](3);
        for (uint256 k = 0; k < 3; ++k) ids[k] = _requestOpenFor(BATCHED, k);
        _sorted(ids);
        uint256[] memory instances = _blocksOf(ids, 4);
        bytes memory proof = _proof(instances);
        bytes32 commitment = coordinator.fillCommitment(prover, ids, keccak256(proof));
        vm.prank(prover);
        coordinator.commit(commitment);
        vm.roll(block.number + 1);

        address copier = makeAddr("copier");
        IInferenceCoordinator.Terms[] memory terms = _termsList(coordinator, ids);
        IInferenceCoordinator.LockState[] memory held = _locksList(coordinator, ids);
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceCoordinator.CoordinatorFillNotCommitted.selector,
                ids[0],
                copier,
                coordinator.fillCommitment(copier, ids, keccak256(proof))
            )
        );
        vm.prank(copier);
        coordinator.fulfillBatch(ids, terms, held, proof, instances);

        _fulfilBatch(ids, instances);
        for (uint256 k = 0; k < 3; ++k) assertEq(_receipt(ids[k]).fulfiller, prover, "the committer is paid");
        assertEq(coordinator.credits(prover), 3 * FEE, "three fees");
        assertEq(coordinator.commitmentBlock(commitment), 0, "one commitment, used once");
    }

    /// @dev Every request's terms and lock are checked before the proof: one forged entry fails the batch.
    function test_fulfillBatch_rejectsForgedTermsOrLocks() public {
        uint256[] memory ids = _requests(2);
        uint256[] memory instances = _blocksOf(ids, 2);
        IInferenceCoordinator.Terms[] memory terms = _termsList(coordinator, ids);
        IInferenceCoordinator.LockState[] memory held = _locksList(coordinator, ids);
        bytes memory mismatch = abi.encodeWithSelector(
            IInferenceCoordinator.CoordinatorTermsMismatch.selector,
            ids[1],
            IInferenceCoordinator.RequestStatus.Locked
        );
        // A lower collateral (a locker's own lapsed lock would be slashed less), another requester, a higher price.
        uint256[3] memory fields = [uint256(9), 0, 4];
        for (uint256 f = 0; f < fields.length; ++f) {
            terms[1] = _forged(coordinator, ids[1], fields[f]);
            _expectBatchRevert(ids, terms, held, instances, mismatch);
        }
        terms[1] = _t(ids[1]);
        // Another locker, a higher locked price, another lock block.
        for (uint256 f = 0; f < 3; ++f) {
            held[1] = _h(ids[1]);
            if (f == 0) held[1].locker = makeAddr("copier");
            else if (f == 1) held[1].price += 1;
            else held[1].lockedAt -= 1;
            _expectBatchRevert(ids, terms, held, instances, mismatch);
        }
        held[1] = _h(ids[1]);
        // An open request's all-zero lock for a locked one.
        IInferenceCoordinator.LockState memory none;
        held[0] = none;
        _expectBatchRevert(
            ids,
            terms,
            held,
            instances,
            abi.encodeWithSelector(
                IInferenceCoordinator.CoordinatorTermsMismatch.selector,
                ids[0],
                IInferenceCoordinator.RequestStatus.Locked
            )
        );
        held[0] = _h(ids[0]);
        // Arrays of different lengths.
        _expectBatchRevert(
            ids,
            _termsList(coordinator, _first(ids, 1)),
            _locksList(coordinator, ids),
            instances,
            abi.encodeWithSelector(IInferenceCoordinator.CoordinatorArgumentsLengthMismatch.selector, 2, 1, 2)
        );
        _fulfilBatch(ids, instances);
    }

    // ---------------------------------------------------------------------------------------------------------
    // fulfillBatch: a proof can serve only the requests whose inputs it carries, each once
    // ---------------------------------------------------------------------------------------------------------

    function test_fulfillBatch_rejectsSwappedBlocks() public {
        uint256[] memory ids = _requests(2);
        // Block 0 holds the second request's input, block 1 the first's.
        (uint256 k0, uint256 k1) = (_k[ids[0]], _k[ids[1]]);
        int256[][] memory inputs = new int256[][](2);
        int256[][] memory outputs = new int256[][](2);
        (inputs[0], inputs[1]) = (_inputOf(k1), _inputOf(k0));
        (outputs[0], outputs[1]) = (_outputOf(k1), _outputOf(k0));
        uint256[] memory instances = _batchInstances(inputs, outputs, 2);
        _expectBatchRevert(
            ids,
            instances,
            abi.encodeWithSelector(
                IInferenceCoordinator.CoordinatorBlockInputMismatch.selector,
                ids[0],
                0,
                _commit(_inputOf(k0)),
                _commit(_inputOf(k1))
            )
        );
    }

    function test_fulfillBatch_rejectsOneBlockClaimedByTwoRequests() public {
        // Two requests on the same input: one block can still serve only one of them.
        uint256[] memory both = _sorted(_ids(_requestFor(BATCHED, 0), _requestFor(BATCHED, 0)));
        (uint256 a, uint256 b) = (both[0], both[1]);
        uint256[] memory instances = _blocks(0, 1, 2);
        _expectBatchRevert(
            _ids(a, a),
            instances,
            abi.encodeWithSelector(IInferenceCoordinator.CoordinatorBatchDuplicateRequest.selector, a)
        );
        // Listed once each, the second request's block is padding, which is not its input.
        _expectBatchRevert(
            _ids(a, b),
            instances,
            abi.encodeWithSelector(
                IInferenceCoordinator.CoordinatorBlockInputMismatch.selector,
                b,
                1,
                _commit(_inputOf(0)),
                _commit(_ints(0, 0, 0))
            )
        );
        _expectBatchRevert(
            _ids(b, a),
            _blocks(0, 2, 2),
            abi.encodeWithSelector(IInferenceCoordinator.CoordinatorBatchNotAscending.selector, a, b)
        );
    }

    function test_fulfillBatch_rejectsARequestOfAnotherVersion() public {
        // The batch is the first request's version; the other is on the other version (2, with a batch-2 variant,
        // or 1).
        uint256 onTwo = _requestFor(BATCHED, 0);
        uint256 onOne = _requestFor(1, 1);
        uint256[] memory ids = _sorted(_ids(onTwo, onOne));
        bool twoFirst = ids[0] == onTwo;
        _expectBatchRevert(
            ids,
            _blocksOf(ids, 2),
            abi.encodeWithSelector(
                IInferenceCoordinator.CoordinatorBatchVersionMismatch.selector,
                ids[1],
                modelId,
                twoFirst ? 1 : BATCHED,
                modelId,
                twoFirst ? BATCHED : 1
            )
        );
    }

    function test_fulfillBatch_rejectsPaddingPresentedAsARequestsInput() public {
        uint256[] memory ids = _requests(3);
        // Two real blocks and two padding blocks; the third request claims padding block 2.
        _expectBatchRevert(
            ids,
            _blocksOf(_first(ids, 2), 4),
            abi.encodeWithSelector(
                IInferenceCoordinator.CoordinatorBlockInputMismatch.selector,
                ids[2],
                2,
                _commit(_inputOf(_k[ids[2]])),
                _commit(_ints(0, 0, 0))
            )
        );
    }

    function test_fulfillBatch_rejectsABatchSizeTheVersionDoesNotHave() public {
        uint256[] memory ids = _requests(2);
        // Batch 3: a whole number of blocks, but no batch-3 variant.
        _expectBatchRevert(
            ids,
            _blocksOf(ids, 3),
            abi.encodeWithSelector(
                IInferenceCoordinator.CoordinatorBatchSizeUnregistered.selector,
                modelId,
                BATCHED,
                15,
                5
            )
        );
        // Not a whole number of blocks.
        uint256[] memory ragged = new uint256[](11);
        _expectBatchRevert(
            ids,
            ragged,
            abi.encodeWithSelector(
                IInferenceCoordinator.CoordinatorBatchSizeUnregistered.selector,
                modelId,
                BATCHED,
                11,
                5
            )
        );
        // Version 1 has no variants at all.
        uint256[] memory one = _sorted(_ids(_requestFor(1, 0), _requestFor(1, 1)));
        _expectBatchRevert(
            one,
            _blocksOf(one, 2),
            abi.encodeWithSelector(
                IInferenceCoordinator.CoordinatorBatchSizeUnregistered.selector,
                modelId,
                1,
                10,
                5
            )
        );
    }

    function test_fulfillBatch_rejectsMoreRequestsThanBlocksAndAnEmptyList() public {
        uint256[] memory ids = _requests(3);
        _expectBatchRevert(
            ids,
            _blocks(0, 2, 2),
            abi.encodeWithSelector(IInferenceCoordinator.CoordinatorBatchTooLarge.selector, 3, 2)
        );
        _expectBatchRevert(
            new uint256[](0),
            _blocks(0, 2, 2),
            abi.encodeWithSelector(IInferenceCoordinator.CoordinatorBatchEmpty.selector, prover)
        );
    }

    function test_fulfillBatch_rejectsAProofTheVerifierDoesNotAccept() public {
        uint256[] memory ids = _requests(2);
        uint256[] memory instances = _blocksOf(ids, 2);
        bytes memory forged = _proof(_blocks(5, 2, 2)); // a valid proof of other instances
        IInferenceCoordinator.Terms[] memory terms = _termsList(coordinator, ids);
        IInferenceCoordinator.LockState[] memory held = _locksList(coordinator, ids);
        vm.prank(prover);
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceVerifier.VerifierProofRejected.selector,
                modelId,
                BATCHED,
                address(digestVerifier)
            )
        );
        coordinator.fulfillBatch(ids, terms, held, forged, instances);
    }

    function test_fulfillBatch_rejectsARevokedVersionAndAFulfilledRequest() public {
        uint256[] memory ids = _requests(2);
        uint256[] memory instances = _blocksOf(ids, 2);
        _fulfilBatch(ids, instances);
        _expectBatchRevert(
            ids,
            instances,
            abi.encodeWithSelector(IInferenceCoordinator.CoordinatorRequestAlreadyFulfilled.selector, ids[0])
        );
        uint256[] memory more = _sorted(_ids(_requestFor(BATCHED, 0), _requestFor(BATCHED, 1)));
        vm.prank(alice);
        registry.revokeVersion(modelId, BATCHED);
        _expectBatchRevert(
            more,
            instances,
            abi.encodeWithSelector(IInferenceVerifier.VerifierVersionRevoked.selector, modelId, BATCHED)
        );
    }

    /// @dev The arguments of an ABI-encoded custom error (its data after the selector).
    function _args(bytes memory reason) internal pure returns (bytes memory args) {
        args = new bytes(reason.length - 4);
        for (uint256 i = 0; i < args.length; ++i) args[i] = reason[i + 4];
    }
}
