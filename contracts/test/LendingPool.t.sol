// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

// Test names follow `test_<subject>_<behaviour>` / `testFuzz_...` (see STYLE.md), and gas rules do not apply here.
/* solhint-disable func-name-mixedcase, gas-small-strings, gas-strict-inequalities, function-max-lines */

import {TestBase} from "./utils/TestBase.t.sol";
import {IInferenceConsumer} from "../interfaces/IInferenceConsumer.sol";
import {IInferenceCoordinator} from "../interfaces/IInferenceCoordinator.sol";
import {ILendingPool} from "../interfaces/ILendingPool.sol";
import {LendingPool} from "../examples/LendingPool.sol";
import {MockInferenceCoordinator} from "./MockInferenceCoordinator.sol";

/// @dev Refuses ether: a borrower whose address cannot be paid.
contract EtherRefuser {
    function applyTo(ILendingPool pool, uint256 amount) external payable returns (uint256) {
        return pool.applyForLoan{value: msg.value}(amount);
    }
}

/// @dev The example lending dApp's rules and books, against MockInferenceCoordinator (TEST-ONLY: it checks no
///      proof; the outputs here are the test's).
contract LendingPoolTest is TestBase {
    uint8 internal constant SCALE = 11;
    int256 internal constant ONE = int256(1) << SCALE;
    uint256 internal constant FEE = 0.001 ether;
    uint128 internal constant MAX_LOAN = 5 ether;

    MockInferenceCoordinator internal coordinator;
    LendingPool internal pool;
    address internal owner = makeAddr("owner");
    address internal borrower = makeAddr("borrower");
    address internal keeper = makeAddr("keeper");
    bytes32 internal modelId = keccak256("credit-logreg");

    function setUp() public {
        coordinator = new MockInferenceCoordinator();
        pool = new LendingPool(IInferenceCoordinator(address(coordinator)), owner, _config());
        vm.deal(owner, 100 ether);
        vm.deal(borrower, 100 ether);
        vm.prank(owner);
        pool.fund{value: 20 ether}();
    }

    function _config() internal view returns (ILendingPool.Config memory) {
        return
            ILendingPool.Config({
                modelId: modelId,
                modelVersion: 1,
                inputScale: SCALE,
                outputScale: SCALE,
                maxDefaultBps: 3000,
                baseRateBps: 200,
                riskRateBps: 2000,
                callbackGasLimit: 150_000,
                term: 30 days,
                requestTimeout: 1 hours,
                maxLoan: MAX_LOAN
            });
    }

    /// @dev [p(repay), p(default)] at the output scale for a default probability in basis points.
    function _outputs(uint256 defaultBps) internal pure returns (int256[] memory out) {
        out = new int256[](2);
        out[1] = int256((defaultBps << SCALE) / 10_000);
        out[0] = ONE - out[1];
    }

    function _apply(uint256 amount) internal returns (uint256 id) {
        vm.prank(borrower);
        id = pool.applyForLoan{value: FEE}(amount);
    }

    function _noLock() internal pure returns (IInferenceCoordinator.LockState memory none) {}

    function _assertBooks(uint256 refundsOwed) internal view {
        ILendingPool.Loan memory ln = pool.loan(borrower);
        uint256 reserved =
            ln.status == ILendingPool.LoanStatus.Pending || ln.status == ILendingPool.LoanStatus.Approved
                ? ln.amount
                : 0;
        assertEq(
            address(pool).balance,
            pool.available() + reserved + refundsOwed,
            "balance = idle + reserved + refunds"
        );
    }

    function test_apply_sendsTheBorrowersRecordAsTheInputAndReservesTheAmount() public {
        uint256 id = _apply(2 ether);
        int256[] memory x = coordinator.inputOf(id);
        assertEq(x.length, 5, "five features");
        assertEq(x[0], 0, "no loans repaid");
        assertEq(x[1], 0, "none late");
        assertEq(x[2], 0, "no defaults");
        assertEq(x[3], ONE, "leverage 1: nothing repaid yet");
        assertEq(x[4], 0, "no tenure");
        IInferenceCoordinator.Terms memory r = coordinator.termsOf(id);
        assertEq(r.requester, address(pool), "the pool asks");
        assertEq(uint256(r.version), 1, "the pinned version, never latest");
        assertEq(r.maxPrice, FEE, "the borrower pays the inference");
        assertEq(pool.available(), 18 ether, "amount reserved");
        assertEq(uint256(pool.loan(borrower).status), uint256(ILendingPool.LoanStatus.Pending), "pending");
        _assertBooks(0);
    }

    function test_price_approvesBelowTheRiskLimitAtARateOfTheVerifiedProbability() public {
        uint256 id = _apply(2 ether);
        assertTrue(coordinator.deliver(id, _outputs(1000)), "callback within its gas");
        ILendingPool.Loan memory ln = pool.loan(borrower);
        assertEq(uint256(ln.status), uint256(ILendingPool.LoanStatus.Approved), "approved");
        uint256 bps = ln.defaultBps;
        assertEq(
            bps,
            (uint256(_outputs(1000)[1]) * 10_000) >> SCALE,
            "the verified probability in bps, rounded down"
        );
        assertLe(995, bps, "10% at the model's output scale (2^-11 steps, about 5 bps)");
        assertEq(uint256(ln.interest), (2 ether * (200 + (2000 * bps) / 10_000)) / 10_000, "base + risk * p");
        _assertBooks(0);

        uint256 before = borrower.balance;
        vm.prank(borrower);
        pool.draw();
        assertEq(borrower.balance, before + 2 ether, "paid out");
        assertEq(uint256(pool.loan(borrower).due), block.timestamp + 30 days, "due after the term");
        _assertBooks(0);
    }

    function test_price_declinesAboveTheRiskLimitAndReleasesTheReserve() public {
        uint256 id = _apply(2 ether);
        vm.expectEmit(true, true, true, true, address(pool));
        emit ILendingPool.LoanDeclined(borrower, id, (uint256(_outputs(4000)[1]) * 10_000) >> SCALE);
        coordinator.deliver(id, _outputs(4000));
        assertEq(uint256(pool.loan(borrower).status), uint256(ILendingPool.LoanStatus.None), "closed");
        assertEq(pool.available(), 20 ether, "reserve released");
        _assertBooks(0);
    }

    function test_price_declinesOutputsOfAnotherShapeInsteadOfReverting() public {
        uint256 id = _apply(1 ether);
        int256[] memory three = new int256[](3);
        vm.expectEmit(true, true, true, true, address(pool));
        emit ILendingPool.LoanDeclined(borrower, id, 10_000);
        assertTrue(coordinator.deliver(id, three), "handled, not reverted");
        assertEq(pool.available(), 20 ether, "reserve released");
    }

    function test_record_repaymentsChangeTheNextInput() public {
        uint256 id = _apply(2 ether);
        coordinator.deliver(id, _outputs(500));
        vm.prank(borrower);
        pool.draw();
        ILendingPool.Loan memory ln = pool.loan(borrower);
        vm.warp(block.timestamp + 10 days);
        vm.prank(borrower);
        pool.repay{value: uint256(ln.amount) + ln.interest}();
        ILendingPool.Record memory r = pool.record(borrower);
        assertEq(uint256(r.onTime), 1, "on time");
        assertEq(uint256(r.repaidVolume), 2 ether, "volume");
        assertEq(pool.available(), 20 ether + ln.interest, "principal and interest back");

        int256[] memory x = pool.features(borrower, 2 ether);
        assertEq(x[0], ONE / 10, "one of ten repaid");
        assertEq(x[3], ONE / 2, "leverage: 2 of 2 + 2");
        assertEq(x[4], (10 days * ONE) / 730 days, "tenure since the first draw");
        _assertBooks(0);
    }

    function test_repay_countsALateRepaymentAndRefusesAWrongAmount() public {
        coordinator.deliver(_apply(1 ether), _outputs(500));
        vm.prank(borrower);
        pool.draw();
        ILendingPool.Loan memory ln = pool.loan(borrower);
        uint256 owed = uint256(ln.amount) + ln.interest;
        vm.expectRevert(
            abi.encodeWithSelector(ILendingPool.PoolRepaymentMismatch.selector, borrower, owed - 1, owed)
        );
        vm.prank(borrower);
        pool.repay{value: owed - 1}();
        vm.warp(uint256(ln.due) + 1);
        vm.prank(borrower);
        pool.repay{value: owed}();
        assertEq(uint256(pool.record(borrower).late), 1, "late");
        assertEq(uint256(pool.record(borrower).onTime), 0, "not on time");
    }

    function test_markDefault_onlyAfterTheGracePeriod() public {
        coordinator.deliver(_apply(1 ether), _outputs(500));
        vm.prank(borrower);
        pool.draw();
        uint256 overdue = uint256(pool.loan(borrower).due) + 7 days;
        vm.warp(overdue);
        vm.expectRevert(
            abi.encodeWithSelector(ILendingPool.PoolNotOverdue.selector, borrower, overdue, overdue)
        );
        vm.prank(keeper);
        pool.markDefault(borrower);
        vm.warp(overdue + 1);
        vm.prank(keeper);
        pool.markDefault(borrower);
        assertEq(uint256(pool.record(borrower).defaults), 1, "defaulted");
        assertEq(pool.features(borrower, 1 ether)[2], ONE / 5, "a default weighs in the next price");
        _assertBooks(0);
    }

    function test_apply_oneOpenApplicationOrLoanAtATime() public {
        _apply(1 ether);
        vm.expectRevert(
            abi.encodeWithSelector(
                ILendingPool.PoolLoanOpen.selector,
                borrower,
                ILendingPool.LoanStatus.Pending
            )
        );
        _apply(1 ether);
    }

    function testFuzz_apply_refusesAnAmountOverTheLimitOrTheLiquidity(uint256 amount) public {
        amount = bound(amount, uint256(MAX_LOAN) + 1, type(uint128).max);
        vm.expectRevert(abi.encodeWithSelector(ILendingPool.PoolAmountInvalid.selector, amount, MAX_LOAN));
        _apply(amount);
        vm.prank(owner);
        pool.withdrawLiquidity(payable(owner), 19 ether);
        vm.expectRevert(abi.encodeWithSelector(ILendingPool.PoolLiquidityShort.selector, 2 ether, 1 ether));
        _apply(2 ether);
    }

    function test_expire_refundsTheFeeByPullSoARefusingBorrowerCannotLockTheReserve() public {
        EtherRefuser refuser = new EtherRefuser();
        vm.deal(address(refuser), 1 ether);
        vm.prank(address(refuser));
        uint256 id = refuser.applyTo{value: FEE}(pool, 3 ether);
        assertEq(pool.available(), 17 ether, "reserved");
        IInferenceCoordinator.Terms memory terms = coordinator.termsOf(id);
        IInferenceCoordinator.LockState memory none;
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceCoordinator.CoordinatorRequestNotExpired.selector,
                id,
                block.timestamp + 1 hours
            )
        );
        pool.expire(address(refuser), terms, none);
        vm.warp(block.timestamp + 1 hours + 1);
        vm.prank(keeper);
        pool.expire(address(refuser), terms, none);
        assertEq(pool.available(), 20 ether, "reserve released although the borrower refuses ether");
        assertEq(address(pool).balance, 20 ether + FEE, "the refunded fee waits in the pool");
    }

    function test_receiveInference_onlyFromTheCoordinator() public {
        uint256 id = _apply(1 ether);
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceConsumer.ConsumerCallerNotCoordinator.selector,
                keeper,
                address(coordinator)
            )
        );
        vm.prank(keeper);
        pool.receiveInference(id, modelId, 1, _outputs(0));
    }

    function test_config_refusesLatestAsTheVersion() public {
        ILendingPool.Config memory c = _config();
        c.modelVersion = 0;
        vm.expectRevert(
            abi.encodeWithSelector(
                ILendingPool.PoolConfigInvalid.selector,
                0,
                c.term,
                c.requestTimeout,
                c.maxDefaultBps
            )
        );
        vm.prank(owner);
        pool.setConfig(c);
    }

    function test_expire_thenClaimRefund() public {
        uint256 id = _apply(1 ether);
        vm.warp(block.timestamp + 1 hours + 1);
        pool.expire(borrower, coordinator.termsOf(id), _noLock());
        _assertBooks(FEE);
        uint256 before = borrower.balance;
        vm.prank(borrower);
        assertEq(pool.claimRefund(), FEE, "the fee");
        assertEq(borrower.balance, before + FEE, "paid");
        _assertBooks(0);
        vm.expectRevert(abi.encodeWithSelector(ILendingPool.PoolNothingToClaim.selector, borrower));
        vm.prank(borrower);
        pool.claimRefund();
    }

    function test_settleFromReceipt_pricesAnApplicationWhoseCallbackRanOutOfGas() public {
        ILendingPool.Config memory c = _config();
        c.callbackGasLimit = 5_000; // too little for the pricing: the callback fails
        vm.prank(owner);
        pool.setConfig(c);
        uint256 id = _apply(2 ether);
        assertFalse(coordinator.deliver(id, _outputs(1000)), "the callback ran out of gas");
        assertEq(
            uint256(pool.loan(borrower).status),
            uint256(ILendingPool.LoanStatus.Pending),
            "still pending"
        );

        // Not expired: the result exists. Past the deadline too.
        vm.warp(block.timestamp + 1 hours + 1);
        IInferenceCoordinator.Terms memory terms = coordinator.termsOf(id);
        vm.expectRevert(abi.encodeWithSelector(ILendingPool.PoolApplicationFulfilled.selector, borrower, id));
        pool.expire(borrower, terms, _noLock());
        IInferenceCoordinator.Receipt memory receipt = coordinator.receiptOf(id);

        // Outputs other than the verified ones are refused.
        int256[] memory forged = _outputs(0);
        vm.expectRevert(
            abi.encodeWithSelector(
                ILendingPool.PoolOutputsMismatch.selector,
                id,
                keccak256(abi.encode(_outputs(1000))),
                keccak256(abi.encode(forged))
            )
        );
        vm.prank(keeper);
        pool.settleFromReceipt(borrower, receipt, forged);

        // A receipt with any field changed is not the coordinator's.
        IInferenceCoordinator.Receipt memory other = coordinator.receiptOf(id);
        other.callback = IInferenceCoordinator.CallbackStatus.Succeeded;
        vm.expectRevert(abi.encodeWithSelector(ILendingPool.PoolReceiptUnknown.selector, id));
        vm.prank(keeper);
        pool.settleFromReceipt(borrower, other, _outputs(1000));

        vm.expectEmit(true, true, true, false, address(pool));
        emit ILendingPool.LoanApproved(borrower, id, 0, 0);
        vm.prank(keeper);
        pool.settleFromReceipt(borrower, receipt, _outputs(1000));
        ILendingPool.Loan memory ln = pool.loan(borrower);
        assertEq(uint256(ln.status), uint256(ILendingPool.LoanStatus.Approved), "approved from the receipt");
        uint256 bps = (uint256(_outputs(1000)[1]) * 10_000) >> SCALE;
        assertEq(uint256(ln.defaultBps), bps, "the verified probability");
        assertEq(uint256(ln.interest), (2 ether * (200 + (2000 * bps) / 10_000)) / 10_000, "base + risk * p");
        _assertBooks(0);

        vm.expectRevert(
            abi.encodeWithSelector(
                ILendingPool.PoolWrongStatus.selector,
                borrower,
                ILendingPool.LoanStatus.Approved,
                ILendingPool.LoanStatus.Pending
            )
        );
        pool.settleFromReceipt(borrower, receipt, _outputs(1000));
    }

    function test_settleFromReceipt_declinesFromTheReceiptAboveTheRiskLimit() public {
        ILendingPool.Config memory c = _config();
        c.callbackGasLimit = 5_000;
        vm.prank(owner);
        pool.setConfig(c);
        uint256 id = _apply(2 ether);
        assertFalse(coordinator.deliver(id, _outputs(4000)), "the callback ran out of gas");
        pool.settleFromReceipt(borrower, coordinator.receiptOf(id), _outputs(4000));
        assertEq(
            uint256(pool.loan(borrower).status),
            uint256(ILendingPool.LoanStatus.None),
            "declined, closed"
        );
        assertEq(pool.available(), 20 ether, "reserve released");
        _assertBooks(0);
    }

    function test_settleFromReceipt_refusesARequestNotFulfilled() public {
        uint256 id = _apply(1 ether);
        // The receipt the request would have: not the coordinator's while it is open.
        IInferenceCoordinator.Terms memory t = coordinator.termsOf(id);
        IInferenceCoordinator.Receipt memory wouldBe = IInferenceCoordinator.Receipt({
            modelId: t.modelId,
            version: t.version,
            inputCommitment: t.inputCommitment,
            outputsHash: keccak256(abi.encode(_outputs(1000))),
            proofHash: bytes32(0),
            fulfiller: address(this),
            fulfilledAt: uint64(block.timestamp),
            callback: IInferenceCoordinator.CallbackStatus.Failed
        });
        vm.expectRevert(abi.encodeWithSelector(ILendingPool.PoolReceiptUnknown.selector, id));
        pool.settleFromReceipt(borrower, wouldBe, _outputs(1000));
        vm.expectRevert(
            abi.encodeWithSelector(
                ILendingPool.PoolWrongStatus.selector,
                keeper,
                ILendingPool.LoanStatus.None,
                ILendingPool.LoanStatus.Pending
            )
        );
        pool.settleFromReceipt(keeper, wouldBe, _outputs(1000));
    }

    function test_price_usesTheTermsSnapshottedAtTheApplicationNotTheCurrentConfig() public {
        uint256 id = _apply(2 ether);
        ILendingPool.Loan memory applied = pool.loan(borrower);
        assertEq(uint256(applied.terms.baseRateBps), 200, "terms snapshotted");
        // The owner tightens everything while the proof is on its way.
        ILendingPool.Config memory c = _config();
        c.baseRateBps = 5000;
        c.riskRateBps = 9000;
        c.maxDefaultBps = 500;
        c.outputScale = SCALE + 4;
        c.term = 1 days;
        vm.prank(owner);
        pool.setConfig(c);

        assertTrue(coordinator.deliver(id, _outputs(1000)), "callback within its gas");
        ILendingPool.Loan memory ln = pool.loan(borrower);
        assertEq(
            uint256(ln.status),
            uint256(ILendingPool.LoanStatus.Approved),
            "approved under its own limit (30%)"
        );
        uint256 bps = (uint256(_outputs(1000)[1]) * 10_000) >> SCALE;
        assertEq(uint256(ln.defaultBps), bps, "decoded at the application's output scale");
        assertEq(
            uint256(ln.interest),
            (2 ether * (200 + (2000 * bps) / 10_000)) / 10_000,
            "the application's rates"
        );
        vm.prank(borrower);
        pool.draw();
        assertEq(uint256(pool.loan(borrower).due), block.timestamp + 30 days, "the application's term");

        // A new application after the change gets the new terms.
        ILendingPool.Loan memory repaid = pool.loan(borrower);
        vm.prank(borrower);
        pool.repay{value: uint256(repaid.amount) + repaid.interest}();
        _apply(1 ether);
        assertEq(uint256(pool.loan(borrower).terms.baseRateBps), 5000, "new terms for a new application");
        _assertBooks(0);
    }

    // ---------------------------------------------------------------------------------------------------------
    // expire: InferenceConsumer._refundInference on the terms passed back
    // ---------------------------------------------------------------------------------------------------------

    /// @dev Someone refunded the request at the coordinator first: `expire` checks the terms against the id (their
    ///      hash) and closes the application on the fee already credited to the pool.
    function test_expire_worksWhenSomeoneElseRefundedFirst() public {
        uint256 id = _apply(1 ether);
        IInferenceCoordinator.Terms memory terms = coordinator.termsOf(id);
        vm.warp(block.timestamp + 1 hours + 1);
        vm.prank(keeper);
        coordinator.refund(id, terms, _noLock());
        assertEq(coordinator.credits(address(pool)), FEE, "the pool's credit at the coordinator");
        vm.expectEmit(true, true, true, true, address(pool));
        emit ILendingPool.ApplicationExpired(borrower, id, FEE);
        pool.expire(borrower, terms, _noLock());
        assertEq(coordinator.credits(address(pool)), 0, "withdrawn into the pool");
        assertEq(pool.available(), 20 ether, "reserve released");
        _assertBooks(FEE);
    }

    /// @dev Forged terms are refused whether the request is still open (the coordinator checks them) or was
    ///      refunded already (the consumer checks them against the id), so nobody can make the pool book a larger
    ///      refund than the coordinator credited.
    function test_expire_rejectsForgedTerms() public {
        uint256 id = _apply(1 ether);
        vm.warp(block.timestamp + 1 hours + 1);
        IInferenceCoordinator.Terms memory forged = coordinator.termsOf(id);
        forged.maxPrice = 1 ether;
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceCoordinator.CoordinatorTermsMismatch.selector,
                id,
                IInferenceCoordinator.RequestStatus.Open
            )
        );
        pool.expire(borrower, forged, _noLock());

        coordinator.refund(id, coordinator.termsOf(id), _noLock());
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceConsumer.ConsumerTermsMismatch.selector,
                id,
                IInferenceCoordinator.RequestStatus.Refunded
            )
        );
        pool.expire(borrower, forged, _noLock());

        // Another requester's terms: refused before anything is asked of the coordinator.
        IInferenceCoordinator.Terms memory theirs = coordinator.termsOf(id);
        theirs.requester = keeper;
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceConsumer.ConsumerTermsMismatch.selector,
                id,
                IInferenceCoordinator.RequestStatus.Refunded
            )
        );
        pool.expire(borrower, theirs, _noLock());

        pool.expire(borrower, coordinator.termsOf(id), _noLock());
        _assertBooks(FEE);
    }
}
