// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

// Test names follow `test_<subject>_<behaviour>` / `testFuzz_...` (see STYLE.md), and gas rules do not apply here.
/* solhint-disable func-name-mixedcase, gas-small-strings, gas-strict-inequalities, function-max-lines, gas-increment-by-one */

import {CoordinatorFixture} from "./utils/CoordinatorFixture.t.sol";
import {IInferenceCoordinator} from "../interfaces/IInferenceCoordinator.sol";
import {IInferenceConsumer} from "../interfaces/IInferenceConsumer.sol";
import {RecordingConsumer, RevertingConsumer} from "./MockConsumers.sol";

/// @dev The attack surface of a request stored as the hash of its terms: every call takes the terms (and the lock)
///      back from the caller, so every field a caller could change must be refused with `CoordinatorTermsMismatch`
///      and move nothing. MockHalo2Verifier (TEST-ONLY) is the verifier: these are tests of routing and escrow.
contract InferenceCoordinatorTermsTest is CoordinatorFixture {
    uint256 internal constant COLLATERAL = 0.02 ether;
    uint256 internal constant FIELDS = 12; // the fields of `Terms`
    address internal attacker = makeAddr("attacker");

    function setUp() public override {
        super.setUp();
        vm.deal(prover, 10 ether);
        vm.deal(attacker, 10 ether);
    }

    /// @dev `requester`'s request at FEE, lockable for half an hour with COLLATERAL; stays open.
    function _collateralised() internal returns (uint256 id) {
        vm.prank(requester);
        id = coordinator.requestInference{value: FEE}(
            modelId,
            1,
            _input(),
            IInferenceCoordinator.Offer({
                minPrice: FEE,
                rampPeriod: 0,
                lockTimeout: 30 minutes,
                lockCollateral: COLLATERAL,
                callbackGasLimit: 0,
                deadline: uint64(block.timestamp) + TTL
            })
        );
        _sync();
    }

    /// @dev `_collateralised`, locked by `prover`.
    function _lockedCollateralised() internal returns (uint256 id) {
        id = _collateralised();
        vm.prank(prover);
        coordinator.deposit{value: COLLATERAL}();
        _lock(prover, id);
    }

    function _mismatch(
        uint256 id,
        IInferenceCoordinator.RequestStatus status
    ) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(IInferenceCoordinator.CoordinatorTermsMismatch.selector, id, status);
    }

    function _good() internal pure returns (uint256[] memory instances, bytes memory proof) {
        instances = _instances(_input(), _output());
        proof = _proof(instances);
    }

    /// @dev Asserts nothing moved: the request's word, the coordinator's balance and the accounts' credits.
    function _assertUntouched(uint256 id, bytes32 word, uint256 balance) internal view {
        _assertUntouched(id, word, balance, 0);
    }

    /// @dev `_assertUntouched`, the attacker's credit being `attackerCredit` (its deposit).
    function _assertUntouched(
        uint256 id,
        bytes32 word,
        uint256 balance,
        uint256 attackerCredit
    ) internal view {
        (, bytes32 stateHash) = coordinator.requestState(id);
        assertEq(stateHash, word, "the request's word");
        assertEq(address(coordinator).balance, balance, "the coordinator's balance");
        assertEq(coordinator.credits(attacker), attackerCredit, "nothing moved to or from the attacker");
    }

    // ---------------------------------------------------------------------------------------------------------
    // lock
    // ---------------------------------------------------------------------------------------------------------

    /// @dev Lower collateral, another requester, a higher maximum price (a larger refund at lock time), a later lock
    ///      deadline: every field of the terms is bound.
    function test_lock_rejectsEveryForgedField() public {
        uint256 id = _collateralised();
        vm.prank(attacker);
        coordinator.deposit{value: COLLATERAL}();
        (, bytes32 word) = coordinator.requestState(id);
        uint256 balance = address(coordinator).balance;
        for (uint256 field = 0; field < FIELDS; ++field) {
            IInferenceCoordinator.Terms[] memory terms = new IInferenceCoordinator.Terms[](1);
            terms[0] = _forged(coordinator, id, field);
            vm.expectRevert(_mismatch(id, IInferenceCoordinator.RequestStatus.Open));
            vm.prank(attacker);
            coordinator.lock(_ids(id), terms);
        }
        IInferenceCoordinator.Terms[] memory cheap = _termsList(coordinator, _ids(id));
        cheap[0].lockCollateral = 0; // lock without putting up the collateral
        vm.expectRevert(_mismatch(id, IInferenceCoordinator.RequestStatus.Open));
        vm.prank(attacker);
        coordinator.lock(_ids(id), cheap);
        _assertUntouched(id, word, balance, COLLATERAL);
        assertEq(coordinator.credits(requester), 0, "no early refund to the requester either");
    }

    /// @dev One forged entry fails the whole `lock`, and one request's terms do not open another.
    function test_lock_rejectsAForgedEntryInAListAndAnotherRequestsTerms() public {
        uint256 a = _collateralised();
        uint256 b = _requestOpen(requester, FEE, 0);
        vm.prank(prover);
        coordinator.deposit{value: COLLATERAL}();
        uint256[] memory ids = new uint256[](2);
        (ids[0], ids[1]) = (a, b);
        IInferenceCoordinator.Terms[] memory terms = new IInferenceCoordinator.Terms[](2);
        (terms[0], terms[1]) = (_t(a), _t(a)); // b's entry carries a's terms
        vm.expectRevert(_mismatch(b, IInferenceCoordinator.RequestStatus.Open));
        vm.prank(prover);
        coordinator.lock(ids, terms);
        assertEq(uint256(_status(a)), uint256(IInferenceCoordinator.RequestStatus.Open), "a still open");
        assertEq(coordinator.credits(prover), COLLATERAL, "no collateral taken");

        IInferenceCoordinator.Terms[] memory short = new IInferenceCoordinator.Terms[](1);
        short[0] = _t(a);
        vm.expectRevert(
            abi.encodeWithSelector(IInferenceCoordinator.CoordinatorArgumentsLengthMismatch.selector, 2, 1, 1)
        );
        vm.prank(prover);
        coordinator.lock(ids, short);

        terms[1] = _t(b);
        vm.prank(prover);
        coordinator.lock(ids, terms);
        _sync();
        assertEq(_h(a).locker, prover, "a locked");
        assertEq(_h(b).locker, prover, "b locked");
    }

    // ---------------------------------------------------------------------------------------------------------
    // fulfill
    // ---------------------------------------------------------------------------------------------------------

    /// @dev An open fill with forged terms: e.g. another requester (the callback to the attacker's contract), a
    ///      higher maximum price (paid out of other requests' escrow), another input commitment (a proof of another
    ///      input), a later deadline.
    function test_fulfill_rejectsEveryForgedFieldOfAnOpenRequest() public {
        uint256 id = _requestOpen(requester, FEE, 0);
        (uint256[] memory instances, bytes memory proof) = _good();
        _commitFill(attacker, id, proof);
        (, bytes32 word) = coordinator.requestState(id);
        uint256 balance = address(coordinator).balance;
        for (uint256 field = 0; field < FIELDS; ++field) {
            IInferenceCoordinator.Terms memory terms = _forged(coordinator, id, field);
            IInferenceCoordinator.LockState memory held = _h(id);
            vm.expectRevert(_mismatch(id, IInferenceCoordinator.RequestStatus.Open));
            vm.prank(attacker);
            coordinator.fulfill(id, terms, held, proof, instances);
        }
        _assertUntouched(id, word, balance);
        // The real terms: the committed attacker is an honest open filler after all.
        _fulfilAs(attacker, id, proof, instances);
        assertEq(coordinator.credits(attacker), FEE, "paid on the real terms");
    }

    /// @dev A locked request: forged terms, or a forged lock (another locker: paid instead of the real one; a lower
    ///      price; an earlier lock block: a commitment that beats the lock), or no lock at all.
    function test_fulfill_rejectsForgedTermsOrLockOfALockedRequest() public {
        uint256 id = _lockedCollateralised();
        (uint256[] memory instances, bytes memory proof) = _good();
        _commitFill(attacker, id, proof); // after the lock: it does not beat it
        (, bytes32 word) = coordinator.requestState(id);
        uint256 balance = address(coordinator).balance;
        bytes memory mismatch = _mismatch(id, IInferenceCoordinator.RequestStatus.Locked);
        for (uint256 field = 0; field < FIELDS; ++field) {
            IInferenceCoordinator.Terms memory terms = _forged(coordinator, id, field);
            IInferenceCoordinator.LockState memory held = _h(id);
            vm.expectRevert(mismatch);
            vm.prank(attacker);
            coordinator.fulfill(id, terms, held, proof, instances);
        }
        IInferenceCoordinator.Terms memory real = _t(id);
        for (uint256 f = 0; f < 4; ++f) {
            IInferenceCoordinator.LockState memory held = _h(id);
            if (f == 0) held.locker = attacker;
            else if (f == 1) held.price -= 1;
            else if (f == 2)
                held.lockedAt = uint64(block.number); // as if locked after the attacker's commitment
            else held = IInferenceCoordinator.LockState({locker: address(0), lockedAt: 0, price: 0});
            vm.expectRevert(mismatch);
            vm.prank(attacker);
            coordinator.fulfill(id, real, held, proof, instances);
        }
        _assertUntouched(id, word, balance);
        _fulfilAs(attacker, id, proof, instances);
        assertEq(coordinator.credits(prover), FEE + COLLATERAL, "the locker is paid on the real lock");
        assertEq(coordinator.credits(attacker), 0, "and the copier nothing");
    }

    /// @dev An open request's lock is not read: whatever is passed with it, the fulfilment goes by the terms.
    function test_fulfill_ignoresTheLockOfAnOpenRequest() public {
        uint256 id = _requestOpen(requester, FEE, 0);
        (uint256[] memory instances, bytes memory proof) = _good();
        _commitFill(prover, id, proof);
        IInferenceCoordinator.Terms memory terms = _t(id);
        IInferenceCoordinator.LockState memory junk = IInferenceCoordinator.LockState({
            locker: attacker,
            lockedAt: 1,
            price: 1 ether
        });
        vm.prank(prover);
        coordinator.fulfill(id, terms, junk, proof, instances);
        _sync();
        assertEq(_receipt(id).fulfiller, prover, "the committed sender");
        assertEq(coordinator.credits(prover), FEE, "the open price");
        assertEq(coordinator.credits(attacker), 0, "the junk lock pays nobody");
    }

    // ---------------------------------------------------------------------------------------------------------
    // cancel
    // ---------------------------------------------------------------------------------------------------------

    /// @dev Naming oneself as the requester does not make one the requester, and the requester cannot cancel for
    ///      more than it escrowed.
    function test_cancel_rejectsForgedTerms() public {
        uint256 id = _requestOpen(requester, FEE, 0);
        (, bytes32 word) = coordinator.requestState(id);
        uint256 balance = address(coordinator).balance;
        IInferenceCoordinator.Terms memory mine = _t(id);
        mine.requester = attacker;
        vm.expectRevert(_mismatch(id, IInferenceCoordinator.RequestStatus.Open));
        vm.prank(attacker);
        coordinator.cancel(id, mine);
        for (uint256 field = 0; field < FIELDS; ++field) {
            IInferenceCoordinator.Terms memory terms = _forged(coordinator, id, field);
            vm.expectRevert(_mismatch(id, IInferenceCoordinator.RequestStatus.Open));
            vm.prank(requester);
            coordinator.cancel(id, terms);
        }
        _assertUntouched(id, word, balance);
        assertEq(coordinator.credits(requester), 0, "nothing credited");
        _cancel(requester, id);
        assertEq(coordinator.credits(requester), FEE, "the real escrow back");
    }

    // ---------------------------------------------------------------------------------------------------------
    // refund
    // ---------------------------------------------------------------------------------------------------------

    /// @dev An earlier deadline (refund before it), a higher maximum price (a larger refund), another requester
    ///      (the refund to the attacker): refused, open or locked.
    function test_refund_rejectsForgedTermsOfAnOpenRequest() public {
        uint256 id = _requestOpen(requester, FEE, 0);
        IInferenceCoordinator.LockState memory none = _h(id);
        IInferenceCoordinator.Terms memory early = _t(id);
        early.deadline = uint64(block.timestamp) - 1;
        vm.expectRevert(_mismatch(id, IInferenceCoordinator.RequestStatus.Open));
        vm.prank(attacker);
        coordinator.refund(id, early, none);

        vm.warp(uint256(_t(id).deadline) + 1);
        (, bytes32 word) = coordinator.requestState(id);
        uint256 balance = address(coordinator).balance;
        for (uint256 field = 0; field < FIELDS; ++field) {
            IInferenceCoordinator.Terms memory terms = _forged(coordinator, id, field);
            vm.expectRevert(_mismatch(id, IInferenceCoordinator.RequestStatus.Open));
            vm.prank(attacker);
            coordinator.refund(id, terms, none);
        }
        _assertUntouched(id, word, balance);
        _refund(attacker, id);
        assertEq(coordinator.credits(requester), FEE, "the real escrow to the real requester");
    }

    /// @dev A locked request's refund while paused returns the collateral to the locker named in the lock: a forged
    ///      locker would take it; a forged price would refund more than the escrow.
    function test_refund_rejectsAForgedLockOfALockedRequest() public {
        uint256 id = _lockedCollateralised();
        vm.prank(guardian);
        coordinator.setPaused(false, true);
        (, bytes32 word) = coordinator.requestState(id);
        uint256 balance = address(coordinator).balance;
        IInferenceCoordinator.Terms memory terms = _t(id);
        bytes memory mismatch = _mismatch(id, IInferenceCoordinator.RequestStatus.Locked);
        for (uint256 f = 0; f < 4; ++f) {
            IInferenceCoordinator.LockState memory held = _h(id);
            if (f == 0) held.locker = attacker;
            else if (f == 1) held.price += 1;
            else if (f == 2) held.lockedAt += 1;
            else held = IInferenceCoordinator.LockState({locker: address(0), lockedAt: 0, price: 0});
            vm.expectRevert(mismatch);
            vm.prank(attacker);
            coordinator.refund(id, terms, held);
        }
        for (uint256 field = 0; field < FIELDS; ++field) {
            IInferenceCoordinator.Terms memory forged = _forged(coordinator, id, field);
            IInferenceCoordinator.LockState memory held = _h(id);
            vm.expectRevert(mismatch);
            vm.prank(attacker);
            coordinator.refund(id, forged, held);
        }
        _assertUntouched(id, word, balance);
        _refund(attacker, id);
        assertEq(coordinator.credits(prover), COLLATERAL, "the real locker's collateral back");
        assertEq(coordinator.credits(requester), FEE, "the escrow to the requester");
    }

    /// @dev A request's id with another request's real terms.
    function test_calls_rejectAnotherRequestsTerms() public {
        uint256 a = _requestOpen(requester, FEE, 0);
        vm.prank(bob);
        uint256 b = coordinator.requestInference(
            modelId,
            1,
            _input(),
            _offer(0, uint64(block.timestamp) + TTL)
        );
        _sync();
        IInferenceCoordinator.Terms memory theirs = _t(b);
        IInferenceCoordinator.LockState memory none;
        vm.warp(uint256(_t(a).deadline) + 1);
        vm.expectRevert(_mismatch(a, IInferenceCoordinator.RequestStatus.Open));
        coordinator.refund(a, theirs, none);
        vm.expectRevert(_mismatch(a, IInferenceCoordinator.RequestStatus.Open));
        vm.prank(bob);
        coordinator.cancel(a, theirs);
        assertEq(uint256(_status(a)), uint256(IInferenceCoordinator.RequestStatus.Open), "a untouched");
    }

    // ---------------------------------------------------------------------------------------------------------
    // Receipts
    // ---------------------------------------------------------------------------------------------------------

    /// @dev A failed callback rewrites the stored receipt: `checkReceipt` is true for `Failed` only.
    function test_checkReceipt_recordsAFailedCallback() public {
        RevertingConsumer consumer = new RevertingConsumer(coordinator);
        vm.prank(requester);
        uint256 id = consumer.request{value: FEE}(
            modelId,
            1,
            _input(),
            100_000,
            uint64(block.timestamp) + TTL
        );
        _sync();
        _lock(prover, id);
        _fulfil(id);
        IInferenceCoordinator.Receipt memory r = _receipt(id);
        assertEq(uint256(r.callback), uint256(IInferenceCoordinator.CallbackStatus.Failed), "failed");
        assertTrue(coordinator.checkReceipt(id, r), "the failed receipt is the stored one");
        r.callback = IInferenceCoordinator.CallbackStatus.Succeeded;
        assertFalse(coordinator.checkReceipt(id, r), "not as succeeded");
        r.callback = IInferenceCoordinator.CallbackStatus.None;
        assertFalse(coordinator.checkReceipt(id, r), "nor as none");
        (, bytes32 stateHash) = coordinator.requestState(id);
        r.callback = IInferenceCoordinator.CallbackStatus.Failed;
        assertEq(stateHash, coordinator.receiptHash(r), "the word is the failed receipt's hash");
    }

    // ---------------------------------------------------------------------------------------------------------
    // InferenceConsumer._refundInference
    // ---------------------------------------------------------------------------------------------------------

    /// @dev A consumer refunds its own request, or finds it refunded by someone else (then the terms are checked
    ///      against the id, following the re-hash of a second identical request in the same block); forged terms,
    ///      another requester's, or a fulfilled request are refused.
    function test_refundInference_refundsOrAcceptsAnEarlierRefundOnTheRealTermsOnly() public {
        RecordingConsumer consumer = new RecordingConsumer(coordinator);
        uint256[] memory ids = new uint256[](3);
        for (uint256 i = 0; i < 3; ++i) {
            vm.prank(requester);
            ids[i] = consumer.request{value: FEE}(modelId, 1, _input(), 0, uint64(block.timestamp) + TTL);
            _sync();
        }
        assertEq(ids[2], uint256(keccak256(abi.encode(ids[1]))), "the same terms twice more: re-hashed ids");
        _fulfilOpen(ids[0]);
        vm.warp(uint256(_t(ids[1]).deadline) + 1);
        IInferenceCoordinator.LockState memory none;

        // Its own refund.
        assertEq(consumer.refundRequest(ids[1], _t(ids[1]), none), FEE, "refunded itself");
        // Someone else refunded first: accepted on the real terms (the id is their hash, re-hashed twice).
        _refund(attacker, ids[2]);
        IInferenceCoordinator.Terms memory richer = _forged(coordinator, ids[2], 4);
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceConsumer.ConsumerTermsMismatch.selector,
                ids[2],
                IInferenceCoordinator.RequestStatus.Refunded
            )
        );
        consumer.refundRequest(ids[2], richer, none);
        assertEq(consumer.refundRequest(ids[2], _t(ids[2]), none), FEE, "refunded by someone else");
        // Another requester's terms, and a fulfilled request.
        IInferenceCoordinator.Terms memory theirs = _forged(coordinator, ids[2], 0);
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceConsumer.ConsumerTermsMismatch.selector,
                ids[2],
                IInferenceCoordinator.RequestStatus.Refunded
            )
        );
        consumer.refundRequest(ids[2], theirs, none);
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceConsumer.ConsumerTermsMismatch.selector,
                ids[0],
                IInferenceCoordinator.RequestStatus.Fulfilled
            )
        );
        consumer.refundRequest(ids[0], _t(ids[0]), none);
        assertEq(coordinator.credits(address(consumer)), 2 * FEE, "two refunds, each once");
    }
}
