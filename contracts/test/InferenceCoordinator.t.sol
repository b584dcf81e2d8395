// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

// Test names follow `test_<subject>_<behaviour>` / `testFuzz_...` (see STYLE.md), and gas rules do not apply here.
/* solhint-disable func-name-mixedcase, gas-small-strings, gas-strict-inequalities, function-max-lines, gas-increment-by-one */

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Vm} from "./utils/TestBase.t.sol";
import {CoordinatorFixture} from "./utils/CoordinatorFixture.t.sol";
import {IInferenceCoordinator} from "../interfaces/IInferenceCoordinator.sol";
import {IInferenceVerifier} from "../interfaces/IInferenceVerifier.sol";
import {IModelRegistry} from "../interfaces/IModelRegistry.sol";
import {InferenceCoordinator} from "../coordinator/InferenceCoordinator.sol";
import {InferenceVerifier} from "../verifier/InferenceVerifier.sol";
import {ModelRegistry} from "../registry/ModelRegistry.sol";
import {FieldElement} from "../libraries/FieldElement.sol";
import {RecordingConsumer} from "./MockConsumers.sol";
import {MockHalo2Verifier} from "./MockHalo2Verifier.sol";

/// @dev Unit tests of the coordinator's request, fulfilment, refund, withdrawal and pause logic on the real registry,
///      with MockHalo2Verifier (TEST-ONLY) as the registered verifier. Adversarial callbacks are in
///      InferenceCoordinatorCallbacks.t.sol, the escrow invariant in InferenceCoordinatorInvariants.t.sol, real
///      proofs in test/contracts/coordinator.real.test.ts.
contract InferenceCoordinatorTest is CoordinatorFixture {
    // ---------------------------------------------------------------------------------------------------------
    // Construction and views
    // ---------------------------------------------------------------------------------------------------------

    function test_constructor_storesItsParts() public view {
        assertEq(address(coordinator.registry()), address(registry), "registry");
        assertEq(address(coordinator.route()), address(route), "route");
        assertEq(coordinator.owner(), owner, "owner");
        assertEq(coordinator.guardian(), guardian, "guardian");
        (bool requestsPaused, bool fulfilmentsPaused) = coordinator.paused();
        assertFalse(requestsPaused || fulfilmentsPaused, "not paused");
        assertEq(uint256(coordinator.MAX_CALLBACK_GAS_LIMIT()), 5_000_000, "callback cap");
    }

    function test_constructor_rejectsPartsWithoutCode() public {
        vm.expectRevert(abi.encodeWithSelector(IInferenceCoordinator.CoordinatorHasNoCode.selector, bob));
        new InferenceCoordinator(IModelRegistry(bob), route, owner, guardian);
        vm.expectRevert(abi.encodeWithSelector(IInferenceCoordinator.CoordinatorHasNoCode.selector, bob));
        new InferenceCoordinator(registry, IInferenceVerifier(bob), owner, guardian);
    }

    function test_constructor_rejectsARouteOfAnotherRegistry() public {
        ModelRegistry other = _registryWith(digestVerifier);
        InferenceVerifier otherRoute = new InferenceVerifier(other);
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceCoordinator.CoordinatorRouteRegistryMismatch.selector,
                address(otherRoute),
                address(registry),
                address(other)
            )
        );
        new InferenceCoordinator(registry, otherRoute, owner, guardian);
    }

    function test_constructor_rejectsAZeroOwner() public {
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableInvalidOwner.selector, address(0)));
        new InferenceCoordinator(registry, route, address(0), guardian);
    }

    function testFuzz_computeInputCommitment_isTheKeccakOfTheInputInstances(int64[3] memory raw) public view {
        int256[] memory input = _ints(raw[0], raw[1], raw[2]);
        uint256[] memory instances = _instances(input, _output());
        uint256[] memory slice = new uint256[](3);
        for (uint256 i = 0; i < 3; ++i) slice[i] = instances[i];
        assertEq(coordinator.computeInputCommitment(input), keccak256(abi.encodePacked(slice)), "commitment");
    }

    // ---------------------------------------------------------------------------------------------------------
    // requestInference
    // ---------------------------------------------------------------------------------------------------------

    /// @dev The terms `requestInference` must log for `requester`'s request of version 1 on `_input()` paying
    ///      `fee` on `_offer(callbackGasLimit, deadline)` in this block, built independently of the coordinator.
    function _expectedTerms(
        uint256 fee,
        uint32 callbackGasLimit,
        uint64 deadline
    ) internal view returns (IInferenceCoordinator.Terms memory) {
        IInferenceCoordinator.Offer memory o = _offer(callbackGasLimit, deadline);
        return
            IInferenceCoordinator.Terms({
                requester: requester,
                modelId: modelId,
                version: 1,
                inputCommitment: _commit(_input()),
                maxPrice: fee,
                minPrice: o.minPrice,
                requestedAt: uint64(block.timestamp),
                rampPeriod: o.rampPeriod,
                lockDeadline: uint64(block.timestamp) + o.lockTimeout,
                lockCollateral: o.lockCollateral,
                callbackGasLimit: callbackGasLimit,
                deadline: deadline
            });
    }

    function test_requestInference_storesTheHashOfTheTermsAndLogsTheTermsAndTheInput() public {
        uint64 deadline = uint64(block.timestamp) + TTL;
        IInferenceCoordinator.Terms memory terms = _expectedTerms(FEE, 123_456, deadline);
        uint256 expectedId = uint256(keccak256(abi.encode(terms)));
        vm.expectEmit(true, true, true, true, address(coordinator));
        // (1, -2, 3) fits one byte each, in two's complement.
        emit IInferenceCoordinator.InferenceRequested(expectedId, modelId, requester, terms, 1, hex"01fe03");
        vm.prank(requester);
        uint256 id = coordinator.requestInference{value: FEE}(
            modelId,
            1,
            _input(),
            _offer(123_456, deadline)
        );
        _sync();

        assertEq(id, expectedId, "the id is the hash of the terms");
        assertEq(keccak256(abi.encode(_t(id))), keccak256(abi.encode(terms)), "the logged terms");
        (IInferenceCoordinator.RequestStatus status, bytes32 stateHash) = coordinator.requestState(id);
        assertEq(uint256(status), uint256(IInferenceCoordinator.RequestStatus.Open), "open");
        assertEq(
            stateHash,
            keccak256(abi.encode(terms)) & ~bytes32(uint256(0xff)),
            "the terms' hash, truncated"
        );
        assertEq(coordinator.hashTerms(terms), stateHash, "hashTerms");
        assertEq(address(coordinator).balance, FEE, "fee escrowed");
    }

    /// @dev Elements are logged at the narrowest two's-complement width that holds them all.
    function test_requestInference_logsTheInputAtItsNarrowestWidth() public {
        int256[3] memory extremes = [int256(-129), int256(32_767), int256(-32_768)];
        vm.prank(requester);
        uint256 id = coordinator.requestInference(
            modelId,
            1,
            _ints(extremes[0], extremes[1], extremes[2]),
            _offer(0, uint64(block.timestamp) + TTL)
        );
        Vm.Log[] memory logs = vm.getRecordedLogs();
        vm.recordLogs();
        _absorb(logs);
        bool seen;
        for (uint256 i = 0; i < logs.length; ++i) {
            if (logs[i].topics[0] != IInferenceCoordinator.InferenceRequested.selector) continue;
            (, uint8 width, bytes memory packed) = abi.decode(
                logs[i].data,
                (IInferenceCoordinator.Terms, uint8, bytes)
            );
            assertEq(uint256(logs[i].topics[1]), id, "the request");
            assertEq(uint256(width), 2, "two bytes hold -129, 32767 and -32768");
            assertEq(packed, hex"ff7f7fff8000", "big-endian two's complement");
            seen = true;
        }
        assertTrue(seen, "InferenceRequested");
    }

    /// @dev The packed entry point makes the same request as the unpacked one (same terms, so the same id and
    ///      commitment) and logs the bytes it was given, at the width it was given.
    function test_requestInferencePacked_makesTheSameRequestAsTheUnpackedForm() public {
        uint64 deadline = uint64(block.timestamp) + TTL;
        IInferenceCoordinator.Terms memory terms = _expectedTerms(FEE, 123_456, deadline);
        uint256 expectedId = uint256(keccak256(abi.encode(terms)));
        vm.expectEmit(true, true, true, true, address(coordinator));
        // (1, -2, 3) at two bytes each: not the narrowest width, logged as given.
        emit IInferenceCoordinator.InferenceRequested(
            expectedId,
            modelId,
            requester,
            terms,
            2,
            hex"0001fffe0003"
        );
        vm.prank(requester);
        uint256 id = coordinator.requestInferencePacked{value: FEE}(
            modelId,
            1,
            2,
            hex"0001fffe0003",
            _offer(123_456, deadline)
        );
        _sync();
        assertEq(id, expectedId, "the id of the same terms");
        assertEq(_t(id).inputCommitment, coordinator.computeInputCommitment(_input()), "the same commitment");
        assertEq(uint256(_status(id)), uint256(IInferenceCoordinator.RequestStatus.Open), "open");
        _lock(prover, id);
        _fulfil(id);
        assertEq(uint256(_status(id)), uint256(IInferenceCoordinator.RequestStatus.Fulfilled), "fulfilled");
    }

    /// @dev Every width from 1 to 32 reads back the same elements, negative ones sign-extended.
    function testFuzz_requestInferencePacked_commitsTheUnpackedElements(int64 a, int64 b, int64 c) public {
        int256[] memory xs = _ints(a, b, c);
        for (uint8 width = 8; width <= 32; width += 8) {
            bytes memory packed;
            for (uint256 i = 0; i < 3; ++i) {
                bytes32 word = bytes32(uint256(xs[i]) << (256 - 8 * uint256(width)));
                for (uint256 j = 0; j < width; ++j) packed = bytes.concat(packed, word[j]);
            }
            vm.prank(requester);
            uint256 id = coordinator.requestInferencePacked(
                modelId,
                1,
                width,
                packed,
                _offer(0, uint64(block.timestamp) + TTL + width)
            );
            _sync();
            assertEq(
                _t(id).inputCommitment,
                coordinator.computeInputCommitment(xs),
                "the elements' commitment"
            );
        }
    }

    function test_requestInferencePacked_rejectsAWidthOutside1To32OrAPartialElement() public {
        IInferenceCoordinator.Offer memory offer = _offer(0, uint64(block.timestamp) + TTL);
        vm.startPrank(requester);
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceCoordinator.CoordinatorInputWidthInvalid.selector,
                uint8(0),
                uint256(3)
            )
        );
        coordinator.requestInferencePacked(modelId, 1, 0, hex"010203", offer);
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceCoordinator.CoordinatorInputWidthInvalid.selector,
                uint8(33),
                uint256(99)
            )
        );
        coordinator.requestInferencePacked(modelId, 1, 33, new bytes(99), offer);
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceCoordinator.CoordinatorInputWidthInvalid.selector,
                uint8(2),
                uint256(5)
            )
        );
        coordinator.requestInferencePacked(modelId, 1, 2, hex"0001fffe00", offer);
        // A whole number of elements, but not the version's input count.
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceCoordinator.CoordinatorInputLengthMismatch.selector,
                modelId,
                uint32(1),
                uint256(3),
                uint256(2)
            )
        );
        coordinator.requestInferencePacked(modelId, 1, 2, hex"0001fffe", offer);
        vm.stopPrank();
    }

    /// @dev At width 32 an element can lie outside the field's signed range, as in the unpacked form.
    function test_requestInferencePacked_rejectsAnElementWithoutAFieldEncoding() public {
        int256 tooBig = FieldElement.MAX_INT + 1;
        bytes memory packed = bytes.concat(
            bytes32(uint256(1)),
            bytes32(uint256(tooBig)),
            bytes32(uint256(3))
        );
        vm.expectRevert(abi.encodeWithSelector(FieldElement.FieldElementIntOutOfRange.selector, tooBig));
        vm.prank(requester);
        coordinator.requestInferencePacked(modelId, 1, 32, packed, _offer(0, uint64(block.timestamp) + TTL));
    }

    function test_requestInference_givesDistinctTermsDistinctIds() public {
        uint256[] memory ids = new uint256[](5);
        for (uint256 i = 1; i <= 5; ++i) {
            ids[i - 1] = _requestAs(requester, i, 0);
            assertEq(ids[i - 1], uint256(keccak256(abi.encode(_t(ids[i - 1])))), "the hash of its terms");
            assertEq(_t(ids[i - 1]).maxPrice, i, "its own escrow");
            for (uint256 j = 0; j + 1 < i; ++j) assertTrue(ids[j] != ids[i - 1], "distinct");
        }
        assertEq(address(coordinator).balance, 15, "all fees escrowed");
    }

    /// @dev The same requester asking the same thing twice in one block: the second id is the first hashed again,
    ///      and each request is its own, fulfilled or refunded independently.
    function test_requestInference_rehashesTheIdOfTheSameTermsInTheSameBlock() public {
        uint256 a = _requestOpen(requester, FEE, 0);
        uint256 b = _requestOpen(requester, FEE, 0);
        assertEq(keccak256(abi.encode(_t(a))), keccak256(abi.encode(_t(b))), "the same terms");
        assertEq(a, uint256(keccak256(abi.encode(_t(a)))), "the first: the hash of the terms");
        assertEq(b, uint256(keccak256(abi.encode(a))), "the second: the first id hashed again");
        uint256 c = _requestOpen(requester, FEE, 0);
        assertEq(c, uint256(keccak256(abi.encode(b))), "the third: hashed once more");

        _fulfilOpen(a);
        assertEq(uint256(_status(a)), uint256(IInferenceCoordinator.RequestStatus.Fulfilled), "a fulfilled");
        assertEq(uint256(_status(b)), uint256(IInferenceCoordinator.RequestStatus.Open), "b untouched");
        _lock(prover, b);
        _fulfil(b);
        assertEq(uint256(_status(b)), uint256(IInferenceCoordinator.RequestStatus.Fulfilled), "b fulfilled");
        assertTrue(coordinator.checkReceipt(a, _receipt(a)), "a's receipt");
        assertTrue(coordinator.checkReceipt(b, _receipt(b)), "b's receipt");

        vm.warp(uint256(_t(c).deadline) + 1);
        _refund(c);
        assertEq(uint256(_status(c)), uint256(IInferenceCoordinator.RequestStatus.Refunded), "c refunded");
        assertEq(coordinator.credits(prover), 2 * FEE, "two fees");
        assertEq(coordinator.credits(requester), FEE, "one refund");
        assertEq(address(coordinator).balance, 3 * FEE, "all accounted for");
    }

    function test_requestInference_acceptsAZeroFee() public {
        uint256 id = _requestAs(requester, 0, 0);
        assertEq(_t(id).maxPrice, 0, "zero fee");
    }

    function test_requestInference_resolvesVersionZeroToTheLatestActiveVersion() public {
        _addVersion(alice, modelId, _params(_defaultLayout(3, 2), 2));
        _addVersion(alice, modelId, _params(_defaultLayout(3, 2), 3));
        vm.warp(block.timestamp + LATEST_DELAY);
        vm.prank(alice);
        registry.deprecateVersion(modelId, 3);

        vm.prank(requester);
        uint256 id = coordinator.requestInference(
            modelId,
            0,
            _input(),
            _offer(0, uint64(block.timestamp) + TTL)
        );
        _sync();
        assertEq(uint256(_t(id).version), 2, "latest active version, stored resolved");

        // Later registry changes do not move an existing request.
        vm.prank(alice);
        registry.reactivateVersion(modelId, 3);
        assertEq(uint256(_t(id).version), 2, "still version 2");
    }

    /// @dev "Latest" moves only after the registry's delay: a version just added cannot take over version-0
    ///      requests at once (an owner cannot slip a new circuit under a consumer that opted in to "latest").
    function test_requestInference_resolvesVersionZeroOnlyToVersionsPastTheLatestDelay() public {
        uint32 v2 = _addVersion(alice, modelId, _params(_defaultLayout(3, 2), 2));
        vm.prank(requester);
        uint256 early = coordinator.requestInference(
            modelId,
            0,
            _input(),
            _offer(0, uint64(block.timestamp) + TTL)
        );
        _sync();
        assertEq(uint256(_t(early).version), 1, "version 2 is too new to be latest");
        vm.warp(block.timestamp + LATEST_DELAY);
        vm.prank(requester);
        uint256 late = coordinator.requestInference(
            modelId,
            0,
            _input(),
            _offer(0, uint64(block.timestamp) + TTL)
        );
        _sync();
        assertEq(uint256(_t(late).version), uint256(v2), "version 2 after the delay");
    }

    function test_requestInference_rejectsARevokedVersion() public {
        vm.prank(alice);
        registry.revokeVersion(modelId, 1);
        vm.expectRevert(
            abi.encodeWithSelector(IInferenceCoordinator.CoordinatorVersionRevoked.selector, modelId, 1)
        );
        vm.prank(requester);
        coordinator.requestInference(modelId, 1, _input(), _offer(0, uint64(block.timestamp) + TTL));
    }

    function test_requestInference_rejectsAVersionOfAStoppedSuiteVerifier() public {
        vm.prank(admin);
        registry.stopSuiteVerifier(1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceCoordinator.CoordinatorSuiteVerifierStopped.selector,
                modelId,
                1,
                address(digestVerifier)
            )
        );
        vm.prank(requester);
        coordinator.requestInference(modelId, 1, _input(), _offer(0, uint64(block.timestamp) + TTL));
    }

    function test_requestInference_rejectsVersionZeroWhenNoVersionIsActive() public {
        vm.prank(alice);
        registry.deprecateVersion(modelId, 1);
        vm.expectRevert(
            abi.encodeWithSelector(IInferenceCoordinator.CoordinatorNoActiveVersion.selector, modelId, 1)
        );
        vm.prank(requester);
        coordinator.requestInference(modelId, 0, _input(), _offer(0, uint64(block.timestamp) + TTL));
    }

    function testFuzz_requestInference_rejectsAnUnknownModel(bytes32 unknown, bool latest) public {
        vm.assume(unknown != modelId);
        vm.expectRevert(
            abi.encodeWithSelector(IInferenceCoordinator.CoordinatorModelUnknown.selector, unknown)
        );
        vm.prank(requester);
        coordinator.requestInference(
            unknown,
            latest ? 0 : 1,
            _input(),
            _offer(0, uint64(block.timestamp) + TTL)
        );
    }

    function testFuzz_requestInference_rejectsAnUnknownVersion(uint32 version) public {
        vm.assume(version > 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceCoordinator.CoordinatorVersionUnknown.selector,
                modelId,
                version,
                1
            )
        );
        vm.prank(requester);
        coordinator.requestInference(modelId, version, _input(), _offer(0, uint64(block.timestamp) + TTL));
    }

    function test_requestInference_rejectsADeprecatedVersion() public {
        vm.prank(alice);
        registry.deprecateVersion(modelId, 1);
        vm.expectRevert(
            abi.encodeWithSelector(IInferenceCoordinator.CoordinatorVersionDeprecated.selector, modelId, 1)
        );
        vm.prank(requester);
        coordinator.requestInference(modelId, 1, _input(), _offer(0, uint64(block.timestamp) + TTL));
    }

    function testFuzz_requestInference_rejectsAnInputOfTheWrongLength(uint8 length) public {
        vm.assume(length != 3);
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceCoordinator.CoordinatorInputLengthMismatch.selector,
                modelId,
                1,
                3,
                length
            )
        );
        vm.prank(requester);
        coordinator.requestInference(
            modelId,
            1,
            new int256[](length),
            _offer(0, uint64(block.timestamp) + TTL)
        );
    }

    function testFuzz_requestInference_rejectsAnElementWithoutFieldEncoding(uint8 index, bool high) public {
        index = uint8(bound(index, 0, 2));
        int256[] memory input = _input();
        int256 bad = high ? FieldElement.MAX_INT + 1 : FieldElement.MIN_INT - 1;
        input[index] = bad;
        vm.expectRevert(abi.encodeWithSelector(FieldElement.FieldElementIntOutOfRange.selector, bad));
        vm.prank(requester);
        coordinator.requestInference(modelId, 1, input, _offer(0, uint64(block.timestamp) + TTL));
    }

    function testFuzz_requestInference_rejectsADeadlineNotInTheFuture(uint64 deadline) public {
        vm.warp(1_700_000_000);
        deadline = uint64(bound(deadline, 0, block.timestamp));
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceCoordinator.CoordinatorDeadlineNotInFuture.selector,
                deadline,
                block.timestamp
            )
        );
        vm.prank(requester);
        coordinator.requestInference(modelId, 1, _input(), _offer(0, deadline));
    }

    function testFuzz_requestInference_rejectsACallbackGasLimitAboveTheCap(uint32 limit) public {
        limit = uint32(bound(limit, 5_000_001, type(uint32).max));
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceCoordinator.CoordinatorCallbackGasLimitTooHigh.selector,
                limit,
                5_000_000
            )
        );
        vm.prank(requester);
        coordinator.requestInference(modelId, 1, _input(), _offer(limit, uint64(block.timestamp) + TTL));
    }

    function test_requestInference_acceptsTheCallbackGasLimitCap() public {
        uint256 id = _requestAs(requester, FEE, 5_000_000);
        assertEq(uint256(_t(id).callbackGasLimit), 5_000_000, "cap accepted");
    }

    function testFuzz_requestInference_rejectsADeadlineMoreThan30DaysAhead(uint64 deadline) public {
        uint256 maxDeadline = block.timestamp + 30 days;
        deadline = uint64(bound(deadline, maxDeadline + 1, type(uint64).max));
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceCoordinator.CoordinatorDeadlineTooFar.selector,
                deadline,
                maxDeadline
            )
        );
        vm.prank(requester);
        coordinator.requestInference(modelId, 1, _input(), _offer(0, deadline));
    }

    function test_requestInference_acceptsADeadline30DaysAhead() public {
        uint64 deadline = uint64(block.timestamp + 30 days);
        vm.prank(requester);
        uint256 id = coordinator.requestInference(modelId, 1, _input(), _offer(0, deadline));
        _sync();
        assertEq(uint256(_t(id).deadline), uint256(deadline), "deadline");
    }

    function test_requestInference_rejectsAFeeThatDoesNotFitTheStoredForm() public {
        uint256 fee = uint256(type(uint88).max) + 1;
        vm.deal(requester, fee);
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceCoordinator.CoordinatorFeeTooLarge.selector,
                fee,
                uint256(type(uint88).max)
            )
        );
        vm.prank(requester);
        coordinator.requestInference{value: fee}(
            modelId,
            1,
            _input(),
            _offer(0, uint64(block.timestamp) + TTL)
        );
    }

    // ---------------------------------------------------------------------------------------------------------
    // fulfill
    // ---------------------------------------------------------------------------------------------------------

    function test_fulfill_storesTheReceiptCreditsTheFeeAndEmitsTheOutputs() public {
        uint256 id = _request();
        uint256[] memory instances = _instances(_input(), _output());
        bytes memory proof = _proof(instances);
        vm.warp(block.timestamp + 10);

        (uint8 width, bytes memory packed) = _packOutputs(_output());
        assertEq(uint256(width), 1, "40 and -50 fit one byte each");
        vm.expectEmit(true, true, true, true, address(coordinator));
        emit IInferenceCoordinator.InferenceFulfilled(id, prover, keccak256(proof), width, packed);
        vm.prank(prover);
        coordinator.fulfill(id, _t(id), _h(id), proof, instances);
        _sync();

        IInferenceCoordinator.Receipt memory r = _receipt(id);
        assertEq(r.modelId, modelId, "model");
        assertEq(uint256(r.version), 1, "version");
        assertEq(r.inputCommitment, _commit(_input()), "commitment");
        assertEq(r.outputsHash, keccak256(abi.encode(_output())), "outputs hash");
        assertEq(r.proofHash, keccak256(proof), "proof hash");
        assertEq(r.fulfiller, prover, "fulfiller");
        assertEq(uint256(r.fulfilledAt), block.timestamp, "fulfilled at");
        assertEq(
            uint256(r.callback),
            uint256(IInferenceCoordinator.CallbackStatus.None),
            "an EOA gets no call"
        );
        assertEq(uint256(_status(id)), uint256(IInferenceCoordinator.RequestStatus.Fulfilled), "status");
        assertEq(coordinator.credits(prover), FEE, "fee credited");
        assertEq(address(coordinator).balance, FEE, "fee still held until withdrawn");
    }

    function test_fulfill_callsTheConsumerBackWithExactlyTheOutputs() public {
        RecordingConsumer consumer = new RecordingConsumer(coordinator);
        vm.prank(requester);
        uint256 id = consumer.request{value: FEE}(
            modelId,
            1,
            _input(),
            200_000,
            uint64(block.timestamp) + TTL
        );
        _sync();
        _fulfilOpen(id);

        assertEq(consumer.calls(), 1, "called once");
        assertEq(consumer.lastRequestId(), id, "request id");
        assertEq(consumer.lastModelId(), modelId, "model");
        assertEq(uint256(consumer.lastVersion()), 1, "version");
        _assertOutputs(consumer.lastOutputs(), _output());
        assertEq(
            uint256(_receipt(id).callback),
            uint256(IInferenceCoordinator.CallbackStatus.Succeeded),
            "callback recorded"
        );
        assertEq(coordinator.credits(prover), FEE, "fee credited");
    }

    function test_fulfill_makesNoCallbackForAZeroCallbackGasLimit() public {
        RecordingConsumer consumer = new RecordingConsumer(coordinator);
        uint256 id = consumer.request(modelId, 1, _input(), 0, uint64(block.timestamp) + TTL);
        _sync();
        _fulfilOpen(id);
        assertEq(consumer.calls(), 0, "not called");
        assertEq(
            uint256(_receipt(id).callback),
            uint256(IInferenceCoordinator.CallbackStatus.None),
            "no callback"
        );
    }

    function testFuzz_fulfill_byAnyoneWithinTheLockPaysTheLocker(address sender) public {
        vm.assume(sender != address(0) && sender != address(coordinator) && sender != prover);
        uint256 id = _request(); // locked by `prover`
        uint256[] memory instances = _instances(_input(), _output());
        vm.prank(sender);
        coordinator.fulfill(id, _t(id), _h(id), _proof(instances), instances);
        _sync();
        assertEq(_receipt(id).fulfiller, prover, "the locker is the one paid");
        assertEq(coordinator.credits(prover), FEE, "fee to the locker");
        assertEq(coordinator.credits(sender), 0, "nothing to the sender");
    }

    function test_fulfill_rejectsASecondFulfilment() public {
        uint256 id = _request();
        _fulfil(id);
        uint256[] memory instances = _instances(_input(), _output());
        bytes memory proof = _proof(instances);
        vm.expectRevert(
            abi.encodeWithSelector(IInferenceCoordinator.CoordinatorRequestAlreadyFulfilled.selector, id)
        );
        vm.prank(bob);
        coordinator.fulfill(id, _t(id), _h(id), proof, instances);
        assertEq(coordinator.credits(prover), FEE, "fee credited once");
        assertEq(coordinator.credits(bob), 0, "nothing for the late prover");
    }

    function testFuzz_fulfill_rejectsAnUnknownRequest(uint256 id) public {
        uint256 known = _request();
        vm.assume(id != known);
        IInferenceCoordinator.Terms memory terms = _t(known); // real terms, another id
        IInferenceCoordinator.LockState memory held = _h(known);
        vm.expectRevert(abi.encodeWithSelector(IInferenceCoordinator.CoordinatorRequestUnknown.selector, id));
        coordinator.fulfill(id, terms, held, "", new uint256[](0));
    }

    function test_fulfill_acceptsUpToTheDeadlineAndRejectsAfterIt() public {
        uint256 atDeadline = _request();
        uint256 afterDeadline = _request();
        uint64 deadline = _t(atDeadline).deadline;

        vm.warp(deadline);
        _fulfilOpen(atDeadline); // the lock lapsed at half the time: an open fill, at the last second

        vm.warp(uint256(deadline) + 1);
        uint256[] memory instances = _instances(_input(), _output());
        bytes memory proof = _proof(instances);
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceCoordinator.CoordinatorRequestExpired.selector,
                afterDeadline,
                deadline
            )
        );
        vm.prank(prover);
        coordinator.fulfill(afterDeadline, _t(afterDeadline), _h(afterDeadline), proof, instances);
    }

    function testFuzz_fulfill_rejectsAProofOfAnotherInput(int64[3] memory raw) public {
        int256[] memory other = _ints(raw[0], raw[1], raw[2]);
        vm.assume(_commit(other) != _commit(_input()));
        uint256 id = _request();
        uint256[] memory instances = _instances(other, _output());
        bytes memory proof = _proof(instances); // a valid proof, of the wrong input
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceVerifier.VerifierInputCommitmentMismatch.selector,
                _commit(_input()),
                _commit(other)
            )
        );
        vm.prank(prover);
        coordinator.fulfill(id, _t(id), _h(id), proof, instances);
        assertEq(uint256(_status(id)), uint256(IInferenceCoordinator.RequestStatus.Locked), "still locked");
    }

    function test_fulfill_rejectsAForgedProof() public {
        uint256 id = _request();
        uint256[] memory instances = _instances(_input(), _output());
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceVerifier.VerifierProofRejected.selector,
                modelId,
                1,
                address(digestVerifier)
            )
        );
        vm.prank(prover);
        coordinator.fulfill(id, _t(id), _h(id), hex"00", instances);
    }

    /// @dev Deprecation stops new requests only: an owner cannot veto pending requests whose outputs it dislikes.
    function test_fulfill_acceptsAVersionDeprecatedAfterTheRequest() public {
        uint256 id = _request();
        vm.prank(alice);
        registry.deprecateVersion(modelId, 1);
        _fulfil(id);
        assertEq(uint256(_status(id)), uint256(IInferenceCoordinator.RequestStatus.Fulfilled), "fulfilled");
    }

    function test_fulfill_rejectsAVersionRevokedAfterTheRequest() public {
        uint256 id = _request();
        vm.prank(alice);
        registry.revokeVersion(modelId, 1);
        uint256[] memory instances = _instances(_input(), _output());
        bytes memory proof = _proof(instances);
        vm.expectRevert(
            abi.encodeWithSelector(IInferenceVerifier.VerifierVersionRevoked.selector, modelId, 1)
        );
        vm.prank(prover);
        coordinator.fulfill(id, _t(id), _h(id), proof, instances);
    }

    function test_fulfill_rejectsAVersionWhoseSuiteVerifierWasStopped() public {
        uint256 id = _request();
        vm.prank(admin);
        registry.stopSuiteVerifier(1);
        uint256[] memory instances = _instances(_input(), _output());
        bytes memory proof = _proof(instances);
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceVerifier.VerifierSuiteVerifierStopped.selector,
                modelId,
                1,
                address(digestVerifier)
            )
        );
        vm.prank(prover);
        coordinator.fulfill(id, _t(id), _h(id), proof, instances);
    }

    /// @dev A newer version of the model never applies to a request pinned to version 1, even one registered
    ///      right after the request and "latest" by now.
    function test_fulfill_checksThePinnedVersionNotANewerOne() public {
        vm.prank(requester);
        uint256 id = coordinator.requestInference(
            modelId,
            1,
            _input(),
            _offer(0, uint64(block.timestamp) + 2 * LATEST_DELAY)
        );
        _sync();
        _addVersion(alice, modelId, _params(_defaultLayout(3, 2), 2));
        vm.warp(block.timestamp + LATEST_DELAY);
        vm.startPrank(alice);
        registry.deprecateVersion(modelId, 1);
        vm.stopPrank();
        assertEq(uint256(registry.latestActiveVersion(modelId)), 2, "version 2 is latest");
        _fulfilOpen(id);
        IInferenceCoordinator.Receipt memory r = _receipt(id);
        assertEq(uint256(r.version), 1, "fulfilled as version 1");
    }

    /// @dev A verifier that returns false, reverts, or returns nothing rejects: the request stays open.
    function test_fulfill_rejectsWhateverAFaultyVerifierAnswers() public {
        MockHalo2Verifier[3] memory faulty = [falseVerifier, revertVerifier, silentVerifier];
        uint256[] memory instances = _instances(_input(), _output());
        bytes memory proof = _proof(instances);
        for (uint256 i = 0; i < faulty.length; ++i) {
            (InferenceCoordinator c, bytes32 id_) = _suiteWith(faulty[i]);
            vm.prank(requester);
            uint256 id = c.requestInference(id_, 1, _input(), _offer(0, uint64(block.timestamp) + TTL));
            _sync();
            _lockAt(c, prover, id);
            vm.expectRevert(
                abi.encodeWithSelector(
                    IInferenceVerifier.VerifierProofRejected.selector,
                    id_,
                    1,
                    address(faulty[i])
                )
            );
            vm.prank(prover);
            c.fulfill(id, _tAt(c, id), _hAt(c, id), proof, instances);
            assertEq(
                uint256(_statusAt(c, id)),
                uint256(IInferenceCoordinator.RequestStatus.Locked),
                "still locked"
            );
        }
    }

    /// @dev The suite verifier accepted the proof for another VKA than the version's: named, not accepted.
    function test_fulfill_rejectsAProofCheckedAgainstAnotherVka() public {
        (InferenceCoordinator c, bytes32 id_) = _suiteWith(wrongDigestVerifier);
        vm.prank(requester);
        uint256 id = c.requestInference(id_, 1, _input(), _offer(0, uint64(block.timestamp) + TTL));
        _sync();
        _lockAt(c, prover, id);
        uint256[] memory instances = _instances(_input(), _output());
        bytes32 digest = keccak256(abi.encodePacked(_vka(1, false)));
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceVerifier.VerifierVkaDigestMismatch.selector,
                id_,
                1,
                digest,
                keccak256(abi.encode(digest))
            )
        );
        vm.prank(prover);
        c.fulfill(id, _tAt(c, id), _hAt(c, id), _proof(instances), instances);
    }

    function testFuzz_fulfill_rejectsInstancesOfAnotherLength(uint8 count) public {
        vm.assume(count != 5);
        uint256 id = _request();
        uint256[] memory instances = new uint256[](count);
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceVerifier.VerifierInstanceCountMismatch.selector,
                5,
                uint256(count)
            )
        );
        vm.prank(prover);
        coordinator.fulfill(id, _t(id), _h(id), _proof(instances), instances);
    }

    /// @dev The mock accepts any instances its digest proof names; an EZKL verifier would reject an unreduced
    ///      instance itself, and the decoding refuses it regardless.
    function test_fulfill_rejectsAnOutputThatIsNotAFieldElement() public {
        uint256 id = _request();
        uint256[] memory instances = _instances(_input(), _output());
        instances[4] = FieldElement.MODULUS + 7;
        vm.expectRevert(
            abi.encodeWithSelector(FieldElement.FieldElementOutOfRange.selector, FieldElement.MODULUS + 7)
        );
        vm.prank(prover);
        coordinator.fulfill(id, _t(id), _h(id), _proof(instances), instances);
    }

    /// @dev The coordinator packs a request into narrow fields and overlays the receipt on part of it: every
    ///      field must come back exactly, at the extremes of each width, through `request`, `fulfill` (which reads
    ///      the deadline, fee and layout back), `receipt` and `credits`; and a wide layout must not spill into its
    ///      neighbours.
    function testFuzz_requestAndFulfil_roundTripEveryStoredField(
        uint256 fee,
        uint32 callbackGasLimit,
        uint64 ttl,
        uint32 padding,
        uint64 warpBy
    ) public {
        fee = bound(fee, 0, type(uint88).max);
        callbackGasLimit = uint32(bound(callbackGasLimit, 0, 5_000_000));
        uint64 deadline = uint64(bound(ttl, block.timestamp + 1, block.timestamp + 30 days));
        padding = uint32(bound(padding, 1, 50));
        (uint256 id, uint32 version) = _requestPadded(fee, callbackGasLimit, deadline, padding);

        IInferenceCoordinator.Terms memory r = _t(id);
        assertEq(r.requester, requester, "requester");
        assertEq(r.maxPrice, fee, "fee");
        assertEq(_h(id).price, fee, "the price locked");
        assertEq(uint256(r.version), uint256(version), "version");
        assertEq(uint256(r.deadline), uint256(deadline), "deadline");
        assertEq(uint256(r.callbackGasLimit), uint256(callbackGasLimit), "callback gas limit");
        assertEq(r.inputCommitment, _commit(_input()), "commitment");

        uint256 fulfilAt = bound(warpBy, block.timestamp, _t(id).lockDeadline);
        vm.warp(fulfilAt);
        uint256[] memory instances = _paddedInstances(padding);
        bytes memory proof = _proof(instances);
        {
            (uint8 width, bytes memory packed) = _packOutputs(_output());
            vm.expectEmit(true, true, true, true, address(coordinator));
            emit IInferenceCoordinator.InferenceFulfilled(id, prover, keccak256(proof), width, packed);
        }
        vm.prank(prover);
        coordinator.fulfill(id, _t(id), _h(id), proof, instances);
        _sync();

        IInferenceCoordinator.Receipt memory receipt = _receipt(id);
        assertEq(receipt.modelId, modelId, "receipt model");
        assertEq(uint256(receipt.version), uint256(version), "receipt version");
        assertEq(receipt.inputCommitment, _commit(_input()), "receipt commitment");
        assertEq(receipt.outputsHash, keccak256(abi.encode(_output())), "outputs hash");
        assertEq(receipt.proofHash, keccak256(proof), "proof hash");
        assertEq(receipt.fulfiller, prover, "fulfiller");
        assertEq(uint256(receipt.fulfilledAt), fulfilAt, "fulfilled at");
        assertEq(uint256(receipt.callback), uint256(IInferenceCoordinator.CallbackStatus.None), "an EOA");
        assertEq(coordinator.credits(prover), fee, "fee credited");
        (IInferenceCoordinator.RequestStatus status, bytes32 stateHash) = coordinator.requestState(id);
        assertEq(uint256(status), uint256(IInferenceCoordinator.RequestStatus.Fulfilled), "status");
        assertEq(stateHash, coordinator.receiptHash(receipt), "the receipt's hash");
    }

    /// @dev Requests `_input()` from a new version whose layout has `padding` extra instances in front of the
    ///      inputs, so that no offset is 0.
    function _requestPadded(
        uint256 fee,
        uint32 callbackGasLimit,
        uint64 deadline,
        uint32 padding
    ) internal returns (uint256 id, uint32 version) {
        IModelRegistry.InstanceLayout memory layout = IModelRegistry.InstanceLayout({
            instanceCount: padding + 5,
            inputOffset: padding,
            inputCount: 3,
            outputOffset: padding + 3,
            outputCount: 2
        });
        version = _addVersion(alice, modelId, _params(layout, 77));
        vm.deal(requester, fee);
        vm.prank(requester);
        id = coordinator.requestInference{value: fee}(
            modelId,
            version,
            _input(),
            _offer(callbackGasLimit, deadline)
        );
        _sync();
        _lock(prover, id);
    }

    /// @dev Instances of `_input()` -> `_output()` behind `padding` instances that are never read as data.
    function _paddedInstances(uint32 padding) internal pure returns (uint256[] memory instances) {
        instances = new uint256[](padding + 5);
        for (uint256 i = 0; i < padding; ++i) instances[i] = FieldElement.MODULUS - 1 - i;
        uint256[] memory io = _instances(_input(), _output());
        for (uint256 i = 0; i < 5; ++i) instances[padding + i] = io[i];
    }

    /// @dev Once fulfilled, the request's word holds the hash of its receipt, callback status included.
    function test_requestState_holdsTheReceiptHashAfterFulfilment() public {
        RecordingConsumer consumer = new RecordingConsumer(coordinator);
        vm.prank(requester);
        uint256 id = consumer.request{value: FEE}(
            modelId,
            1,
            _input(),
            200_000,
            uint64(block.timestamp) + TTL
        );
        _sync();
        (IInferenceCoordinator.RequestStatus status, bytes32 stateHash) = coordinator.requestState(id);
        assertEq(stateHash, coordinator.hashTerms(_t(id)), "open: the terms' hash");
        _fulfilOpen(id);
        IInferenceCoordinator.Receipt memory r = _receipt(id);
        (status, stateHash) = coordinator.requestState(id);
        assertEq(uint256(status), uint256(IInferenceCoordinator.RequestStatus.Fulfilled), "status");
        assertEq(stateHash, coordinator.receiptHash(r), "the receipt's hash");
        assertEq(r.fulfiller, prover, "fulfiller");
        assertEq(uint256(r.callback), uint256(IInferenceCoordinator.CallbackStatus.Succeeded), "called back");
    }

    /// @dev `checkReceipt` is true for exactly the stored receipt: any one field changed, or a request that is not
    ///      fulfilled, gives false.
    function test_checkReceipt_isTrueForExactlyTheStoredReceipt() public {
        uint256 id = _request();
        vm.warp(block.timestamp + 7);
        _fulfil(id);
        IInferenceCoordinator.Receipt memory r = _receipt(id);
        assertTrue(coordinator.checkReceipt(id, r), "the stored receipt");
        for (uint256 field = 0; field < 8; ++field) {
            IInferenceCoordinator.Receipt memory other = _receipt(id);
            if (field == 0) other.modelId = bytes32(uint256(other.modelId) ^ 1);
            else if (field == 1) other.version ^= 1;
            else if (field == 2) other.inputCommitment = bytes32(uint256(other.inputCommitment) ^ 1);
            else if (field == 3) other.outputsHash = bytes32(uint256(other.outputsHash) ^ 1);
            else if (field == 4) other.proofHash = bytes32(uint256(other.proofHash) ^ 1);
            else if (field == 5) other.fulfiller = bob;
            else if (field == 6) other.fulfilledAt -= 1;
            else other.callback = IInferenceCoordinator.CallbackStatus.Succeeded;
            assertFalse(coordinator.checkReceipt(id, other), "one field changed");
        }
        assertFalse(coordinator.checkReceipt(id ^ 1, r), "another request");
    }

    function test_checkReceipt_isFalseUnlessFulfilled() public {
        IInferenceCoordinator.Receipt memory nothing;
        assertFalse(coordinator.checkReceipt(1, nothing), "no such request");
        (IInferenceCoordinator.RequestStatus status, bytes32 stateHash) = coordinator.requestState(1);
        assertEq(uint256(status), uint256(IInferenceCoordinator.RequestStatus.None), "none");
        assertEq(stateHash, bytes32(0), "no hash");
        uint256 id = _request();
        IInferenceCoordinator.Terms memory t = _t(id);
        IInferenceCoordinator.Receipt memory wouldBe = IInferenceCoordinator.Receipt({
            modelId: t.modelId,
            version: t.version,
            inputCommitment: t.inputCommitment,
            outputsHash: keccak256(abi.encode(_output())),
            proofHash: keccak256(_proof(_instances(_input(), _output()))),
            fulfiller: prover,
            fulfilledAt: uint64(block.timestamp),
            callback: IInferenceCoordinator.CallbackStatus.None
        });
        assertFalse(coordinator.checkReceipt(id, wouldBe), "locked, not fulfilled");
        (status, stateHash) = coordinator.requestState(id);
        assertEq(uint256(status), uint256(IInferenceCoordinator.RequestStatus.Locked), "locked");
        assertEq(stateHash, coordinator.hashLocked(t, _h(id)), "the lock's hash");
        _fulfil(id);
        assertTrue(coordinator.checkReceipt(id, wouldBe), "the receipt once fulfilled");
    }

    // ---------------------------------------------------------------------------------------------------------
    // refund
    // ---------------------------------------------------------------------------------------------------------

    /// @dev A revoked version's open request cannot be fulfilled any more, so it is refundable before its deadline.
    function test_refund_refundsARevokedVersionsRequestAtOnce() public {
        uint256 id = _request();
        vm.prank(alice);
        registry.revokeVersion(modelId, 1);
        coordinator.refund(id, _t(id), _h(id));
        assertEq(uint256(_status(id)), uint256(IInferenceCoordinator.RequestStatus.Refunded), "refunded");
        assertEq(coordinator.credits(requester), FEE, "fee credited");
    }

    function test_refund_refundsARequestOfAStoppedSuiteVerifierAtOnce() public {
        uint256 id = _request();
        vm.prank(admin);
        registry.stopSuiteVerifier(1);
        coordinator.refund(id, _t(id), _h(id));
        assertEq(uint256(_status(id)), uint256(IInferenceCoordinator.RequestStatus.Refunded), "refunded");
    }

    /// @dev Deprecation leaves the request fulfillable, so it does not make it refundable early.
    function test_refund_isRefusedForADeprecatedVersionUpToTheDeadline() public {
        uint256 id = _request();
        vm.prank(alice);
        registry.deprecateVersion(modelId, 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceCoordinator.CoordinatorRequestNotExpired.selector,
                id,
                uint64(block.timestamp) + TTL
            )
        );
        coordinator.refund(id, _t(id), _h(id));
    }

    function test_refund_isRefusedUpToTheDeadline() public {
        uint256 id = _request();
        uint64 deadline = _t(id).deadline;
        vm.expectRevert(
            abi.encodeWithSelector(IInferenceCoordinator.CoordinatorRequestNotExpired.selector, id, deadline)
        );
        coordinator.refund(id, _t(id), _h(id));
        vm.warp(deadline);
        vm.expectRevert(
            abi.encodeWithSelector(IInferenceCoordinator.CoordinatorRequestNotExpired.selector, id, deadline)
        );
        coordinator.refund(id, _t(id), _h(id));
    }

    function testFuzz_refund_creditsTheRequesterAfterTheDeadline(address caller, uint32 late) public {
        uint256 id = _request();
        vm.warp(uint256(_t(id).deadline) + 1 + late);
        vm.expectEmit(true, true, true, true, address(coordinator));
        emit IInferenceCoordinator.InferenceRefunded(id, requester, FEE);
        vm.prank(caller); // anyone may trigger it; the credit goes to the requester
        coordinator.refund(id, _t(id), _h(id));

        assertEq(uint256(_status(id)), uint256(IInferenceCoordinator.RequestStatus.Refunded), "refunded");
        assertEq(coordinator.credits(requester), FEE, "credited to the requester");
        if (caller != requester) assertEq(coordinator.credits(caller), 0, "nothing for the caller");

        uint256 before = requester.balance;
        vm.prank(requester);
        assertEq(coordinator.withdraw(), FEE, "withdrawn");
        assertEq(requester.balance, before + FEE, "paid back");
    }

    function test_refund_closesTheRequestForGood() public {
        uint256 id = _request();
        vm.warp(uint256(_t(id).deadline) + 1);
        coordinator.refund(id, _t(id), _h(id));
        vm.expectRevert(
            abi.encodeWithSelector(IInferenceCoordinator.CoordinatorRequestAlreadyRefunded.selector, id)
        );
        coordinator.refund(id, _t(id), _h(id));
        vm.expectRevert(
            abi.encodeWithSelector(IInferenceCoordinator.CoordinatorRequestAlreadyRefunded.selector, id)
        );
        coordinator.fulfill(id, _t(id), _h(id), "", new uint256[](0));
        assertEq(coordinator.credits(requester), FEE, "credited once");
    }

    function test_refund_isRefusedForAFulfilledRequest() public {
        uint256 id = _request();
        _fulfil(id);
        vm.warp(uint256(_t(id).deadline) + 1);
        vm.expectRevert(
            abi.encodeWithSelector(IInferenceCoordinator.CoordinatorRequestAlreadyFulfilled.selector, id)
        );
        coordinator.refund(id, _t(id), _h(id));
    }

    function test_refund_ofAConsumersRequestCreditsTheConsumer() public {
        RecordingConsumer consumer = new RecordingConsumer(coordinator);
        vm.prank(requester);
        uint256 id = consumer.request{value: FEE}(
            modelId,
            1,
            _input(),
            100_000,
            uint64(block.timestamp) + TTL
        );
        _sync();
        vm.warp(uint256(_t(id).deadline) + 1);
        coordinator.refund(id, _t(id), _h(id));
        assertEq(coordinator.credits(address(consumer)), FEE, "credited to the consumer");
        assertEq(consumer.withdrawCredit(), FEE, "withdrawn");
        assertEq(address(consumer).balance, FEE, "consumer paid");
    }

    // ---------------------------------------------------------------------------------------------------------
    // withdraw / withdrawTo
    // ---------------------------------------------------------------------------------------------------------

    function test_withdraw_paysTheProverItsFees() public {
        _fulfil(_request());
        _fulfil(_request());
        uint256 before = prover.balance;
        vm.expectEmit(true, true, true, true, address(coordinator));
        emit IInferenceCoordinator.CreditWithdrawn(prover, prover, 2 * FEE);
        vm.prank(prover);
        assertEq(coordinator.withdraw(), 2 * FEE, "amount");
        assertEq(prover.balance, before + 2 * FEE, "paid");
        assertEq(coordinator.credits(prover), 0, "credit spent");
        assertEq(address(coordinator).balance, 0, "nothing left in escrow");
    }

    function test_withdraw_emptiesTheCreditAndLaterFeesCountFromZero() public {
        _fulfil(_request());
        vm.prank(prover);
        coordinator.withdraw();
        vm.expectRevert(
            abi.encodeWithSelector(IInferenceCoordinator.CoordinatorNothingToWithdraw.selector, prover)
        );
        vm.prank(prover);
        coordinator.withdraw();
        _fulfil(_request());
        assertEq(coordinator.credits(prover), FEE, "exactly the new fee");
        vm.prank(prover);
        coordinator.withdrawTo(payable(carol), FEE);
        assertEq(coordinator.credits(prover), 0, "empty again");
        assertEq(address(coordinator).balance, 0, "nothing held");
    }

    function test_withdraw_revertsWithNothingToWithdraw() public {
        vm.expectRevert(
            abi.encodeWithSelector(IInferenceCoordinator.CoordinatorNothingToWithdraw.selector, prover)
        );
        vm.prank(prover);
        coordinator.withdraw();
    }

    function testFuzz_withdrawTo_paysPartOfTheCreditElsewhere(uint256 amount) public {
        _fulfil(_request());
        amount = bound(amount, 1, FEE);
        vm.prank(prover);
        coordinator.withdrawTo(payable(carol), amount);
        assertEq(carol.balance, amount, "paid to carol");
        assertEq(coordinator.credits(prover), FEE - amount, "remainder kept");
    }

    function test_withdrawTo_rejectsBadAmountsAndRecipients() public {
        _fulfil(_request());
        vm.startPrank(prover);
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceCoordinator.CoordinatorWithdrawalExceedsCredit.selector,
                prover,
                FEE + 1,
                FEE
            )
        );
        coordinator.withdrawTo(payable(carol), FEE + 1);
        vm.expectRevert(
            abi.encodeWithSelector(IInferenceCoordinator.CoordinatorNothingToWithdraw.selector, prover)
        );
        coordinator.withdrawTo(payable(carol), 0);
        vm.expectRevert(
            abi.encodeWithSelector(IInferenceCoordinator.CoordinatorWithdrawalToZeroAddress.selector, prover)
        );
        coordinator.withdrawTo(payable(address(0)), 1);
        vm.stopPrank();
    }

    function test_withdrawTo_keepsTheCreditWhenTheRecipientRejectsEther() public {
        _fulfil(_request());
        address rejecter = address(registry); // no receive or fallback
        vm.expectRevert(
            abi.encodeWithSelector(IInferenceCoordinator.CoordinatorWithdrawalFailed.selector, rejecter, FEE)
        );
        vm.prank(prover);
        coordinator.withdrawTo(payable(rejecter), FEE);
        assertEq(coordinator.credits(prover), FEE, "credit kept");
    }

    // ---------------------------------------------------------------------------------------------------------
    // Pause and admin
    // ---------------------------------------------------------------------------------------------------------

    function testFuzz_setPaused_isGuardianOnly(address caller) public {
        vm.assume(caller != guardian);
        vm.expectRevert(
            abi.encodeWithSelector(IInferenceCoordinator.CoordinatorNotGuardian.selector, caller, guardian)
        );
        vm.prank(caller);
        coordinator.setPaused(true, true);
    }

    function test_setPaused_theOwnerCannotPauseEither() public {
        vm.expectRevert(
            abi.encodeWithSelector(IInferenceCoordinator.CoordinatorNotGuardian.selector, owner, guardian)
        );
        vm.prank(owner);
        coordinator.setPaused(true, false);
    }

    function test_pause_blocksRequestsAndFulfilmentsButNeverRefundsOrWithdrawals() public {
        uint256 fulfilled = _request();
        _fulfil(fulfilled);
        uint256 open = _request();

        vm.expectEmit(true, true, true, true, address(coordinator));
        emit IInferenceCoordinator.PauseUpdated(guardian, true, true);
        vm.prank(guardian);
        coordinator.setPaused(true, true);

        vm.expectRevert(
            abi.encodeWithSelector(IInferenceCoordinator.CoordinatorRequestsPaused.selector, guardian)
        );
        vm.prank(requester);
        coordinator.requestInference{value: FEE}(
            modelId,
            1,
            _input(),
            _offer(0, uint64(block.timestamp) + TTL)
        );

        uint256[] memory instances = _instances(_input(), _output());
        bytes memory proof = _proof(instances);
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceCoordinator.CoordinatorFulfilmentsPaused.selector,
                open,
                guardian
            )
        );
        vm.prank(prover);
        coordinator.fulfill(open, _t(open), _h(open), proof, instances);

        // Escrow always leaves: the prover withdraws, the open request expires and is refunded and withdrawn.
        vm.prank(prover);
        assertEq(coordinator.withdraw(), FEE, "prover withdraws while paused");
        vm.warp(uint256(_t(open).deadline) + 1);
        coordinator.refund(open, _t(open), _h(open));
        vm.prank(requester);
        assertEq(coordinator.withdraw(), FEE, "requester withdraws while paused");
        assertEq(address(coordinator).balance, 0, "escrow empty");
    }

    function test_pause_canBlockFulfilmentsAloneAndBeLifted() public {
        uint256 id = _request();
        vm.prank(guardian);
        coordinator.setPaused(false, true);
        _requestOpen(requester, FEE, 0); // requests still open
        uint256[] memory instances = _instances(_input(), _output());
        bytes memory proof = _proof(instances);
        vm.expectRevert(
            abi.encodeWithSelector(IInferenceCoordinator.CoordinatorFulfilmentsPaused.selector, id, guardian)
        );
        vm.prank(prover);
        coordinator.fulfill(id, _t(id), _h(id), proof, instances);

        vm.prank(guardian);
        coordinator.setPaused(false, false);
        _fulfil(id);
        assertEq(uint256(_status(id)), uint256(IInferenceCoordinator.RequestStatus.Fulfilled), "fulfilled");
    }

    function test_setGuardian_isOwnerOnlyAndHandsOverThePause() public {
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, guardian));
        vm.prank(guardian);
        coordinator.setGuardian(bob);

        vm.expectEmit(true, true, true, true, address(coordinator));
        emit IInferenceCoordinator.GuardianUpdated(guardian, bob);
        vm.prank(owner);
        coordinator.setGuardian(bob);
        assertEq(coordinator.guardian(), bob, "new guardian");

        vm.expectRevert(
            abi.encodeWithSelector(IInferenceCoordinator.CoordinatorNotGuardian.selector, guardian, bob)
        );
        vm.prank(guardian);
        coordinator.setPaused(true, true);
        vm.prank(bob);
        coordinator.setPaused(true, true);
        (bool requestsPaused, bool fulfilmentsPaused) = coordinator.paused();
        assertTrue(requestsPaused && fulfilmentsPaused, "paused by the new guardian");
    }

    function test_ownership_movesInTwoSteps() public {
        vm.prank(owner);
        coordinator.transferOwnership(bob);
        assertEq(coordinator.owner(), owner, "not yet");
        assertEq(coordinator.pendingOwner(), bob, "pending");
        vm.prank(bob);
        coordinator.acceptOwnership();
        assertEq(coordinator.owner(), bob, "accepted");
    }
}
