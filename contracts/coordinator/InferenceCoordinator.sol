// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {IInferenceCoordinator} from "../interfaces/IInferenceCoordinator.sol";
import {IInferenceConsumer} from "../interfaces/IInferenceConsumer.sol";
import {IInferenceVerifier} from "../interfaces/IInferenceVerifier.sol";
import {IModelRegistry} from "../interfaces/IModelRegistry.sol";
import {FieldElement} from "../libraries/FieldElement.sol";
import {InferenceProof} from "../libraries/InferenceProof.sol";

/// @title InferenceCoordinator
/// @notice Requests, proof-checked fulfilments with callbacks, fee escrow, deadlines, refunds and withdrawals for
///         verified inferences.
/// @dev A request is one storage word: `keccak256` of what it committed to, with its status in the low byte (see
///      `_state`). The request's terms live in `InferenceRequested`, and every call that acts on the request takes
///      them back and is checked against the word (`CoordinatorTermsMismatch`), so a request writes one new slot
///      (22.1k gas) where a stored struct would write one per field, and each later step rewrites that same slot
///      (2.9k). The word holds, by status:
///      - `Open`: `hashTerms(terms)`;
///      - `Locked`: `hashLocked(terms, lock)`, the lock (`LockState`) as `RequestLocked` logged it;
///      - `Fulfilled`: `receiptHash(receipt)` (see `checkReceipt`);
///      - `Refunded` / `Cancelled`: the status alone.
///      A fulfilment reads the version's circuit (VKA store, digest, layout; immutable in the registry) and its
///      mutable facts (status, suite verifier, stopped) from the registry in one call (`fulfilmentCircuit`), once
///      per batch. The market (lock, collateral, commitments, auction, slashing; rules in `IInferenceCoordinator`)
///      adds only one word per open-fill commitment, one per batch. The reentrancy lock lives in transient storage.
///      The owner (`Ownable2Step`) only sets the guardian; the guardian only pauses. Nobody can touch escrow.
contract InferenceCoordinator is IInferenceCoordinator, Ownable2Step {
    /// @inheritdoc IInferenceCoordinator
    uint32 public constant override MAX_CALLBACK_GAS_LIMIT = 5_000_000;

    /// @inheritdoc IInferenceCoordinator
    /// @dev Covers the few opcodes and the warm CALL between the gas check and the callback (a few hundred gas),
    ///      and after a failed callback the capped return-data copy, the status update and `CallbackFailed`
    ///      (about 6k gas), with a margin.
    uint256 public constant override CALLBACK_GAS_RESERVE = 10_000;

    /// @inheritdoc IInferenceCoordinator
    uint256 public constant override MAX_CALLBACK_REASON_LENGTH = 256;

    /// @inheritdoc IInferenceCoordinator
    uint64 public constant override MAX_REQUEST_DURATION = 30 days;

    /// @inheritdoc IInferenceCoordinator
    /// @dev The base fee is the one gas price the chain states; 2x is the usual headroom for its rise until the
    ///      fulfilment (EIP-1559 wallets' `maxFeePerGas = 2 x baseFee`).
    uint256 public constant override CALLBACK_GAS_PRICE_MULTIPLIER = 2;

    /// @inheritdoc IInferenceCoordinator
    uint256 public constant override SLASH_FULFILLER_BPS = 5_000;

    /// @dev The largest collateral a request may ask for (the cap the earlier stored form had; kept as the rule).
    uint256 private constant MAX_COLLATERAL = type(uint96).max;

    /// @dev The largest maximum price a request may escrow: about 3.1e8 ether, more than exists.
    uint256 private constant MAX_FEE = type(uint88).max;

    /// @dev The low byte of a request's word: its status.
    uint256 private constant STATUS_MASK = 0xff;

    /// @dev One slot: `requestInference` and `fulfill` read the pause flags here.
    struct Config {
        address guardian;
        bool requestsPaused;
        bool fulfilmentsPaused;
    }

    /// @dev What `fulfill` / `fulfillBatch` establish once for the whole batch: the circuit it was checked with, its
    ///      block layout (block i's input at `inputOffset + i * inputCount`, its output at
    ///      `outputOffset + i * outputCount`; see `IModelRegistry.Variant`; at batch size 1 the version's own
    ///      layout), the proof's hash, and the sender's open-fill commitment (looked up at most once).
    // In memory only, never stored, so field order serves readers.
    // solhint-disable-next-line gas-struct-packing
    struct Batch {
        bytes32 modelId;
        uint32 version;
        uint32 size;
        bytes32 proofHash;
        uint256 inputOffset;
        uint256 inputCount;
        uint256 outputOffset;
        uint256 outputCount;
        bytes32 commitment;
        uint256 committedAt;
        bool commitmentLoaded;
        bool commitmentUsed;
        bool single;
    }

    /// @dev One request of a fulfilment, as checked before the proof: its id, its block, its status and its payee.
    struct Claim {
        uint256 requestId;
        uint256 index;
        RequestStatus status;
        address payee;
    }

    /// @dev A callback to make after every request of the batch is recorded (`gasLimit` 0: none), and the word to
    ///      store if it fails (the receipt with `CallbackStatus.Failed`).
    struct Callback {
        address consumer;
        uint256 gasLimit;
        bytes data;
        uint256 failedWord;
    }

    IModelRegistry private immutable REGISTRY;
    IInferenceVerifier private immutable ROUTE;

    /// @dev The reentrancy lock, 1 while a guarded function runs (EIP-1153 transient storage: 300 gas a guarded
    ///      call instead of two storage writes). OpenZeppelin's `ReentrancyGuardTransient` does the same with
    ///      inline-assembly `tstore`, which solc flags with a warning on every build; the `transient` keyword
    ///      compiles to the same TLOAD/TSTORE.
    uint256 private transient _locked;

    Config private _config;

    /// @dev Per request, its word: the hash of its state with the low byte replaced by its `RequestStatus` (see the
    ///      contract's notes). 0: no such request.
    mapping(uint256 requestId => uint256 word) private _state;

    /// @dev An account's credit plus one, once it has ever been credited (0: never). Withdrawing everything leaves
    ///      1, not 0, so the account's next credit rewrites a non-zero slot (~5k gas) instead of creating one
    ///      (~22k): without it every prover's first fulfilment after a withdrawal would pay 17k more.
    mapping(address account => uint256) private _creditsPlusOne;

    /// @dev The block each open-fill commitment was made in (see `commit`); deleted when used.
    mapping(bytes32 commitment => uint256 blockNumber) private _commitments;

    /// @dev Guards the paths that move value or call out (`fulfill`, `fulfillBatch`, `refund`, `cancel`,
    ///      `withdraw`, `withdrawTo`) against re-entry from a callback or a withdrawal recipient. Not on
    ///      `requestInference`, which makes no external call that could re-enter (registry reads only), so a
    ///      consumer may request again from its callback.
    modifier nonReentrant() {
        if (_locked != 0) revert CoordinatorReentrantCall({caller: msg.sender});
        _locked = 1;
        _;
        _locked = 0;
    }

    /// @param registry_ The model registry requests are resolved against and fulfilments read circuits from.
    /// @param route_ The stand-alone route that applies `fulfill`'s proof checks (see `route`); must read
    ///        `registry_`.
    /// @param initialOwner The owner, who sets the guardian.
    /// @param guardian_ The guardian, who can pause (zero: none yet).
    constructor(
        IModelRegistry registry_,
        IInferenceVerifier route_,
        address initialOwner,
        address guardian_
    ) Ownable(initialOwner) {
        if (address(registry_).code.length == 0) revert CoordinatorHasNoCode({account: address(registry_)});
        if (address(route_).code.length == 0) revert CoordinatorHasNoCode({account: address(route_)});
        IModelRegistry routeRegistry = route_.registry();
        if (routeRegistry != registry_) {
            revert CoordinatorRouteRegistryMismatch({
                route: address(route_),
                expected: address(registry_),
                actual: address(routeRegistry)
            });
        }
        REGISTRY = registry_;
        ROUTE = route_;
        _config = Config({guardian: guardian_, requestsPaused: false, fulfilmentsPaused: false});
        emit GuardianUpdated({previousGuardian: address(0), newGuardian: guardian_});
    }

    // ---------------------------------------------------------------------------------------------------------
    // Requesters
    // ---------------------------------------------------------------------------------------------------------

    /// @inheritdoc IInferenceCoordinator
    function requestInference(
        bytes32 modelId,
        uint32 version,
        int256[] calldata input,
        Offer calldata offer
    ) external payable override returns (uint256 requestId) {
        version = _checkRequest(modelId, version, input.length, offer);
        Terms memory terms;
        // reverts FieldElementIntOutOfRange
        (requestId, terms) = _store(modelId, version, FieldElement.commit(input), offer);
        (uint8 width, bytes memory packed) = _pack(input);
        emit InferenceRequested({
            requestId: requestId,
            modelId: modelId,
            requester: msg.sender,
            terms: terms,
            inputWidth: width,
            input: packed
        });
    }

    /// @inheritdoc IInferenceCoordinator
    function requestInferencePacked(
        bytes32 modelId,
        uint32 version,
        uint8 inputWidth,
        bytes calldata input,
        Offer calldata offer
    ) external payable override returns (uint256 requestId) {
        if (inputWidth == 0 || inputWidth > 32 || input.length % inputWidth != 0) {
            revert CoordinatorInputWidthInvalid({inputWidth: inputWidth, length: input.length});
        }
        version = _checkRequest(modelId, version, input.length / inputWidth, offer);
        Terms memory terms;
        // reverts FieldElementIntOutOfRange
        (requestId, terms) = _store(modelId, version, FieldElement.commitPacked(inputWidth, input), offer);
        emit InferenceRequested({
            requestId: requestId,
            modelId: modelId,
            requester: msg.sender,
            terms: terms,
            inputWidth: inputWidth,
            input: input
        });
    }

    /// @inheritdoc IInferenceCoordinator
    function cancel(uint256 requestId, Terms calldata terms) external override nonReentrant {
        (RequestStatus status, ) = _loadOpen(requestId, terms);
        if (status != RequestStatus.Open) _revertNotOpen(requestId, status);
        if (msg.sender != terms.requester) {
            revert CoordinatorNotRequester({
                requestId: requestId,
                caller: msg.sender,
                requester: terms.requester
            });
        }
        _state[requestId] = uint256(RequestStatus.Cancelled);
        if (terms.maxPrice != 0) _credit(terms.requester, terms.maxPrice);
        emit InferenceCancelled({requestId: requestId, requester: terms.requester, amount: terms.maxPrice});
    }

    /// @inheritdoc IInferenceCoordinator
    function refund(
        uint256 requestId,
        Terms calldata terms,
        LockState calldata held
    ) external override nonReentrant {
        RequestStatus status = _load(requestId, terms, held);
        bool locked = status == RequestStatus.Locked;
        if (status != RequestStatus.Open && !locked) _revertNotOpen(requestId, status);
        bool expired = block.timestamp > terms.deadline;
        // Paused fulfilments, or a version that can no longer be fulfilled (revoked): refundable at once, and a
        // locker is not at fault (its collateral goes back to it).
        bool blocked = _config.fulfilmentsPaused || _unfulfillable(terms.modelId, terms.version);
        if (!expired && !blocked) {
            revert CoordinatorRequestNotExpired({requestId: requestId, deadline: terms.deadline});
        }
        _state[requestId] = uint256(RequestStatus.Refunded);
        uint256 escrow = locked ? held.price : terms.maxPrice;
        uint256 toRequester = escrow;
        if (locked) toRequester += _settleLockOnRefund(requestId, terms, held, blocked);
        if (toRequester != 0) _credit(terms.requester, toRequester);
        emit InferenceRefunded({requestId: requestId, requester: terms.requester, amount: escrow});
    }

    // ---------------------------------------------------------------------------------------------------------
    // Provers
    // ---------------------------------------------------------------------------------------------------------

    /// @inheritdoc IInferenceCoordinator
    function deposit() external payable override {
        if (msg.value == 0) revert CoordinatorZeroDeposit({account: msg.sender});
        _credit(msg.sender, msg.value);
        emit Deposited({account: msg.sender, amount: msg.value});
    }

    /// @inheritdoc IInferenceCoordinator
    function lock(uint256[] calldata requestIds, Terms[] calldata terms) external override {
        if (requestIds.length == 0) revert CoordinatorNothingToLock({account: msg.sender});
        if (terms.length != requestIds.length) {
            revert CoordinatorArgumentsLengthMismatch({
                requests: requestIds.length,
                terms: terms.length,
                locks: terms.length
            });
        }
        Config memory config = _config;
        if (config.fulfilmentsPaused) {
            revert CoordinatorFulfilmentsPaused({requestId: requestIds[0], guardian: config.guardian});
        }
        uint256 totalCollateral;
        for (uint256 i = 0; i < requestIds.length; ++i) {
            totalCollateral += _lockOne(requestIds[i], terms[i]); // checked; each term is below 2^96
        }
        if (totalCollateral != 0) _debit(msg.sender, totalCollateral);
    }

    /// @inheritdoc IInferenceCoordinator
    function commit(bytes32 commitment) external override {
        uint256 committedAt = _commitments[commitment];
        if (committedAt != 0)
            revert CoordinatorAlreadyCommitted({commitment: commitment, committedAt: committedAt});
        _commitments[commitment] = block.number;
        emit FillCommitted({commitment: commitment, prover: msg.sender});
    }

    /// @inheritdoc IInferenceCoordinator
    function fulfill(
        uint256 requestId,
        Terms calldata terms,
        LockState calldata held,
        bytes calldata proof,
        uint256[] calldata instances
    ) external override nonReentrant {
        _checkFulfilmentsOpen(requestId);
        RequestStatus status = _loadFulfillable(requestId, terms, held);
        Batch memory batch;
        // Who is paid is settled before the proof is checked, so a copy without a commitment fails cheaply.
        Claim memory claim = Claim({
            requestId: requestId,
            index: 0,
            status: status,
            payee: _payeeSingle(batch, requestId, terms, status, held, proof)
        });
        _verifyBatch(batch, terms.modelId, terms.version, 1, true, proof, instances);
        Callback memory cb = _settle(batch, claim, terms, held, instances);
        if (batch.commitmentUsed) delete _commitments[batch.commitment];
        if (cb.gasLimit != 0) _callBackOrRecordFailure(requestId, cb);
    }

    /// @inheritdoc IInferenceCoordinator
    function fulfillBatch(
        uint256[] calldata requestIds,
        Terms[] calldata terms,
        LockState[] calldata held,
        bytes calldata proof,
        uint256[] calldata instances
    ) external override nonReentrant {
        uint256 count = requestIds.length;
        if (count == 0) revert CoordinatorBatchEmpty({prover: msg.sender});
        if (terms.length != count || held.length != count) {
            revert CoordinatorArgumentsLengthMismatch({
                requests: count,
                terms: terms.length,
                locks: held.length
            });
        }
        _checkFulfilmentsOpen(requestIds[0]);
        // Every request's own state and payee first, so that a request settled or expired since the batch was
        // proved (a race a sender cannot always avoid), or an open fill without its commitment, fails the
        // transaction before the verification's million gas, not after it.
        Batch memory batch;
        Claim[] memory claims = _checkBatchOpen(batch, requestIds, terms, held, proof);
        _verifyBatch(batch, terms[0].modelId, terms[0].version, count, false, proof, instances);
        Callback[] memory callbacks = new Callback[](count);
        for (uint256 i = 0; i < count; ++i)
            callbacks[i] = _settle(batch, claims[i], terms[i], held[i], instances);
        if (batch.commitmentUsed) delete _commitments[batch.commitment];
        _emitBatchFulfilled(batch, requestIds);
        for (uint256 i = 0; i < count; ++i) {
            if (callbacks[i].gasLimit != 0) _callBackOrRecordFailure(claims[i].requestId, callbacks[i]);
        }
    }

    /// @inheritdoc IInferenceCoordinator
    function withdraw() external override nonReentrant returns (uint256 amount) {
        amount = _creditOf(msg.sender);
        if (amount == 0) revert CoordinatorNothingToWithdraw({account: msg.sender});
        _creditsPlusOne[msg.sender] = 1;
        emit CreditWithdrawn({account: msg.sender, to: msg.sender, amount: amount});
        _send(msg.sender, amount);
    }

    /// @inheritdoc IInferenceCoordinator
    function withdrawTo(address payable to, uint256 amount) external override nonReentrant {
        if (to == address(0)) revert CoordinatorWithdrawalToZeroAddress({account: msg.sender});
        uint256 credit = _creditOf(msg.sender);
        if (amount == 0) revert CoordinatorNothingToWithdraw({account: msg.sender});
        if (amount > credit) {
            revert CoordinatorWithdrawalExceedsCredit({account: msg.sender, amount: amount, credit: credit});
        }
        // unchecked: amount <= credit was just checked, and credit + 1 was stored, so no overflow either.
        unchecked {
            _creditsPlusOne[msg.sender] = credit - amount + 1;
        }
        emit CreditWithdrawn({account: msg.sender, to: to, amount: amount});
        _send(to, amount);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Admin
    // ---------------------------------------------------------------------------------------------------------

    /// @inheritdoc IInferenceCoordinator
    function setGuardian(address newGuardian) external override onlyOwner {
        address previous = _config.guardian;
        _config.guardian = newGuardian;
        emit GuardianUpdated({previousGuardian: previous, newGuardian: newGuardian});
    }

    /// @inheritdoc IInferenceCoordinator
    function setPaused(bool requestsPaused, bool fulfilmentsPaused) external override {
        address current = _config.guardian;
        if (msg.sender != current) revert CoordinatorNotGuardian({caller: msg.sender, guardian: current});
        _config.requestsPaused = requestsPaused;
        _config.fulfilmentsPaused = fulfilmentsPaused;
        emit PauseUpdated({
            guardian: msg.sender,
            requestsPaused: requestsPaused,
            fulfilmentsPaused: fulfilmentsPaused
        });
    }

    // ---------------------------------------------------------------------------------------------------------
    // Views
    // ---------------------------------------------------------------------------------------------------------

    /// @inheritdoc IInferenceCoordinator
    function registry() external view override returns (IModelRegistry) {
        return REGISTRY;
    }

    /// @inheritdoc IInferenceCoordinator
    function route() external view override returns (IInferenceVerifier) {
        return ROUTE;
    }

    /// @inheritdoc IInferenceCoordinator
    function guardian() external view override returns (address) {
        return _config.guardian;
    }

    /// @inheritdoc IInferenceCoordinator
    function paused() external view override returns (bool requestsPaused, bool fulfilmentsPaused) {
        Config memory config = _config;
        return (config.requestsPaused, config.fulfilmentsPaused);
    }

    /// @inheritdoc IInferenceCoordinator
    function requestState(
        uint256 requestId
    ) external view override returns (RequestStatus status, bytes32 stateHash) {
        uint256 word = _state[requestId];
        return (RequestStatus(word & STATUS_MASK), bytes32(word & ~STATUS_MASK));
    }

    /// @inheritdoc IInferenceCoordinator
    function checkReceipt(uint256 requestId, Receipt calldata r) external view override returns (bool) {
        return _state[requestId] == _word(uint256(keccak256(abi.encode(r))), RequestStatus.Fulfilled);
    }

    /// @inheritdoc IInferenceCoordinator
    function hashTerms(Terms calldata terms) external pure override returns (bytes32) {
        return bytes32(_hashTerms(terms) & ~STATUS_MASK);
    }

    /// @inheritdoc IInferenceCoordinator
    function hashLocked(
        Terms calldata terms,
        LockState calldata held
    ) external pure override returns (bytes32) {
        return bytes32(_hashLocked(_hashTerms(terms), held.locker, held.lockedAt, held.price) & ~STATUS_MASK);
    }

    /// @inheritdoc IInferenceCoordinator
    function receiptHash(Receipt calldata r) external pure override returns (bytes32) {
        return bytes32(uint256(keccak256(abi.encode(r))) & ~STATUS_MASK);
    }

    /// @inheritdoc IInferenceCoordinator
    function credits(address account) external view override returns (uint256) {
        return _creditOf(account);
    }

    /// @inheritdoc IInferenceCoordinator
    function priceAt(Terms calldata terms, uint64 timestamp) external pure override returns (uint256) {
        return _priceAt(terms, timestamp);
    }

    /// @inheritdoc IInferenceCoordinator
    function fillCommitment(
        address prover,
        uint256[] calldata requestIds,
        bytes32 proofHash
    ) external pure override returns (bytes32) {
        return keccak256(abi.encode(prover, requestIds, proofHash));
    }

    /// @inheritdoc IInferenceCoordinator
    function commitmentBlock(bytes32 commitment) external view override returns (uint256) {
        return _commitments[commitment];
    }

    /// @inheritdoc IInferenceCoordinator
    function computeInputCommitment(int256[] calldata input) external pure override returns (bytes32) {
        return FieldElement.commit(input);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Market internals: offer checks, auction price, locks, commitments, payment
    // ---------------------------------------------------------------------------------------------------------

    // The market's deadlines are inclusive ("the last timestamp at which ..."): `<=` states them as written.
    /* solhint-disable gas-strict-inequalities */

    /// @dev Checks `offer` and `msg.value` against the market's rules and caps (see `IInferenceCoordinator`) and
    ///      so the request's lock deadline is at most `MAX_REQUEST_DURATION` ahead (far below 2^40) and
    ///      `minPrice <= msg.value <= MAX_FEE` (< 2^88).
    function _checkOffer(Offer calldata offer) private view {
        if (offer.callbackGasLimit > MAX_CALLBACK_GAS_LIMIT) {
            revert CoordinatorCallbackGasLimitTooHigh({
                callbackGasLimit: offer.callbackGasLimit,
                maxCallbackGasLimit: MAX_CALLBACK_GAS_LIMIT
            });
        }
        uint64 deadline = offer.deadline;
        if (deadline <= block.timestamp) {
            revert CoordinatorDeadlineNotInFuture({deadline: deadline, timestamp: block.timestamp});
        }
        uint256 maxDeadline = block.timestamp + MAX_REQUEST_DURATION;
        if (deadline > maxDeadline)
            revert CoordinatorDeadlineTooFar({deadline: deadline, maxDeadline: maxDeadline});
        if (msg.value > MAX_FEE) revert CoordinatorFeeTooLarge({fee: msg.value, maxFee: MAX_FEE});
        uint256 minPrice = offer.minPrice;
        if (minPrice > msg.value)
            revert CoordinatorMinPriceAboveMaxPrice({minPrice: minPrice, maxPrice: msg.value});
        // checked: at most 5e6 gas x the base fee x 2.
        uint256 callbackCost =
            uint256(offer.callbackGasLimit) * block.basefee * CALLBACK_GAS_PRICE_MULTIPLIER;
        if (minPrice < callbackCost) {
            revert CoordinatorPriceBelowCallbackCost({minPrice: minPrice, callbackCost: callbackCost});
        }
        uint256 window = deadline - block.timestamp; // deadline > block.timestamp was checked
        if (offer.lockTimeout == 0 || offer.lockTimeout > window) {
            revert CoordinatorLockTimeoutOutOfRange({lockTimeout: offer.lockTimeout, maxLockTimeout: window});
        }
        if (offer.rampPeriod > window) {
            revert CoordinatorRampPeriodTooLong({rampPeriod: offer.rampPeriod, maxRampPeriod: window});
        }
        if (offer.lockCollateral > MAX_COLLATERAL) {
            revert CoordinatorCollateralTooLarge({
                lockCollateral: offer.lockCollateral,
                maxLockCollateral: MAX_COLLATERAL
            });
        }
    }

    /// @dev The reverse Dutch auction: `minPrice` at `requestedAt`, rising linearly to `maxPrice` over `rampPeriod`
    ///      seconds (a zero ramp: `maxPrice` at once). Checked arithmetic: `terms` from a caller of `priceAt` may
    ///      be anything; stored terms have `minPrice <= maxPrice < 2^88`.
    function _priceAt(Terms calldata terms, uint256 timestamp) private pure returns (uint256) {
        uint256 start = terms.requestedAt;
        uint256 ramp = terms.rampPeriod;
        if (ramp == 0 || timestamp >= start + ramp) return terms.maxPrice;
        if (timestamp <= start) return terms.minPrice;
        return terms.minPrice + ((terms.maxPrice - terms.minPrice) * (timestamp - start)) / ramp;
    }

    /// @dev Locks one request for the caller at today's auction price (see `lock`) and returns its collateral.
    ///      The escrow above the price goes back to the requester now, so a `Locked` request's escrow is its price.
    function _lockOne(uint256 requestId, Terms calldata terms) private returns (uint256 collateral) {
        (RequestStatus status, uint256 termsHash) = _loadOpen(requestId, terms);
        if (status != RequestStatus.Open) _revertNotOpen(requestId, status);
        if (block.timestamp > terms.lockDeadline) {
            revert CoordinatorLockDeadlinePassed({requestId: requestId, lockDeadline: terms.lockDeadline});
        }
        uint256 price = _priceAt(terms, block.timestamp);
        if (price < terms.maxPrice) {
            // unchecked: price < maxPrice was just checked.
            unchecked {
                _credit(terms.requester, terms.maxPrice - price);
            }
        }
        uint64 lockedAt = uint64(block.number);
        _state[requestId] = _word(_hashLocked(termsHash, msg.sender, lockedAt, price), RequestStatus.Locked);
        collateral = terms.lockCollateral;
        emit RequestLocked({
            requestId: requestId,
            locker: msg.sender,
            price: price,
            collateral: collateral,
            lockDeadline: terms.lockDeadline,
            lockedAt: lockedAt
        });
    }

    /// @dev `fulfill`'s payee (see `_payeeOf`), hashing the proof only when a commitment has to be looked up: a
    ///      locker's own fulfilment within its lock does not.
    function _payeeSingle(
        Batch memory batch,
        uint256 requestId,
        Terms calldata terms,
        RequestStatus status,
        LockState calldata held,
        bytes calldata proof
    ) private view returns (address) {
        if (_isLockersOwn(terms, status, held)) return msg.sender;
        uint256[] memory ids = new uint256[](1);
        ids[0] = requestId;
        _loadCommitment(batch, keccak256(abi.encode(msg.sender, ids, keccak256(proof))));
        return _payeeOf(batch, requestId, terms, status, held);
    }

    /// @dev Whether the sender holds a live lock on the request: then it is paid, and needs no commitment.
    function _isLockersOwn(
        Terms calldata terms,
        RequestStatus status,
        LockState calldata held
    ) private view returns (bool) {
        return
            status == RequestStatus.Locked &&
            block.timestamp <= terms.lockDeadline &&
            msg.sender == held.locker;
    }

    /// @dev Looks up the sender's open-fill commitment (`fillCommitment`) once per batch.
    function _loadCommitment(Batch memory batch, bytes32 commitment) private view {
        batch.commitment = commitment;
        batch.committedAt = _commitments[commitment];
        batch.commitmentLoaded = true;
    }

    /// @dev Decides who a fulfilment pays, before the proof is checked (see the market rules), the sender's
    ///      commitment loaded: within a lock the locker, unless the sender committed before the lock was taken;
    ///      otherwise (never locked, or the lock lapsed) the sender, whose own commitment from an earlier block is
    ///      used up by the fulfilment.
    function _payeeOf(
        Batch memory batch,
        uint256 requestId,
        Terms calldata terms,
        RequestStatus status,
        LockState calldata held
    ) private view returns (address) {
        uint256 committedAt = batch.committedAt;
        if (status == RequestStatus.Locked && block.timestamp <= terms.lockDeadline) {
            if (msg.sender == held.locker) return msg.sender;
            if (committedAt == 0 || committedAt >= held.lockedAt) return held.locker;
            batch.commitmentUsed = true;
            return msg.sender;
        }
        if (committedAt == 0) {
            revert CoordinatorFillNotCommitted({
                requestId: requestId,
                prover: msg.sender,
                commitment: batch.commitment
            });
        }
        if (committedAt >= block.number) {
            revert CoordinatorCommitmentTooRecent({
                requestId: requestId,
                commitment: batch.commitment,
                committedAt: committedAt
            });
        }
        batch.commitmentUsed = true;
        return msg.sender;
    }

    /// @dev Credits a fulfilment's payment (see the market rules).
    function _pay(
        uint256 requestId,
        Terms calldata terms,
        RequestStatus status,
        LockState calldata held,
        address payee
    ) private {
        if (status == RequestStatus.Open) {
            uint256 price = _priceAt(terms, block.timestamp);
            if (price != 0) _credit(payee, price);
            // unchecked: the price never exceeds the escrow (see `_priceAt`; stored terms).
            unchecked {
                if (price < terms.maxPrice) _credit(terms.requester, terms.maxPrice - price);
            }
            return;
        }
        uint256 escrow = held.price;
        uint256 collateral = terms.lockCollateral;
        if (block.timestamp <= terms.lockDeadline) {
            if (payee == held.locker) {
                if (escrow + collateral != 0) _credit(payee, escrow + collateral);
                return;
            }
            if (escrow != 0) _credit(payee, escrow); // committed before the lock was taken
            if (collateral != 0) {
                _credit(held.locker, collateral);
                emit LockReleased({requestId: requestId, locker: held.locker, collateral: collateral});
            }
            return;
        }
        uint256 toFulfiller = (collateral * SLASH_FULFILLER_BPS) / 10_000;
        uint256 toRequester = collateral - toFulfiller;
        if (escrow + toFulfiller != 0) _credit(payee, escrow + toFulfiller);
        if (toRequester != 0) _credit(terms.requester, toRequester);
        emit LockSlashed({
            requestId: requestId,
            locker: held.locker,
            collateral: collateral,
            fulfiller: payee,
            toFulfiller: toFulfiller,
            toRequester: toRequester
        });
    }

    /// @dev A locked request being refunded: while fulfilments are paused or its version is revoked the locker gets
    ///      its collateral back (neither slashes); otherwise (after the deadline) the lock lapsed and the collateral
    ///      goes to the requester, returned here for `refund` to credit with the escrow.
    function _settleLockOnRefund(
        uint256 requestId,
        Terms calldata terms,
        LockState calldata held,
        bool blocked
    ) private returns (uint256 toRequester) {
        uint256 collateral = terms.lockCollateral;
        if (blocked) {
            if (collateral != 0) _credit(held.locker, collateral);
            emit LockReleased({requestId: requestId, locker: held.locker, collateral: collateral});
            return 0;
        }
        emit LockSlashed({
            requestId: requestId,
            locker: held.locker,
            collateral: collateral,
            fulfiller: address(0),
            toFulfiller: 0,
            toRequester: collateral
        });
        return collateral;
    }

    /* solhint-enable gas-strict-inequalities */

    // ---------------------------------------------------------------------------------------------------------
    // Request words
    // ---------------------------------------------------------------------------------------------------------

    /// @dev A request's word: `hash` with its low byte replaced by `status`.
    function _word(uint256 hash, RequestStatus status) private pure returns (uint256) {
        return (hash & ~STATUS_MASK) | uint256(status);
    }

    /// @dev `keccak256(abi.encode(terms))`: `Terms` is static, so its ABI encoding is its 12 calldata words as
    ///      they lie. Hashed without Solidity's copy, which would clean every field on the way (~1k gas): a field
    ///      with dirty high bits hashes to another word and fails the comparison, as wrong terms do.
    function _hashTerms(Terms calldata terms) private pure returns (uint256 hash) {
        assembly ("memory-safe") {
            let ptr := mload(0x40) // scratch past the free memory pointer, never read again
            calldatacopy(ptr, terms, 0x180)
            hash := keccak256(ptr, 0x180)
        }
    }

    /// @dev `keccak256(abi.encode(terms))` of terms built in memory (a static struct: 12 clean words in a row).
    function _hashTermsInMemory(Terms memory terms) private pure returns (uint256 hash) {
        assembly ("memory-safe") {
            hash := keccak256(terms, 0x180)
        }
    }

    /// @dev `keccak256(abi.encode(r))` of a receipt built in memory (a static struct: 8 clean words in a row).
    function _hashReceipt(Receipt memory r) private pure returns (uint256 hash) {
        assembly ("memory-safe") {
            hash := keccak256(r, 0x100)
        }
    }

    /// @dev `keccak256(abi.encode(termsHash, locker, lockedAt, price))`: a locked request's state.
    function _hashLocked(
        uint256 termsHash,
        address locker,
        uint64 lockedAt,
        uint256 price
    ) private pure returns (uint256 hash) {
        assembly ("memory-safe") {
            let ptr := mload(0x40) // scratch past the free memory pointer, never read again
            mstore(ptr, termsHash)
            mstore(add(ptr, 0x20), and(locker, 0xffffffffffffffffffffffffffffffffffffffff))
            mstore(add(ptr, 0x40), and(lockedAt, 0xffffffffffffffff))
            mstore(add(ptr, 0x60), price)
            hash := keccak256(ptr, 0x80)
        }
    }

    /// @dev A request's status, with `terms` checked against its word when `Open` (`CoordinatorTermsMismatch`
    ///      otherwise), and the terms' hash then. Any other status is returned unchecked, for the caller to name.
    function _loadOpen(
        uint256 requestId,
        Terms calldata terms
    ) private view returns (RequestStatus status, uint256 termsHash) {
        uint256 word = _state[requestId];
        status = RequestStatus(word & STATUS_MASK);
        if (status != RequestStatus.Open) return (status, 0);
        termsHash = _hashTerms(terms);
        if (_word(termsHash, status) != word)
            revert CoordinatorTermsMismatch({requestId: requestId, status: status});
    }

    /// @dev A request's status, with `terms` (and `held` when `Locked`) checked against its word when `Open` or
    ///      `Locked` (`CoordinatorTermsMismatch` otherwise). Any other status is returned unchecked.
    function _load(
        uint256 requestId,
        Terms calldata terms,
        LockState calldata held
    ) private view returns (RequestStatus status) {
        uint256 word = _state[requestId];
        status = RequestStatus(word & STATUS_MASK);
        uint256 expected;
        if (status == RequestStatus.Open) expected = _word(_hashTerms(terms), status);
        else if (status == RequestStatus.Locked) {
            expected = _word(_hashLocked(_hashTerms(terms), held.locker, held.lockedAt, held.price), status);
        } else return status;
        if (expected != word) revert CoordinatorTermsMismatch({requestId: requestId, status: status});
    }

    /// @dev `_load` for a fulfilment: the request must be `Open` or `Locked` and not past its deadline.
    function _loadFulfillable(
        uint256 requestId,
        Terms calldata terms,
        LockState calldata held
    ) private view returns (RequestStatus status) {
        status = _load(requestId, terms, held);
        if (status != RequestStatus.Open && status != RequestStatus.Locked) _revertNotOpen(requestId, status);
        if (block.timestamp > terms.deadline) {
            revert CoordinatorRequestExpired({requestId: requestId, deadline: terms.deadline});
        }
    }

    /// @dev Reverts with the error that names why a request is not open.
    function _revertNotOpen(uint256 requestId, RequestStatus status) private pure {
        if (status == RequestStatus.None) revert CoordinatorRequestUnknown({requestId: requestId});
        if (status == RequestStatus.Fulfilled)
            revert CoordinatorRequestAlreadyFulfilled({requestId: requestId});
        if (status == RequestStatus.Locked) revert CoordinatorRequestLocked({requestId: requestId});
        if (status == RequestStatus.Cancelled) revert CoordinatorRequestCancelled({requestId: requestId});
        revert CoordinatorRequestAlreadyRefunded({requestId: requestId});
    }

    // ---------------------------------------------------------------------------------------------------------
    // Internals
    // ---------------------------------------------------------------------------------------------------------

    /// @dev Resolves version 0 to the latest active version (past the registry's `LATEST_DELAY`), checks that the
    ///      version takes requests (exists, `Active`, suite verifier not stopped) and that the input has its input
    ///      count. Three storage reads in the registry (`requestTarget`); the failure paths read more, to name the
    ///      reason.
    function _resolveVersion(
        bytes32 modelId,
        uint32 version,
        uint256 inputLength
    ) private view returns (uint32) {
        if (version == 0) {
            if (!REGISTRY.modelExists(modelId)) revert CoordinatorModelUnknown({modelId: modelId});
            version = REGISTRY.latestActiveVersion(modelId);
            if (version == 0) {
                revert CoordinatorNoActiveVersion({
                    modelId: modelId,
                    latestVersion: REGISTRY.latestVersion(modelId)
                });
            }
        }
        (IModelRegistry.VersionStatus status, uint32 inputCount, bool stopped) = REGISTRY.requestTarget(
            modelId,
            version
        );
        if (status == IModelRegistry.VersionStatus.None) {
            if (!REGISTRY.modelExists(modelId)) revert CoordinatorModelUnknown({modelId: modelId});
            revert CoordinatorVersionUnknown({
                modelId: modelId,
                version: version,
                latestVersion: REGISTRY.latestVersion(modelId)
            });
        }
        if (status == IModelRegistry.VersionStatus.Deprecated) {
            revert CoordinatorVersionDeprecated({modelId: modelId, version: version});
        }
        if (status == IModelRegistry.VersionStatus.Revoked) {
            revert CoordinatorVersionRevoked({modelId: modelId, version: version});
        }
        if (stopped) {
            (, address verifier, ) = REGISTRY.fulfilmentTarget(modelId, version);
            revert CoordinatorSuiteVerifierStopped({modelId: modelId, version: version, verifier: verifier});
        }
        if (inputLength != inputCount) {
            revert CoordinatorInputLengthMismatch({
                modelId: modelId,
                version: version,
                expected: inputCount,
                actual: inputLength
            });
        }
        return version;
    }

    /// @dev A request's checks before it is stored: requests not paused, the offer within the market's rules, the
    ///         version taking requests with an input of `inputLength` elements. Returns the version resolved.
    function _checkRequest(
        bytes32 modelId,
        uint32 version,
        uint256 inputLength,
        Offer calldata offer
    ) private view returns (uint32) {
        Config memory config = _config;
        if (config.requestsPaused) revert CoordinatorRequestsPaused({guardian: config.guardian});
        _checkOffer(offer);
        return _resolveVersion(modelId, version, inputLength);
    }

    /// @dev Stores a new request: its id and its one word (see `requestInference`). Returns the id and the terms.
    function _store(
        bytes32 modelId,
        uint32 version,
        bytes32 inputCommitment,
        Offer calldata offer
    ) private returns (uint256 requestId, Terms memory terms) {
        terms = Terms({
            requester: msg.sender,
            modelId: modelId,
            version: version,
            inputCommitment: inputCommitment,
            maxPrice: msg.value,
            minPrice: offer.minPrice,
            requestedAt: uint64(block.timestamp),
            rampPeriod: offer.rampPeriod,
            lockDeadline: uint64(block.timestamp + offer.lockTimeout), // checked by `_checkOffer`: below 2^40
            lockCollateral: offer.lockCollateral,
            callbackGasLimit: offer.callbackGasLimit,
            deadline: offer.deadline
        });
        uint256 hash = _hashTermsInMemory(terms);
        requestId = hash;
        // Taken (or 0) only if the same requester asked the same thing in the same second: hash again. Checking
        // the slot first costs nothing extra, as the write below pays for the cold access anyway.
        while (requestId == 0 || _state[requestId] != 0)
            requestId = uint256(keccak256(abi.encode(requestId)));
        _state[requestId] = _word(hash, RequestStatus.Open);
    }

    /// @dev The input at its narrowest two's-complement width (see `InferenceRequested`): each element's low
    ///      `width` bytes, big-endian, back to back. The last element's word leaves zeros past the end.
    function _pack(int256[] calldata xs) private pure returns (uint8 width, bytes memory out) {
        uint256 w;
        assembly ("memory-safe") {
            // The OR of every element's magnitude bits (x for x >= 0, ~x for x < 0).
            let acc := 0
            for {
                let i := 0
            } lt(i, xs.length) {
                i := add(i, 1)
            } {
                let x := calldataload(add(xs.offset, shl(5, i)))
                acc := or(acc, xor(x, sar(255, x)))
            }
            // The fewest bytes that hold those bits and a sign bit.
            w := 1
            for {} and(lt(w, 32), iszero(iszero(shr(sub(shl(3, w), 1), acc)))) {} {
                w := add(w, 1)
            }
            out := mload(0x40)
            let len := mul(xs.length, w)
            mstore(out, len)
            let dst := add(out, 0x20)
            let shift := sub(256, shl(3, w))
            for {
                let i := 0
            } lt(i, xs.length) {
                i := add(i, 1)
            } {
                mstore(add(dst, mul(i, w)), shl(shift, calldataload(add(xs.offset, shl(5, i)))))
            }
            mstore(0x40, add(dst, and(add(len, 63), not(31))))
        }
        width = uint8(w);
    }

    /// @dev Emits `BatchFulfilled` for a settled batch.
    function _emitBatchFulfilled(Batch memory batch, uint256[] calldata requestIds) private {
        emit BatchFulfilled({
            proofHash: batch.proofHash,
            modelId: batch.modelId,
            version: batch.version,
            batchSize: batch.size,
            requestIds: requestIds
        });
    }

    /// @dev Reverts while fulfilments are paused.
    function _checkFulfilmentsOpen(uint256 requestId) private view {
        Config memory config = _config;
        if (config.fulfilmentsPaused) {
            revert CoordinatorFulfilmentsPaused({requestId: requestId, guardian: config.guardian});
        }
    }

    /// @dev `fulfillBatch`'s checks of the list and of each request, before the proof: ids strictly ascending (so
    ///      none appears twice), each request open or locked on the terms passed and not past its deadline, of the
    ///      first request's model and version; and each one's payee (see `_payeeOf`).
    function _checkBatchOpen(
        Batch memory batch,
        uint256[] calldata requestIds,
        Terms[] calldata terms,
        LockState[] calldata held,
        bytes calldata proof
    ) private view returns (Claim[] memory claims) {
        claims = new Claim[](requestIds.length);
        for (uint256 i = 0; i < requestIds.length; ++i) {
            Claim memory claim = _claimOf(requestIds, i, terms, held);
            claims[i] = claim;
            if (claim.payee != address(0)) continue; // the locker's own
            if (!batch.commitmentLoaded) {
                _loadCommitment(batch, keccak256(abi.encode(msg.sender, requestIds, keccak256(proof))));
            }
            claim.payee = _payeeOf(batch, claim.requestId, terms[i], claim.status, held[i]);
        }
    }

    /// @dev Request `i` of a batch, checked (ascending after the one before it; `_checkBatchRequest`), with the
    ///      sender as its payee when it holds a live lock on it (zero: to be decided by `_payeeOf`).
    function _claimOf(
        uint256[] calldata requestIds,
        uint256 i,
        Terms[] calldata terms,
        LockState[] calldata held
    ) private view returns (Claim memory claim) {
        uint256 requestId = requestIds[i];
        if (i != 0) {
            uint256 previous = requestIds[i - 1];
            if (requestId == previous) revert CoordinatorBatchDuplicateRequest({requestId: requestId});
            if (requestId < previous)
                revert CoordinatorBatchNotAscending({requestId: requestId, previous: previous});
        }
        claim.requestId = requestId;
        claim.index = i;
        claim.status = _checkBatchRequest(requestId, terms[i], held[i], terms[0]);
        if (_isLockersOwn(terms[i], claim.status, held[i])) claim.payee = msg.sender;
    }

    /// @dev One batch request's state (`_loadFulfillable`), of the batch's (the first request's) model and version.
    function _checkBatchRequest(
        uint256 requestId,
        Terms calldata terms,
        LockState calldata held,
        Terms calldata first
    ) private view returns (RequestStatus status) {
        status = _loadFulfillable(requestId, terms, held);
        if (terms.modelId != first.modelId || terms.version != first.version) {
            revert CoordinatorBatchVersionMismatch({
                requestId: requestId,
                modelId: terms.modelId,
                version: terms.version,
                batchModelId: first.modelId,
                batchVersion: first.version
            });
        }
    }

    /// @dev The one proof check of a fulfilment of `count` requests: the circuit is the registry's for the
    ///      instance count (`fulfilmentCircuit`: the batch size is the instance count over the version's, and must
    ///      be 1 for `fulfill`), the version is not revoked and its suite verifier not stopped, the suite verifier
    ///      accepts the proof against that circuit's VKA and returns the digest of the VKA copied from its store.
    ///      Fills in the batch's facts and block layout.
    function _verifyBatch(
        Batch memory batch,
        bytes32 modelId,
        uint32 version,
        uint256 count,
        bool single,
        bytes calldata proof,
        uint256[] calldata instances
    ) private view {
        batch.modelId = modelId;
        batch.version = version;
        IModelRegistry.FulfilmentCircuit memory c = REGISTRY.fulfilmentCircuit(
            modelId,
            version,
            instances.length
        );
        _checkFulfillable(modelId, version, c.status, c.verifier, c.verifierStopped);
        IModelRegistry.InstanceLayout memory layout = c.layout;
        if (single) InferenceProof.checkInstanceCount(layout, instances);
        uint256 size = c.batchSize;
        if (c.vka == address(0)) {
            revert CoordinatorBatchSizeUnregistered({
                modelId: modelId,
                version: version,
                instanceCount: instances.length,
                blockInstanceCount: layout.instanceCount
            });
        }
        if (count > size) revert CoordinatorBatchTooLarge({requests: count, batchSize: size});
        batch.size = uint32(size);
        batch.single = single;
        // Every range of the version's layout grows by the batch size (a variant's version has its input at 0 and
        // its output right after it; see `IModelRegistry.Variant`).
        batch.inputOffset = size * layout.inputOffset;
        batch.inputCount = layout.inputCount;
        batch.outputOffset = size * layout.outputOffset;
        batch.outputCount = layout.outputCount;
        (bytes32 digest, bytes32 proofHash, bytes32 storedDigest) = InferenceProof.verifyProofAndHash(
            modelId,
            version,
            c.verifier,
            c.vka,
            size == 1 ? InferenceProof.VERSION_VKA_OFFSET : InferenceProof.VARIANT_VKA_OFFSET,
            proof,
            instances
        );
        batch.proofHash = proofHash;
        InferenceProof.checkVkaDigest(modelId, version, storedDigest, digest);
    }

    /// @dev Settles request `requestId` with block `index` of a verified batch: its block's input must hash to its
    ///      commitment; then its receipt, `InferenceFulfilled` and payment. Returns its callback, to be made after
    ///      the whole batch.
    function _settle(
        Batch memory batch,
        Claim memory claim,
        Terms calldata terms,
        LockState calldata held,
        uint256[] calldata instances
    ) private returns (Callback memory cb) {
        uint256 requestId = claim.requestId;
        int256[] memory outputs;
        Receipt memory r;
        bool callBack = terms.callbackGasLimit != 0 && terms.requester.code.length != 0;
        {
            // Scoped: `magnitudes` only sizes the event (stack).
            uint256 magnitudes;
            (outputs, magnitudes) = _blockOutputs(batch, claim, terms.inputCommitment, instances);
            r = _record(batch, claim, terms.inputCommitment, outputs, callBack);
            _emitFulfilled(requestId, outputs, magnitudes, batch.proofHash, claim.payee);
        }
        _pay(requestId, terms, claim.status, held, claim.payee);
        if (callBack) {
            r.callback = CallbackStatus.Failed;
            cb = Callback({
                consumer: terms.requester,
                gasLimit: terms.callbackGasLimit,
                data: _callbackData(requestId, batch.modelId, batch.version, outputs),
                failedWord: _word(_hashReceipt(r), RequestStatus.Fulfilled)
            });
        }
    }

    /// @dev A claim's block of a verified batch: its input must hash to the request's commitment (see
    ///      `_checkBlockInput`); returns its outputs and the OR of their magnitude bits (see
    ///      `InferenceProof.decodeOutputs`).
    function _blockOutputs(
        Batch memory batch,
        Claim memory claim,
        bytes32 inputCommitment,
        uint256[] calldata instances
    ) private pure returns (int256[] memory, uint256) {
        uint256 index = claim.index;
        // Inside the instances: index < batch size, and the batch size was derived from the instance count. The
        // casts are exact for the same reason.
        IModelRegistry.InstanceLayout memory block_ = IModelRegistry.InstanceLayout({
            instanceCount: 0, // not read: the instance count was checked for the whole batch
            inputOffset: uint32(batch.inputOffset + index * batch.inputCount),
            inputCount: uint32(batch.inputCount),
            outputOffset: uint32(batch.outputOffset + index * batch.outputCount),
            outputCount: uint32(batch.outputCount)
        });
        bytes32 actual = InferenceProof.inputHash(block_, instances);
        _checkBlockInput(batch, claim.requestId, index, inputCommitment, actual);
        return InferenceProof.decodeOutputs(block_, instances);
    }

    /// @dev Reverts unless a block's input hash is the request's commitment: `fulfill` with the route's error
    ///      (`VerifierInputCommitmentMismatch`), `fulfillBatch` with `CoordinatorBlockInputMismatch`.
    function _checkBlockInput(
        Batch memory batch,
        uint256 requestId,
        uint256 index,
        bytes32 expected,
        bytes32 actual
    ) private pure {
        if (actual == expected) return;
        if (batch.single)
            revert IInferenceVerifier.VerifierInputCommitmentMismatch({expected: expected, actual: actual});
        revert CoordinatorBlockInputMismatch({
            requestId: requestId,
            blockIndex: index,
            expected: expected,
            actual: actual
        });
    }

    /// @dev Writes a fulfilled request's word, the hash of its receipt, with the callback provisionally `Succeeded`
    ///      when one will be made (rewritten if it fails), and returns the receipt. Takes the claim whole (its
    ///      request and payee) to keep `_settle` within the stack.
    function _record(
        Batch memory batch,
        Claim memory claim,
        bytes32 inputCommitment,
        int256[] memory outputs,
        bool callBack
    ) private returns (Receipt memory r) {
        (uint256 encoded, uint256 encodedLength) = InferenceProof.encodedOutputs(outputs);
        bytes32 outputsHash;
        assembly ("memory-safe") {
            outputsHash := keccak256(encoded, encodedLength)
        }
        r = Receipt({
            modelId: batch.modelId,
            version: batch.version,
            inputCommitment: inputCommitment,
            outputsHash: outputsHash,
            proofHash: batch.proofHash,
            fulfiller: claim.payee,
            fulfilledAt: uint64(block.timestamp),
            callback: callBack ? CallbackStatus.Succeeded : CallbackStatus.None
        });
        _state[claim.requestId] = _word(_hashReceipt(r), RequestStatus.Fulfilled);
    }

    /// @dev Calls back a fulfilled request's consumer (see `_callBack`); a callback that fails is recorded in the
    ///      receipt (its word rewritten with `CallbackStatus.Failed`) and `CallbackFailed`, and the fulfilment
    ///      stands.
    function _callBackOrRecordFailure(uint256 requestId, Callback memory cb) private {
        if (!_callBack(requestId, cb.consumer, cb.gasLimit, cb.data)) {
            _state[requestId] = cb.failedWord;
            emit CallbackFailed({requestId: requestId, consumer: cb.consumer, reason: _returnDataPrefix()});
        }
    }

    /// @dev Reverts unless a version in `status` whose suite verifier `verifier` is `stopped` or not can be
    ///      fulfilled: `VerifierVersionRevoked` (also for a version that does not exist), `VerifierSuiteVerifierStopped`.
    function _checkFulfillable(
        bytes32 modelId,
        uint32 version,
        IModelRegistry.VersionStatus status,
        address verifier,
        bool stopped
    ) private pure {
        if (status == IModelRegistry.VersionStatus.Revoked || status == IModelRegistry.VersionStatus.None) {
            revert IInferenceVerifier.VerifierVersionRevoked({modelId: modelId, version: version});
        }
        if (stopped) {
            revert IInferenceVerifier.VerifierSuiteVerifierStopped({
                modelId: modelId,
                version: version,
                verifier: verifier
            });
        }
    }

    /// @dev Whether an open request on `version` can no longer be fulfilled (revoked, or its suite verifier
    ///      stopped), which makes it refundable before its deadline.
    function _unfulfillable(bytes32 modelId, uint32 version) private view returns (bool) {
        (IModelRegistry.VersionStatus status, , bool stopped) = REGISTRY.fulfilmentTarget(modelId, version);
        return stopped || status == IModelRegistry.VersionStatus.Revoked;
    }

    /// @dev Emits `InferenceFulfilled(requestId, payee, proofHash, outputWidth, outputs)` with the outputs packed
    ///      at their narrowest width, like a request's input (see `_pack`). The width comes from `magnitudes`, the
    ///      OR of the outputs' magnitude bits that `InferenceProof.decodeOutputs` gathered in its pass over them
    ///      (a pass of its own here cost ~75 gas an output); one pass then writes each output's low `width` bytes,
    ///      big-endian. A log's data byte costs 8 gas, so this pays for itself many times over for the small
    ///      fixed-point outputs models give (digits-mlp: 10 outputs of 2 or 3 bytes, one data word instead of
    ///      ten); the topic dropped (modelId, 375 gas) pays for the width and the loop at one output. Measured in
    ///      isolation (decode and event, against the unpacked `int256[]` event): cheaper at every output count up
    ///      to 20 bytes an output (1 output -35 gas, 10 outputs of 1..3 bytes -1.5k); wider outputs (|x| >= 2^159,
    ///      far beyond any fixed-point model output) cost up to ~90 gas an output more. In the whole `fulfill` the
    ///      gain is smaller (digits-mlp -1.3k; diabetes-mlp, one output, +0.15k): see test/gas/coordinator.json.
    ///      Written past the free memory pointer without moving it (scratch); the padding after the packed bytes
    ///      is zeroed, as ABI encoding has it.
    function _emitFulfilled(
        uint256 requestId,
        int256[] memory outputs,
        uint256 magnitudes,
        bytes32 proofHash,
        address payee
    ) private {
        bytes32 topic = InferenceFulfilled.selector;
        uint256 width = InferenceProof.packedWidth(magnitudes);
        assembly ("memory-safe") {
            let count := mload(outputs)
            let ptr := mload(0x40)
            let len := mul(width, count)
            mstore(ptr, proofHash)
            mstore(add(ptr, 0x20), width)
            mstore(add(ptr, 0x40), 0x60) // offset of `outputs` in the data
            mstore(add(ptr, 0x60), len)
            // Each output's low `width` bytes moved to the top of a word, in order: the next write covers its
            // zeros. Tested at the end of a turn (a version has at least one output; with none, the one word
            // written lies outside the log's data and the padding below overwrites it).
            let shift := sub(256, shl(3, width))
            let src := add(outputs, 0x20)
            let end := add(src, shl(5, count))
            let dst := add(ptr, 0x80)
            for {} 1 {} {
                mstore(dst, shl(shift, mload(src)))
                dst := add(dst, width)
                src := add(src, 0x20)
                if iszero(lt(src, end)) {
                    break
                }
            }
            mstore(add(add(ptr, 0x80), len), 0) // zero padding up to the next word (the scratch may be dirty)
            log3(ptr, add(0x80, and(add(len, 31), not(31))), topic, requestId, payee)
        }
    }

    /// @dev `abi.encodeCall(IInferenceConsumer.receiveInference, (requestId, modelId, version, outputs))`, built
    ///      with one `mcopy` of the array. Allocated at the free memory pointer, which is moved past it.
    function _callbackData(
        uint256 requestId,
        bytes32 modelId,
        uint32 version,
        int256[] memory outputs
    ) private pure returns (bytes memory data) {
        bytes4 selector = IInferenceConsumer.receiveInference.selector;
        assembly ("memory-safe") {
            let arrayBytes := add(0x20, shl(5, mload(outputs)))
            let length := add(0x84, arrayBytes) // selector, 4 head words, the array
            data := mload(0x40)
            mstore(data, length)
            mstore(add(data, 0x20), selector) // left-aligned: bytes4 values sit in the high-order bytes
            mstore(add(data, 0x24), requestId)
            mstore(add(data, 0x44), modelId)
            mstore(add(data, 0x64), and(version, 0xffffffff)) // bits above a uint32 may be dirty in assembly
            mstore(add(data, 0x84), 0x80) // offset of `outputs` in the arguments
            mcopy(add(data, 0xa4), outputs, arrayBytes)
            mstore(0x40, add(add(data, 0x20), and(add(length, 31), not(31))))
        }
    }

    /// @dev Adds `amount` to `account`'s credit (see `_creditsPlusOne`). Checked: the sum of all credits is bounded
    ///      by the ether the coordinator holds.
    function _credit(address account, uint256 amount) private {
        uint256 stored = _creditsPlusOne[account];
        _creditsPlusOne[account] = (stored == 0 ? 1 : stored) + amount;
    }

    /// @dev Takes `amount` from `account`'s balance, or reverts with `CoordinatorInsufficientBalance`.
    function _debit(address account, uint256 amount) private {
        uint256 balance = _creditOf(account);
        if (amount > balance) {
            revert CoordinatorInsufficientBalance({account: account, needed: amount, balance: balance});
        }
        // unchecked: amount <= balance was just checked, and balance + 1 was stored, so no overflow either.
        unchecked {
            _creditsPlusOne[account] = balance - amount + 1;
        }
    }

    /// @dev `account`'s credit (see `_creditsPlusOne`).
    function _creditOf(address account) private view returns (uint256) {
        uint256 stored = _creditsPlusOne[account];
        // unchecked: stored - 1 only when stored >= 1.
        unchecked {
            return stored == 0 ? 0 : stored - 1;
        }
    }

    /// @dev Calls `consumer` with exactly `gasLimit` gas, or reverts if that much cannot be forwarded: EIP-150
    ///      forwards at most 63/64 of the gas left, so a prover could otherwise supply just enough gas for the
    ///      fulfilment to succeed while the callback runs out. `gasLimit + gasLimit / 63` left at the call means at
    ///      least `gasLimit` forwardable; `CALLBACK_GAS_RESERVE` pays for the call and for recording a failure.
    ///      Nothing is copied back here (out size 0), so return data costs the coordinator nothing; see
    ///      `_returnDataPrefix`.
    function _callBack(
        uint256 requestId,
        address consumer,
        uint256 gasLimit,
        bytes memory data
    ) private returns (bool ok) {
        // gasLimit <= MAX_CALLBACK_GAS_LIMIT (checked at request time), so the sum cannot overflow.
        uint256 needed = gasLimit + gasLimit / 63 + CALLBACK_GAS_RESERVE;
        uint256 left = gasleft();
        if (left < needed) {
            revert CoordinatorInsufficientGasForCallback({
                requestId: requestId,
                gasLeft: left,
                gasNeeded: needed
            });
        }
        assembly ("memory-safe") {
            ok := call(gasLimit, consumer, 0, add(data, 0x20), mload(data), 0, 0)
        }
    }

    /// @dev The first `MAX_CALLBACK_REASON_LENGTH` bytes of the last call's return data, so a consumer cannot make
    ///      the coordinator pay for copying a huge revert reason (the consumer pays for producing it).
    function _returnDataPrefix() private pure returns (bytes memory reason) {
        uint256 maxLength = MAX_CALLBACK_REASON_LENGTH;
        assembly ("memory-safe") {
            let size := returndatasize()
            if gt(size, maxLength) {
                size := maxLength
            }
            reason := mload(0x40)
            mstore(reason, size)
            returndatacopy(add(reason, 0x20), 0, size)
            mstore(0x40, add(add(reason, 0x20), and(add(size, 31), not(31))))
        }
    }

    /// @dev Sends ether without copying any return data; reverts with a named error if the recipient rejects it.
    function _send(address to, uint256 amount) private {
        bool ok;
        assembly ("memory-safe") {
            ok := call(gas(), to, amount, 0, 0, 0, 0)
        }
        if (!ok) revert CoordinatorWithdrawalFailed({to: to, amount: amount});
    }
}
