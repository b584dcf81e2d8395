// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

// Test names follow `test_<subject>_<behaviour>` / `testFuzz_...` (see STYLE.md), and gas rules do not apply here.
/* solhint-disable func-name-mixedcase, gas-small-strings, gas-strict-inequalities, function-max-lines */

import {CoordinatorFixture} from "./utils/CoordinatorFixture.t.sol";
import {IInferenceCoordinator} from "../interfaces/IInferenceCoordinator.sol";

/// @dev The market rules of `IInferenceCoordinator` (lock, collateral, commitments, auction, slashing, cancel,
///      refunds while paused, caps), with MockHalo2Verifier (TEST-ONLY) as the verifier.
contract InferenceCoordinatorMarketTest is CoordinatorFixture {
    uint256 internal constant COLLATERAL = 0.02 ether;
    address internal copier = makeAddr("copier");
    address internal late = makeAddr("late");

    function setUp() public override {
        super.setUp();
        vm.deal(prover, 10 ether);
        vm.deal(late, 10 ether);
        vm.deal(copier, 10 ether);
    }

    /// @dev A request of `requester` on `terms`, paying `maxPrice`.
    function _requestWith(
        uint256 maxPrice,
        IInferenceCoordinator.Offer memory terms
    ) internal returns (uint256 id) {
        vm.prank(requester);
        id = coordinator.requestInference{value: maxPrice}(modelId, 1, _input(), terms);
        _sync();
    }

    /// @dev Fixed price FEE, lock for the first half hour, COLLATERAL.
    function _collateralised() internal returns (uint256) {
        return
            _requestWith(
                FEE,
                IInferenceCoordinator.Offer({
                    minPrice: FEE,
                    rampPeriod: 0,
                    lockTimeout: 30 minutes,
                    lockCollateral: COLLATERAL,
                    callbackGasLimit: 0,
                    deadline: uint64(block.timestamp) + TTL
                })
            );
    }

    function _deposit(address who, uint256 amount) internal {
        vm.prank(who);
        coordinator.deposit{value: amount}();
    }

    function _good() internal pure returns (uint256[] memory instances, bytes memory proof) {
        instances = _instances(_input(), _output());
        proof = _proof(instances);
    }

    // ---------------------------------------------------------------------------------------------------------
    // deposit / lock
    // ---------------------------------------------------------------------------------------------------------

    function test_lock_takesTheCollateralFromTheBalanceAndFixesThePrice() public {
        uint256 id = _collateralised();
        _deposit(prover, 0.05 ether);
        vm.expectEmit(true, true, true, true, address(coordinator));
        emit IInferenceCoordinator.RequestLocked(
            id,
            prover,
            FEE,
            COLLATERAL,
            uint64(block.timestamp + 30 minutes),
            uint64(block.number)
        );
        _lock(prover, id);
        assertEq(coordinator.credits(prover), 0.05 ether - COLLATERAL, "collateral left the balance");
        IInferenceCoordinator.LockState memory held = _h(id);
        assertEq(uint256(_status(id)), uint256(IInferenceCoordinator.RequestStatus.Locked), "locked");
        assertEq(held.locker, prover, "locker");
        assertEq(held.price, FEE, "price");
        assertEq(uint256(held.lockedAt), block.number, "this block");
        (, bytes32 stateHash) = coordinator.requestState(id);
        assertEq(stateHash, coordinator.hashLocked(_t(id), held), "the hash of the terms and the lock");
        assertEq(address(coordinator).balance, FEE + 0.05 ether, "escrow + collateral + balance");
    }

    function test_lock_locksSeveralRequestsInOneCall() public {
        uint256[] memory ids = new uint256[](3);
        for (uint256 i = 0; i < 3; ++i) ids[i] = _collateralised();
        _deposit(prover, 3 * COLLATERAL);
        vm.prank(prover);
        coordinator.lock(ids, _termsList(coordinator, ids));
        _sync();
        for (uint256 i = 0; i < 3; ++i) assertEq(_h(ids[i]).locker, prover, "locked");
        assertEq(coordinator.credits(prover), 0, "all collateral taken");
    }

    function test_lock_isAllOrNothingWhenTheBalanceIsShort() public {
        uint256[] memory ids = new uint256[](2);
        ids[0] = _collateralised();
        ids[1] = _collateralised();
        _deposit(prover, COLLATERAL);
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceCoordinator.CoordinatorInsufficientBalance.selector,
                prover,
                2 * COLLATERAL,
                COLLATERAL
            )
        );
        vm.prank(prover);
        coordinator.lock(ids, _termsList(coordinator, ids));
        assertEq(uint256(_status(ids[0])), uint256(IInferenceCoordinator.RequestStatus.Open), "still open");
    }

    function test_lock_rejectsALockedRequestAnExpiredLockAndAnEmptyList() public {
        uint256 id = _collateralised();
        _deposit(prover, COLLATERAL);
        _lock(prover, id);
        _deposit(copier, COLLATERAL);
        vm.expectRevert(abi.encodeWithSelector(IInferenceCoordinator.CoordinatorRequestLocked.selector, id));
        _lock(copier, id);

        uint256 other = _collateralised();
        vm.warp(block.timestamp + 30 minutes + 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceCoordinator.CoordinatorLockDeadlinePassed.selector,
                other,
                _t(other).lockDeadline
            )
        );
        _lock(copier, other);

        vm.expectRevert(
            abi.encodeWithSelector(IInferenceCoordinator.CoordinatorNothingToLock.selector, copier)
        );
        vm.prank(copier);
        coordinator.lock(new uint256[](0), new IInferenceCoordinator.Terms[](0));
    }

    function test_lock_isPausedWithFulfilments() public {
        uint256 id = _collateralised();
        vm.prank(guardian);
        coordinator.setPaused(false, true);
        vm.expectRevert(
            abi.encodeWithSelector(IInferenceCoordinator.CoordinatorFulfilmentsPaused.selector, id, guardian)
        );
        _lock(prover, id);
    }

    function test_deposit_rejectsZero() public {
        vm.expectRevert(
            abi.encodeWithSelector(IInferenceCoordinator.CoordinatorZeroDeposit.selector, prover)
        );
        vm.prank(prover);
        coordinator.deposit();
    }

    // ---------------------------------------------------------------------------------------------------------
    // Who is paid
    // ---------------------------------------------------------------------------------------------------------

    function test_fulfill_aCopyWithinTheLockPaysTheLockerPriceAndCollateral() public {
        uint256 id = _collateralised();
        _deposit(prover, COLLATERAL);
        _lock(prover, id);
        (uint256[] memory instances, bytes memory proof) = _good();
        // The copier sends the locker's calldata first (a higher tip): it pays the copier nothing.
        vm.prank(copier);
        coordinator.fulfill(id, _t(id), _h(id), proof, instances);
        _sync();
        assertEq(coordinator.credits(copier), 0, "copier paid nothing");
        assertEq(
            coordinator.credits(prover),
            FEE + COLLATERAL,
            "locker paid the price and its collateral back"
        );
        assertEq(_receipt(id).fulfiller, prover, "receipt names the locker");
        // The locker's own transaction then fails cheaply, naming the locker as paid.
        vm.expectRevert(
            abi.encodeWithSelector(IInferenceCoordinator.CoordinatorRequestAlreadyFulfilled.selector, id)
        );
        vm.prank(prover);
        coordinator.fulfill(id, _t(id), _h(id), proof, instances);
    }

    function test_fulfill_aFillCommittedBeforeTheLockBeatsTheLock() public {
        uint256 id = _collateralised();
        (uint256[] memory instances, bytes memory proof) = _good();
        _commitFill(late, id, proof); // `late` commits, then someone locks in a later block
        _deposit(copier, COLLATERAL);
        _lock(copier, id);
        vm.expectEmit(true, true, true, true, address(coordinator));
        emit IInferenceCoordinator.LockReleased(id, copier, COLLATERAL);
        vm.prank(late);
        coordinator.fulfill(id, _t(id), _h(id), proof, instances);
        _sync();
        assertEq(coordinator.credits(late), FEE, "the earlier committer is paid");
        assertEq(coordinator.credits(copier), COLLATERAL, "the locker only gets its collateral back");
    }

    function test_fulfill_aCommitmentAfterTheLockDoesNotBeatIt() public {
        uint256 id = _collateralised();
        _deposit(prover, COLLATERAL);
        _lock(prover, id);
        (uint256[] memory instances, bytes memory proof) = _good();
        _commitFill(copier, id, proof);
        vm.prank(copier);
        coordinator.fulfill(id, _t(id), _h(id), proof, instances);
        _sync();
        assertEq(coordinator.credits(copier), 0, "copier paid nothing");
        assertEq(coordinator.credits(prover), FEE + COLLATERAL, "locker paid");
    }

    function test_fulfill_anOpenFillNeedsTheSendersOwnEarlierCommitment() public {
        uint256 id = _requestOpen(requester, FEE, 0);
        (uint256[] memory instances, bytes memory proof) = _good();
        bytes32 mine = coordinator.fillCommitment(prover, _ids(id), keccak256(proof));
        vm.prank(prover);
        coordinator.commit(mine);
        // Same block: too recent.
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceCoordinator.CoordinatorCommitmentTooRecent.selector,
                id,
                mine,
                block.number
            )
        );
        vm.prank(prover);
        coordinator.fulfill(id, _t(id), _h(id), proof, instances);
        vm.roll(block.number + 1);
        // A copier without a commitment of its own.
        bytes32 theirs = coordinator.fillCommitment(copier, _ids(id), keccak256(proof));
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceCoordinator.CoordinatorFillNotCommitted.selector,
                id,
                copier,
                theirs
            )
        );
        vm.prank(copier);
        coordinator.fulfill(id, _t(id), _h(id), proof, instances);
        // Nobody can re-commit the prover's commitment to move it later.
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceCoordinator.CoordinatorAlreadyCommitted.selector,
                mine,
                block.number - 1
            )
        );
        vm.prank(copier);
        coordinator.commit(mine);

        vm.prank(prover);
        coordinator.fulfill(id, _t(id), _h(id), proof, instances);
        _sync();
        assertEq(coordinator.credits(prover), FEE, "committed prover paid");
        assertEq(coordinator.commitmentBlock(mine), 0, "commitment used up");
    }

    function test_fulfill_afterALapsedLockSlashesHalfToTheFulfillerHalfToTheRequester() public {
        uint256 id = _collateralised();
        _deposit(prover, COLLATERAL);
        _lock(prover, id);
        vm.warp(block.timestamp + 30 minutes + 1); // lock lapsed, request still live
        (uint256[] memory instances, bytes memory proof) = _good();
        // The lapsed locker's own calldata, copied, pays nobody: a commitment is needed now.
        bytes32 lockerCommitment = coordinator.fillCommitment(prover, _ids(id), keccak256(proof));
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceCoordinator.CoordinatorFillNotCommitted.selector,
                id,
                prover,
                lockerCommitment
            )
        );
        vm.prank(prover);
        coordinator.fulfill(id, _t(id), _h(id), proof, instances);

        _commitFill(late, id, proof);
        vm.expectEmit(true, true, true, true, address(coordinator));
        emit IInferenceCoordinator.LockSlashed(id, prover, COLLATERAL, late, COLLATERAL / 2, COLLATERAL / 2);
        vm.prank(late);
        coordinator.fulfill(id, _t(id), _h(id), proof, instances);
        _sync();
        assertEq(coordinator.credits(late), FEE + COLLATERAL / 2, "price + half the collateral");
        assertEq(coordinator.credits(requester), COLLATERAL / 2, "the other half to the requester");
        assertEq(coordinator.credits(prover), 0, "the locker lost its collateral");
    }

    // ---------------------------------------------------------------------------------------------------------
    // Auction
    // ---------------------------------------------------------------------------------------------------------

    function testFuzz_lock_fixesTheAuctionPriceAndReturnsTheRest(
        uint256 minPrice,
        uint256 maxPrice,
        uint32 after_
    ) public {
        maxPrice = bound(maxPrice, 1, 10 ether);
        minPrice = bound(minPrice, 0, maxPrice);
        uint32 ramp = 20 minutes;
        after_ = uint32(bound(after_, 0, 30 minutes));
        uint256 id = _requestWith(
            maxPrice,
            IInferenceCoordinator.Offer({
                minPrice: minPrice,
                rampPeriod: ramp,
                lockTimeout: 30 minutes,
                lockCollateral: 0,
                callbackGasLimit: 0,
                deadline: uint64(block.timestamp) + TTL
            })
        );
        uint256 start = block.timestamp;
        vm.warp(start + after_);
        uint256 expected = after_ >= ramp ? maxPrice : minPrice + ((maxPrice - minPrice) * after_) / ramp;
        assertEq(coordinator.priceAt(_t(id), uint64(block.timestamp)), expected, "quoted price");
        assertLe(coordinator.priceAt(_t(id), uint64(start)), expected, "the price only rises");
        _lock(prover, id);
        assertEq(_h(id).price, expected, "price fixed");
        assertEq(coordinator.credits(requester), maxPrice - expected, "the rest back to the requester");
        vm.warp(start + 29 minutes);
        assertEq(_h(id).price, expected, "the lock holds its price");
        assertEq(
            coordinator.priceAt(_t(id), uint64(block.timestamp)),
            maxPrice,
            "while the auction moved on"
        );
        _fulfil(id);
        assertEq(coordinator.credits(prover), expected, "the locker is paid the locked price");
        assertEq(address(coordinator).balance, maxPrice, "everything accounted for");
    }

    function test_fulfill_anOpenFillIsPaidTheAuctionPriceOfItsBlock() public {
        uint256 id = _requestWith(
            1 ether,
            IInferenceCoordinator.Offer({
                minPrice: 0,
                rampPeriod: 100,
                lockTimeout: 10,
                lockCollateral: 0,
                callbackGasLimit: 0,
                deadline: uint64(block.timestamp) + TTL
            })
        );
        vm.warp(block.timestamp + 25);
        _fulfilOpen(id);
        assertEq(coordinator.credits(prover), 0.25 ether, "a quarter of the way up the ramp");
        assertEq(coordinator.credits(requester), 0.75 ether, "the rest back");
    }

    // ---------------------------------------------------------------------------------------------------------
    // Callback gas is the requester's cost
    // ---------------------------------------------------------------------------------------------------------

    function test_requestInference_rejectsAMinPriceBelowTheCallbackCost() public {
        vm.fee(7 gwei);
        uint32 limit = 5_000_000;
        uint256 cost = uint256(limit) * 7 gwei * 2;
        IInferenceCoordinator.Offer memory terms = _offer(limit, uint64(block.timestamp) + TTL);
        vm.expectRevert(
            abi.encodeWithSelector(IInferenceCoordinator.CoordinatorPriceBelowCallbackCost.selector, 0, cost)
        );
        _requestWith(0, terms);
        terms.minPrice = cost;
        uint256 id = _requestWith(cost, terms);
        assertEq(_t(id).minPrice, cost, "a price that covers the callback is accepted");
    }

    // ---------------------------------------------------------------------------------------------------------
    // Cancel and refunds
    // ---------------------------------------------------------------------------------------------------------

    function test_cancel_returnsTheEscrowOfAnUnlockedRequestToItsRequesterOnly() public {
        uint256 id = _requestOpen(requester, FEE, 0);
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceCoordinator.CoordinatorNotRequester.selector,
                id,
                copier,
                requester
            )
        );
        vm.prank(copier);
        coordinator.cancel(id, _t(id));
        vm.expectEmit(true, true, true, true, address(coordinator));
        emit IInferenceCoordinator.InferenceCancelled(id, requester, FEE);
        vm.prank(requester);
        coordinator.cancel(id, _t(id));
        assertEq(coordinator.credits(requester), FEE, "escrow back");
        assertEq(uint256(_status(id)), uint256(IInferenceCoordinator.RequestStatus.Cancelled), "cancelled");
        (uint256[] memory instances, bytes memory proof) = _good();
        vm.expectRevert(
            abi.encodeWithSelector(IInferenceCoordinator.CoordinatorRequestCancelled.selector, id)
        );
        vm.prank(prover);
        coordinator.fulfill(id, _t(id), _h(id), proof, instances);
    }

    function test_cancel_rejectsALockedRequest() public {
        uint256 id = _request(); // locked by `prover`
        vm.expectRevert(abi.encodeWithSelector(IInferenceCoordinator.CoordinatorRequestLocked.selector, id));
        vm.prank(requester);
        coordinator.cancel(id, _t(id));
    }

    function test_refund_whileFulfilmentsArePausedReturnsEscrowAndTheLockersCollateral() public {
        uint256 open = _requestOpen(requester, FEE, 0);
        uint256 locked = _collateralised();
        _deposit(prover, COLLATERAL);
        _lock(prover, locked);
        vm.prank(guardian);
        coordinator.setPaused(false, true);
        coordinator.refund(open, _t(open), _h(open));
        vm.expectEmit(true, true, true, true, address(coordinator));
        emit IInferenceCoordinator.LockReleased(locked, prover, COLLATERAL);
        coordinator.refund(locked, _t(locked), _h(locked));
        assertEq(coordinator.credits(requester), 2 * FEE, "both escrows back before the deadline");
        assertEq(coordinator.credits(prover), COLLATERAL, "a pause never slashes");
    }

    function test_refund_afterTheDeadlineGivesALapsedLocksCollateralToTheRequester() public {
        uint256 id = _collateralised();
        _deposit(prover, COLLATERAL);
        _lock(prover, id);
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceCoordinator.CoordinatorRequestNotExpired.selector,
                id,
                _t(id).deadline
            )
        );
        coordinator.refund(id, _t(id), _h(id));
        vm.warp(block.timestamp + TTL + 1);
        vm.expectEmit(true, true, true, true, address(coordinator));
        emit IInferenceCoordinator.LockSlashed(id, prover, COLLATERAL, address(0), 0, COLLATERAL);
        coordinator.refund(id, _t(id), _h(id));
        assertEq(coordinator.credits(requester), FEE + COLLATERAL, "escrow and the whole collateral");
        assertEq(coordinator.credits(prover), 0, "slashed");
    }

    // ---------------------------------------------------------------------------------------------------------
    // Caps
    // ---------------------------------------------------------------------------------------------------------

    function testFuzz_requestInference_rejectsALockTimeoutOfZeroOrPastTheDeadline(uint32 lockTimeout) public {
        IInferenceCoordinator.Offer memory terms = _offer(0, uint64(block.timestamp) + TTL);
        terms.lockTimeout = lockTimeout % 2 == 0 ? 0 : uint32(bound(lockTimeout, TTL + 1, type(uint32).max));
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceCoordinator.CoordinatorLockTimeoutOutOfRange.selector,
                terms.lockTimeout,
                TTL
            )
        );
        _requestWith(0, terms);
    }

    function test_requestInference_rejectsARampPastTheDeadlineACollateralTooLargeAndMinAboveMax() public {
        IInferenceCoordinator.Offer memory terms = _offer(0, uint64(block.timestamp) + TTL);
        terms.rampPeriod = uint32(TTL + 1);
        vm.expectRevert(
            abi.encodeWithSelector(IInferenceCoordinator.CoordinatorRampPeriodTooLong.selector, TTL + 1, TTL)
        );
        _requestWith(0, terms);

        terms = _offer(0, uint64(block.timestamp) + TTL);
        terms.lockCollateral = uint256(type(uint96).max) + 1;
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceCoordinator.CoordinatorCollateralTooLarge.selector,
                terms.lockCollateral,
                uint256(type(uint96).max)
            )
        );
        _requestWith(0, terms);

        terms = _offer(0, uint64(block.timestamp) + TTL);
        terms.minPrice = FEE + 1;
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceCoordinator.CoordinatorMinPriceAboveMaxPrice.selector,
                FEE + 1,
                FEE
            )
        );
        _requestWith(FEE, terms);
    }
}
