// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

// Test names follow `test_<subject>_<behaviour>` / `testFuzz_...` (see STYLE.md), and gas rules do not apply here.
/* solhint-disable func-name-mixedcase, gas-small-strings, gas-strict-inequalities, function-max-lines, gas-increment-by-one */

import {Vm} from "./utils/TestBase.t.sol";
import {CoordinatorFixture} from "./utils/CoordinatorFixture.t.sol";
import {IInferenceCoordinator} from "../interfaces/IInferenceCoordinator.sol";
import {FieldElement} from "../libraries/FieldElement.sol";

/// @dev `InferenceFulfilled`'s packed outputs: the width is the narrowest that holds every output, the bytes are the
///      plain reference packing (`_packOutputs`) with zero ABI padding, they unpack to the outputs the proof carried,
///      and those hash with the receipt's rule to the receipt the coordinator stored. The fulfilment is the real
///      coordinator's on the fixture's registry and route (MockHalo2Verifier, TEST-ONLY, accepts any instances).
contract InferenceCoordinatorEventTest is CoordinatorFixture {
    int256 private constant MAX_INT = FieldElement.MAX_INT;
    int256 private constant MIN_INT = FieldElement.MIN_INT;

    // ---------------------------------------------------------------------------------------------------------
    // Widths
    // ---------------------------------------------------------------------------------------------------------

    function test_inferenceFulfilled_packsZerosInOneByte() public {
        assertEq(_fulfilAndCheck(_ints(0, 0)), 1, "width");
    }

    function test_inferenceFulfilled_packsOneByteOutputs() public {
        assertEq(_fulfilAndCheck(_ints(127, -128)), 1, "width");
        assertEq(_fulfilAndCheck(_ints(-1, 1)), 1, "width");
    }

    function test_inferenceFulfilled_packsTwoByteOutputs() public {
        assertEq(_fulfilAndCheck(_ints(128, 0)), 2, "128 needs a sign bit of its own");
        assertEq(_fulfilAndCheck(_ints(0, -129)), 2, "-129");
        assertEq(_fulfilAndCheck(_ints(32_767, -32_768)), 2, "int16 bounds");
    }

    function test_inferenceFulfilled_packsSixteenByteOutputs() public {
        assertEq(_fulfilAndCheck(_ints(type(int128).max, type(int128).min)), 16, "int128 bounds");
        assertEq(_fulfilAndCheck(_ints(-1, int256(type(int128).max) + 1)), 17, "one past int128");
    }

    function test_inferenceFulfilled_packsThirtyTwoByteOutputs() public {
        assertEq(_fulfilAndCheck(_ints(MAX_INT, MIN_INT)), 32, "the field's bounds");
        assertEq(_fulfilAndCheck(_ints(-1, int256(1) << 247)), 32, "2^247");
        assertEq(_fulfilAndCheck(_ints(-(int256(1) << 247), (int256(1) << 247) - 1)), 31, "int248 bounds");
    }

    function test_inferenceFulfilled_packsTenSmallOutputsInOneWord() public {
        int256[] memory xs = new int256[](10);
        for (uint256 i = 0; i < 10; ++i) xs[i] = (i % 2 == 0 ? int256(1) : -1) * int256(i * 30_000);
        Vm.Log memory log_ = _fulfilLogged(xs);
        // proofHash, outputWidth, offset, length, and 10 x 3 bytes in one word.
        assertEq(log_.data.length, 5 * 32, "five data words");
        (, uint8 width, ) = abi.decode(log_.data, (bytes32, uint8, bytes));
        assertEq(uint256(width), 3, "270000 needs 3 bytes with its sign");
    }

    // ---------------------------------------------------------------------------------------------------------
    // Fuzz
    // ---------------------------------------------------------------------------------------------------------

    /// @dev Any two outputs in the field's range, shifted down to spread the widths.
    function testFuzz_inferenceFulfilled_unpacksToTheOutputs(
        uint256 a,
        uint256 b,
        uint8 shiftA,
        uint8 shiftB
    ) public {
        _fulfilAndCheck(_ints(_fieldInt(a, shiftA), _fieldInt(b, shiftB)));
    }

    /// @dev Any number of outputs (1..40, in a version of its own), each anywhere in the field's range.
    function testFuzz_inferenceFulfilled_unpacksAnyOutputCount(
        uint256 seed,
        uint8 count,
        uint8 shift
    ) public {
        uint256 n = bound(count, 1, 40);
        int256[] memory xs = new int256[](n);
        for (uint256 i = 0; i < n; ++i) {
            xs[i] = _fieldInt(uint256(keccak256(abi.encode(seed, i))), uint8(uint256(shift) + i * 7));
        }
        _fulfilAndCheck(xs);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Helpers
    // ---------------------------------------------------------------------------------------------------------

    /// @dev An integer in [MIN_INT, MAX_INT] from `raw`, arithmetically shifted right by `shift`.
    function _fieldInt(uint256 raw, uint8 shift) private pure returns (int256) {
        return (int256(raw % FieldElement.MODULUS) - MAX_INT) >> shift;
    }

    /// @dev Fulfils a request whose proof carries `outputs` and checks its `InferenceFulfilled`: the reference
    ///      packing byte for byte (zero padding included), unpacking to `outputs`, and the receipt they hash into
    ///      is the stored one. Returns the width.
    function _fulfilAndCheck(int256[] memory outputs) private returns (uint256) {
        Vm.Log memory log_ = _fulfilLogged(outputs);
        uint256 id = uint256(log_.topics[1]);
        assertEq(log_.topics.length, 3, "three topics: the signature, requestId, fulfiller");
        assertEq(address(uint160(uint256(log_.topics[2]))), prover, "fulfiller");

        (bytes32 proofHash, uint8 width, bytes memory packed) = abi.decode(
            log_.data,
            (bytes32, uint8, bytes)
        );
        (uint8 expectedWidth, bytes memory expectedPacked) = _packOutputs(outputs);
        assertEq(uint256(width), uint256(expectedWidth), "the narrowest width");
        assertEq(
            log_.data,
            abi.encode(proofHash, expectedWidth, expectedPacked),
            "the ABI encoding, byte for byte"
        );
        assertEq(packed.length, outputs.length * width, "width bytes per output");

        int256[] memory unpacked = _unpackOutputs(width, packed);
        _assertOutputs(unpacked, outputs);
        IInferenceCoordinator.Receipt memory r = _receipt(id); // rebuilt from the log, checked with checkReceipt
        assertEq(r.outputsHash, keccak256(abi.encode(unpacked)), "the receipt's outputs hash");
        assertEq(r.proofHash, proofHash, "proof hash");
        assertTrue(coordinator.checkReceipt(id, r), "the stored receipt");
        return width;
    }

    /// @dev `requester` requests `_input()` (version 1 for two outputs, else a version of `outputs.length` outputs
    ///      of its own), `prover` locks and fulfils it with a proof that carries `outputs`; returns the
    ///      `InferenceFulfilled` log (the fixture has read the logs too).
    function _fulfilLogged(int256[] memory outputs) private returns (Vm.Log memory log_) {
        uint32 version = 1;
        if (outputs.length != 2) {
            // solhint-disable-next-line gas-small-strings
            version = _addVersion(
                alice,
                modelId,
                _params(_defaultLayout(3, uint32(outputs.length)), 500 + outputs.length)
            );
        }
        vm.prank(requester);
        uint256 id = coordinator.requestInference{value: FEE}(
            modelId,
            version,
            _input(),
            _offer(0, uint64(block.timestamp) + TTL)
        );
        _sync();
        _lock(prover, id);
        uint256[] memory instances = _instances(_input(), outputs);
        IInferenceCoordinator.Terms memory terms = _t(id);
        IInferenceCoordinator.LockState memory held = _h(id);
        vm.prank(prover);
        coordinator.fulfill(id, terms, held, _proof(instances), instances);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        vm.recordLogs();
        _absorb(logs);
        uint256 found;
        for (uint256 i = 0; i < logs.length; ++i) {
            if (
                logs[i].topics.length != 0 &&
                logs[i].topics[0] == IInferenceCoordinator.InferenceFulfilled.selector
            ) {
                log_ = logs[i];
                ++found;
            }
        }
        assertEq(found, 1, "one InferenceFulfilled");
        assertEq(uint256(log_.topics[1]), id, "the request");
    }
}
