// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IModelRegistry} from "./IModelRegistry.sol";
import {IInferenceVerifier} from "./IInferenceVerifier.sol";

// Amounts and flags are event data, not filter keys: a topic costs 375 gas where a data word costs 256, and
// nobody filters by them. Ids and accounts are indexed.
/* solhint-disable gas-indexed-events */

/// @title IInferenceCoordinator
/// @notice How a dApp gets a verified inference: it requests one (input, fee, callback gas, deadline); any prover
///         fulfils it with an EZKL proof checked against the registered verifier and the committed input; the
///         coordinator keeps a receipt, credits the fee to the prover and calls the requester back with the
///         outputs. Past its deadline an unfulfilled request is refundable to its requester.
/// @dev Trust comes from the proof, never from the caller: anyone may fulfil. Value only moves by pull payment:
///      fees and refunds are credited, and `withdraw` / `withdrawTo` pay credits out. A guardian can pause new
///      requests and fulfilments in an emergency; refunds and withdrawals are never paused. A callback that
///      reverts, runs out of gas or returns huge data never undoes a fulfilment, its receipt or the prover's fee,
///      and a prover cannot starve a callback: `fulfill` reverts unless the callee will get its full gas limit.
///      Invariant: the coordinator's balance is the sum of the fees of open requests plus all unwithdrawn
///      credits (plus any ether forced in without a call).
interface IInferenceCoordinator {
    // ---------------------------------------------------------------------------------------------------------
    // Types
    // ---------------------------------------------------------------------------------------------------------

    /// @notice A request's life cycle: `Open` until fulfilled (at most once, up to the deadline) or refunded
    ///         (after the deadline); both ends are final.
    enum RequestStatus {
        None,
        Open,
        Fulfilled,
        Refunded
    }

    /// @notice What happened to the callback of a fulfilled request.
    /// @dev `None`: no callback was made, because the requester had no code when the request was fulfilled (an
    ///      EOA) or asked for none with a zero callback gas limit.
    enum CallbackStatus {
        None,
        Succeeded,
        Failed
    }

    /// @notice A request as stored (see `request`).
    /// @dev Once a request is fulfilled its storage holds the receipt, and `callbackGasLimit` and `deadline` read
    ///      0 (both are in `InferenceRequested`); every other field keeps its value.
    /// @param requester Who asked; receives the callback and, after the deadline, the refund.
    /// @param modelId The model.
    /// @param version The version resolved at request time (a request for version 0 stores the then latest active
    ///        version).
    /// @param inputCommitment `keccak256` of the input's field encodings (see
    ///        `IInferenceVerifier.verifyCommitted`).
    /// @param fee The fee paid for the prover (the request's `msg.value`): escrowed while open, then credited to
    ///        the fulfiller or refunded to the requester.
    /// @param callbackGasLimit The gas the callback gets (0: no callback).
    /// @param deadline The last timestamp at which the request can be fulfilled; refundable after it.
    /// @param status The request's status.
    // A return value, never stored (the coordinator packs its own storage form), so field order serves readers.
    // solhint-disable-next-line gas-struct-packing
    struct Request {
        address requester;
        bytes32 modelId;
        uint32 version;
        bytes32 inputCommitment;
        uint256 fee;
        uint32 callbackGasLimit;
        uint64 deadline;
        RequestStatus status;
    }

    /// @notice The verified record of a fulfilment, readable by anyone afterwards (see `receipt`).
    /// @dev The outputs themselves are in `InferenceFulfilled` and were passed to the callback; anyone holding
    ///      them can check `keccak256(abi.encode(outputs)) == outputsHash`.
    /// @param modelId The model.
    /// @param version The version whose VKA the suite verifier accepted the proof against.
    /// @param inputCommitment The committed input the proof was checked against.
    /// @param outputsHash `keccak256(abi.encode(outputs))` of the decoded outputs (`int256[]`).
    /// @param proofHash `keccak256(proof)`.
    /// @param fulfiller Who submitted the proof and was credited the fee.
    /// @param fulfilledAt Block timestamp of the fulfilment.
    /// @param callback What happened to the callback (while the callback itself runs, it already reads
    ///        `Succeeded`; a failure rewrites it).
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

    /// @notice Emitted when an inference is requested; provers take the input from here.
    /// @param requestId The new request's id.
    /// @param modelId The model.
    /// @param version The resolved version (never 0).
    /// @param requester Who asked (an EOA or a consumer contract).
    /// @param input The flattened input tensor as fixed-point integers at the version's input scale.
    /// @param inputCommitment The stored commitment to `input`.
    /// @param fee The escrowed fee.
    /// @param callbackGasLimit The gas the callback will get (0: none).
    /// @param deadline The last timestamp at which the request can be fulfilled.
    event InferenceRequested(
        uint256 indexed requestId,
        bytes32 indexed modelId,
        uint32 version,
        address indexed requester,
        int256[] input,
        bytes32 inputCommitment,
        uint256 fee,
        uint32 callbackGasLimit,
        uint64 deadline
    );

    /// @notice Emitted when a request is fulfilled with a proof the registered verifier accepted.
    /// @dev Emitted before the callback; a failed callback adds `CallbackFailed` in the same transaction.
    /// @param requestId The request.
    /// @param modelId The model.
    /// @param version The version.
    /// @param outputs The flattened output tensor as fixed-point integers at the version's output scale.
    /// @param proofHash `keccak256(proof)`.
    /// @param fulfiller Who submitted the proof; credited the fee.
    event InferenceFulfilled(
        uint256 indexed requestId,
        bytes32 indexed modelId,
        uint32 version,
        int256[] outputs,
        bytes32 proofHash,
        address indexed fulfiller
    );

    /// @notice Emitted when the requester's callback reverted or ran out of gas; the fulfilment stands.
    /// @param requestId The request.
    /// @param consumer The requester that was called.
    /// @param reason The first `MAX_CALLBACK_REASON_LENGTH` bytes of the callback's revert data.
    event CallbackFailed(uint256 indexed requestId, address indexed consumer, bytes reason);

    /// @notice Emitted when an expired request is refunded: its fee is credited back to the requester.
    /// @param requestId The request.
    /// @param requester Who asked; credited `amount`.
    /// @param amount The fee credited.
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

    /// @notice Thrown when `fulfill`, `refund`, `withdraw` or `withdrawTo` is entered again while one of them is
    ///         running, e.g. from a consumer's callback or a withdrawal recipient.
    /// @param caller The re-entering caller.
    error CoordinatorReentrantCall(address caller);

    /// @notice Thrown by `requestInference` while the guardian has paused requests.
    /// @param guardian The guardian who can unpause.
    error CoordinatorRequestsPaused(address guardian);

    /// @notice Thrown by `fulfill` while the guardian has paused fulfilments; the request stays open and becomes
    ///         refundable after its deadline as usual.
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

    /// @notice Thrown by `requestInference` when the deadline does not fit the stored form (`type(uint40).max`, a
    ///         timestamp in the year 36812); pass an earlier one for a request that should practically never expire.
    /// @param deadline The deadline given.
    /// @param maxDeadline The latest deadline accepted.
    error CoordinatorDeadlineTooFar(uint64 deadline, uint64 maxDeadline);

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

    /// @notice Thrown by `fulfill` and `refund` when the request was already fulfilled (a prover's retry after
    ///         success, or another prover was first).
    /// @param requestId The request.
    /// @param fulfiller Who fulfilled it.
    error CoordinatorRequestAlreadyFulfilled(uint256 requestId, address fulfiller);

    /// @notice Thrown by `fulfill` and `refund` when the request was already refunded.
    /// @param requestId The request.
    error CoordinatorRequestAlreadyRefunded(uint256 requestId);

    /// @notice Thrown by `fulfill` after the request's deadline; it can only be refunded now.
    /// @param requestId The request.
    /// @param deadline The request's deadline.
    error CoordinatorRequestExpired(uint256 requestId, uint64 deadline);

    /// @notice Thrown by `refund` up to the request's deadline, while it can still be fulfilled (its version is not
    ///         revoked and its suite verifier not stopped).
    /// @param requestId The request.
    /// @param deadline The request's deadline; refundable from the next second on.
    error CoordinatorRequestNotExpired(uint256 requestId, uint64 deadline);

    /// @notice Thrown by `receipt` for a request that has not been fulfilled.
    /// @param requestId The request.
    /// @param status Its status.
    error CoordinatorRequestNotFulfilled(uint256 requestId, RequestStatus status);

    /// @notice Thrown by `fulfill` when too little gas is left to give the callback its full gas limit (the
    ///         63/64 rule would cut it short). Nothing is fulfilled; resend with a higher gas limit.
    /// @param requestId The request.
    /// @param gasLeft The gas left just before the callback.
    /// @param gasNeeded The gas that must be left: the callback gas limit, its 1/63 share kept back by the 63/64
    ///        rule, and `CALLBACK_GAS_RESERVE`.
    error CoordinatorInsufficientGasForCallback(uint256 requestId, uint256 gasLeft, uint256 gasNeeded);

    /// @notice Thrown by `withdraw` / `withdrawTo` when the account has no credit or the amount is zero.
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

    /// @notice Requests an inference of `version` of `modelId` on `input`; `msg.value` is the prover's fee.
    /// @dev Only a commitment to the input is stored; the input itself is in `InferenceRequested`. A fee of 0 is
    ///      allowed (provers choose what to serve). If the requester has code when the request is fulfilled and
    ///      `callbackGasLimit` is not 0, it is called with `IInferenceConsumer.receiveInference` and exactly that
    ///      much gas. Not `nonReentrant`, so a consumer may request again from inside its callback.
    /// @param modelId The model.
    /// @param version The version to pin (the default everywhere), or 0 to opt in to the model's latest active
    ///        version at this moment (`IModelRegistry.latestActiveVersion`, stored resolved).
    /// @param input The flattened input tensor as fixed-point integers at the version's input scale; its length
    ///        must be the version's input count and every element must have a field encoding.
    /// @param callbackGasLimit The gas the callback gets, at most `MAX_CALLBACK_GAS_LIMIT` (0: no callback).
    /// @param deadline The last timestamp at which the request can be fulfilled; must be in the future and at most
    ///        `type(uint40).max`.
    /// @return requestId The new request's id (ids start at 1).
    function requestInference(
        bytes32 modelId,
        uint32 version,
        int256[] calldata input,
        uint32 callbackGasLimit,
        uint64 deadline
    ) external payable returns (uint256 requestId);

    /// @notice Refunds an unfulfilled request that can no longer be fulfilled: past its deadline, or at once when
    ///         its version was revoked or its suite verifier stopped. Its fee is credited to its requester. Anyone may
    ///         call.
    /// @dev Works while paused. The requester then calls `withdraw`.
    /// @param requestId An open request whose deadline has passed or whose version can no longer be fulfilled.
    function refund(uint256 requestId) external;

    // ---------------------------------------------------------------------------------------------------------
    // Provers
    // ---------------------------------------------------------------------------------------------------------

    /// @notice Fulfils an open request with a proof; anyone may call: the proof is the trust, not the sender.
    /// @dev Checks, with the route's code (`InferenceProof`) and reverting with the route's errors
    ///      (`IInferenceVerifier`), that the version is not revoked and its suite verifier not stopped (a deprecated
    ///      version is still fulfilled), that the instances have the version's layout and their input range hashes
    ///      to the request's commitment, that the suite verifier accepts the proof against the version's VKA and
    ///      returns the version's VKA digest. The version's immutable content (VKA, digest, layout) is the one the
    ///      registry held at request time: a later version never applies to the request. Then the receipt is
    ///      stored, the fee credited to the caller and the requester called back (see `requestInference`).
    ///      Reverts with `CoordinatorInsufficientGasForCallback` rather than let the callback get less than its gas
    ///      limit.
    /// @param requestId An open request whose deadline has not passed.
    /// @param proof The proof bytes.
    /// @param instances The proof's public instances in the version's layout (EZKL default: inputs, outputs).
    function fulfill(uint256 requestId, bytes calldata proof, uint256[] calldata instances) external;

    /// @notice Pays the caller's whole credit (fees earned and refunds) to the caller. Works while paused.
    /// @return amount The amount paid.
    function withdraw() external returns (uint256 amount);

    /// @notice Pays `amount` of the caller's credit to `to`, e.g. a prover's cold wallet. Works while paused.
    /// @param to The recipient.
    /// @param amount The amount, at most the caller's credit.
    function withdrawTo(address payable to, uint256 amount) external;

    // ---------------------------------------------------------------------------------------------------------
    // Admin
    // ---------------------------------------------------------------------------------------------------------

    /// @notice Sets the guardian, who can pause and unpause; only the owner may.
    /// @param newGuardian The new guardian (zero: nobody can pause or unpause until one is set).
    function setGuardian(address newGuardian) external;

    /// @notice Pauses or unpauses new requests and fulfilments; only the guardian may.
    /// @dev Refunds and withdrawals are never paused, so escrow can always leave.
    /// @param requestsPaused Whether `requestInference` is paused.
    /// @param fulfilmentsPaused Whether `fulfill` is paused.
    function setPaused(bool requestsPaused, bool fulfilmentsPaused) external;

    // ---------------------------------------------------------------------------------------------------------
    // Views
    // ---------------------------------------------------------------------------------------------------------

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
    /// @dev `fulfill` does not call it: it runs the same code (`InferenceProof`) against the request's snapshot
    ///      of the version and calls the verifier itself. Use it to check a proof without a request, e.g. a prover
    ///      pre-checking with `verifyCommitted(modelId, version, inputCommitment, proof, instances)`.
    /// @return The route.
    function route() external view returns (IInferenceVerifier);

    /// @notice The account that can pause and unpause.
    /// @return The guardian.
    function guardian() external view returns (address);

    /// @notice What is paused.
    /// @return requestsPaused Whether `requestInference` is paused.
    /// @return fulfilmentsPaused Whether `fulfill` is paused.
    function paused() external view returns (bool requestsPaused, bool fulfilmentsPaused);

    /// @notice The id the next request will get.
    /// @return The id.
    function nextRequestId() external view returns (uint256);

    /// @notice A request; reverts for an unknown id.
    /// @param requestId The request.
    /// @return The request.
    function request(uint256 requestId) external view returns (Request memory);

    /// @notice The receipt of a fulfilled request; reverts for a request that is not fulfilled.
    /// @param requestId The request.
    /// @return The receipt.
    function receipt(uint256 requestId) external view returns (Receipt memory);

    /// @notice An account's withdrawable credit (fees earned as a prover plus refunds as a requester).
    /// @param account The account.
    /// @return The credit in wei.
    function credits(address account) external view returns (uint256);

    /// @notice The commitment `requestInference` stores for `input`.
    /// @dev Reverts with `FieldElement.FieldElementIntOutOfRange` for an element without a field encoding.
    /// @param input The input as fixed-point integers.
    /// @return `keccak256(abi.encodePacked(e))` for `e[i]` the field encoding of `input[i]` as a `uint256`.
    function computeInputCommitment(int256[] calldata input) external pure returns (bytes32);
}
