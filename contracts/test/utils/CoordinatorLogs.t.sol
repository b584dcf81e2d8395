// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

// Test names follow `test_<subject>_<behaviour>` / `testFuzz_...` (see STYLE.md), and gas rules do not apply here.
/* solhint-disable func-name-mixedcase, gas-small-strings, gas-strict-inequalities, function-max-lines, gas-increment-by-one */

// Test-only. What a coordinator logged about its requests, read from the logs as a prover reads them: each request's
// terms (`InferenceRequested`), lock (`RequestLocked`) and receipt (`InferenceFulfilled`, `CallbackFailed`), for the
// tests to pass back to `lock`, `fulfill`, `fulfillBatch`, `cancel` and `refund`.

import {TestBase, Vm} from "./TestBase.t.sol";
import {IInferenceCoordinator} from "../../interfaces/IInferenceCoordinator.sol";

abstract contract CoordinatorLogs is TestBase {
    /// @dev Thrown by `_tAt` for a request whose `InferenceRequested` the fixture has not read (see `_sync`).
    error FixtureRequestNotLogged(address coordinator, uint256 requestId);

    mapping(address coordinator => mapping(uint256 requestId => bool)) private _logged;
    mapping(address coordinator => mapping(uint256 requestId => IInferenceCoordinator.Terms))
        private _loggedTerms;
    mapping(address coordinator => mapping(uint256 requestId => IInferenceCoordinator.LockState))
        private _loggedLocks;
    mapping(address coordinator => mapping(uint256 requestId => IInferenceCoordinator.Receipt))
        private _loggedReceipts;
    mapping(address coordinator => mapping(uint256 requestId => int256[])) private _loggedOutputs;

    /// @dev Reads every log recorded since the last call and keeps what each coordinator logged about its requests:
    ///      the terms (`InferenceRequested`), the lock (`RequestLocked`) and the receipt (`InferenceFulfilled`, with
    ///      `CallbackFailed`; its `fulfilledAt` is this block's timestamp, so call this right after a fulfilment).
    ///      The fixture's helpers call it after each action; a test that calls the coordinator itself calls it
    ///      next. Recording restarts at once, so nothing is missed between two calls.
    function _sync() internal {
        Vm.Log[] memory logs = vm.getRecordedLogs();
        vm.recordLogs();
        _absorb(logs);
    }

    /// @dev Keeps what `logs` say about requests (see `_sync`): for a test that reads the logs itself.
    function _absorb(Vm.Log[] memory logs) internal {
        for (uint256 i = 0; i < logs.length; ++i) {
            Vm.Log memory log_ = logs[i];
            if (log_.topics.length == 0) continue;
            bytes32 topic = log_.topics[0];
            address c = log_.emitter;
            if (topic == IInferenceCoordinator.InferenceRequested.selector) {
                (IInferenceCoordinator.Terms memory terms, , ) = abi.decode(
                    log_.data,
                    (IInferenceCoordinator.Terms, uint8, bytes)
                );
                uint256 id = uint256(log_.topics[1]);
                _loggedTerms[c][id] = terms;
                _logged[c][id] = true;
            } else if (topic == IInferenceCoordinator.RequestLocked.selector) {
                (uint256 price, , , uint64 lockedAt) = abi.decode(
                    log_.data,
                    (uint256, uint256, uint64, uint64)
                );
                _loggedLocks[c][uint256(log_.topics[1])] = IInferenceCoordinator.LockState({
                    locker: address(uint160(uint256(log_.topics[2]))),
                    lockedAt: lockedAt,
                    price: price
                });
            } else if (topic == IInferenceCoordinator.InferenceFulfilled.selector) {
                _absorbFulfilled(c, log_);
            } else if (topic == IInferenceCoordinator.CallbackFailed.selector) {
                _loggedReceipts[c][uint256(log_.topics[1])].callback = IInferenceCoordinator
                    .CallbackStatus
                    .Failed;
            }
        }
    }

    /// @dev The receipt from `InferenceFulfilled` as a prover rebuilds it: the model and version from the terms, the
    ///      outputs unpacked (see `_unpackOutputs`) and hashed with the receipt's rule.
    function _absorbFulfilled(address c, Vm.Log memory log_) private {
        uint256 id = uint256(log_.topics[1]);
        (bytes32 proofHash, uint8 width, bytes memory packed) = abi.decode(
            log_.data,
            (bytes32, uint8, bytes)
        );
        int256[] memory outputs = _unpackOutputs(width, packed);
        IInferenceCoordinator.Terms memory terms = _loggedTerms[c][id];
        bool callBack = terms.callbackGasLimit != 0 && terms.requester.code.length != 0;
        _loggedReceipts[c][id] = IInferenceCoordinator.Receipt({
            modelId: terms.modelId,
            version: terms.version,
            inputCommitment: terms.inputCommitment,
            outputsHash: keccak256(abi.encode(outputs)),
            proofHash: proofHash,
            fulfiller: address(uint160(uint256(log_.topics[2]))),
            fulfilledAt: uint64(block.timestamp),
            callback: callBack
                ? IInferenceCoordinator.CallbackStatus.Succeeded
                : IInferenceCoordinator.CallbackStatus.None
        });
        _loggedOutputs[c][id] = outputs;
    }

    /// @dev `InferenceFulfilled`'s outputs unpacked, written plainly (independently of the coordinator's assembly):
    ///      `width` big-endian two's-complement bytes per element, sign-extended.
    function _unpackOutputs(uint256 width, bytes memory packed) internal pure returns (int256[] memory xs) {
        assertTrue(width >= 1 && width <= 32, "output width in 1..32");
        assertEq(packed.length % width, 0, "whole elements");
        xs = new int256[](packed.length / width);
        for (uint256 i = 0; i < xs.length; ++i) {
            uint256 v = 0;
            for (uint256 j = 0; j < width; ++j) v = (v << 8) | uint8(packed[i * width + j]);
            uint256 bits = width * 8;
            // Sign-extend from `bits` (width 32 is already a full word).
            if (bits < 256 && (v >> (bits - 1)) == 1) v |= type(uint256).max << bits;
            xs[i] = int256(v);
        }
    }

    /// @dev The packing `InferenceFulfilled` must use, written plainly: the fewest bytes (1..32) that hold every
    ///      element with its sign, and each element's low `width` bytes, big-endian.
    function _packOutputs(int256[] memory xs) internal pure returns (uint8 width, bytes memory packed) {
        width = 1;
        for (uint256 i = 0; i < xs.length; ++i) {
            while (
                width < 32 &&
                (xs[i] < -(int256(1) << (width * 8 - 1)) || xs[i] >= int256(1) << (width * 8 - 1))
            ) ++width;
        }
        packed = new bytes(xs.length * width);
        for (uint256 i = 0; i < xs.length; ++i) {
            uint256 v = uint256(xs[i]);
            for (uint256 j = 0; j < width; ++j)
                packed[i * width + j] = bytes1(uint8(v >> (8 * (width - 1 - j))));
        }
    }

    /// @dev The terms `requestId` was logged with at `c` (reverts if it was never seen: call `_sync`).
    function _tAt(
        IInferenceCoordinator c,
        uint256 requestId
    ) internal view returns (IInferenceCoordinator.Terms memory) {
        if (!_logged[address(c)][requestId]) revert FixtureRequestNotLogged(address(c), requestId);
        return _loggedTerms[address(c)][requestId];
    }

    function _hAt(
        IInferenceCoordinator c,
        uint256 requestId
    ) internal view returns (IInferenceCoordinator.LockState memory) {
        return _loggedLocks[address(c)][requestId];
    }

    function _receiptAt(
        IInferenceCoordinator c,
        uint256 requestId
    ) internal view returns (IInferenceCoordinator.Receipt memory r) {
        r = _loggedReceipts[address(c)][requestId];
        assertTrue(c.checkReceipt(requestId, r), "the logged receipt is the coordinator's");
    }

    function _termsList(
        IInferenceCoordinator c,
        uint256[] memory requestIds
    ) internal view returns (IInferenceCoordinator.Terms[] memory terms) {
        terms = new IInferenceCoordinator.Terms[](requestIds.length);
        for (uint256 i = 0; i < requestIds.length; ++i) terms[i] = _tAt(c, requestIds[i]);
    }

    function _locksList(
        IInferenceCoordinator c,
        uint256[] memory requestIds
    ) internal view returns (IInferenceCoordinator.LockState[] memory held) {
        held = new IInferenceCoordinator.LockState[](requestIds.length);
        for (uint256 i = 0; i < requestIds.length; ++i) held[i] = _hAt(c, requestIds[i]);
    }

    function _ids(uint256 a) internal pure returns (uint256[] memory ids) {
        ids = new uint256[](1);
        ids[0] = a;
    }

    /// @dev `ids` sorted ascending (`fulfillBatch` takes its requests in id order).
    function _sorted(uint256[] memory ids) internal pure returns (uint256[] memory) {
        for (uint256 i = 1; i < ids.length; ++i) {
            for (uint256 j = i; j > 0 && ids[j - 1] > ids[j]; --j)
                (ids[j - 1], ids[j]) = (ids[j], ids[j - 1]);
        }
        return ids;
    }

    function _statusAt(
        IInferenceCoordinator c,
        uint256 requestId
    ) internal view returns (IInferenceCoordinator.RequestStatus status) {
        (status, ) = c.requestState(requestId);
    }

    /// @dev The outputs `InferenceFulfilled` logged for `requestId` at `c`.
    function _outputsAt(IInferenceCoordinator c, uint256 requestId) internal view returns (int256[] memory) {
        return _loggedOutputs[address(c)][requestId];
    }

    /// @dev The terms of `requestId` at `c` with one field changed (`field` 0..11, in `Terms` order), for tests of
    ///      forged terms.
    function _forged(
        IInferenceCoordinator c,
        uint256 requestId,
        uint256 field
    ) internal view returns (IInferenceCoordinator.Terms memory t) {
        t = _tAt(c, requestId);
        if (field == 0) t.requester = address(uint160(t.requester) ^ 1);
        else if (field == 1) t.modelId = t.modelId ^ bytes32(uint256(1));
        else if (field == 2) t.version ^= 1;
        else if (field == 3) t.inputCommitment = t.inputCommitment ^ bytes32(uint256(1));
        else if (field == 4) t.maxPrice += 1;
        else if (field == 5) t.minPrice ^= 1;
        else if (field == 6) t.requestedAt ^= 1;
        else if (field == 7) t.rampPeriod ^= 1;
        else if (field == 8) t.lockDeadline ^= 1;
        else if (field == 9) t.lockCollateral ^= 1;
        else if (field == 10) t.callbackGasLimit ^= 1;
        else t.deadline ^= 1;
    }
}
