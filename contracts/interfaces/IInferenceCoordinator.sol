// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {IModelRegistry} from "./IModelRegistry.sol";
import {IInferenceVerifier} from "./IInferenceVerifier.sol";

// Amounts and flags are event data, not filter keys: a topic costs 375 gas where a data word costs 256, and
// nobody filters by them. Ids and accounts are indexed.
/* solhint-disable gas-indexed-events */

/// @title IInferenceCoordinator
/// @notice How a dApp gets a verified inference, and how provers are paid for one. A requester asks (input, price,
///         lock terms, callback gas, deadline) and escrows the maximum price; a prover locks the request with
///         collateral from its deposited balance and is paid when the request is fulfilled with an EZKL proof
///         checked against the registered version and the committed input; the coordinator keeps a receipt and
///         calls the requester back with the outputs.
/// @dev The market's rules (anchor: Boundless's `BoundlessMarket`), with their numbers:
///      - Price: the requester sends the maximum price as `msg.value` and states a minimum; the price rises
///        linearly from `minPrice` at the request's timestamp to `msg.value` after `rampPeriod` seconds (a reverse
///        Dutch auction; `rampPeriod == 0` or `minPrice == msg.value`: a fixed price). It is fixed when the request
///        is locked (or, never locked, when it is fulfilled); the escrow above it is credited back to the
///        requester at that moment.
///      - Callback gas is the requester's cost: `minPrice` must be at least `callbackGasLimit` x the request
///        block's base fee x `CALLBACK_GAS_PRICE_MULTIPLIER` (2), so a request cannot make a prover run a large
///        callback for nothing. Provers add their own margin off-chain (`zkinfer serve --min-price`).
///      - Lock: up to the request's lock deadline (`lockTimeout` seconds after the request), a prover may lock it
///        (`lock`, several at once), which moves the request's `lockCollateral` out of its balance. Until the lock
///        deadline, any fulfilment of a locked request pays the locker (price + its collateral back), whoever
///        sends it: copying a fulfilment's calldata pays nobody new. The one exception is a prover that had
///        committed to its fill (see `commit`) in a block before the lock was taken: it is paid, and the
///        locker gets its collateral back; so locking a request after seeing someone's fill does not take their
///        fee.
///      - Open fills (a request never locked, or locked with its lock deadline passed) need the sender's own
///        commitment `fillCommitment(sender, requestIds, keccak256(proof))` (one for a whole batch), made at least
///        one block earlier; a copy without one reverts with `CoordinatorFillNotCommitted` (or
///        `CoordinatorCommitmentTooRecent`).
///      - Slashing: a locker that has not fulfilled by its lock deadline loses its collateral. If another prover
///        (or the locker, too late) fulfils before the request deadline, it gets the locked price plus
///        `SLASH_FULFILLER_BPS` (50%) of the collateral and the requester the rest; if nobody does, the
///        requester gets all of it with the refund. Nothing is burned: the requester is the party the lapse
///        harmed, and a locker that fulfils its own lapsed lock from another key still loses half.
///      - Cancel: the requester may cancel a request that is not locked (escrow credited back). Refund: anyone
///        may refund a request after its deadline, or at any time while fulfilments are paused (then a locker
///        gets its collateral back: a pause never slashes).
///      - Caps: a deadline at most `MAX_REQUEST_DURATION` (30 days) ahead, a lock deadline and a ramp no later
///        than the deadline, a callback gas limit of at most `MAX_CALLBACK_GAS_LIMIT`.
///      Value only moves by pull payment: prices, refunds, returned and slashed collateral are credited to a
///      balance, which is also what collateral is locked from (`deposit`), and `withdraw` / `withdrawTo` pay it
///      out. A guardian can pause new requests and fulfilments (and locks) in an emergency; refunds, cancels and
///      withdrawals are never paused. A callback that reverts, runs out of gas or returns huge data never undoes
///      a fulfilment, its receipt or the payment, and a prover cannot starve a callback: `fulfill` reverts unless
///      the callee will get its full gas limit.
///      Invariant: the coordinator's balance is the escrow of open and locked requests plus the collateral of
///      live locks plus all balances (plus any ether forced in without a call).
interface IInferenceCoordinator {
    // ---------------------------------------------------------------------------------------------------------
    // Types
    // ---------------------------------------------------------------------------------------------------------

    /// @notice A request's life cycle: `Open` until locked, fulfilled (at most once, up to the deadline), refunded
    ///         (after the deadline, or while fulfilments are paused) or cancelled (by its requester); `Locked` until
    ///         fulfilled or refunded. `Fulfilled`, `Refunded` and `Cancelled` are final.
    /// @dev `Locked` and `Cancelled` come last so that the earlier values keep their numbers.
    enum RequestStatus {
        None,
        Open,
        Fulfilled,
        Refunded,
        Locked,
        Cancelled
    }

    /// @notice What happened to the callback of a fulfilled request.
    /// @dev `None`: no callback was made, because the requester had no code when the request was fulfilled (an
    ///      EOA) or asked for none with a zero callback gas limit.
    enum CallbackStatus {
        None,
        Succeeded,
        Failed
    }

    /// @notice The terms a requester offers (see `requestInference`); the maximum price is the request's
    ///         `msg.value`.
    /// @param minPrice The price at the request's timestamp, at most `msg.value`; it must cover the callback
    ///        (`callbackGasLimit x block.basefee x CALLBACK_GAS_PRICE_MULTIPLIER`).
    /// @param rampPeriod Seconds over which the price rises linearly from `minPrice` to `msg.value` (0: fixed at
    ///        `msg.value`); at most the time to the deadline.
    /// @param lockTimeout Seconds after the request during which it can be locked, and the locker alone is paid;
    ///        at least 1, at most the time to the deadline.
    /// @param lockCollateral Wei a locker must put up from its balance; lost if it has not fulfilled by the lock
    ///        deadline (at most `type(uint96).max`).
    /// @param callbackGasLimit The gas the callback gets, at most `MAX_CALLBACK_GAS_LIMIT` (0: no callback).
    /// @param deadline The last timestamp at which the request can be fulfilled; in the future and at most
    ///        `MAX_REQUEST_DURATION` ahead.
    // A calldata argument, never stored, so field order serves readers.
    // solhint-disable-next-line gas-struct-packing
    struct Offer {
        uint256 minPrice;
        uint32 rampPeriod;
        uint32 lockTimeout;
        uint256 lockCollateral;
        uint32 callbackGasLimit;
        uint64 deadline;
    }

    /// @notice Everything a request commits to. The coordinator stores only `keccak256(abi.encode(terms))` (see
    ///         `requestState`); every call that acts on a request (`lock`, `fulfill`, `fulfillBatch`, `cancel`,
    ///         `refund`) takes its terms back, as `InferenceRequested` logged them, and reverts with
    ///         `CoordinatorTermsMismatch` if they are not the stored ones.
    /// @param requester Who asked; receives the callback and the refund.
    /// @param modelId The model.
    /// @param version The version resolved at request time (a request for version 0 names the then latest active
    ///        version).
    /// @param inputCommitment `keccak256` of the input's field encodings (see `computeInputCommitment`).
    /// @param maxPrice The escrow: the request's `msg.value`, the price the auction rises to.
    /// @param minPrice The price at `requestedAt`.
    /// @param requestedAt The request's block timestamp: the auction's start.
    /// @param rampPeriod Seconds from `requestedAt` over which the price rises to `maxPrice`.
    /// @param lockDeadline The last timestamp at which the request can be locked and a locker alone is paid.
    /// @param lockCollateral The collateral a locker puts up (see `Offer`).
    /// @param callbackGasLimit The gas the callback gets (0: no callback).
    /// @param deadline The last timestamp at which the request can be fulfilled; refundable after it.
    // A hashed argument, never stored field by field, so field order serves readers.
    // solhint-disable-next-line gas-struct-packing
    struct Terms {
        address requester;
        bytes32 modelId;
        uint32 version;
        bytes32 inputCommitment;
        uint256 maxPrice;
        uint256 minPrice;
        uint64 requestedAt;
        uint32 rampPeriod;
        uint64 lockDeadline;
        uint256 lockCollateral;
        uint32 callbackGasLimit;
        uint64 deadline;
    }

    /// @notice A lock, as `RequestLocked` logged it: passed back with the terms of a `Locked` request (and all
    ///         zero for an `Open` one).
    /// @param locker The prover holding the lock.
    /// @param lockedAt The block the lock was taken in (a fill committed before it beats the lock).
    /// @param price The price fixed at lock time: the escrow from then on.
    // solhint-disable-next-line gas-struct-packing
    struct LockState {
        address locker;
        uint64 lockedAt;
        uint256 price;
    }

    /// @notice The verified record of a fulfilment. The coordinator stores `keccak256(abi.encode(receipt))` (see
    ///         `receiptHash`); anyone holding the receipt (from `InferenceFulfilled` and the request's terms) checks
    ///         it with `checkReceipt`.
    /// @dev The outputs themselves are in `InferenceFulfilled` (packed; unpacked to `int256[]` they are the ones
    ///      passed to the callback); anyone holding them can check `keccak256(abi.encode(outputs)) == outputsHash`.
    ///      The model and version are here and in the request's terms, not in the event.
    /// @param modelId The model.
    /// @param version The version whose VKA the suite verifier accepted the proof against.
    /// @param inputCommitment The committed input the proof was checked against.
    /// @param outputsHash `keccak256(abi.encode(outputs))` of the decoded outputs (`int256[]`).
    /// @param proofHash `keccak256(proof)`.
    /// @param fulfiller Who was paid: the locker when fulfilled within its lock (whoever sent the proof), else the
    ///        sender of the proof.
    /// @param fulfilledAt Block timestamp of the fulfilment.
    /// @param callback What happened to the callback (while the callback itself runs, it already reads
    ///        `Succeeded`; a failure rewrites it, and `CallbackFailed` says so).
    // A return value, never stored, so field order serves readers.
    // solhint-disable-next-line gas-struct-packing
    struct Receipt {
        bytes32 modelId;
        uint32 version;
        bytes32 inputCommitment;
        bytes32 outputsHash;
        bytes32 proofHash;
        address fulfiller;
        uint64 fulfilledAt;
        CallbackStatus callback;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Events
    // ---------------------------------------------------------------------------------------------------------

    /// @notice Emitted when an inference is requested; provers take the terms and the input from here.
    /// @param requestId The new request's id.
    /// @param modelId The model.
    /// @param requester Who asked (an EOA or a consumer contract).
    /// @param terms The request's terms (see `Terms`), which the calls on the request take back.
    /// @param inputWidth The bytes per input element in `input` (1 to 32).
    /// @param input The flattened input tensor as fixed-point integers at the version's input scale, each element
    ///        as `inputWidth` big-endian bytes of its two's complement (the narrowest width that holds every
    ///        element; sign-extend to read it).
    event InferenceRequested(
        uint256 indexed requestId,
        bytes32 indexed modelId,
        address indexed requester,
        Terms terms,
        uint8 inputWidth,
        bytes input
    );

    /// @notice Emitted when a prover locks a request: it alone is paid for it until `lockDeadline`.
    /// @param requestId The request.
    /// @param locker The prover; `collateral` left its balance.
    /// @param price The price fixed now (the escrow above it was credited back to the requester).
    /// @param collateral The collateral put up.
    /// @param lockDeadline The last timestamp at which the locker alone is paid.
    /// @param lockedAt This block's number (`LockState.lockedAt`).
    event RequestLocked(
        uint256 indexed requestId,
        address indexed locker,
        uint256 price,
        uint256 collateral,
        uint64 lockDeadline,
        uint64 lockedAt
    );

    /// @notice Emitted when a prover commits to an open fill (see `commit`).
    /// @param commitment `fillCommitment(prover, requestIds, proofHash)`.
    /// @param prover The committing account.
    event FillCommitted(bytes32 indexed commitment, address indexed prover);

    /// @notice Emitted when a lapsed lock's collateral is taken: on a fulfilment after the lock deadline, or on a
    ///         refund after the deadline.
    /// @param requestId The request.
    /// @param locker The prover that let its lock lapse.
    /// @param collateral The collateral taken.
    /// @param fulfiller Who fulfilled after the lock deadline (zero: nobody, the request was refunded).
    /// @param toFulfiller The part credited to `fulfiller`.
    /// @param toRequester The part credited to the requester.
    event LockSlashed(
        uint256 indexed requestId,
        address indexed locker,
        uint256 collateral,
        address fulfiller,
        uint256 toFulfiller,
        uint256 toRequester
    );

    /// @notice Emitted when a locker's collateral is credited back without a fulfilment of its own: the request
    ///         was refunded while fulfilments were paused, or fulfilled by a prover committed before the lock.
    /// @param requestId The request.
    /// @param locker The locker, credited `collateral`.
    /// @param collateral The collateral returned.
    event LockReleased(uint256 indexed requestId, address indexed locker, uint256 collateral);

    /// @notice Emitted when a requester cancels a request that was not locked; its escrow is credited back.
    /// @param requestId The request.
    /// @param requester The requester, credited `amount`.
    /// @param amount The escrow credited.
    event InferenceCancelled(uint256 indexed requestId, address indexed requester, uint256 amount);

    /// @notice Emitted when ether is deposited to an account's balance (collateral for locks).
    /// @param account The account credited.
    /// @param amount The amount.
    event Deposited(address indexed account, uint256 amount);

    /// @notice Emitted when a request is fulfilled with a proof the registered verifier accepted.
    /// @dev Emitted before the callback; a failed callback adds `CallbackFailed` in the same transaction. The model
    ///      and version are not repeated here: they are in the request's terms (`InferenceRequested`) and in its
    ///      receipt. The outputs are packed like a request's input (`InferenceRequested.input`): each element as
    ///      `outputWidth` big-endian bytes of its two's complement, `outputWidth` (1..32) the fewest bytes that hold
    ///      every output of this request with its sign. Unpacked (sign-extended to int256) they are the outputs the
    ///      callback received, and `keccak256(abi.encode(outputs))` is the receipt's `outputsHash`.
    /// @param requestId The request.
    /// @param fulfiller Who was paid (see `Receipt.fulfiller`).
    /// @param proofHash `keccak256(proof)`.
    /// @param outputWidth The bytes per output in `outputs` (1..32).
    /// @param outputs The flattened output tensor as fixed-point integers at the version's output scale, packed.
    event InferenceFulfilled(
        uint256 indexed requestId,
        address indexed fulfiller,
        bytes32 proofHash,
        uint8 outputWidth,
        bytes outputs
    );

    /// @notice Emitted once per `fulfillBatch`, after each request's `InferenceFulfilled`: which requests one
    ///         proof fulfilled, block by block (request `requestIds[i]` is block i; blocks from
    ///         `requestIds.length` up are padding).
    /// @param proofHash `keccak256(proof)`.
    /// @param modelId The model.
    /// @param version The version.
    /// @param batchSize The batch size of the circuit that was proved (1: the version's own).
    /// @param requestIds The requests, in block order.
    event BatchFulfilled(
        bytes32 indexed proofHash,
        bytes32 indexed modelId,
        uint32 version,
        uint32 batchSize,
        uint256[] requestIds
    );

    /// @notice Emitted when the requester's callback reverted or ran out of gas; the fulfilment stands.
    /// @param requestId The request.
    /// @param consumer The requester that was called.
    /// @param reason The first `MAX_CALLBACK_REASON_LENGTH` bytes of the callback's revert data.
    event CallbackFailed(uint256 indexed requestId, address indexed consumer, bytes reason);

    /// @notice Emitted when a request is refunded (expired, or while fulfilments are paused): its escrow is credited
    ///         back to the requester.
    /// @param requestId The request.
    /// @param requester Who asked; credited `amount`.
    /// @param amount The escrow credited.
    event InferenceRefunded(uint256 indexed requestId, address indexed requester, uint256 amount);

    /// @notice Emitted when an account withdraws credit.
    /// @param account Whose credit was withdrawn.
    /// @param to Who received the ether.
    /// @param amount The amount paid.
    event CreditWithdrawn(address indexed account, address indexed to, uint256 amount);

    /// @notice Emitted when the owner sets the guardian.
    /// @param previousGuardian The former guardian.
    /// @param newGuardian The new guardian (zero: nobody can pause or unpause).
    event GuardianUpdated(address indexed previousGuardian, address indexed newGuardian);

    /// @notice Emitted when the guardian pauses or unpauses requests and fulfilments.
    /// @param guardian The guardian.
    /// @param requestsPaused Whether `requestInference` is now paused.
    /// @param fulfilmentsPaused Whether `fulfill` is now paused.
    event PauseUpdated(address indexed guardian, bool requestsPaused, bool fulfilmentsPaused);

    // ---------------------------------------------------------------------------------------------------------
    // Errors
    // ---------------------------------------------------------------------------------------------------------

    /// @notice Thrown when the terms (and, for a locked request, the lock) passed back with a request are not the
    ///         ones it stored: take them from `InferenceRequested` and `RequestLocked`.
    /// @param requestId The request.
    /// @param status Its status (`None`: no such request).
    error CoordinatorTermsMismatch(uint256 requestId, RequestStatus status);

    /// @notice Thrown when a batch call's arrays differ in length.
    /// @param requests The number of request ids.
    /// @param terms The number of terms.
    /// @param locks The number of lock states (for `lock`, equal to `terms`).
    error CoordinatorArgumentsLengthMismatch(uint256 requests, uint256 terms, uint256 locks);

    /// @notice Thrown by `requestInferencePacked` for a width outside 1..32, or packed bytes that are not a whole
    ///         number of elements of that width.
    /// @param inputWidth The width given.
    /// @param length The packed input's length in bytes.
    error CoordinatorInputWidthInvalid(uint8 inputWidth, uint256 length);

    /// @notice Thrown by the constructor when the registry or the route holds no code.
    /// @param account The address given.
    error CoordinatorHasNoCode(address account);

    /// @notice Thrown by the constructor when the route reads another registry than the one given.
    /// @param route The route.
    /// @param expected The registry given to the coordinator.
    /// @param actual The route's registry.
    error CoordinatorRouteRegistryMismatch(address route, address expected, address actual);

    /// @notice Thrown when someone other than the guardian tries to pause or unpause.
    /// @param caller The caller.
    /// @param guardian The guardian.
    error CoordinatorNotGuardian(address caller, address guardian);

    /// @notice Thrown when `fulfill`, `refund`, `cancel`, `withdraw` or `withdrawTo` is entered again while one of
    ///         them is running, e.g. from a consumer's callback or a withdrawal recipient.
    /// @param caller The re-entering caller.
    error CoordinatorReentrantCall(address caller);

    /// @notice Thrown by `requestInference` while the guardian has paused requests.
    /// @param guardian The guardian who can unpause.
    error CoordinatorRequestsPaused(address guardian);

    /// @notice Thrown by `fulfill` and `lock` while the guardian has paused fulfilments; the request stays open
    ///         and is refundable meanwhile (see `refund`).
    /// @param requestId The request.
    /// @param guardian The guardian who can unpause.
    error CoordinatorFulfilmentsPaused(uint256 requestId, address guardian);

    /// @notice Thrown by `requestInference` when the callback gas limit exceeds `MAX_CALLBACK_GAS_LIMIT`.
    /// @param callbackGasLimit The limit asked for.
    /// @param maxCallbackGasLimit The cap.
    error CoordinatorCallbackGasLimitTooHigh(uint32 callbackGasLimit, uint32 maxCallbackGasLimit);

    /// @notice Thrown by `requestInference` when the deadline is not after the current block's timestamp.
    /// @param deadline The deadline given.
    /// @param timestamp The current block's timestamp.
    error CoordinatorDeadlineNotInFuture(uint64 deadline, uint256 timestamp);

    /// @notice Thrown by `requestInference` when the deadline is more than `MAX_REQUEST_DURATION` (30 days) ahead.
    /// @param deadline The deadline given.
    /// @param maxDeadline The latest deadline accepted now.
    error CoordinatorDeadlineTooFar(uint64 deadline, uint256 maxDeadline);

    /// @notice Thrown by `requestInference` when `offer.minPrice` exceeds the maximum price (`msg.value`).
    /// @param minPrice The minimum price given.
    /// @param maxPrice The value sent.
    error CoordinatorMinPriceAboveMaxPrice(uint256 minPrice, uint256 maxPrice);

    /// @notice Thrown by `requestInference` when `offer.minPrice` does not cover the callback gas asked for at the
    ///         stated rate (`callbackGasLimit x block.basefee x CALLBACK_GAS_PRICE_MULTIPLIER`); pay more, or ask
    ///         for less callback gas.
    /// @param minPrice The minimum price given.
    /// @param callbackCost The least minimum price accepted for this callback gas limit in this block.
    error CoordinatorPriceBelowCallbackCost(uint256 minPrice, uint256 callbackCost);

    /// @notice Thrown by `requestInference` when `offer.lockTimeout` is 0 or reaches past the deadline.
    /// @param lockTimeout The lock timeout given.
    /// @param maxLockTimeout The longest accepted: the seconds from now to the deadline.
    error CoordinatorLockTimeoutOutOfRange(uint32 lockTimeout, uint256 maxLockTimeout);

    /// @notice Thrown by `requestInference` when `offer.rampPeriod` reaches past the deadline.
    /// @param rampPeriod The ramp given.
    /// @param maxRampPeriod The longest accepted: the seconds from now to the deadline.
    error CoordinatorRampPeriodTooLong(uint32 rampPeriod, uint256 maxRampPeriod);

    /// @notice Thrown by `requestInference` when `offer.lockCollateral` exceeds `type(uint96).max`.
    /// @param lockCollateral The collateral given.
    /// @param maxLockCollateral The largest accepted.
    error CoordinatorCollateralTooLarge(uint256 lockCollateral, uint256 maxLockCollateral);

    /// @notice Thrown by `requestInference` when the fee does not fit the stored form (`type(uint88).max` wei,
    ///         more ether than exists).
    /// @param fee The value sent.
    /// @param maxFee The largest fee accepted.
    error CoordinatorFeeTooLarge(uint256 fee, uint256 maxFee);

    /// @notice Thrown by `requestInference` when the model is not registered.
    /// @param modelId The unknown model.
    error CoordinatorModelUnknown(bytes32 modelId);

    /// @notice Thrown by `requestInference` for version 0 when no version of the model is usable as "latest": none
    ///         is active, past the registry's `LATEST_DELAY` and on a running suite verifier (or it has none).
    /// @param modelId The model.
    /// @param latestVersion The model's latest version (0 when it has none).
    error CoordinatorNoActiveVersion(bytes32 modelId, uint32 latestVersion);

    /// @notice Thrown by `requestInference` when the version does not exist.
    /// @param modelId The model.
    /// @param version The unknown version.
    /// @param latestVersion The model's latest version.
    error CoordinatorVersionUnknown(bytes32 modelId, uint32 version, uint32 latestVersion);

    /// @notice Thrown by `requestInference` when the version is deprecated; ask for another (0: latest active).
    /// @param modelId The model.
    /// @param version The deprecated version.
    error CoordinatorVersionDeprecated(bytes32 modelId, uint32 version);

    /// @notice Thrown by `requestInference` when the version was revoked by its owner (a broken circuit).
    /// @param modelId The model.
    /// @param version The revoked version.
    error CoordinatorVersionRevoked(bytes32 modelId, uint32 version);

    /// @notice Thrown by `requestInference` when the version's suite verifier was stopped by the suite admin.
    /// @param modelId The model.
    /// @param version The version.
    /// @param verifier The stopped verifier.
    error CoordinatorSuiteVerifierStopped(bytes32 modelId, uint32 version, address verifier);

    /// @notice Thrown by `requestInference` when the input's length is not the version's input count.
    /// @param modelId The model.
    /// @param version The resolved version.
    /// @param expected The layout's input count.
    /// @param actual The input's length.
    error CoordinatorInputLengthMismatch(bytes32 modelId, uint32 version, uint256 expected, uint256 actual);

    /// @notice Thrown when a request id was never issued.
    /// @param requestId The unknown id.
    error CoordinatorRequestUnknown(uint256 requestId);

    /// @notice Thrown by `fulfill`, `lock`, `cancel` and `refund` when the request was already fulfilled (a
    ///         prover's retry after success, or another prover was first; `InferenceFulfilled` names who).
    /// @param requestId The request.
    error CoordinatorRequestAlreadyFulfilled(uint256 requestId);

    /// @notice Thrown by `fulfill`, `lock`, `cancel` and `refund` when the request was already refunded.
    /// @param requestId The request.
    error CoordinatorRequestAlreadyRefunded(uint256 requestId);

    /// @notice Thrown by `fulfill`, `lock`, `cancel` and `refund` when the requester cancelled the request.
    /// @param requestId The request.
    error CoordinatorRequestCancelled(uint256 requestId);

    /// @notice Thrown by `lock` and `cancel` when the request is locked already (`RequestLocked` names who holds
    ///         it).
    /// @param requestId The request.
    error CoordinatorRequestLocked(uint256 requestId);

    /// @notice Thrown by `lock` after the request's lock deadline; it can still be fulfilled openly (see `commit`).
    /// @param requestId The request.
    /// @param lockDeadline The request's lock deadline.
    error CoordinatorLockDeadlinePassed(uint256 requestId, uint64 lockDeadline);

    /// @notice Thrown by `lock` when the caller's balance does not cover the collateral of the requests.
    /// @param account The caller.
    /// @param needed The total collateral.
    /// @param balance The caller's balance (see `deposit`).
    error CoordinatorInsufficientBalance(address account, uint256 needed, uint256 balance);

    /// @notice Thrown by `lock` for an empty list.
    /// @param account The caller.
    error CoordinatorNothingToLock(address account);

    /// @notice Thrown by `cancel` when the caller is not the requester.
    /// @param requestId The request.
    /// @param caller The caller.
    /// @param requester The requester.
    error CoordinatorNotRequester(uint256 requestId, address caller, address requester);

    /// @notice Thrown by `fulfill` for an open fill (the request is not locked, or its lock deadline has passed)
    ///         when the sender has no commitment to it: e.g. a copy of someone else's fulfilment.
    /// @param requestId The request.
    /// @param prover The sender.
    /// @param commitment The commitment that was needed: `fillCommitment(prover, requestId, keccak256(proof))`.
    error CoordinatorFillNotCommitted(uint256 requestId, address prover, bytes32 commitment);

    /// @notice Thrown by `fulfill` for an open fill whose commitment was made in the current block; commit at
    ///         least one block before filling.
    /// @param requestId The request.
    /// @param commitment The commitment.
    /// @param committedAt The block it was made in.
    error CoordinatorCommitmentTooRecent(uint256 requestId, bytes32 commitment, uint256 committedAt);

    /// @notice Thrown by `commit` when the commitment exists already (the first one stands, so nobody can move
    ///         another prover's commitment to a later block).
    /// @param commitment The commitment.
    /// @param committedAt The block it was made in.
    error CoordinatorAlreadyCommitted(bytes32 commitment, uint256 committedAt);

    /// @notice Thrown by `deposit` when no ether is sent.
    /// @param account The caller.
    error CoordinatorZeroDeposit(address account);

    /// @notice Thrown by `fulfill` after the request's deadline; it can only be refunded now.
    /// @param requestId The request.
    /// @param deadline The request's deadline.
    error CoordinatorRequestExpired(uint256 requestId, uint64 deadline);

    /// @notice Thrown by `refund` up to the request's deadline while it can still be fulfilled: fulfilments are not
    ///         paused, its version is not revoked and its suite verifier not stopped (its requester may `cancel` it
    ///         if it is not locked).
    /// @param requestId The request.
    /// @param deadline The request's deadline; refundable from the next second on.
    error CoordinatorRequestNotExpired(uint256 requestId, uint64 deadline);

    /// @notice Thrown by `fulfillBatch` for an empty list of requests.
    /// @param prover The sender.
    error CoordinatorBatchEmpty(address prover);

    /// @notice Thrown by `fulfillBatch` when a request appears twice: one block can serve one request only.
    /// @param requestId The request.
    error CoordinatorBatchDuplicateRequest(uint256 requestId);

    /// @notice Thrown by `fulfillBatch` when the requests are not in ascending id order (the order that rules out
    ///         duplicates in one pass).
    /// @param requestId The request out of order.
    /// @param previous The id before it.
    error CoordinatorBatchNotAscending(uint256 requestId, uint256 previous);

    /// @notice Thrown by `fulfillBatch` for a request of another model or version than the batch's first.
    /// @param requestId The request.
    /// @param modelId Its model.
    /// @param version Its version.
    /// @param batchModelId The batch's model.
    /// @param batchVersion The batch's version.
    error CoordinatorBatchVersionMismatch(
        uint256 requestId,
        bytes32 modelId,
        uint32 version,
        bytes32 batchModelId,
        uint32 batchVersion
    );

    /// @notice Thrown by `fulfillBatch` when the instances are not those of a circuit of the version: their number is
    ///         not a whole number of blocks, or the version has no variant of that batch size.
    /// @param modelId The model.
    /// @param version The version.
    /// @param instanceCount The number of instances given.
    /// @param blockInstanceCount The instances of one block (the version's own instance count).
    error CoordinatorBatchSizeUnregistered(
        bytes32 modelId,
        uint32 version,
        uint256 instanceCount,
        uint256 blockInstanceCount
    );

    /// @notice Thrown by `fulfillBatch` with more requests than the proof has blocks.
    /// @param requests The number of requests.
    /// @param batchSize The proof's batch size.
    error CoordinatorBatchTooLarge(uint256 requests, uint256 batchSize);

    /// @notice Thrown by `fulfillBatch` when a request's input commitment is not the hash of its block's input
    ///         range (blocks swapped, a padding block presented as a request's input, another input).
    /// @param requestId The request.
    /// @param blockIndex Its block (its position in the list).
    /// @param expected The request's input commitment.
    /// @param actual The hash of the block's input range.
    error CoordinatorBlockInputMismatch(
        uint256 requestId,
        uint256 blockIndex,
        bytes32 expected,
        bytes32 actual
    );

    /// @notice Thrown by `fulfill` when too little gas is left to give the callback its full gas limit (the
    ///         63/64 rule would cut it short). Nothing is fulfilled; resend with a higher gas limit.
    /// @param requestId The request.
    /// @param gasLeft The gas left just before the callback.
    /// @param gasNeeded The gas that must be left: the callback gas limit, its 1/63 share kept back by the 63/64
    ///        rule, and `CALLBACK_GAS_RESERVE`.
    error CoordinatorInsufficientGasForCallback(uint256 requestId, uint256 gasLeft, uint256 gasNeeded);

    /// @notice Thrown by `withdraw` / `withdrawTo` when the account has no balance or the amount is zero.
    /// @param account The caller.
    error CoordinatorNothingToWithdraw(address account);

    /// @notice Thrown by `withdrawTo` when the amount exceeds the caller's credit.
    /// @param account The caller.
    /// @param amount The amount asked for.
    /// @param credit The caller's credit.
    error CoordinatorWithdrawalExceedsCredit(address account, uint256 amount, uint256 credit);

    /// @notice Thrown by `withdrawTo` when the recipient is the zero address.
    /// @param account The caller.
    error CoordinatorWithdrawalToZeroAddress(address account);

    /// @notice Thrown when the recipient of a withdrawal rejects the ether; the credit is kept.
    /// @param to The recipient.
    /// @param amount The amount.
    error CoordinatorWithdrawalFailed(address to, uint256 amount);

    // ---------------------------------------------------------------------------------------------------------
    // Requesters
    // ---------------------------------------------------------------------------------------------------------

    /// @notice Requests an inference of `version` of `modelId` on `input`, on `offer`'s terms; `msg.value` is the
    ///         maximum price, escrowed.
    /// @dev One storage slot: the hash of the request's `Terms` and its status (see `requestState`). The input
    ///      itself and the terms are in `InferenceRequested`. A price of 0 is allowed when there is no callback
    ///      (provers choose what to serve). If the requester has code when the request is fulfilled and
    ///      `callbackGasLimit` is not 0, it is called with `IInferenceConsumer.receiveInference` and exactly that
    ///      much gas. Not `nonReentrant`, so a consumer may request again from inside its callback.
    /// @param modelId The model.
    /// @param version The version to pin (the default everywhere), or 0 to opt in to the model's latest active
    ///        version at this moment (`IModelRegistry.latestActiveVersion`, stored resolved).
    /// @param input The flattened input tensor as fixed-point integers at the version's input scale; its length
    ///        must be the version's input count and every element must have a field encoding.
    /// @param offer The price, lock, callback and deadline terms (see `Offer`).
    /// @return requestId The new request's id: `uint256(keccak256(abi.encode(terms)))`, hashed again while that id
    ///         is taken (the same requester asking the same thing twice in one block). Never 0.
    function requestInference(
        bytes32 modelId,
        uint32 version,
        int256[] calldata input,
        Offer calldata offer
    ) external payable returns (uint256 requestId);

    /// @notice `requestInference` with the input packed as `InferenceRequested` logs it: each element as `inputWidth`
    ///         big-endian bytes of its two's complement. The same request, id and event; its calldata is the packed
    ///         bytes instead of a 32-byte word per element, which is what a request from an account (the SDK's
    ///         `requestInference`) pays for. A contract's request, whose input is in memory, is cheaper unpacked.
    /// @param modelId The model.
    /// @param version The version to pin, or 0 (see `requestInference`).
    /// @param inputWidth Bytes per element, 1 to 32 (`CoordinatorInputWidthInvalid` otherwise).
    /// @param input The elements, `inputWidth` bytes each (`CoordinatorInputWidthInvalid` unless a whole number).
    /// @param offer The terms (see `Offer`).
    /// @return requestId The new request's id.
    function requestInferencePacked(
        bytes32 modelId,
        uint32 version,
        uint8 inputWidth,
        bytes calldata input,
        Offer calldata offer
    ) external payable returns (uint256 requestId);

    /// @notice Cancels a request that is not locked; only its requester may. The escrow is credited back.
    /// @dev Works while paused. A prover proving it without a lock loses its work: that is what `lock` is for.
    /// @param requestId An `Open` request of the caller's.
    /// @param terms Its terms.
    function cancel(uint256 requestId, Terms calldata terms) external;

    /// @notice Refunds an unfulfilled request after its deadline, or at once while fulfilments are paused or when
    ///         its version was revoked or its suite verifier stopped: its escrow is credited to its requester.
    ///         Anyone may call.
    /// @dev Works while paused. A locked request's collateral goes to the requester after the deadline (the
    ///      locker let it lapse: `LockSlashed`), back to the locker when fulfilments are paused or the version can
    ///      no longer be fulfilled (`LockReleased`).
    /// @param requestId An `Open` or `Locked` request.
    /// @param terms Its terms.
    /// @param held Its lock, when `Locked` (ignored when `Open`).
    function refund(uint256 requestId, Terms calldata terms, LockState calldata held) external;

    // ---------------------------------------------------------------------------------------------------------
    // Provers
    // ---------------------------------------------------------------------------------------------------------

    /// @notice Adds `msg.value` to the caller's balance, from which `lock` takes collateral.
    function deposit() external payable;

    /// @notice Locks requests for the caller: until each one's lock deadline, the caller alone is paid for it,
    ///         and its collateral leaves the caller's balance. The price is fixed now (see the auction rules
    ///         above).
    /// @dev All or nothing: reverts if any request is not `Open` or its lock deadline has passed, or if the sum
    ///      of the collateral exceeds the caller's balance.
    /// @param requestIds The requests.
    /// @param terms Their terms, in the same order.
    function lock(uint256[] calldata requestIds, Terms[] calldata terms) external;

    /// @notice Records a commitment for an open fill, which `fulfill` and `fulfillBatch` accept from the next
    ///         block on.
    /// @dev Made by the prover before it reveals the proof: `fillCommitment(prover, requestIds, keccak256(proof))`
    ///      hides the proof and the requests, and binds the prover, so whoever copies the proof later has no
    ///      commitment of its own in an earlier block. One commitment covers a whole batch. Not needed for a
    ///      fulfilment within a lock.
    /// @param commitment The commitment.
    function commit(bytes32 commitment) external;

    /// @notice Fulfils a request with a proof: `fulfillBatch` with one request. Anyone may send it (the proof is
    ///         the trust, not the sender); who is paid follows the market rules: within a lock the locker, else the
    ///         sender, which then needs its own earlier commitment.
    /// @dev Checks, with the route's code (`InferenceProof`) and reverting with the route's errors
    ///      (`IInferenceVerifier`), that the version is not revoked and its suite verifier not stopped (a deprecated
    ///      version is still fulfilled), that the instances have the version's layout and their input range hashes
    ///      to the request's commitment, that the suite verifier accepts the proof against the version's VKA and
    ///      returns the version's VKA digest. The version's content (VKA, digest, layout) is immutable in the
    ///      registry: a later version never applies to the request. Then the receipt's hash is stored, the payment
    ///      credited and the requester called back (see `requestInference`).
    ///      Reverts with `CoordinatorInsufficientGasForCallback` rather than let the callback get less than its gas
    ///      limit.
    /// @param requestId An open or locked request whose deadline has not passed.
    /// @param terms Its terms.
    /// @param held Its lock, when `Locked` (ignored when `Open`).
    /// @param proof The proof bytes.
    /// @param instances The proof's public instances in the version's layout (EZKL default: inputs, outputs).
    function fulfill(
        uint256 requestId,
        Terms calldata terms,
        LockState calldata held,
        bytes calldata proof,
        uint256[] calldata instances
    ) external;

    /// @notice Fulfils up to a batch size of requests of one version with one proof of a batch variant of that
    ///         version (see `IModelRegistry.Variant`), or of the version itself at batch size 1. Request
    ///         `requestIds[i]` is block i of the instances; blocks from `requestIds.length` up are padding, which
    ///         fulfils nothing. Anyone may send it; each request is paid for, receipted and called back as by
    ///         `fulfill`, on its own terms.
    /// @dev First every request's state: ids strictly ascending (so no block serves two requests), each open or
    ///      locked with the terms (and lock) it stored and not past its deadline, so that a request settled since
    ///      the batch was proved fails the transaction before the verification's gas is spent. The batch size is
    ///      the instance count over the version's instance count; the circuit (its VKA and digest) is the
    ///      registry's for that batch size (`IModelRegistry.fulfilmentCircuit`), registered with the version and
    ///      immutable with it. The proof is checked once; the digest the suite verifier returns must be the
    ///      circuit's. Then per request, in order: of the first request's model and version, its block's input
    ///      hashing to its commitment, its payee by the market rules (an open fill needs the sender's commitment
    ///      to these requests and this proof), its receipt and `InferenceFulfilled`. `BatchFulfilled` follows,
    ///      then the callbacks in order, each with its own gas limit; one that fails is recorded as failed and
    ///      affects no other, and each is preceded by the gas check of `fulfill`
    ///      (`CoordinatorInsufficientGasForCallback`), so a sender cannot starve a later callback.
    /// @param requestIds The requests, ascending, block by block.
    /// @param terms Their terms, in the same order.
    /// @param held Their locks, in the same order (all zero for an `Open` request).
    /// @param proof The proof bytes.
    /// @param instances The proof's public instances: all inputs, block by block, then all outputs likewise.
    function fulfillBatch(
        uint256[] calldata requestIds,
        Terms[] calldata terms,
        LockState[] calldata held,
        bytes calldata proof,
        uint256[] calldata instances
    ) external;

    /// @notice Pays the caller's whole balance (prices earned, refunds, deposits and returned collateral) to the
    ///         caller. Works while paused.
    /// @return amount The amount paid.
    function withdraw() external returns (uint256 amount);

    /// @notice Pays `amount` of the caller's balance to `to`, e.g. a prover's cold wallet. Works while paused.
    /// @param to The recipient.
    /// @param amount The amount, at most the caller's balance.
    function withdrawTo(address payable to, uint256 amount) external;

    // ---------------------------------------------------------------------------------------------------------
    // Admin
    // ---------------------------------------------------------------------------------------------------------

    /// @notice Sets the guardian, who can pause and unpause; only the owner may.
    /// @param newGuardian The new guardian (zero: nobody can pause or unpause until one is set).
    function setGuardian(address newGuardian) external;

    /// @notice Pauses or unpauses new requests and fulfilments (with locks); only the guardian may.
    /// @dev Refunds, cancels and withdrawals are never paused, so escrow can always leave; while fulfilments are
    ///      paused every unfulfilled request is refundable.
    /// @param requestsPaused Whether `requestInference` is paused.
    /// @param fulfilmentsPaused Whether `fulfill` is paused.
    function setPaused(bool requestsPaused, bool fulfilmentsPaused) external;

    // ---------------------------------------------------------------------------------------------------------
    // Views
    // ---------------------------------------------------------------------------------------------------------

    /// @notice The furthest ahead a request's deadline may be: 30 days.
    /// @return The cap in seconds.
    function MAX_REQUEST_DURATION() external view returns (uint64);

    /// @notice The multiple of the request block's base fee at which a request's minimum price must cover its
    ///         callback gas limit: 2.
    /// @return The multiplier.
    function CALLBACK_GAS_PRICE_MULTIPLIER() external view returns (uint256);

    /// @notice The share, in basis points, of a lapsed lock's collateral that goes to the prover fulfilling after
    ///         the lock deadline (the rest goes to the requester): 5000.
    /// @return The share.
    function SLASH_FULFILLER_BPS() external view returns (uint256);

    /// @notice The largest callback gas limit a request may ask for.
    /// @return The cap.
    function MAX_CALLBACK_GAS_LIMIT() external view returns (uint32);

    /// @notice Gas `fulfill` must have left before a callback beyond the callback's own limit and 1/63 of it: it
    ///         pays for the call itself and for recording a failure afterwards.
    /// @return The reserve.
    function CALLBACK_GAS_RESERVE() external view returns (uint256);

    /// @notice How many bytes of a failed callback's revert data `CallbackFailed` carries at most.
    /// @return The limit.
    function MAX_CALLBACK_REASON_LENGTH() external view returns (uint256);

    /// @notice The registry requests are resolved against.
    /// @return The registry.
    function registry() external view returns (IModelRegistry);

    /// @notice The stand-alone route over the same registry, which applies the same proof checks as `fulfill`.
    /// @dev `fulfill` does not call it: it runs the same code (`InferenceProof`) and calls the verifier itself.
    ///      Use it to check a proof without a request, e.g. a prover pre-checking with
    ///      `verifyCommitted(modelId, version, inputCommitment, proof, instances)`.
    /// @return The route.
    function route() external view returns (IInferenceVerifier);

    /// @notice The account that can pause and unpause.
    /// @return The guardian.
    function guardian() external view returns (address);

    /// @notice What is paused.
    /// @return requestsPaused Whether `requestInference` is paused.
    /// @return fulfilmentsPaused Whether `fulfill` is paused.
    function paused() external view returns (bool requestsPaused, bool fulfilmentsPaused);

    /// @notice A request's status and the hash its stored word holds (the low 248 bits of `keccak256`): of its
    ///         terms while `Open` (`hashTerms`), of its terms and lock while `Locked` (`hashLocked`), of its receipt
    ///         once `Fulfilled` (`receiptHash`), 0 once refunded or cancelled.
    /// @param requestId The request.
    /// @return status Its status (`None`: no such request).
    /// @return stateHash The hash.
    function requestState(uint256 requestId) external view returns (RequestStatus status, bytes32 stateHash);

    /// @notice Whether `r` is the receipt of fulfilled request `requestId`: true only then; false for any other
    ///         receipt or a request that is not fulfilled.
    /// @param requestId The request.
    /// @param r The receipt, from `InferenceFulfilled` (and `CallbackFailed`) and the request's terms.
    /// @return Whether it is the stored one.
    function checkReceipt(uint256 requestId, Receipt calldata r) external view returns (bool);

    /// @notice `keccak256(abi.encode(terms))`, truncated as stored.
    /// @param terms The terms.
    /// @return The hash.
    function hashTerms(Terms calldata terms) external pure returns (bytes32);

    /// @notice The hash a `Locked` request stores: `keccak256(abi.encode(hashTerms(terms), held))`, truncated.
    /// @param terms The terms.
    /// @param held The lock.
    /// @return The hash.
    function hashLocked(Terms calldata terms, LockState calldata held) external pure returns (bytes32);

    /// @notice `keccak256(abi.encode(r))`, truncated as stored.
    /// @param r The receipt.
    /// @return The hash.
    function receiptHash(Receipt calldata r) external pure returns (bytes32);

    /// @notice An account's balance: withdrawable, and what `lock` takes collateral from (prices earned,
    ///         deposits, returned and slashed collateral, refunds).
    /// @param account The account.
    /// @return The balance in wei.
    function credits(address account) external view returns (uint256);

    /// @notice The price a lock, or an open fill of a request that was never locked, would fix at `timestamp`.
    /// @param terms The request's terms.
    /// @param timestamp The time (e.g. the next block's).
    /// @return The price in wei.
    function priceAt(Terms calldata terms, uint64 timestamp) external pure returns (uint256);

    /// @notice The commitment `fulfill` / `fulfillBatch` need from `prover` for an open fill of `requestIds` with a
    ///         proof hashing to `proofHash`: `keccak256(abi.encode(prover, requestIds, proofHash))`.
    /// @param prover The account that will send the fulfilment and be paid.
    /// @param requestIds The requests, in the order the fulfilment lists them (one for `fulfill`).
    /// @param proofHash `keccak256(proof)`.
    /// @return The commitment.
    function fillCommitment(
        address prover,
        uint256[] calldata requestIds,
        bytes32 proofHash
    ) external pure returns (bytes32);

    /// @notice The block a commitment was made in (0: none).
    /// @param commitment The commitment.
    /// @return The block number.
    function commitmentBlock(bytes32 commitment) external view returns (uint256);

    /// @notice The commitment `requestInference` stores for `input`.
    /// @dev Reverts with `FieldElement.FieldElementIntOutOfRange` for an element without a field encoding.
    /// @param input The input as fixed-point integers.
    /// @return `keccak256(abi.encodePacked(e))` for `e[i]` the field encoding of `input[i]` as a `uint256`.
    function computeInputCommitment(int256[] calldata input) external pure returns (bytes32);
}
