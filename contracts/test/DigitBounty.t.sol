// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

// Test names follow `test_<subject>_<behaviour>` / `testFuzz_...` (see STYLE.md), and gas rules do not apply here.
/* solhint-disable func-name-mixedcase, gas-small-strings, gas-strict-inequalities, function-max-lines, gas-increment-by-one */

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {RegistryFixture} from "./utils/RegistryFixture.t.sol";
import {CoordinatorLogs} from "./utils/CoordinatorLogs.t.sol";
import {IDigitBounty} from "../interfaces/IDigitBounty.sol";
import {IInferenceConsumer} from "../interfaces/IInferenceConsumer.sol";
import {IInferenceCoordinator} from "../interfaces/IInferenceCoordinator.sol";
import {DigitBounty} from "../examples/DigitBounty.sol";
import {InferenceCoordinator} from "../coordinator/InferenceCoordinator.sol";
import {InferenceVerifier} from "../verifier/InferenceVerifier.sol";
import {FieldElement} from "../libraries/FieldElement.sol";

/// @dev The example dApp end to end on the real coordinator and route, with MockHalo2Verifier (TEST-ONLY) in
///      place of the digits-mlp verifier and its (64 inputs, 10 outputs) layout. With a real proof:
///      test/contracts/coordinator.test.ts.
contract DigitBountyTest is RegistryFixture, CoordinatorLogs {
    uint88 internal constant PRIZE = 0.1 ether;
    uint256 internal constant FEE = 0.001 ether;
    uint64 internal constant TIMEOUT = 1 hours;

    InferenceVerifier internal route;
    InferenceCoordinator internal coordinator;
    DigitBounty internal bounty;
    bytes32 internal modelId;

    address internal owner = makeAddr("owner");
    address internal player = makeAddr("player");
    address internal prover = makeAddr("prover");

    function setUp() public override {
        super.setUp();
        route = new InferenceVerifier(registry);
        coordinator = new InferenceCoordinator(registry, route, owner, owner);
        modelId = _register(alice, "digits-mlp");
        _addVersion(alice, modelId, _params(_defaultLayout(64, 10), 1));
        bounty = new DigitBounty(coordinator, owner, _config(100_000));
        vm.deal(owner, 10 ether);
        vm.deal(player, 10 ether);
        vm.prank(owner);
        bounty.fund{value: 1 ether}();
        vm.recordLogs(); // see `_sync`
    }

    // ---------------------------------------------------------------------------------------------------------
    // Helpers
    // ---------------------------------------------------------------------------------------------------------

    function _config(uint32 callbackGasLimit) internal view returns (IDigitBounty.Config memory) {
        return
            IDigitBounty.Config({
                modelId: modelId,
                modelVersion: 1,
                prize: PRIZE,
                callbackGasLimit: callbackGasLimit,
                requestTimeout: TIMEOUT
            });
    }

    /// @dev A drawing: 64 grey levels in [0, 8192].
    function _pixels(uint256 seed) internal pure returns (int256[] memory px) {
        px = new int256[](64);
        for (uint256 i = 0; i < 64; ++i) px[i] = int256(uint256(keccak256(abi.encode(seed, i))) % 8193);
    }

    /// @dev Logits whose largest entry is at `digit`.
    function _logits(uint256 digit) internal pure returns (int256[] memory out) {
        out = new int256[](10);
        for (uint256 i = 0; i < 10; ++i) out[i] = -int256(i) * 1000;
        out[digit] = 30_000;
    }

    /// @dev A play whose request `prover` locks (no collateral), so `prover` fulfils it without a commitment.
    function _play(int256[] memory pixels, uint8 digit) internal returns (uint256 id) {
        id = _playOpen(pixels, digit);
        IInferenceCoordinator.Terms[] memory terms = _termsList(coordinator, _ids(id));
        vm.prank(prover);
        coordinator.lock(_ids(id), terms);
        _sync();
    }

    /// @dev A play whose request stays open.
    function _playOpen(int256[] memory pixels, uint8 digit) internal returns (uint256 id) {
        vm.prank(player);
        id = bounty.play{value: FEE}(pixels, digit);
        _sync();
    }

    function _t(uint256 id) internal view returns (IInferenceCoordinator.Terms memory) {
        return _tAt(coordinator, id);
    }

    function _h(uint256 id) internal view returns (IInferenceCoordinator.LockState memory) {
        return _hAt(coordinator, id);
    }

    function _fulfil(uint256 id, int256[] memory pixels, int256[] memory logits) internal {
        uint256[] memory instances = new uint256[](74);
        for (uint256 i = 0; i < 64; ++i) instances[i] = FieldElement.encode(pixels[i]);
        for (uint256 i = 0; i < 10; ++i) instances[64 + i] = FieldElement.encode(logits[i]);
        IInferenceCoordinator.Terms memory terms = _t(id);
        IInferenceCoordinator.LockState memory held = _h(id);
        vm.prank(prover);
        coordinator.fulfill(id, terms, held, abi.encodePacked(keccak256(abi.encode(instances))), instances);
        _sync();
    }

    function _assertBooks(address[] memory claimants) internal view {
        uint256 claimable = 0;
        for (uint256 i = 0; i < claimants.length; ++i) claimable += bounty.claimable(claimants[i]);
        assertEq(
            address(bounty).balance,
            bounty.pot() + bounty.reserved() + claimable,
            "balance = pot + reserved + claimable"
        );
    }

    function _players() internal view returns (address[] memory ps) {
        ps = new address[](1);
        ps[0] = player;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Playing
    // ---------------------------------------------------------------------------------------------------------

    function test_play_requestsAnInferenceAndReservesThePrize() public {
        int256[] memory pixels = _pixels(1);
        uint256 id = _play(pixels, 7);
        IInferenceCoordinator.Terms memory r = _t(id);
        assertEq(r.requester, address(bounty), "the bounty is the requester");
        assertEq(r.maxPrice, FEE, "the player's fee");
        assertEq(r.minPrice, FEE, "a fixed price");
        assertEq(uint256(r.version), 1, "latest active version resolved");
        assertEq(uint256(r.callbackGasLimit), 100_000, "callback gas");
        assertEq(uint256(r.deadline), block.timestamp + TIMEOUT, "deadline");
        assertEq(r.inputCommitment, coordinator.computeInputCommitment(pixels), "the drawing");
        IDigitBounty.Play memory p = bounty.openPlay(id);
        assertEq(p.player, player, "player");
        assertEq(uint256(p.claimedDigit), 7, "claimed digit");
        assertEq(uint256(p.prize), PRIZE, "prize");
        assertEq(bounty.pot(), 1 ether - PRIZE, "pot");
        assertEq(bounty.reserved(), PRIZE, "reserved");
        _assertBooks(_players());
    }

    function test_play_winsThePrizeWhenTheModelSeesTheClaimedDigit() public {
        int256[] memory pixels = _pixels(2);
        uint256 id = _play(pixels, 7);
        vm.expectEmit(true, true, true, true, address(bounty));
        emit IDigitBounty.PlayResolved(id, player, 7, 7, true, PRIZE);
        _fulfil(id, pixels, _logits(7));

        assertEq(
            uint256(_receiptAt(coordinator, id).callback),
            uint256(IInferenceCoordinator.CallbackStatus.Succeeded),
            "the callback fits its gas limit"
        );
        assertEq(bounty.claimable(player), PRIZE, "prize credited");
        assertEq(bounty.reserved(), 0, "nothing reserved");
        assertEq(bounty.pot(), 1 ether - PRIZE, "pot paid out");
        _assertBooks(_players());

        uint256 before = player.balance;
        vm.prank(player);
        assertEq(bounty.claim(), PRIZE, "claimed");
        assertEq(player.balance, before + PRIZE, "paid");
        _assertBooks(_players());
    }

    function test_play_losesAndReturnsThePrizeToThePot() public {
        int256[] memory pixels = _pixels(3);
        uint256 id = _play(pixels, 7);
        vm.expectEmit(true, true, true, true, address(bounty));
        emit IDigitBounty.PlayResolved(id, player, 7, 1, false, PRIZE);
        _fulfil(id, pixels, _logits(1));
        assertEq(bounty.claimable(player), 0, "no prize");
        assertEq(bounty.pot(), 1 ether, "pot restored");
        vm.expectRevert(abi.encodeWithSelector(IDigitBounty.BountyPlayUnknown.selector, id));
        bounty.openPlay(id);
        _assertBooks(_players());
    }

    /// @dev The prediction is numpy's argmax: the first index of the largest logit.
    function testFuzz_play_predictsTheFirstLargestLogit(int64[10] memory raw, uint8 claimed) public {
        claimed = uint8(bound(claimed, 0, 9));
        int256[] memory logits = new int256[](10);
        uint256 argmax = 0;
        for (uint256 i = 0; i < 10; ++i) {
            logits[i] = raw[i] % 4; // small range, so ties are common
            if (logits[i] > logits[argmax]) argmax = i;
        }
        int256[] memory pixels = _pixels(4);
        uint256 id = _play(pixels, claimed);
        vm.expectEmit(true, true, true, true, address(bounty));
        emit IDigitBounty.PlayResolved(id, player, claimed, argmax, argmax == claimed, PRIZE);
        _fulfil(id, pixels, logits);
        _assertBooks(_players());
    }

    function testFuzz_play_rejectsADigitAboveNine(uint8 digit) public {
        digit = uint8(bound(digit, 10, 255));
        int256[] memory pixels = _pixels(5);
        vm.expectRevert(abi.encodeWithSelector(IDigitBounty.BountyDigitOutOfRange.selector, digit));
        vm.prank(player);
        bounty.play{value: FEE}(pixels, digit);
    }

    function testFuzz_play_rejectsAPixelOutsideZeroToOne(uint8 index, int256 value) public {
        index = uint8(bound(index, 0, 63));
        vm.assume(value < 0 || value > 8192);
        int256[] memory pixels = _pixels(6);
        pixels[index] = value;
        vm.expectRevert(abi.encodeWithSelector(IDigitBounty.BountyPixelOutOfRange.selector, index, value));
        vm.prank(player);
        bounty.play{value: FEE}(pixels, 3);
    }

    function test_play_rejectsADrawingOfTheWrongSize() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceCoordinator.CoordinatorInputLengthMismatch.selector,
                modelId,
                1,
                64,
                63
            )
        );
        vm.prank(player);
        bounty.play{value: FEE}(new int256[](63), 3);
    }

    function test_play_neverPromisesThePotTwice() public {
        for (uint256 i = 0; i < 10; ++i) _play(_pixels(100 + i), 1);
        assertEq(bounty.pot(), 0, "pot fully reserved");
        int256[] memory pixels = _pixels(7);
        vm.expectRevert(abi.encodeWithSelector(IDigitBounty.BountyPotTooSmall.selector, 0, PRIZE));
        vm.prank(player);
        bounty.play{value: FEE}(pixels, 1);
        _assertBooks(_players());
    }

    function testFuzz_receiveInference_acceptsOnlyTheCoordinator(address caller) public {
        vm.assume(caller != address(coordinator));
        uint256 id = _play(_pixels(8), 7);
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceConsumer.ConsumerCallerNotCoordinator.selector,
                caller,
                address(coordinator)
            )
        );
        vm.prank(caller);
        bounty.receiveInference(id, modelId, 1, _logits(7));
    }

    // ---------------------------------------------------------------------------------------------------------
    // Recovery: failed callback, expiry
    // ---------------------------------------------------------------------------------------------------------

    function test_settleFromReceipt_resolvesAPlayWhoseCallbackRanOutOfGas() public {
        vm.prank(owner);
        bounty.setConfig(_config(2_000)); // far too little for the callback
        int256[] memory pixels = _pixels(9);
        uint256 id = _play(pixels, 5);
        _fulfil(id, pixels, _logits(5));
        IInferenceCoordinator.Receipt memory r = _receiptAt(coordinator, id);
        assertEq(
            uint256(r.callback),
            uint256(IInferenceCoordinator.CallbackStatus.Failed),
            "callback failed"
        );
        assertEq(bounty.openPlay(id).player, player, "play still open");

        int256[] memory forged = _logits(4);
        vm.expectRevert(
            abi.encodeWithSelector(
                IDigitBounty.BountyOutputsMismatch.selector,
                id,
                keccak256(abi.encode(_logits(5))),
                keccak256(abi.encode(forged))
            )
        );
        bounty.settleFromReceipt(id, r, forged);

        // The receipt as if the callback had succeeded: not the coordinator's (it recorded the failure).
        IInferenceCoordinator.Receipt memory succeeded = _receiptAt(coordinator, id);
        succeeded.callback = IInferenceCoordinator.CallbackStatus.Succeeded;
        vm.expectRevert(abi.encodeWithSelector(IDigitBounty.BountyReceiptUnknown.selector, id));
        bounty.settleFromReceipt(id, succeeded, _logits(5));

        vm.prank(carol); // anyone, with the receipt and the outputs unpacked from InferenceFulfilled
        bounty.settleFromReceipt(id, r, _logits(5));
        assertEq(bounty.claimable(player), PRIZE, "won");
        vm.expectRevert(abi.encodeWithSelector(IDigitBounty.BountyPlayUnknown.selector, id));
        bounty.settleFromReceipt(id, r, _logits(5));
        _assertBooks(_players());
    }

    function test_settleFromReceipt_needsAFulfilment() public {
        uint256 id = _play(_pixels(10), 5);
        IInferenceCoordinator.Terms memory t = _t(id);
        IInferenceCoordinator.Receipt memory wouldBe = IInferenceCoordinator.Receipt({
            modelId: t.modelId,
            version: t.version,
            inputCommitment: t.inputCommitment,
            outputsHash: keccak256(abi.encode(_logits(5))),
            proofHash: bytes32(0),
            fulfiller: prover,
            fulfilledAt: uint64(block.timestamp),
            callback: IInferenceCoordinator.CallbackStatus.Failed
        });
        vm.expectRevert(abi.encodeWithSelector(IDigitBounty.BountyReceiptUnknown.selector, id));
        bounty.settleFromReceipt(id, wouldBe, _logits(5));
    }

    function test_expire_refundsTheFeeAndReleasesThePrizeAfterTheDeadline() public {
        uint256 id = _play(_pixels(11), 5);
        IInferenceCoordinator.Terms memory terms = _t(id);
        IInferenceCoordinator.LockState memory held = _h(id);
        uint64 deadline = terms.deadline;
        vm.expectRevert(
            abi.encodeWithSelector(IInferenceCoordinator.CoordinatorRequestNotExpired.selector, id, deadline)
        );
        bounty.expire(id, terms, held);

        vm.warp(uint256(deadline) + 1);
        vm.expectEmit(true, true, true, true, address(bounty));
        emit IDigitBounty.PlayExpired(id, player, FEE);
        vm.prank(carol);
        bounty.expire(id, terms, held);
        assertEq(bounty.pot(), 1 ether, "prize back in the pot");
        assertEq(bounty.reserved(), 0, "nothing reserved");
        assertEq(bounty.claimable(player), FEE, "fee back to the player");
        assertEq(coordinator.credits(address(bounty)), 0, "withdrawn from the coordinator");
        _assertBooks(_players());

        uint256 before = player.balance;
        vm.prank(player);
        bounty.claim();
        assertEq(player.balance, before + FEE, "paid back");
    }

    function test_expire_worksWhenSomeoneAlreadyRefundedAtTheCoordinator() public {
        uint256 id = _play(_pixels(12), 5);
        IInferenceCoordinator.Terms memory terms = _t(id);
        IInferenceCoordinator.LockState memory held = _h(id);
        vm.warp(uint256(terms.deadline) + 1);
        coordinator.refund(id, terms, held);
        // Refunded: the lock is no longer checked by anyone, the terms are checked against the id.
        IInferenceCoordinator.LockState memory none;
        bounty.expire(id, terms, none);
        assertEq(bounty.claimable(player), FEE, "fee back to the player");
        assertEq(coordinator.credits(address(bounty)), 0, "withdrawn from the coordinator");
        _assertBooks(_players());
    }

    /// @dev An open play (never locked) expires with the all-zero lock.
    function test_expire_refundsAnOpenPlay() public {
        uint256 id = _playOpen(_pixels(15), 5);
        IInferenceCoordinator.LockState memory none;
        vm.warp(uint256(_t(id).deadline) + 1);
        bounty.expire(id, _t(id), none);
        assertEq(bounty.claimable(player), FEE, "fee back to the player");
        _assertBooks(_players());
    }

    /// @dev Forged terms or lock: the coordinator refuses them while the request is live, the consumer once it was
    ///      refunded (they are not the ones the id was made from), so nobody can make the bounty credit a larger fee
    ///      than the coordinator refunded, or expire a play on another request's refund.
    function test_expire_rejectsForgedTermsAndLocks() public {
        uint256 id = _play(_pixels(16), 5);
        IInferenceCoordinator.Terms memory terms = _t(id);
        IInferenceCoordinator.LockState memory held = _h(id);
        vm.warp(uint256(terms.deadline) + 1);

        IInferenceCoordinator.Terms memory richer = _forged(coordinator, id, 4); // a higher maxPrice
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceCoordinator.CoordinatorTermsMismatch.selector,
                id,
                IInferenceCoordinator.RequestStatus.Locked
            )
        );
        bounty.expire(id, richer, held);
        IInferenceCoordinator.LockState memory otherLock = _h(id); // a copy: `held` stays the real one
        otherLock.price += 1;
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceCoordinator.CoordinatorTermsMismatch.selector,
                id,
                IInferenceCoordinator.RequestStatus.Locked
            )
        );
        bounty.expire(id, terms, otherLock);
        IInferenceCoordinator.Terms memory theirs = _forged(coordinator, id, 0); // another requester
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceConsumer.ConsumerTermsMismatch.selector,
                id,
                IInferenceCoordinator.RequestStatus.Locked
            )
        );
        bounty.expire(id, theirs, held);

        coordinator.refund(id, terms, held);
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceConsumer.ConsumerTermsMismatch.selector,
                id,
                IInferenceCoordinator.RequestStatus.Refunded
            )
        );
        bounty.expire(id, richer, held);

        // Another play's terms, itself refunded: a real id, but not this play's.
        uint256 other = _playOpen(_pixels(17), 5);
        vm.warp(uint256(_t(other).deadline) + 1);
        IInferenceCoordinator.LockState memory none;
        coordinator.refund(other, _t(other), none);
        vm.expectRevert(
            abi.encodeWithSelector(
                IInferenceConsumer.ConsumerTermsMismatch.selector,
                id,
                IInferenceCoordinator.RequestStatus.Refunded
            )
        );
        bounty.expire(id, _t(other), none);

        bounty.expire(id, terms, held);
        bounty.expire(other, _t(other), none);
        assertEq(bounty.claimable(player), 2 * FEE, "each fee once");
        assertEq(coordinator.credits(address(bounty)), 0, "everything withdrawn");
        _assertBooks(_players());
    }

    function test_expire_refusesAFulfilledPlay() public {
        vm.prank(owner);
        bounty.setConfig(_config(2_000));
        int256[] memory pixels = _pixels(13);
        uint256 id = _play(pixels, 5);
        _fulfil(id, pixels, _logits(5));
        vm.warp(block.timestamp + 2 * TIMEOUT);
        IInferenceCoordinator.Terms memory terms = _t(id);
        IInferenceCoordinator.LockState memory held = _h(id);
        vm.expectRevert(abi.encodeWithSelector(IDigitBounty.BountyPlayFulfilled.selector, id));
        bounty.expire(id, terms, held);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Owner and money
    // ---------------------------------------------------------------------------------------------------------

    function test_ownerOnly_configAndPot() public {
        IDigitBounty.Config memory c = _config(50_000);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, player));
        vm.prank(player);
        bounty.setConfig(c);
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, player));
        vm.prank(player);
        bounty.withdrawPot(payable(player), 1);

        c.requestTimeout = 0;
        vm.expectRevert(abi.encodeWithSelector(IDigitBounty.BountyTimeoutInvalid.selector, 0));
        vm.prank(owner);
        bounty.setConfig(c);

        _play(_pixels(14), 1);
        vm.expectRevert(
            abi.encodeWithSelector(IDigitBounty.BountyPotInsufficient.selector, 1 ether - PRIZE, 1 ether)
        );
        vm.prank(owner);
        bounty.withdrawPot(payable(owner), 1 ether);
        vm.prank(owner);
        bounty.withdrawPot(payable(carol), 1 ether - PRIZE);
        assertEq(carol.balance, 1 ether - PRIZE, "unreserved pot withdrawn");
        _assertBooks(_players());
    }

    function test_fund_isOpenToAnyoneAndPlainTransfersAreRefused() public {
        vm.deal(carol, 1 ether);
        vm.prank(carol);
        bounty.fund{value: 0.5 ether}();
        assertEq(bounty.pot(), 1.5 ether, "pot grew");
        vm.prank(carol);
        (bool ok, bytes memory reason) = address(bounty).call{value: 1}("");
        assertFalse(ok, "plain transfer refused");
        assertEq(
            reason,
            abi.encodeWithSelector(IDigitBounty.BountyUnexpectedEther.selector, carol),
            "named error"
        );
    }

    function test_claim_revertsWithNothingToClaim() public {
        vm.expectRevert(abi.encodeWithSelector(IDigitBounty.BountyNothingToClaim.selector, player));
        vm.prank(player);
        bounty.claim();
    }
}
