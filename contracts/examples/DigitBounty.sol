// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {IDigitBounty} from "../interfaces/IDigitBounty.sol";
import {IInferenceCoordinator} from "../interfaces/IInferenceCoordinator.sol";
import {InferenceConsumer} from "../consumer/InferenceConsumer.sol";

/// @title DigitBounty
/// @notice Example dApp: win the prize by drawing a digit that a verified neural network recognises as the digit
///         you claim. See `IDigitBounty`.
/// @dev Shows how a dApp uses `InferenceConsumer`: `play` requests with the player's fee; the callback resolves
///      the play without reverting (a revert would not undo the fulfilment, it would only strand the play); a play
///      whose callback failed anyway is resolved from the coordinator's receipt; an expired one is refunded.
///      Accounting invariant: balance = pot + reserved + sum of claimable.
contract DigitBounty is IDigitBounty, InferenceConsumer, Ownable2Step {
    /// @inheritdoc IDigitBounty
    int256 public constant override PIXEL_ONE = 8192;

    /// @dev The largest digit a player can claim.
    uint8 private constant MAX_DIGIT = 9;

    Config private _config;
    uint256 private _pot;
    uint256 private _reserved;
    mapping(uint256 requestId => Play) private _plays;
    mapping(address player => uint256) private _claimable;

    /// @param coordinator_ The inference coordinator.
    /// @param initialOwner The owner, who configures the game and manages the pot.
    /// @param config_ The initial settings.
    constructor(
        IInferenceCoordinator coordinator_,
        address initialOwner,
        Config memory config_
    ) InferenceConsumer(coordinator_) Ownable(initialOwner) {
        _setConfig(config_);
    }

    /// @notice Accepts the fee refunds this contract withdraws from the coordinator in `expire`; nothing else.
    receive() external payable {
        if (msg.sender != address(coordinator())) revert BountyUnexpectedEther({sender: msg.sender});
    }

    // ---------------------------------------------------------------------------------------------------------
    // Players
    // ---------------------------------------------------------------------------------------------------------

    /// @dev The coordinator terms of a play: a fixed price (the player's fee) and a lock for the first half of the
    ///      request's time, without collateral (so a refund is exactly the fee; a dApp that asks for collateral
    ///      also receives a lapsed locker's share of it, see `IInferenceCoordinator`).
    function _offer(Config memory config_) private view returns (IInferenceCoordinator.Offer memory) {
        uint64 timeout = config_.requestTimeout;
        return
            IInferenceCoordinator.Offer({
                minPrice: msg.value,
                rampPeriod: 0,
                lockTimeout: uint32(timeout > 1 ? timeout / 2 : 1), // the coordinator caps a request at 30 days
                lockCollateral: 0,
                callbackGasLimit: config_.callbackGasLimit,
                deadline: uint64(block.timestamp) + timeout
            });
    }

    /// @inheritdoc IDigitBounty
    function play(
        int256[] calldata pixels,
        uint8 claimedDigit
    ) external payable override returns (uint256 requestId) {
        if (claimedDigit > MAX_DIGIT) revert BountyDigitOutOfRange({claimedDigit: claimedDigit});
        for (uint256 i = 0; i < pixels.length; ++i) {
            int256 v = pixels[i];
            if (v < 0 || v > PIXEL_ONE) revert BountyPixelOutOfRange({index: i, value: v});
        }
        Config memory config_ = _config;
        uint256 pot_ = _pot;
        if (pot_ < config_.prize) revert BountyPotTooSmall({pot: pot_, prize: config_.prize});
        // unchecked: prize <= pot was just checked, and reserved + prize <= this contract's balance.
        unchecked {
            _pot = pot_ - config_.prize;
            _reserved += config_.prize;
        }

        requestId = _requestInference(
            config_.modelId,
            config_.modelVersion,
            pixels,
            _offer(config_),
            msg.value
        );
        _plays[requestId] = Play({player: msg.sender, claimedDigit: claimedDigit, prize: config_.prize});
        emit Played({
            requestId: requestId,
            player: msg.sender,
            claimedDigit: claimedDigit,
            prize: config_.prize,
            fee: msg.value
        });
    }

    /// @inheritdoc IDigitBounty
    function settleFromReceipt(
        uint256 requestId,
        IInferenceCoordinator.Receipt calldata r,
        int256[] calldata outputs
    ) external override {
        Play memory p = _openPlay(requestId);
        if (!coordinator().checkReceipt(requestId, r)) revert BountyReceiptUnknown({requestId: requestId});
        bytes32 actual = keccak256(abi.encode(outputs));
        if (actual != r.outputsHash) {
            revert BountyOutputsMismatch({requestId: requestId, expected: r.outputsHash, actual: actual});
        }
        _resolve(requestId, p, outputs);
    }

    /// @inheritdoc IDigitBounty
    function expire(
        uint256 requestId,
        IInferenceCoordinator.Terms calldata terms,
        IInferenceCoordinator.LockState calldata held
    ) external override {
        Play memory p = _openPlay(requestId);
        (IInferenceCoordinator.RequestStatus status, ) = coordinator().requestState(requestId);
        if (status == IInferenceCoordinator.RequestStatus.Fulfilled) {
            revert BountyPlayFulfilled({requestId: requestId});
        }
        // Refunds it if nobody has yet (reverting before the deadline); a play's offer is a fixed price without
        // collateral, so the refund is the player's fee.
        uint256 fee = _refundInference(requestId, terms, held);

        delete _plays[requestId];
        // unchecked: the play's prize is part of `_reserved` until this point, and moves back to the pot.
        unchecked {
            _reserved -= p.prize;
            _pot += p.prize;
        }
        if (fee != 0) {
            _claimable[p.player] += fee;
            // Our coordinator credit holds every refunded, not yet expired play's fee, so it covers this one.
            coordinator().withdrawTo(payable(address(this)), fee);
        }
        emit PlayExpired({requestId: requestId, player: p.player, refundedFee: fee});
    }

    /// @inheritdoc IDigitBounty
    function claim() external override returns (uint256 amount) {
        amount = _claimable[msg.sender];
        if (amount == 0) revert BountyNothingToClaim({player: msg.sender});
        _claimable[msg.sender] = 0;
        emit Claimed({player: msg.sender, amount: amount});
        Address.sendValue(payable(msg.sender), amount);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Pot and settings
    // ---------------------------------------------------------------------------------------------------------

    /// @inheritdoc IDigitBounty
    function fund() external payable override {
        _pot += msg.value;
        emit PotFunded({funder: msg.sender, amount: msg.value});
    }

    /// @inheritdoc IDigitBounty
    function withdrawPot(address payable to, uint256 amount) external override onlyOwner {
        uint256 pot_ = _pot;
        if (amount > pot_) revert BountyPotInsufficient({pot: pot_, amount: amount});
        // unchecked: amount <= pot was just checked.
        unchecked {
            _pot = pot_ - amount;
        }
        emit PotWithdrawn({to: to, amount: amount});
        Address.sendValue(to, amount);
    }

    /// @inheritdoc IDigitBounty
    function setConfig(Config calldata config_) external override onlyOwner {
        _setConfig(config_);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Views
    // ---------------------------------------------------------------------------------------------------------

    /// @inheritdoc IDigitBounty
    function config() external view override returns (Config memory) {
        return _config;
    }

    /// @inheritdoc IDigitBounty
    function pot() external view override returns (uint256) {
        return _pot;
    }

    /// @inheritdoc IDigitBounty
    function reserved() external view override returns (uint256) {
        return _reserved;
    }

    /// @inheritdoc IDigitBounty
    function openPlay(uint256 requestId) external view override returns (Play memory) {
        return _openPlay(requestId);
    }

    /// @inheritdoc IDigitBounty
    function claimable(address player) external view override returns (uint256) {
        return _claimable[player];
    }

    // ---------------------------------------------------------------------------------------------------------
    // Internals
    // ---------------------------------------------------------------------------------------------------------

    /// @dev The verified result of one of our plays. Never reverts for a known play: a revert here would leave
    ///      the play open until `settleFromReceipt`.
    function _receiveInference(
        uint256 requestId,
        bytes32,
        uint32,
        int256[] calldata outputs
    ) internal override {
        _resolve(requestId, _openPlay(requestId), outputs);
    }

    /// @dev Closes the play: the prize goes to the player on a win, back to the pot otherwise. The prediction is
    ///      the first index of the largest output (numpy's argmax), so a model with another output count simply
    ///      never matches an out-of-range index.
    function _resolve(uint256 requestId, Play memory p, int256[] calldata outputs) private {
        uint256 predicted = 0;
        for (uint256 i = 1; i < outputs.length; ++i) {
            if (outputs[i] > outputs[predicted]) predicted = i;
        }
        bool won = predicted == p.claimedDigit;
        delete _plays[requestId];
        // unchecked: the play's prize is part of `_reserved` until this point; it moves to the player or the pot,
        // and every sum of pot, reserved and claimable amounts is bounded by this contract's balance.
        unchecked {
            _reserved -= p.prize;
            if (won) _claimable[p.player] += p.prize;
            else _pot += p.prize;
        }
        emit PlayResolved({
            requestId: requestId,
            player: p.player,
            claimedDigit: p.claimedDigit,
            predictedDigit: predicted,
            won: won,
            prize: p.prize
        });
    }

    function _openPlay(uint256 requestId) private view returns (Play memory p) {
        p = _plays[requestId];
        if (p.player == address(0)) revert BountyPlayUnknown({requestId: requestId});
    }

    function _setConfig(Config memory config_) private {
        if (config_.requestTimeout == 0)
            revert BountyTimeoutInvalid({requestTimeout: config_.requestTimeout});
        if (config_.modelVersion == 0) revert BountyVersionNotPinned({modelId: config_.modelId});
        _config = config_;
        emit ConfigUpdated({
            modelId: config_.modelId,
            modelVersion: config_.modelVersion,
            prize: config_.prize,
            callbackGasLimit: config_.callbackGasLimit,
            requestTimeout: config_.requestTimeout
        });
    }
}
