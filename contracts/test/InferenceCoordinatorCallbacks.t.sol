// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

// Test names follow `test_<subject>_<behaviour>` / `testFuzz_...` (see STYLE.md), and gas rules do not apply here.
/* solhint-disable func-name-mixedcase, gas-small-strings, gas-strict-inequalities, function-max-lines */

import {Vm} from "./utils/TestBase.t.sol";
import {CoordinatorFixture} from "./utils/CoordinatorFixture.t.sol";
import {IInferenceCoordinator} from "../interfaces/IInferenceCoordinator.sol";
import {IInferenceConsumer} from "../interfaces/IInferenceConsumer.sol";
import {
    MockConsumer,
    RecordingConsumer,
    RevertingConsumer,
    GasBurningConsumer,
    ReentrantConsumer,
    HugeRevertConsumer,
    ExactGasConsumer
} from "./MockConsumers.sol";

/// @dev A consumer can never undo a fulfilment, its receipt or the prover's fee, and a prover can never starve a
///      callback. Uses the real registry with MockHalo2Verifier (TEST-ONLY) and the adversarial consumers of
///      MockConsumers.sol (TEST-ONLY).
contract InferenceCoordinatorCallbacksTest is CoordinatorFixture {
    uint32 internal constant LIMIT = 300_000;

    /// @dev Rounds for a consumer needing about 1M gas. Starving a callback only pays off for large limits: the
    ///      1/64 of the gas EIP-150 keeps back must cover recording the failure (~6k), i.e. limits above ~400k.
    uint256 internal constant BIG_ROUNDS = 6_000;

    /// @dev The reason of the last `CallbackFailed` of the last `_tryFulfil` (empty: none).
    bytes private _lastReason;

    // ---------------------------------------------------------------------------------------------------------
    // Helpers
    // ---------------------------------------------------------------------------------------------------------

    /// @dev A consumer's request, locked by `prover` (no collateral), so `prover` fulfils without a commitment.
    function _requestVia(MockConsumer consumer, uint32 callbackGasLimit) internal returns (uint256 id) {
        vm.prank(requester);
        id = consumer.request{value: FEE}(
            modelId,
            1,
            _input(),
            callbackGasLimit,
            uint64(block.timestamp) + TTL
        );
        _sync();
        _lock(prover, id);
    }

    /// @dev Fulfils with `gasLimit` gas; returns whether it succeeded, the revert data, and the gas it used.
    function _tryFulfil(
        uint256 requestId,
        uint256 gasLimit
    ) internal returns (bool ok, bytes memory reason, uint256 used) {
        uint256[] memory instances = _instances(_input(), _output());
        bytes memory proof = _proof(instances);
        IInferenceCoordinator.Terms memory terms = _t(requestId);
        IInferenceCoordinator.LockState memory held = _h(requestId);
        vm.prank(prover);
        uint256 before = gasleft();
        try coordinator.fulfill{gas: gasLimit}(requestId, terms, held, proof, instances) {
            ok = true;
        } catch (bytes memory r) {
            reason = r;
        }
        used = before - gasleft();
        Vm.Log[] memory logs = vm.getRecordedLogs();
        vm.recordLogs();
        _absorb(logs);
        delete _lastReason;
        for (uint256 i = 0; i < logs.length; ++i) {
            if (
                logs[i].emitter == address(coordinator) &&
                logs[i].topics[0] == IInferenceCoordinator.CallbackFailed.selector
            ) _lastReason = abi.decode(logs[i].data, (bytes));
        }
    }

    /// @dev Asserts the fulfilment, receipt and fee stand and the callback is recorded as failed.
    function _assertFailedButFulfilled(uint256 id) internal view {
        assertEq(uint256(_status(id)), uint256(IInferenceCoordinator.RequestStatus.Fulfilled), "fulfilled");
        IInferenceCoordinator.Receipt memory r = _receipt(id);
        assertEq(
            uint256(r.callback),
            uint256(IInferenceCoordinator.CallbackStatus.Failed),
            "failure recorded"
        );
        assertEq(r.outputsHash, keccak256(abi.encode(_output())), "receipt stands");
        assertEq(r.fulfiller, prover, "fulfiller");
        assertEq(coordinator.credits(prover), FEE, "fee credited");
    }

    function _callbackData(uint256 id) internal view returns (bytes memory) {
        return abi.encodeCall(IInferenceConsumer.receiveInference, (id, modelId, 1, _output()));
    }

    /// @dev Whether `consumer`'s callback succeeds when called by the coordinator with exactly `gasLimit` gas.
    function _callbackSucceedsWith(address consumer, uint256 gasLimit) internal returns (bool ok) {
        bytes memory data = _callbackData(7);
        vm.prank(address(coordinator));
        // A low-level call with an exact gas limit, as the coordinator makes it.
        // solhint-disable-next-line avoid-low-level-calls
        (ok, ) = consumer.call{gas: gasLimit}(data);
    }

    /// @dev The least gas with which `consumer`'s callback succeeds. The ExactGasConsumer touches no storage, so
    ///      the figure holds in any context.
    function _gasNeededBy(address consumer) internal returns (uint256 lo, uint256 hi) {
        lo = 0;
        hi = 3_000_000;
        assertTrue(_callbackSucceedsWith(consumer, hi), "succeeds with plenty of gas");
        while (hi - lo > 1) {
            uint256 mid = (lo + hi) / 2;
            if (_callbackSucceedsWith(consumer, mid)) hi = mid;
            else lo = mid;
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Only the coordinator calls back
    // ---------------------------------------------------------------------------------------------------------

    function testFuzz_receiveInference_rejectsAnyoneButTheCoordinator(address caller) public {
        vm.assume(caller != address(coordinator));
        RecordingConsumer consumer = new RecordingConsumer(coordinator);
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceConsumer.ConsumerCallerNotCoordinator.selector,
                caller,
                address(coordinator)
            )
        );
        vm.prank(caller);
        consumer.receiveInference(1, modelId, 1, _output());
        assertEq(consumer.calls(), 0, "nothing injected");
    }

    function test_consumer_rejectsACoordinatorWithoutCode() public {
        vm.expectRevert(
            abi.encodeWithSelector(IInferenceConsumer.ConsumerCoordinatorHasNoCode.selector, bob)
        );
        new RecordingConsumer(IInferenceCoordinator(bob));
    }

    // ---------------------------------------------------------------------------------------------------------
    // Failing consumers are contained
    // ---------------------------------------------------------------------------------------------------------

    function test_fulfill_containsARevertingConsumer() public {
        RevertingConsumer consumer = new RevertingConsumer(coordinator);
        uint256 id = _requestVia(consumer, LIMIT);
        vm.expectEmit(true, true, true, true, address(coordinator));
        emit IInferenceCoordinator.CallbackFailed(
            id,
            address(consumer),
            abi.encodeWithSelector(RevertingConsumer.MockConsumerRefused.selector, id)
        );
        _fulfil(id);
        _assertFailedButFulfilled(id);
    }

    function test_fulfill_containsAGasBurningConsumerThatGotItsFullLimit() public {
        GasBurningConsumer consumer = new GasBurningConsumer(coordinator);
        uint256 id = _requestVia(consumer, LIMIT);
        vm.expectEmit(true, true, true, true, address(coordinator));
        emit IInferenceCoordinator.CallbackFailed(id, address(consumer), "");
        (bool ok, , uint256 used) = _tryFulfil(id, 2_000_000);
        assertTrue(ok, "fulfilment succeeds");
        _assertFailedButFulfilled(id);
        assertLe(LIMIT, used, "the consumer burned its whole limit");
        assertLt(used, LIMIT + 250_000, "and nothing beyond it");
    }

    function test_fulfill_containsEveryReentryIntoTheCoordinator() public {
        ReentrantConsumer.Mode[3] memory modes = [
            ReentrantConsumer.Mode.Fulfill,
            ReentrantConsumer.Mode.Refund,
            ReentrantConsumer.Mode.Withdraw
        ];
        for (uint256 i = 0; i < modes.length; ++i) {
            ReentrantConsumer consumer = new ReentrantConsumer(coordinator);
            consumer.setMode(modes[i], new int256[](0));
            uint256 id = _requestVia(consumer, LIMIT);
            vm.expectEmit(true, true, true, true, address(coordinator));
            emit IInferenceCoordinator.CallbackFailed(
                id,
                address(consumer),
                abi.encodeWithSelector(
                    IInferenceCoordinator.CoordinatorReentrantCall.selector,
                    address(consumer)
                )
            );
            _fulfil(id);
            assertEq(
                uint256(_status(id)),
                uint256(IInferenceCoordinator.RequestStatus.Fulfilled),
                "fulfilled"
            );
            assertEq(
                uint256(_receipt(id).callback),
                uint256(IInferenceCoordinator.CallbackStatus.Failed),
                "failure recorded"
            );
            assertEq(coordinator.credits(prover), FEE * (i + 1), "fee credited once per request");
        }
        assertEq(address(coordinator).balance, 3 * FEE, "nothing left the coordinator");
    }

    function test_fulfill_letsACallbackRequestAgain() public {
        ReentrantConsumer consumer = new ReentrantConsumer(coordinator);
        consumer.setMode(ReentrantConsumer.Mode.RequestAgain, _ints(7, 8, 9));
        uint256 id = _requestVia(consumer, LIMIT);
        _fulfil(id);
        assertEq(
            uint256(_receipt(id).callback),
            uint256(IInferenceCoordinator.CallbackStatus.Succeeded),
            "callback succeeded"
        );
        uint256 next = consumer.followUpRequestId();
        assertTrue(next != 0 && next != id, "follow-up request made");
        assertEq(uint256(_status(next)), uint256(IInferenceCoordinator.RequestStatus.Open), "open");
        IInferenceCoordinator.Terms memory r = _t(next); // logged from inside the callback
        assertEq(next, uint256(keccak256(abi.encode(r))), "its id: the hash of its terms");
        assertEq(r.requester, address(consumer), "requested by the consumer");
        assertEq(r.inputCommitment, _commit(_ints(7, 8, 9)), "with its input");
    }

    function test_fulfill_copiesOnlyAPrefixOfHugeRevertData() public {
        HugeRevertConsumer huge = new HugeRevertConsumer(coordinator, 200_000);
        GasBurningConsumer burner = new GasBurningConsumer(coordinator);
        _tryFulfil(_requestVia(burner, LIMIT), 2_000_000); // warm the registry, verifier and prover credit
        uint256 hugeId = _requestVia(huge, LIMIT);
        uint256 burnerId = _requestVia(burner, LIMIT);

        (bool ok, , uint256 hugeUsed) = _tryFulfil(hugeId, 2_000_000);
        assertTrue(ok, "fulfilment succeeds");
        bytes memory reason = _lastReason;
        assertEq(reason.length, 256, "reason capped at 256 bytes");
        assertEq(uint8(reason[31]), 0xef, "it is the prefix of the revert data");

        (, , uint256 burnerUsed) = _tryFulfil(burnerId, 2_000_000);
        // The huge reverter spends ~95k of its 300k limit on its own memory; a coordinator that copied the 200 kB
        // back would pay well over 100k more. So the whole fulfilment must cost less than one whose consumer
        // burns the full limit.
        assertLt(hugeUsed, burnerUsed, "the coordinator did not pay for the revert data");
        assertEq(
            uint256(_receipt(hugeId).callback),
            uint256(IInferenceCoordinator.CallbackStatus.Failed),
            "failed"
        );
    }

    // ---------------------------------------------------------------------------------------------------------
    // The callback gets exactly its gas limit
    // ---------------------------------------------------------------------------------------------------------

    /// @dev N is measured by calling the consumer directly as the coordinator; then a limit of N succeeds and a
    ///      limit of N - 1 fails, through the coordinator.
    function test_fulfill_givesTheCallbackExactlyItsGasLimit() public {
        ExactGasConsumer consumer = new ExactGasConsumer(coordinator, 200);
        (uint256 notEnough, uint256 needed) = _gasNeededBy(address(consumer));
        assertEq(notEnough + 1, needed, "threshold found");

        uint256 atLimit = _requestVia(consumer, uint32(needed));
        uint256 belowLimit = _requestVia(consumer, uint32(needed - 1));
        _fulfil(atLimit);
        _fulfil(belowLimit);
        assertEq(
            uint256(_receipt(atLimit).callback),
            uint256(IInferenceCoordinator.CallbackStatus.Succeeded),
            "limit N: succeeds"
        );
        assertEq(
            uint256(_receipt(belowLimit).callback),
            uint256(IInferenceCoordinator.CallbackStatus.Failed),
            "limit N - 1: fails"
        );
    }

    /// @dev The least gas a fulfilment succeeds with gives the callback its full limit; one gas less reverts with
    ///      the named error, so no gas supply yields a fulfilment with a starved callback.
    function test_fulfill_revertsRatherThanStarveTheCallback() public {
        ExactGasConsumer consumer = new ExactGasConsumer(coordinator, BIG_ROUNDS);
        (, uint256 needed) = _gasNeededBy(address(consumer));
        _fulfil(_requestVia(consumer, uint32(needed))); // warm everything a fulfilment touches

        uint256 id = _requestVia(consumer, uint32(needed));
        uint256 lo = 0;
        uint256 hi = 3_000_000;
        while (hi - lo > 1) {
            uint256 mid = (lo + hi) / 2;
            (bool ok, , ) = _tryFulfil(id, mid);
            if (ok) {
                assertEq(
                    uint256(_receipt(id).callback),
                    uint256(IInferenceCoordinator.CallbackStatus.Succeeded),
                    "a fulfilment that succeeds never starved its callback"
                );
                hi = mid;
                id = _requestVia(consumer, uint32(needed)); // a fresh request for the next probe
            } else {
                lo = mid;
            }
        }
        (bool okBelow, bytes memory reasonBelow, ) = _tryFulfil(id, lo);
        assertFalse(okBelow, "one gas less fails");
        (uint256 reqId, uint256 left, uint256 gasNeeded) = _decodeInsufficientGas(reasonBelow);
        assertEq(reqId, id, "request id");
        assertEq(gasNeeded, needed + needed / 63 + coordinator.CALLBACK_GAS_RESERVE(), "needed");
        assertLt(left, gasNeeded, "gas left below needed");
        (bool okAt, , ) = _tryFulfil(id, hi);
        assertTrue(okAt, "the threshold succeeds");
        assertEq(
            uint256(_receipt(id).callback),
            uint256(IInferenceCoordinator.CallbackStatus.Succeeded),
            "with the callback's full limit"
        );
    }

    /// @dev Under any gas supply: either the fulfilment reverts, or the consumer (which needs exactly its limit)
    ///      succeeded.
    function testFuzz_fulfill_neverSucceedsWithAStarvedCallback(uint256 gasSupplied) public {
        ExactGasConsumer consumer = new ExactGasConsumer(coordinator, BIG_ROUNDS);
        (, uint256 needed) = _gasNeededBy(address(consumer));
        uint256 id = _requestVia(consumer, uint32(needed));
        gasSupplied = bound(gasSupplied, 100_000, 1_500_000);
        (bool ok, bytes memory reason, ) = _tryFulfil(id, gasSupplied);
        if (ok) {
            assertEq(
                uint256(_receipt(id).callback),
                uint256(IInferenceCoordinator.CallbackStatus.Succeeded),
                "callback got its full limit"
            );
        } else {
            assertEq(
                uint256(_status(id)),
                uint256(IInferenceCoordinator.RequestStatus.Locked),
                "nothing changed"
            );
            if (reason.length != 0) {
                assertEq(
                    bytes32(bytes4(reason)),
                    bytes32(IInferenceCoordinator.CoordinatorInsufficientGasForCallback.selector),
                    "out of gas or the named error"
                );
            }
        }
    }

    function test_fulfill_withTooLittleGasForTheCallbackRevertsWithTheNamedError() public {
        GasBurningConsumer consumer = new GasBurningConsumer(coordinator);
        uint256 id = _requestVia(consumer, 1_000_000);
        (bool ok, bytes memory reason, ) = _tryFulfil(id, 600_000);
        assertFalse(ok, "reverts");
        (uint256 reqId, uint256 left, uint256 gasNeeded) = _decodeInsufficientGas(reason);
        assertEq(reqId, id, "request id");
        assertEq(gasNeeded, 1_000_000 + uint256(1_000_000) / 63 + 10_000, "needed");
        assertLt(left, gasNeeded, "left");
        assertEq(uint256(_status(id)), uint256(IInferenceCoordinator.RequestStatus.Locked), "still locked");
        assertEq(coordinator.credits(prover), 0, "no fee");
    }

    function _decodeInsufficientGas(
        bytes memory reason
    ) internal pure returns (uint256 requestId, uint256 left, uint256 gasNeeded) {
        assertEq(reason.length, 4 + 96, "error length");
        assertEq(
            bytes32(bytes4(reason)),
            bytes32(IInferenceCoordinator.CoordinatorInsufficientGasForCallback.selector),
            "selector"
        );
        assembly ("memory-safe") {
            requestId := mload(add(reason, 36))
            left := mload(add(reason, 68))
            gasNeeded := mload(add(reason, 100))
        }
    }
}
