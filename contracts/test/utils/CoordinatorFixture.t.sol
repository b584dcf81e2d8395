// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

// Test names follow `test_<subject>_<behaviour>` / `testFuzz_...` (see STYLE.md), and gas rules do not apply here.
/* solhint-disable func-name-mixedcase, gas-small-strings, gas-strict-inequalities, function-max-lines */

// Test-only. Shared set-up for the coordinator tests: the real registry and route with MockHalo2Verifier (TEST-ONLY;
// it accepts exactly `keccak256(abi.encode(instances))` as the proof), a model with a (3 inputs, 2 outputs)
// layout, the coordinator, and helpers to request and fulfil.

import {RegistryFixture} from "./RegistryFixture.t.sol";
import {CoordinatorLogs} from "./CoordinatorLogs.t.sol";
import {IInferenceCoordinator} from "../../interfaces/IInferenceCoordinator.sol";
import {InferenceCoordinator} from "../../coordinator/InferenceCoordinator.sol";
import {InferenceVerifier} from "../../verifier/InferenceVerifier.sol";
import {FieldElement} from "../../libraries/FieldElement.sol";
import {ModelRegistry} from "../../registry/ModelRegistry.sol";
import {MockHalo2Verifier} from "../MockHalo2Verifier.sol";

abstract contract CoordinatorFixture is RegistryFixture, CoordinatorLogs {
    uint64 internal constant TTL = 1 hours;
    uint256 internal constant FEE = 0.01 ether;

    InferenceVerifier internal route;
    InferenceCoordinator internal coordinator;
    bytes32 internal modelId;

    address internal owner = makeAddr("owner");
    address internal guardian = makeAddr("guardian");
    address internal requester = makeAddr("requester");
    address internal prover = makeAddr("prover");

    function setUp() public virtual override {
        super.setUp();
        route = new InferenceVerifier(registry);
        coordinator = new InferenceCoordinator(registry, route, owner, guardian);
        modelId = _register(alice, "digits-mlp");
        _addVersion(alice, modelId, _params(_defaultLayout(3, 2), 1));
        vm.warp(block.timestamp + LATEST_DELAY); // version 1 may be "latest" from here on
        vm.deal(requester, 100 ether);
        vm.recordLogs(); // see `_sync`
    }

    // ---------------------------------------------------------------------------------------------------------
    // Values
    // ---------------------------------------------------------------------------------------------------------

    function _ints(int256 a, int256 b, int256 c) internal pure returns (int256[] memory xs) {
        xs = new int256[](3);
        (xs[0], xs[1], xs[2]) = (a, b, c);
    }

    function _ints(int256 a, int256 b) internal pure returns (int256[] memory xs) {
        xs = new int256[](2);
        (xs[0], xs[1]) = (a, b);
    }

    function _input() internal pure returns (int256[] memory) {
        return _ints(1, -2, 3);
    }

    function _output() internal pure returns (int256[] memory) {
        return _ints(40, -50);
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

    /// @dev The proof MockHalo2Verifier's Digest behaviour accepts.
    function _proof(uint256[] memory instances) internal pure returns (bytes memory) {
        return abi.encodePacked(keccak256(abi.encode(instances)));
    }

    /// @dev The commitment, computed independently of the contracts.
    function _commit(int256[] memory input) internal pure returns (bytes32) {
        uint256[] memory encoded = new uint256[](input.length);
        for (uint256 i = 0; i < input.length; ++i) encoded[i] = FieldElement.encode(input[i]);
        return keccak256(abi.encodePacked(encoded));
    }

    function _assertOutputs(int256[] memory actual, int256[] memory expected) internal pure {
        assertEq(actual.length, expected.length, "output length");
        for (uint256 i = 0; i < expected.length; ++i) assertEq(actual[i], expected[i], "output value");
    }

    // ---------------------------------------------------------------------------------------------------------
    // Actions
    // ---------------------------------------------------------------------------------------------------------

    /// @dev `requester` asks for version 1 on `_input()` with `FEE`, no callback, deadline now + TTL, and `prover`
    ///      locks it (no collateral), so `prover`'s fulfilment needs no commitment (see `_requestOpen` for one that
    ///      stays open).
    function _request() internal returns (uint256) {
        return _requestAs(requester, FEE, 0);
    }

    /// @dev `who` requests (see `_request`) and `prover` locks it.
    function _requestAs(address who, uint256 fee, uint32 callbackGasLimit) internal returns (uint256 id) {
        id = _requestOpen(who, fee, callbackGasLimit);
        _lock(prover, id);
    }

    /// @dev `who` requests version 1 on `_input()` paying `fee`, deadline now + TTL; the request stays `Open`.
    function _requestOpen(address who, uint256 fee, uint32 callbackGasLimit) internal returns (uint256 id) {
        vm.prank(who);
        id = coordinator.requestInference{value: fee}(
            modelId,
            1,
            _input(),
            _offer(callbackGasLimit, uint64(block.timestamp) + TTL)
        );
        _sync();
    }

    /// @dev Fixed-price terms (the price is the whole `msg.value` at once), lockable without collateral for half
    ///      the time to the deadline.
    function _offer(
        uint32 callbackGasLimit,
        uint64 deadline
    ) internal view returns (IInferenceCoordinator.Offer memory) {
        uint64 window = deadline > block.timestamp ? deadline - uint64(block.timestamp) : 2;
        return
            IInferenceCoordinator.Offer({
                minPrice: 0,
                rampPeriod: 0,
                lockTimeout: uint32(window > 1 ? window / 2 : 1),
                lockCollateral: 0,
                callbackGasLimit: callbackGasLimit,
                deadline: deadline
            });
    }

    /// @dev `who` commits to an open fill of `requestId` with `proof`, and a block passes.
    function _commitFill(address who, uint256 requestId, bytes memory proof) internal {
        _commitFill(who, _ids(requestId), proof);
    }

    /// @dev `who` commits to an open fill of the batch `requestIds` with `proof` (one commitment for the batch), and
    ///      a block passes.
    function _commitFill(address who, uint256[] memory requestIds, bytes memory proof) internal {
        bytes32 commitment = coordinator.fillCommitment(who, requestIds, keccak256(proof));
        vm.prank(who);
        coordinator.commit(commitment);
        vm.roll(block.number + 1);
    }

    /// @dev `who` locks `requestId` (its balance must cover the collateral).
    function _lock(address who, uint256 requestId) internal {
        _lockAt(coordinator, who, requestId);
    }

    /// @dev `who` locks `requestId` at coordinator `c`, passing back the terms it logged.
    function _lockAt(IInferenceCoordinator c, address who, uint256 requestId) internal {
        uint256[] memory ids = _ids(requestId);
        IInferenceCoordinator.Terms[] memory terms = _termsList(c, ids);
        vm.prank(who);
        c.lock(ids, terms);
        _sync();
    }

    /// @dev `prover` fulfils with a valid proof of `_input()` -> `_output()`, as the locker (see `_request`).
    function _fulfil(uint256 requestId) internal {
        uint256[] memory instances = _instances(_input(), _output());
        _fulfilAs(prover, requestId, _proof(instances), instances);
    }

    /// @dev `prover` commits, and a block later fulfils with a valid proof of `_input()` -> `_output()` (an open
    ///      fill).
    function _fulfilOpen(uint256 requestId) internal {
        uint256[] memory instances = _instances(_input(), _output());
        bytes memory proof = _proof(instances);
        _commitFill(prover, requestId, proof);
        _fulfilAs(prover, requestId, proof, instances);
    }

    /// @dev `who` sends `fulfill` for `requestId` with the terms and lock it logged, and the logs are read.
    function _fulfilAs(
        address who,
        uint256 requestId,
        bytes memory proof,
        uint256[] memory instances
    ) internal {
        IInferenceCoordinator.Terms memory terms = _t(requestId);
        IInferenceCoordinator.LockState memory held = _h(requestId);
        vm.prank(who);
        coordinator.fulfill(requestId, terms, held, proof, instances);
        _sync();
    }

    /// @dev `who` sends `fulfillBatch` for `requestIds` with the terms and locks they logged, and the logs are read.
    function _fulfilBatchAs(
        address who,
        uint256[] memory requestIds,
        bytes memory proof,
        uint256[] memory instances
    ) internal {
        IInferenceCoordinator.Terms[] memory terms = _termsList(coordinator, requestIds);
        IInferenceCoordinator.LockState[] memory held = _locksList(coordinator, requestIds);
        vm.prank(who);
        coordinator.fulfillBatch(requestIds, terms, held, proof, instances);
        _sync();
    }

    /// @dev `who` refunds `requestId` with the terms and lock it logged.
    function _refund(address who, uint256 requestId) internal {
        IInferenceCoordinator.Terms memory terms = _t(requestId);
        IInferenceCoordinator.LockState memory held = _h(requestId);
        vm.prank(who);
        coordinator.refund(requestId, terms, held);
        _sync();
    }

    /// @dev Anyone refunds `requestId` (see `_refund`).
    function _refund(uint256 requestId) internal {
        _refund(makeAddr("anyone"), requestId);
    }

    /// @dev `who` cancels `requestId` with the terms it logged.
    function _cancel(address who, uint256 requestId) internal {
        IInferenceCoordinator.Terms memory terms = _t(requestId);
        vm.prank(who);
        coordinator.cancel(requestId, terms);
        _sync();
    }

    /// @dev A suite of its own (registry, route, coordinator) whose suite verifier is `verifier`, with `alice`'s
    ///      model of version 1 in the (3, 2) layout; returns the coordinator and the model id.
    function _suiteWith(MockHalo2Verifier verifier) internal returns (InferenceCoordinator c, bytes32 id) {
        ModelRegistry r = _registryWith(verifier);
        c = new InferenceCoordinator(r, new InferenceVerifier(r), owner, guardian);
        vm.startPrank(alice);
        id = r.registerModel("digits-mlp");
        r.addVersion(id, _params(_defaultLayout(3, 2), 1), _vka(1, false), _noVariants(), false);
        vm.stopPrank();
    }

    // ---------------------------------------------------------------------------------------------------------
    // What the coordinator logged: terms, locks and receipts, read from the logs as a prover would
    // ---------------------------------------------------------------------------------------------------------

    /// @dev The terms `requestId` was logged with at the fixture's coordinator.
    function _t(uint256 requestId) internal view returns (IInferenceCoordinator.Terms memory) {
        return _tAt(coordinator, requestId);
    }

    /// @dev The lock `requestId` was logged with (all zero when it was never locked).
    function _h(uint256 requestId) internal view returns (IInferenceCoordinator.LockState memory) {
        return _hAt(coordinator, requestId);
    }

    /// @dev The receipt of `requestId` as the logs give it, checked against the coordinator's (`checkReceipt`).
    function _receipt(uint256 requestId) internal view returns (IInferenceCoordinator.Receipt memory) {
        return _receiptAt(coordinator, requestId);
    }

    /// @dev The outputs `InferenceFulfilled` logged for `requestId`.
    function _outputsOf(uint256 requestId) internal view returns (int256[] memory) {
        return _outputsAt(coordinator, requestId);
    }

    function _status(uint256 requestId) internal view returns (IInferenceCoordinator.RequestStatus) {
        return _statusAt(coordinator, requestId);
    }
}
