// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {IInferenceCoordinator} from "./IInferenceCoordinator.sol";

// Amounts, digits and flags are event data, not filter keys: a topic costs 375 gas where a data word costs 256,
// and nobody filters by them. Ids and accounts are indexed.
/* solhint-disable gas-indexed-events */

/// @title IDigitBounty
/// @notice The example dApp: a bounty for handwritten digits judged by a verified neural network. A player submits
///         an 8x8 drawing and the digit it shows; the digits classifier (e.g. `digits-mlp`: 64 pixels in [0, 1]
///         at fixed-point scale 13 in, 10 logits out) runs off-chain under an EZKL proof, and if its prediction
///         (the index of the largest logit) is the claimed digit, the player wins the prize.
/// @dev A demonstration of the plumbing (request, proof, callback, escrow, expiry, recovery from a failed
///      callback), not a fair game: the model is public, so a player can check a drawing off-chain before playing.
///      Each play reserves the prize from the pot until it is resolved, so the pot can never be promised twice.
///      Winnings and refunded fees are paid by pull (`claim`).
interface IDigitBounty {
    /// @notice The game's settings.
    /// @param modelId The classifier model.
    /// @param modelVersion The pinned version to request (never 0: a new version of the model never changes what
    ///        the game pays out on).
    /// @param prize The prize per winning play, in wei.
    /// @param callbackGasLimit The gas the result callback gets.
    /// @param requestTimeout Seconds from a play to its request's deadline.
    struct Config {
        bytes32 modelId;
        uint32 modelVersion;
        uint88 prize;
        uint32 callbackGasLimit;
        uint64 requestTimeout;
    }

    /// @notice A play awaiting its result.
    /// @param player Who played.
    /// @param claimedDigit The digit the player says the drawing shows.
    /// @param prize The prize reserved for this play.
    struct Play {
        address player;
        uint8 claimedDigit;
        uint88 prize;
    }

    /// @notice Emitted when someone adds to the prize pot.
    /// @param funder Who sent the ether.
    /// @param amount The amount added.
    event PotFunded(address indexed funder, uint256 amount);

    /// @notice Emitted when the owner takes unreserved ether out of the pot.
    /// @param to The recipient.
    /// @param amount The amount.
    event PotWithdrawn(address indexed to, uint256 amount);

    /// @notice Emitted when the owner changes the settings (and once at deployment).
    /// @param modelId The classifier model.
    /// @param modelVersion The pinned version requested.
    /// @param prize The prize per win.
    /// @param callbackGasLimit The callback gas limit.
    /// @param requestTimeout Seconds from a play to its deadline.
    event ConfigUpdated(
        bytes32 indexed modelId,
        uint32 modelVersion,
        uint256 prize,
        uint32 callbackGasLimit,
        uint64 requestTimeout
    );

    /// @notice Emitted when a player plays; the inference request is `requestId` at the coordinator.
    /// @param requestId The coordinator's request id.
    /// @param player The player.
    /// @param claimedDigit The digit claimed.
    /// @param prize The prize reserved.
    /// @param fee The coordinator fee the player paid.
    event Played(
        uint256 indexed requestId,
        address indexed player,
        uint8 claimedDigit,
        uint256 prize,
        uint256 fee
    );

    /// @notice Emitted when a play's verified result arrives, won or lost.
    /// @param requestId The request.
    /// @param player The player.
    /// @param claimedDigit The digit claimed.
    /// @param predictedDigit The classifier's prediction (index of the largest output; the first on a tie).
    /// @param won Whether the prediction is the claimed digit; the prize is then credited to the player,
    ///        otherwise it returns to the pot.
    /// @param prize The prize at stake.
    event PlayResolved(
        uint256 indexed requestId,
        address indexed player,
        uint8 claimedDigit,
        uint256 predictedDigit,
        bool won,
        uint256 prize
    );

    /// @notice Emitted when an expired, unfulfilled play is closed: the fee is credited back to the player and the
    ///         prize returns to the pot.
    /// @param requestId The request.
    /// @param player The player.
    /// @param refundedFee The fee credited back.
    event PlayExpired(uint256 indexed requestId, address indexed player, uint256 refundedFee);

    /// @notice Emitted when a player claims winnings and refunded fees.
    /// @param player The player.
    /// @param amount The amount paid.
    event Claimed(address indexed player, uint256 amount);

    /// @notice Thrown by `play` when the claimed digit is not 0-9.
    /// @param claimedDigit The digit given.
    error BountyDigitOutOfRange(uint8 claimedDigit);

    /// @notice Thrown by `play` when a pixel is outside [0, `PIXEL_ONE`], i.e. not a grey level in [0, 1].
    /// @param index The pixel's index.
    /// @param value The pixel's value.
    error BountyPixelOutOfRange(uint256 index, int256 value);

    /// @notice Thrown by `play` when the unreserved pot cannot cover the prize.
    /// @param pot The unreserved pot.
    /// @param prize The prize.
    error BountyPotTooSmall(uint256 pot, uint256 prize);

    /// @notice Thrown when a request id is not an open play of this bounty (never played, or already resolved).
    /// @param requestId The request id.
    error BountyPlayUnknown(uint256 requestId);

    /// @notice Thrown by `settleFromReceipt` when the outputs given do not hash to the receipt's `outputsHash`.
    /// @param requestId The request.
    /// @param expected The receipt's outputs hash.
    /// @param actual `keccak256(abi.encode(outputs))` of the outputs given.
    error BountyOutputsMismatch(uint256 requestId, bytes32 expected, bytes32 actual);

    /// @notice Thrown by `expire` when the request was fulfilled; use `settleFromReceipt` if its callback failed.
    /// @param requestId The request.
    error BountyPlayFulfilled(uint256 requestId);

    /// @notice Thrown by `settleFromReceipt` when the receipt passed is not the coordinator's for the request (or
    ///         the request is not fulfilled).
    /// @param requestId The request.
    error BountyReceiptUnknown(uint256 requestId);

    /// @notice Thrown by `claim` when the caller has nothing to claim.
    /// @param player The caller.
    error BountyNothingToClaim(address player);

    /// @notice Thrown by `withdrawPot` when the amount exceeds the unreserved pot.
    /// @param pot The unreserved pot.
    /// @param amount The amount asked for.
    error BountyPotInsufficient(uint256 pot, uint256 amount);

    /// @notice Thrown when ether arrives by plain transfer from anyone but the coordinator (use `fund`).
    /// @param sender The sender.
    error BountyUnexpectedEther(address sender);

    /// @notice Thrown by `setConfig` when the request timeout is zero (every request would expire at once).
    /// @param requestTimeout The timeout given.
    error BountyTimeoutInvalid(uint64 requestTimeout);

    /// @notice Thrown at deployment and by `setConfig` for model version 0: the game pins a version.
    /// @param modelId The model.
    error BountyVersionNotPinned(bytes32 modelId);

    /// @notice Plays: requests an inference of the classifier on `pixels`, paying `msg.value` as the fee.
    /// @param pixels 64 grey levels in [0, 1] as fixed-point integers at scale 13 (0 to 8192), row by row.
    /// @param claimedDigit The digit the drawing shows, 0-9.
    /// @return requestId The coordinator's request id.
    function play(int256[] calldata pixels, uint8 claimedDigit) external payable returns (uint256 requestId);

    /// @notice Resolves a play whose request was fulfilled but whose callback failed (e.g. ran out of gas), from
    ///         the outputs in the coordinator's `InferenceFulfilled` event; anyone may call.
    /// @dev The outputs are checked against the coordinator's receipt, so nobody can resolve with other outputs.
    /// @param requestId The request.
    /// @param r The request's receipt (see `IInferenceCoordinator.checkReceipt`).
    /// @param outputs The outputs from `InferenceFulfilled`, unpacked (each `outputWidth` big-endian two's-complement
    ///        bytes, sign-extended to int256; the SDK's `fulfilledOutputs`).
    function settleFromReceipt(
        uint256 requestId,
        IInferenceCoordinator.Receipt calldata r,
        int256[] calldata outputs
    ) external;

    /// @notice Closes a play whose request expired unfulfilled: refunds the fee at the coordinator and credits it
    ///         to the player, and returns the prize to the pot; anyone may call.
    /// @param requestId The request.
    /// @param terms The request's terms (from `InferenceRequested`).
    /// @param held Its lock, if it was locked (from `RequestLocked`; zero otherwise).
    function expire(
        uint256 requestId,
        IInferenceCoordinator.Terms calldata terms,
        IInferenceCoordinator.LockState calldata held
    ) external;

    /// @notice Pays the caller's winnings and refunded fees.
    /// @return amount The amount paid.
    function claim() external returns (uint256 amount);

    /// @notice Adds `msg.value` to the pot; anyone may.
    function fund() external payable;

    /// @notice Takes `amount` of unreserved pot out; only the owner may.
    /// @param to The recipient.
    /// @param amount The amount, at most the unreserved pot.
    function withdrawPot(address payable to, uint256 amount) external;

    /// @notice Changes the settings for later plays; only the owner may. Open plays keep their reserved prize.
    /// @param config The new settings.
    function setConfig(Config calldata config) external;

    /// @notice Fixed-point 1.0 at the input scale 13: the brightest pixel.
    /// @return 8192.
    function PIXEL_ONE() external view returns (int256);

    /// @notice The settings.
    /// @return The settings.
    function config() external view returns (Config memory);

    /// @notice The pot not reserved by open plays.
    /// @return The amount in wei.
    function pot() external view returns (uint256);

    /// @notice The prizes reserved by open plays.
    /// @return The amount in wei.
    function reserved() external view returns (uint256);

    /// @notice An open play; reverts if `requestId` is not one.
    /// @param requestId The request.
    /// @return The play.
    function openPlay(uint256 requestId) external view returns (Play memory);

    /// @notice What `player` can claim.
    /// @param player The player.
    /// @return The amount in wei.
    function claimable(address player) external view returns (uint256);
}
