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
/// @dev Gas is spent deliberately on the fulfilment path, which sits on top of a ~550-600k-gas EZKL verification
///      (the target: at most 1.08x a bare `verifyProof` transaction, callback aside):
///      - at request time the version's immutable content (its VKA store, VKA digest, the instance layout) is
///        copied from the registry into the request, so `fulfill` asks the registry only for the facts that can
///        change, the version's status and its suite verifier's (`fulfilmentTarget`, two storage reads), and calls
///        the suite verifier itself with the route's code (`InferenceProof`) instead of through the route, with the
///        VKA copied in from its on-chain store (EXTCODECOPY) rather than sent as calldata;
///      - a request is 6 storage slots (see `OpenRequest`), all non-zero; a request with no callback is
///        fulfilled reading 4 of them, and the receipt is written over 3 of those (see `FulfilledRequest`), so
///        every write replaces a non-zero value already read (2.9k gas, where a new slot would cost 22.1k);
///      - besides the request, `fulfill` reads the pause flag and rewrites the prover's credit (the credit is
///        kept plus one, so it is never rewritten from zero); it stores the outputs only as a hash (they are in
///        `InferenceFulfilled` and the callback);
///      - the decoded outputs are hashed, logged and passed on where they lie, without re-encoding; the proof is
///        hashed where the verifier's calldata holds it; the reentrancy lock lives in transient storage.
///      The market (lock, collateral, commitments, auction, slashing; rules in `IInferenceCoordinator`) keeps its
///      state apart from the request's slots: one word per request in `_market` (see `Auction` / `Lock`), the
///      collateral in the request's slot 0, the locked price in its slot 1, and one word per open-fill
///      commitment. A fulfilment within a lock reads two slots more than an open one would (the lock word and
///      slot 0's collateral) and clears the lock word.
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

    /// @dev The largest collateral the stored form holds (`Party.lockCollateral`).
    uint256 private constant MAX_COLLATERAL = type(uint96).max;

    /// @dev The largest fee the stored form holds (`uint88`): about 3.1e8 ether, more than exists.
    uint256 private constant MAX_FEE = type(uint88).max;

    /// @dev Slot 0 of a request, never rewritten: who asked and the collateral a locker puts up. Read by
    ///      `refund`, `cancel` and `lock`, by `fulfill` only when it calls back or the request is locked, and by
    ///      `request`.
    struct Party {
        address requester;
        uint96 lockCollateral;
    }

    /// @dev Slot 1 of a request while it is open, and after a refund (which rewrites `status` only): everything
    ///      `fulfill` needs from the request besides the model id, the binding and the `Target`. Narrower
    ///      than the ABI so that it fits one slot: `requestInference` caps the deadline at `MAX_REQUEST_DURATION`
    ///      ahead and the fee at `MAX_FEE`, and `MAX_CALLBACK_GAS_LIMIT` fits in 24 bits. `fee` is the escrow: the
    ///      maximum price while `Open`, the price fixed by `lock` once `Locked`.
    struct Terms {
        RequestStatus status;
        uint32 version;
        uint40 deadline;
        uint24 callbackGasLimit;
        uint88 fee;
        uint32 outputOffset;
        uint32 outputCount;
    }

    /// @dev Slot 1 of a request once fulfilled, written whole by `fulfill` (see `_settlementWord`). `status` and
    ///      `version` sit where `Terms` has them, so both read the same in either form.
    // Exactly one slot (8 + 32 + 8 + 48 + 160 bits); solhint's packing heuristic misjudges the order that the
    // overlay with `Terms` needs.
    // solhint-disable-next-line gas-struct-packing
    struct Settlement {
        RequestStatus status;
        uint32 version;
        CallbackStatus callback;
        uint48 fulfilledAt;
        address fulfiller;
    }

    /// @dev Slot 2 of a request while it is open: the contract holding the version's VKA and the input side of its
    ///      layout, as the registry held them at request time (immutable there).
    struct Target {
        address vka;
        uint32 instanceCount;
        uint32 inputOffset;
        uint32 inputCount;
    }

    /// @dev Storage form of a request until it is fulfilled: 6 slots, all written non-zero at request time
    ///      (`requester`, `status == Open`, `verifier`, the model id and keccak256 hashes are never 0), plus the
    ///      request's `_market` word.
    ///      slot 0  party: requester (160) | lockCollateral (96)
    ///      slot 1  terms: status (8) | version (32) | deadline (40) | callbackGasLimit (24) | fee (88) |
    ///              outputOffset (32) | outputCount (32)
    ///      slot 2  target: vka (160) | instanceCount (32) | inputOffset (32) | inputCount (32)
    ///      slot 3  modelId
    ///      slot 4  inputCommitment
    ///      slot 5  binding: `keccak256(abi.encode(inputCommitment, vkaDigest))`, the version's VKA digest
    ///      `fulfill` reads slots 1, 2, 3 and 5 (slot 0 only to call back or pay a lock, slot 4 only to name a
    ///      failed binding),
    ///      then rewrites slots 1, 2 and 5 in their `FulfilledRequest` form: the version's content is not needed
    ///      once the proof is checked. The binding folds the two values `fulfill` only compares (never uses) into
    ///      one slot read: the instances' input hash and the digest the suite verifier returns match it exactly
    ///      when both match their own value, since keccak256 is collision resistant (the assumption the input
    ///      commitment itself rests on).
    struct OpenRequest {
        Party party;
        Terms terms;
        Target target;
        bytes32 modelId;
        bytes32 inputCommitment;
        bytes32 binding;
    }

    /// @dev The same 6 slots once fulfilled (see `_asFulfilled`): slots 0, 3 and 4 unchanged, slot 1 the
    ///      settlement, slot 2 the proof hash, slot 5 the outputs hash.
    struct FulfilledRequest {
        Party party;
        Settlement settlement;
        bytes32 proofHash;
        bytes32 modelId;
        bytes32 inputCommitment;
        bytes32 outputsHash;
    }

    /// @dev One slot: `requestInference` reads the pause flag and bumps the counter in one read and one write;
    ///      `fulfill` reads the other pause flag from the same slot.
    struct Config {
        address guardian;
        bool requestsPaused;
        bool fulfilmentsPaused;
        uint64 nextRequestId;
    }

    /// @dev A request's `_market` word until it is locked: what `lock` and an open fill need to price it. Solidity
    ///      packs the first field lowest, so `lockDeadline` is bits 0-39 in this form and in `Lock`.
    struct Auction {
        uint40 lockDeadline;
        uint40 rampStart;
        uint32 rampPeriod;
        uint88 minPrice;
    }

    /// @dev A request's `_market` word once locked (written whole by `lock`): who holds the lock, until when, and
    ///      the block it was taken in (a fill committed before that block beats the lock). Zeroed when the request
    ///      is settled.
    struct Lock {
        uint40 lockDeadline;
        address locker;
        uint56 lockedAt;
    }

    /// @dev What `fulfillBatch` checked once for the whole batch, and its block layout: block i's input at
    ///      `inputOffset + i * inputCount`, its output at `outputOffset + i * outputCount` (see
    ///      `IModelRegistry.Variant`; at batch size 1 the version's own layout).
    struct Batch {
        bytes32 modelId;
        uint32 version;
        uint32 size;
        bytes32 proofHash;
        uint256 inputOffset;
        uint256 inputCount;
        uint256 outputOffset;
        uint256 outputCount;
    }

    /// @dev A callback `fulfillBatch` makes after every request of the batch is recorded (`gasLimit` 0: none).
    struct Callback {
        address consumer;
        uint256 gasLimit;
        bytes data;
    }

    IModelRegistry private immutable REGISTRY;
    IInferenceVerifier private immutable ROUTE;

    /// @dev The reentrancy lock, 1 while a guarded function runs (EIP-1153 transient storage: 300 gas a guarded
    ///      call instead of two storage writes; a full word, so setting it needs no read-modify-write).
    ///      OpenZeppelin's `ReentrancyGuardTransient` does the same with inline-assembly `tstore`, which solc flags
    ///      with a warning on every build; the `transient` keyword compiles to the same TLOAD/TSTORE.
    uint256 private transient _locked;

    Config private _config;
    mapping(uint256 requestId => OpenRequest) private _requests;

    /// @dev An account's credit plus one, once it has ever been credited (0: never). Withdrawing everything leaves
    ///      1, not 0, so the account's next credit rewrites a non-zero slot (~5k gas) instead of creating one
    ///      (~22k): without it every prover's first fulfilment after a withdrawal would pay 17k more.
    mapping(address account => uint256) private _creditsPlusOne;

    /// @dev Per request, its `Auction` while `Open`, its `Lock` while `Locked` (see `_lockOf`), 0 once settled.
    mapping(uint256 requestId => Auction) private _market;

    /// @dev The block each open-fill commitment was made in (see `commit`); deleted when used.
    mapping(bytes32 commitment => uint256 blockNumber) private _commitments;

    /// @dev Guards the paths that move value or call out (`fulfill`, `refund`, `cancel`, `withdraw`, `withdrawTo`)
    ///      against
    ///      re-entry from a callback or a withdrawal recipient. Not on `requestInference`, which makes no external
    ///      call that could re-enter (registry reads only), so a consumer may request again from its callback.
    modifier nonReentrant() {
        if (_locked != 0) revert CoordinatorReentrantCall({caller: msg.sender});
        _locked = 1;
        _;
        _locked = 0;
    }

    /// @param registry_ The model registry requests are resolved against and fulfilments check deprecation in.
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
        _config = Config({
            guardian: guardian_,
            requestsPaused: false,
            fulfilmentsPaused: false,
            nextRequestId: 1
        });
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
        Config memory config = _config;
        if (config.requestsPaused) revert CoordinatorRequestsPaused({guardian: config.guardian});
        Auction memory auction = _checkOffer(offer);
        IModelRegistry.VerificationTarget memory target;
        (version, target) = _resolveVersion(modelId, version, input.length);
        bytes32 inputCommitment = FieldElement.commit(input); // reverts FieldElementIntOutOfRange

        requestId = config.nextRequestId;
        _config.nextRequestId = config.nextRequestId + 1; // checked: 2^64 requests are out of reach anyway

        _store(_requests[requestId], modelId, version, inputCommitment, offer, target);
        _market[requestId] = auction;
        _emitRequested(requestId, modelId, version, input, inputCommitment, offer, auction.lockDeadline);
    }

    /// @inheritdoc IInferenceCoordinator
    function cancel(uint256 requestId) external override nonReentrant {
        OpenRequest storage r = _requests[requestId];
        Terms memory terms = r.terms;
        if (terms.status != RequestStatus.Open) _revertNotOpen(requestId, r);
        address requester = r.party.requester;
        if (msg.sender != requester) {
            revert CoordinatorNotRequester({requestId: requestId, caller: msg.sender, requester: requester});
        }
        r.terms.status = RequestStatus.Cancelled;
        delete _market[requestId];
        if (terms.fee != 0) _credit(requester, terms.fee);
        emit InferenceCancelled({requestId: requestId, requester: requester, amount: terms.fee});
    }

    /// @inheritdoc IInferenceCoordinator
    function refund(uint256 requestId) external override nonReentrant {
        OpenRequest storage r = _requests[requestId];
        Terms memory terms = r.terms;
        if (terms.status != RequestStatus.Open && terms.status != RequestStatus.Locked) {
            _revertNotOpen(requestId, r);
        }
        bool expired = block.timestamp > terms.deadline;
        // Paused fulfilments, or a version that can no longer be fulfilled (revoked): refundable at once, and a
        // locker is not at fault (its collateral goes back to it).
        bool blocked = _config.fulfilmentsPaused || _unfulfillable(r.modelId, terms.version);
        if (!expired && !blocked) {
            revert CoordinatorRequestNotExpired({requestId: requestId, deadline: terms.deadline});
        }

        r.terms.status = RequestStatus.Refunded;
        Party memory party = r.party;
        uint256 toRequester = terms.fee;
        if (terms.status == RequestStatus.Locked)
            toRequester += _settleLockOnRefund(requestId, party, blocked);
        delete _market[requestId];
        if (toRequester != 0) _credit(party.requester, toRequester);
        emit InferenceRefunded({requestId: requestId, requester: party.requester, amount: terms.fee});
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
    function lock(uint256[] calldata requestIds) external override {
        if (requestIds.length == 0) revert CoordinatorNothingToLock({account: msg.sender});
        Config memory config = _config;
        if (config.fulfilmentsPaused) {
            revert CoordinatorFulfilmentsPaused({requestId: requestIds[0], guardian: config.guardian});
        }
        uint256 totalCollateral;
        for (uint256 i = 0; i < requestIds.length; ++i) {
            totalCollateral += _lockOne(requestIds[i]); // checked; each term is below 2^96
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
        bytes calldata proof,
        uint256[] calldata instances
    ) external override nonReentrant {
        OpenRequest storage r = _requests[requestId];
        Terms memory terms = r.terms;
        bool locked = terms.status == RequestStatus.Locked;
        if (terms.status != RequestStatus.Open && !locked) _revertNotOpen(requestId, r);
        if (block.timestamp > terms.deadline) {
            revert CoordinatorRequestExpired({requestId: requestId, deadline: terms.deadline});
        }
        if (_config.fulfilmentsPaused) {
            revert CoordinatorFulfilmentsPaused({requestId: requestId, guardian: _config.guardian});
        }
        // Who is paid is settled before the proof is checked, so a copy without a commitment fails cheaply.
        (address payee, Lock memory held) = _payee(requestId, locked, proof);

        // Slot 0 and the requester's account are read only when a callback was asked for or a lock is paid.
        Party memory party;
        bool callBack;
        if (terms.callbackGasLimit != 0 || locked) {
            party = r.party;
            callBack = terms.callbackGasLimit != 0 && party.requester.code.length != 0;
        }
        bytes memory callbackData = _verifyAndRecord(r, requestId, terms, proof, instances, callBack, payee);

        _pay(requestId, r, terms, party, payee, held);

        if (callBack)
            _callBackOrRecordFailure(requestId, party.requester, terms.callbackGasLimit, callbackData);
    }

    /// @inheritdoc IInferenceCoordinator
    function fulfillBatch(
        uint256[] calldata requestIds,
        bytes calldata proof,
        uint256[] calldata instances
    ) external override nonReentrant {
        uint256 count = requestIds.length;
        if (count == 0) revert CoordinatorBatchEmpty({prover: msg.sender});
        if (_config.fulfilmentsPaused) {
            revert CoordinatorFulfilmentsPaused({requestId: requestIds[0], guardian: _config.guardian});
        }
        // Every request's own state first, so that a request settled or expired since the batch was proved (a race
        // a sender cannot always avoid) fails the transaction before the verification's million gas, not after it.
        _checkBatchOpen(requestIds);
        Batch memory batch = _verifyBatch(requestIds[0], count, proof, instances);
        Callback[] memory callbacks = new Callback[](count);
        for (uint256 i = 0; i < count; ++i) callbacks[i] = _fulfilBlock(requestIds[i], i, batch, instances);
        emit BatchFulfilled({
            proofHash: batch.proofHash,
            modelId: batch.modelId,
            version: batch.version,
            batchSize: batch.size,
            requestIds: requestIds
        });
        for (uint256 i = 0; i < count; ++i) {
            Callback memory cb = callbacks[i];
            if (cb.gasLimit != 0) _callBackOrRecordFailure(requestIds[i], cb.consumer, cb.gasLimit, cb.data);
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
    function nextRequestId() external view override returns (uint256) {
        return _config.nextRequestId;
    }

    /// @inheritdoc IInferenceCoordinator
    function request(uint256 requestId) external view override returns (Request memory req) {
        OpenRequest storage r = _requests[requestId];
        Terms memory terms = r.terms;
        if (terms.status == RequestStatus.None) revert CoordinatorRequestUnknown({requestId: requestId});
        Party memory party = r.party;
        req.requester = party.requester;
        req.modelId = r.modelId;
        req.version = terms.version;
        req.inputCommitment = r.inputCommitment;
        req.status = terms.status;
        req.lockCollateral = party.lockCollateral;
        // Once fulfilled, slot 1 is the settlement: only its status and version still mean what they meant.
        if (terms.status == RequestStatus.Fulfilled) return req;
        req.callbackGasLimit = terms.callbackGasLimit;
        req.deadline = terms.deadline;
        req.fee = terms.fee; // refunded or cancelled: the escrow that was credited back
        if (terms.status != RequestStatus.Open && terms.status != RequestStatus.Locked) return req;
        Lock memory held = _lockOf(requestId);
        req.lockDeadline = held.lockDeadline;
        if (terms.status == RequestStatus.Locked) req.locker = held.locker;
    }

    /// @inheritdoc IInferenceCoordinator
    function receipt(uint256 requestId) external view override returns (Receipt memory) {
        OpenRequest storage r = _requests[requestId];
        RequestStatus status = r.terms.status; // the same bits in either form of slot 1
        if (status == RequestStatus.None) revert CoordinatorRequestUnknown({requestId: requestId});
        if (status != RequestStatus.Fulfilled) {
            revert CoordinatorRequestNotFulfilled({requestId: requestId, status: status});
        }
        // Only now is slot 1 a `Settlement` (read as one, an open request's deadline bits are no `CallbackStatus`).
        FulfilledRequest storage f = _asFulfilled(r);
        Settlement memory s = f.settlement;
        return
            Receipt({
                modelId: f.modelId,
                version: s.version,
                inputCommitment: f.inputCommitment,
                outputsHash: f.outputsHash,
                proofHash: f.proofHash,
                fulfiller: s.fulfiller,
                fulfilledAt: s.fulfilledAt,
                callback: s.callback
            });
    }

    /// @inheritdoc IInferenceCoordinator
    function credits(address account) external view override returns (uint256) {
        return _creditOf(account);
    }

    /// @inheritdoc IInferenceCoordinator
    function priceAt(uint256 requestId, uint64 timestamp) external view override returns (uint256) {
        OpenRequest storage r = _requests[requestId];
        Terms memory terms = r.terms;
        if (terms.status == RequestStatus.Locked) return terms.fee;
        if (terms.status != RequestStatus.Open) _revertNotOpen(requestId, r);
        return _priceAt(_market[requestId], terms.fee, timestamp);
    }

    /// @inheritdoc IInferenceCoordinator
    function fillCommitment(
        address prover,
        uint256 requestId,
        bytes32 proofHash
    ) external pure override returns (bytes32) {
        return _fillCommitment(prover, requestId, proofHash);
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
    ///      returns the request's `Auction` word. The casts are exact: the lock deadline is at most
    ///      `MAX_REQUEST_DURATION` ahead (far below 2^40), `minPrice <= msg.value <= MAX_FEE` (< 2^88).
    function _checkOffer(Offer calldata offer) private view returns (Auction memory) {
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
        return
            Auction({
                lockDeadline: uint40(block.timestamp + offer.lockTimeout),
                rampStart: uint40(block.timestamp),
                rampPeriod: offer.rampPeriod,
                minPrice: uint88(minPrice)
            });
    }

    /// @dev Emits `InferenceRequested` for a request stored from `offer`.
    function _emitRequested(
        uint256 requestId,
        bytes32 modelId,
        uint32 version,
        int256[] calldata input,
        bytes32 inputCommitment,
        Offer calldata offer,
        uint64 lockDeadline
    ) private {
        emit InferenceRequested({
            requestId: requestId,
            modelId: modelId,
            version: version,
            requester: msg.sender,
            input: input,
            inputCommitment: inputCommitment,
            fee: msg.value,
            callbackGasLimit: offer.callbackGasLimit,
            deadline: offer.deadline,
            minPrice: offer.minPrice,
            rampPeriod: offer.rampPeriod,
            lockDeadline: lockDeadline,
            lockCollateral: offer.lockCollateral
        });
    }

    /// @dev The reverse Dutch auction: `minPrice` at `rampStart`, rising linearly to `maxPrice` over `rampPeriod`
    ///      seconds (a zero ramp: `maxPrice` at once).
    function _priceAt(Auction memory a, uint256 maxPrice, uint256 timestamp) private pure returns (uint256) {
        uint256 start = a.rampStart;
        if (a.rampPeriod == 0 || timestamp >= start + a.rampPeriod) return maxPrice;
        if (timestamp <= start) return a.minPrice;
        // unchecked: minPrice <= maxPrice (checked at request time; maxPrice is the escrow, which only falls at
        // lock time, and then this function is not used), and start < timestamp < start + rampPeriod.
        unchecked {
            return a.minPrice + ((maxPrice - a.minPrice) * (timestamp - start)) / a.rampPeriod;
        }
    }

    /// @dev Locks one request for the caller at today's auction price (see `lock`) and returns its collateral.
    ///      The escrow above the price goes back to the requester now, so a `Locked` request's escrow is its price.
    function _lockOne(uint256 requestId) private returns (uint256 collateral) {
        OpenRequest storage r = _requests[requestId];
        Terms memory terms = r.terms;
        if (terms.status != RequestStatus.Open) _revertNotOpen(requestId, r);
        Auction memory auction = _market[requestId];
        if (block.timestamp > auction.lockDeadline) {
            revert CoordinatorLockDeadlinePassed({requestId: requestId, lockDeadline: auction.lockDeadline});
        }
        Party memory party = r.party;
        uint256 price = _priceAt(auction, terms.fee, block.timestamp);
        if (price < terms.fee) {
            // unchecked: price < fee was just checked.
            unchecked {
                _credit(party.requester, terms.fee - price);
            }
            terms.fee = uint88(price); // price < fee < 2^88
        }
        terms.status = RequestStatus.Locked;
        r.terms = terms;
        uint256 word =
            uint256(auction.lockDeadline) |
                (uint256(uint160(msg.sender)) << 40) |
                (uint256(uint56(block.number)) << 200);
        _writeMarketWord(requestId, word);
        collateral = party.lockCollateral;
        emit RequestLocked({
            requestId: requestId,
            locker: msg.sender,
            price: price,
            collateral: collateral,
            lockDeadline: auction.lockDeadline
        });
    }

    /// @dev `_payeeOf` for `fulfill`, which hashes the proof only when a commitment has to be looked up: a
    ///      locker's own fulfilment within its lock does not.
    function _payee(
        uint256 requestId,
        bool locked,
        bytes calldata proof
    ) private returns (address payee, Lock memory held) {
        if (locked) {
            held = _lockOf(requestId);
            if (block.timestamp <= held.lockDeadline && msg.sender == held.locker) return (msg.sender, held);
        }
        return _payeeOf(requestId, locked, keccak256(proof));
    }

    /// @dev Decides who a fulfilment with the proof of hash `proofHash` pays, before the proof is checked (see the
    ///      market rules): within a lock the locker, unless the sender committed before the lock was taken;
    ///      otherwise (never locked, or the lock lapsed) the sender, whose own commitment from an earlier block is
    ///      used up here.
    function _payeeOf(
        uint256 requestId,
        bool locked,
        bytes32 proofHash
    ) private returns (address payee, Lock memory held) {
        if (locked) {
            held = _lockOf(requestId);
            if (block.timestamp <= held.lockDeadline) {
                if (msg.sender == held.locker) return (msg.sender, held);
                bytes32 commitment = _fillCommitment(msg.sender, requestId, proofHash);
                uint256 committedAt = _commitments[commitment];
                if (committedAt == 0 || committedAt >= held.lockedAt) return (held.locker, held);
                delete _commitments[commitment];
                return (msg.sender, held);
            }
        }
        _useCommitment(requestId, proofHash);
        return (msg.sender, held);
    }

    /// @dev Uses up the sender's commitment to an open fill of `requestId` with `proof`, or reverts with
    ///      `CoordinatorFillNotCommitted` / `CoordinatorCommitmentTooRecent`.
    function _useCommitment(uint256 requestId, bytes32 proofHash) private {
        bytes32 commitment = _fillCommitment(msg.sender, requestId, proofHash);
        uint256 committedAt = _commitments[commitment];
        if (committedAt == 0) {
            revert CoordinatorFillNotCommitted({
                requestId: requestId,
                prover: msg.sender,
                commitment: commitment
            });
        }
        if (committedAt >= block.number) {
            revert CoordinatorCommitmentTooRecent({
                requestId: requestId,
                commitment: commitment,
                committedAt: committedAt
            });
        }
        delete _commitments[commitment];
    }

    /// @dev Credits a fulfilment's payment (see the market rules) and clears the request's market word. `party` is
    ///      loaded when the request is locked; `held` is its lock then.
    function _pay(
        uint256 requestId,
        OpenRequest storage r,
        Terms memory terms,
        Party memory party,
        address payee,
        Lock memory held
    ) private {
        uint256 escrow = terms.fee;
        if (terms.status == RequestStatus.Open) {
            uint256 price = _priceAt(_market[requestId], escrow, block.timestamp);
            delete _market[requestId];
            if (price != 0) _credit(payee, price);
            // unchecked: the price never exceeds the escrow (see `_priceAt`).
            unchecked {
                if (price < escrow) _credit(r.party.requester, escrow - price);
            }
            return;
        }
        delete _market[requestId];
        uint256 collateral = party.lockCollateral;
        if (block.timestamp <= held.lockDeadline) {
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
        if (toRequester != 0) _credit(party.requester, toRequester);
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
    ///      goes to the requester,
    ///      returned here for `refund` to credit with the escrow.
    function _settleLockOnRefund(
        uint256 requestId,
        Party memory party,
        bool blocked
    ) private returns (uint256 toRequester) {
        Lock memory held = _lockOf(requestId);
        uint256 collateral = party.lockCollateral;
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

    /// @dev A locked request's `_market` word as its `Lock`.
    function _lockOf(uint256 requestId) private view returns (Lock memory) {
        Auction storage a = _market[requestId];
        Lock storage held;
        assembly ("memory-safe") {
            held.slot := a.slot
        }
        return held;
    }

    /// @dev Writes a request's `_market` word whole (one SSTORE instead of one per field).
    function _writeMarketWord(uint256 requestId, uint256 word) private {
        Auction storage a = _market[requestId];
        assembly ("memory-safe") {
            sstore(a.slot, word)
        }
    }

    /// @dev `keccak256(abi.encode(prover, requestId, proofHash))`.
    function _fillCommitment(
        address prover,
        uint256 requestId,
        bytes32 proofHash
    ) private pure returns (bytes32) {
        return keccak256(abi.encode(prover, requestId, proofHash));
    }

    /* solhint-enable gas-strict-inequalities */

    // ---------------------------------------------------------------------------------------------------------
    // Internals
    // ---------------------------------------------------------------------------------------------------------

    /// @dev Resolves version 0 to the latest active version (past the registry's `LATEST_DELAY`), checks that the
    ///      version takes requests (exists, `Active`, suite verifier not stopped) and that the input has its input
    ///      count, and returns the version's immutable content for the request's snapshot.
    function _resolveVersion(
        bytes32 modelId,
        uint32 version,
        uint256 inputLength
    ) private view returns (uint32, IModelRegistry.VerificationTarget memory target) {
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
        target = REGISTRY.verificationTarget(modelId, version);
        if (!target.modelExists) revert CoordinatorModelUnknown({modelId: modelId});
        IModelRegistry.VersionStatus status = target.status;
        if (status == IModelRegistry.VersionStatus.None) {
            revert CoordinatorVersionUnknown({
                modelId: modelId,
                version: version,
                latestVersion: target.latestVersion
            });
        }
        if (status == IModelRegistry.VersionStatus.Deprecated) {
            revert CoordinatorVersionDeprecated({modelId: modelId, version: version});
        }
        if (status == IModelRegistry.VersionStatus.Revoked) {
            revert CoordinatorVersionRevoked({modelId: modelId, version: version});
        }
        if (target.verifierStopped) {
            revert CoordinatorSuiteVerifierStopped({
                modelId: modelId,
                version: version,
                verifier: target.verifier
            });
        }
        if (inputLength != target.layout.inputCount) {
            revert CoordinatorInputLengthMismatch({
                modelId: modelId,
                version: version,
                expected: target.layout.inputCount,
                actual: inputLength
            });
        }
        return (version, target);
    }

    /// @dev Writes a new request's 6 slots (see `OpenRequest`). The narrowing casts are exact: `_checkOffer`
    ///      checked the deadline (at most `MAX_REQUEST_DURATION` ahead, far below 2^40), `msg.value <= MAX_FEE`,
    ///      `lockCollateral <= MAX_COLLATERAL` and `callbackGasLimit <= MAX_CALLBACK_GAS_LIMIT` (< 2^24).
    function _store(
        OpenRequest storage r,
        bytes32 modelId,
        uint32 version,
        bytes32 inputCommitment,
        Offer calldata offer,
        IModelRegistry.VerificationTarget memory target
    ) private {
        IModelRegistry.InstanceLayout memory layout = target.layout;
        r.party = Party({requester: msg.sender, lockCollateral: uint96(offer.lockCollateral)});
        r.terms = Terms({
            status: RequestStatus.Open,
            version: version,
            deadline: uint40(offer.deadline),
            callbackGasLimit: uint24(offer.callbackGasLimit),
            fee: uint88(msg.value),
            outputOffset: layout.outputOffset,
            outputCount: layout.outputCount
        });
        r.target = Target({
            vka: target.vka,
            instanceCount: layout.instanceCount,
            inputOffset: layout.inputOffset,
            inputCount: layout.inputCount
        });
        r.modelId = modelId;
        r.inputCommitment = inputCommitment;
        r.binding = _binding(inputCommitment, target.vkaDigest);
    }

    /// @dev Checks the proof against the request (see `_verify`), writes the receipt naming `payee` (see
    ///      `_record`) and emits `InferenceFulfilled`. Returns the callback's calldata (empty when none is made).
    function _verifyAndRecord(
        OpenRequest storage r,
        uint256 requestId,
        Terms memory terms,
        bytes calldata proof,
        uint256[] calldata instances,
        bool callBack,
        address payee
    ) private returns (bytes memory callbackData) {
        bytes32 modelId = r.modelId;
        (int256[] memory outputs, bytes32 proofHash) = _verify(r, modelId, terms, proof, instances);
        _record(_asFulfilled(r), terms.version, outputs, proofHash, callBack, payee);
        _emitFulfilled(requestId, modelId, terms.version, outputs, proofHash, payee);
        if (callBack) callbackData = _callbackData(requestId, modelId, terms.version, outputs);
    }

    /// @dev `fulfillBatch`'s checks of the list and of each request's state: ids strictly ascending (so none
    ///      appears twice), each request open or locked and not past its deadline.
    function _checkBatchOpen(uint256[] calldata requestIds) private view {
        uint256 previous;
        for (uint256 i = 0; i < requestIds.length; ++i) {
            uint256 requestId = requestIds[i];
            if (i != 0 && requestId < previous + 1) {
                if (requestId == previous) revert CoordinatorBatchDuplicateRequest({requestId: requestId});
                revert CoordinatorBatchNotAscending({requestId: requestId, previous: previous});
            }
            previous = requestId;
            OpenRequest storage r = _requests[requestId];
            Terms memory terms = r.terms;
            if (terms.status != RequestStatus.Open && terms.status != RequestStatus.Locked) {
                _revertNotOpen(requestId, r);
            }
            if (block.timestamp > terms.deadline) {
                revert CoordinatorRequestExpired({requestId: requestId, deadline: terms.deadline});
            }
        }
    }

    /// @dev `fulfillBatch`'s one proof check, from its first request (open or locked): the batch size
    ///      is the instance count over the version's (a registered variant's, or 1), the version is not revoked and
    ///      its suite verifier not stopped, the suite verifier accepts the proof against that circuit's VKA and
    ///      returns its digest. Returns the batch's facts and block layout.
    function _verifyBatch(
        uint256 firstId,
        uint256 count,
        bytes calldata proof,
        uint256[] calldata instances
    ) private view returns (Batch memory batch) {
        OpenRequest storage r = _requests[firstId];
        Terms memory terms = r.terms; // open or locked (`_checkBatchOpen`), so slot 2 is still its `Target`
        batch.modelId = r.modelId;
        batch.version = terms.version;
        Target memory target = r.target;
        uint256 perBlock = target.instanceCount; // > 0: the registry accepts no empty layout
        uint256 size = instances.length / perBlock;
        batch.inputCount = target.inputCount;
        batch.outputCount = terms.outputCount;
        // Every range of the version's layout grows by the batch size (a variant's version has its input at 0 and
        // its output right after it; see `IModelRegistry.Variant`).
        batch.inputOffset = size * target.inputOffset;
        batch.outputOffset = size * terms.outputOffset;
        if (size == 0 || size * perBlock != instances.length || size > type(uint32).max) {
            _revertBatchSizeUnregistered(batch, instances.length, perBlock);
        }
        batch.size = uint32(size);
        if (count > size) revert CoordinatorBatchTooLarge({requests: count, batchSize: size});
        batch.proofHash = _checkBatchProof(batch, perBlock, proof, instances);
    }

    /// @dev Checks a batch's proof against its circuit (see `_batchCircuit`) and returns `keccak256(proof)`.
    function _checkBatchProof(
        Batch memory batch,
        uint256 perBlock,
        bytes calldata proof,
        uint256[] calldata instances
    ) private view returns (bytes32 proofHash) {
        (address verifier, address vka, bytes32 vkaDigest) = _batchCircuit(
            batch.modelId,
            batch.version,
            batch.size
        );
        if (vka == address(0)) _revertBatchSizeUnregistered(batch, instances.length, perBlock);
        bytes32 digest;
        (digest, proofHash) = InferenceProof.verifyProofAndHash(
            batch.modelId,
            batch.version,
            verifier,
            vka,
            proof,
            instances
        );
        InferenceProof.checkVkaDigest(batch.modelId, batch.version, vkaDigest, digest);
    }

    /// @dev Always reverts with `CoordinatorBatchSizeUnregistered`.
    function _revertBatchSizeUnregistered(
        Batch memory batch,
        uint256 instanceCount,
        uint256 perBlock
    ) private pure {
        revert CoordinatorBatchSizeUnregistered({
            modelId: batch.modelId,
            version: batch.version,
            instanceCount: instanceCount,
            blockInstanceCount: perBlock
        });
    }

    /// @dev The suite verifier and the circuit (VKA store and digest; zero: no variant of `batchSize`) a batch of
    ///      `version` at `batchSize` is checked with; reverts if the version was revoked or its verifier stopped.
    function _batchCircuit(
        bytes32 modelId,
        uint32 version,
        uint32 batchSize
    ) private view returns (address verifier, address vka, bytes32 vkaDigest) {
        IModelRegistry.VersionStatus status;
        bool stopped;
        (status, verifier, stopped, vka, vkaDigest) = REGISTRY.batchTarget(modelId, version, batchSize);
        _checkFulfillable(modelId, version, status, verifier, stopped);
    }

    /// @dev Fulfils request `requestId` with block `index` of a verified batch (see `_checkBlock`): its payee,
    ///      receipt, `InferenceFulfilled` and payment. Returns its callback, to be made after the whole batch.
    function _fulfilBlock(
        uint256 requestId,
        uint256 index,
        Batch memory batch,
        uint256[] calldata instances
    ) private returns (Callback memory cb) {
        OpenRequest storage r = _requests[requestId];
        Terms memory terms = r.terms;
        IModelRegistry.InstanceLayout memory block_ = _checkBlock(
            r,
            requestId,
            index,
            terms,
            batch,
            instances
        );
        return _settleBlock(requestId, r, terms, batch, InferenceProof.decodeOutputs(block_, instances));
    }

    /// @dev A checked batch request's payee, receipt, `InferenceFulfilled` and payment; returns its callback.
    function _settleBlock(
        uint256 requestId,
        OpenRequest storage r,
        Terms memory terms,
        Batch memory batch,
        int256[] memory outputs
    ) private returns (Callback memory cb) {
        bool locked = terms.status == RequestStatus.Locked;
        (address payee, Lock memory held) = _payeeOf(requestId, locked, batch.proofHash);
        Party memory party;
        bool callBack;
        if (terms.callbackGasLimit != 0 || locked) {
            party = r.party;
            callBack = terms.callbackGasLimit != 0 && party.requester.code.length != 0;
        }
        _record(_asFulfilled(r), terms.version, outputs, batch.proofHash, callBack, payee);
        _emitFulfilled(requestId, batch.modelId, terms.version, outputs, batch.proofHash, payee);
        _pay(requestId, r, terms, party, payee, held);
        if (callBack) {
            cb = Callback({
                consumer: party.requester,
                gasLimit: terms.callbackGasLimit,
                data: _callbackData(requestId, batch.modelId, terms.version, outputs)
            });
        }
    }

    /// @dev A batch request's checks against the batch (its state was checked by `_checkBatchOpen`): of the
    ///      batch's model and version, and its block's input hashing to its commitment. Returns the block's layout
    ///      (its input and output ranges).
    function _checkBlock(
        OpenRequest storage r,
        uint256 requestId,
        uint256 index,
        Terms memory terms,
        Batch memory batch,
        uint256[] calldata instances
    ) private view returns (IModelRegistry.InstanceLayout memory block_) {
        bytes32 modelId = r.modelId;
        if (modelId != batch.modelId || terms.version != batch.version) {
            revert CoordinatorBatchVersionMismatch({
                requestId: requestId,
                modelId: modelId,
                version: terms.version,
                batchModelId: batch.modelId,
                batchVersion: batch.version
            });
        }
        // Inside the instances: index < batch size, and the batch size was derived from the instance count. The
        // casts are exact for the same reason.
        block_ = IModelRegistry.InstanceLayout({
            instanceCount: 0, // not read: the instance count was checked for the whole batch
            inputOffset: uint32(batch.inputOffset + index * batch.inputCount),
            inputCount: uint32(batch.inputCount),
            outputOffset: uint32(batch.outputOffset + index * batch.outputCount),
            outputCount: uint32(batch.outputCount)
        });
        bytes32 input = InferenceProof.inputHash(block_, instances);
        bytes32 commitment = r.inputCommitment;
        if (input != commitment) {
            revert CoordinatorBlockInputMismatch({
                requestId: requestId,
                blockIndex: index,
                expected: commitment,
                actual: input
            });
        }
    }

    /// @dev Calls back a fulfilled request's consumer (see `_callBack`); a callback that fails is recorded in the
    ///      receipt and `CallbackFailed`, and the fulfilment stands.
    function _callBackOrRecordFailure(
        uint256 requestId,
        address consumer,
        uint256 gasLimit,
        bytes memory data
    ) private {
        if (!_callBack(requestId, consumer, gasLimit, data)) {
            _asFulfilled(_requests[requestId]).settlement.callback = CallbackStatus.Failed;
            emit CallbackFailed({requestId: requestId, consumer: consumer, reason: _returnDataPrefix()});
        }
    }

    /// @dev Writes the receipt over the request's copy of the version (slots 1, 2 and 5, one write each): the
    ///      settlement, with the callback provisionally `Succeeded` when one will be made (corrected if it fails),
    ///      the proof hash and the outputs hash, `keccak256(abi.encode(outputs))` hashed in place.
    function _record(
        FulfilledRequest storage f,
        uint32 version,
        int256[] memory outputs,
        bytes32 proofHash,
        bool callBack,
        address payee
    ) private {
        uint256 settlement = _settlementWord(
            version,
            callBack ? CallbackStatus.Succeeded : CallbackStatus.None,
            payee
        );
        // Writes exactly slot 1 of the request, in its `Settlement` form (see `_settlementWord`).
        assembly ("memory-safe") {
            sstore(add(f.slot, 1), settlement)
        }
        f.proofHash = proofHash;
        (uint256 encoded, uint256 encodedLength) = InferenceProof.encodedOutputs(outputs);
        bytes32 outputsHash;
        assembly ("memory-safe") {
            outputsHash := keccak256(encoded, encodedLength)
        }
        f.outputsHash = outputsHash;
    }

    /// @dev The route's checks (`InferenceProof`, as in `InferenceVerifier.verifyCommitted`) against the version
    ///      content the request copied from the registry, which the registry can never change, plus the registry's
    ///      mutable facts: the version must not be revoked and its suite verifier not stopped (a deprecated version
    ///      is fulfilled: deprecation only stops new requests). The input and VKA-digest checks are one comparison
    ///      with the request's binding (see `OpenRequest`), made with the digest the suite verifier returned;
    ///      `_revertUnbound` names the one that failed. Returns the decoded outputs and the proof hash.
    function _verify(
        OpenRequest storage r,
        bytes32 modelId,
        Terms memory terms,
        bytes calldata proof,
        uint256[] calldata instances
    ) private view returns (int256[] memory outputs, bytes32 proofHash) {
        uint32 version = terms.version;
        Target memory target = r.target;
        IModelRegistry.InstanceLayout memory layout = IModelRegistry.InstanceLayout({
            instanceCount: target.instanceCount,
            inputOffset: target.inputOffset,
            inputCount: target.inputCount,
            outputOffset: terms.outputOffset,
            outputCount: terms.outputCount
        });
        InferenceProof.checkInstanceCount(layout, instances);
        bytes32 digest;
        (digest, proofHash) = _verifyWithSuite(modelId, version, target.vka, proof, instances);
        bytes32 input = InferenceProof.inputHash(layout, instances);
        if (_binding(input, digest) != r.binding) _revertUnbound(r, modelId, version, input, digest);
        outputs = InferenceProof.decodeOutputs(layout, instances);
    }

    /// @dev The suite verifier's check of the proof against the VKA in `vka` (see `_fulfilmentVerifier`); returns
    ///      the digest it reports and the proof hash.
    function _verifyWithSuite(
        bytes32 modelId,
        uint32 version,
        address vka,
        bytes calldata proof,
        uint256[] calldata instances
    ) private view returns (bytes32 digest, bytes32 proofHash) {
        address verifier = _fulfilmentVerifier(modelId, version);
        return InferenceProof.verifyProofAndHash(modelId, version, verifier, vka, proof, instances);
    }

    /// @dev `REGISTRY.fulfilmentTarget(modelId, version)`, encoded past the free memory pointer without moving it
    ///      (scratch) and answered into that scratch: Solidity's call would allocate, copy and validate. A registry
    ///      revert is re-thrown; short return data reads as a version that does not exist.
    function _fulfilmentTarget(
        bytes32 modelId,
        uint32 version
    ) private view returns (IModelRegistry.VersionStatus status, address verifier, bool verifierStopped) {
        address registryAddress = address(REGISTRY);
        bytes4 selector = IModelRegistry.fulfilmentTarget.selector;
        uint256 rawStatus;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, selector)
            mstore(add(ptr, 0x04), modelId)
            mstore(add(ptr, 0x24), and(version, 0xffffffff)) // bits above a uint32 may be dirty in assembly
            let ok := staticcall(gas(), registryAddress, ptr, 0x44, ptr, 0x60)
            if iszero(ok) {
                returndatacopy(ptr, 0, returndatasize())
                revert(ptr, returndatasize())
            }
            if gt(returndatasize(), 0x5f) {
                rawStatus := mload(ptr)
                verifier := and(mload(add(ptr, 0x20)), 0xffffffffffffffffffffffffffffffffffffffff)
                verifierStopped := iszero(iszero(mload(add(ptr, 0x40))))
            }
        }
        // A value past the enum's range (not from the real registry) reads as Revoked: never fulfil on it.
        status =
            rawStatus > uint256(IModelRegistry.VersionStatus.Revoked)
                ? IModelRegistry.VersionStatus.Revoked
                : IModelRegistry.VersionStatus(rawStatus);
    }

    /// @dev The suite verifier to check a fulfilment of `version` with; reverts if the version was revoked or its
    ///      verifier stopped since the request (a version that existed at request time cannot stop existing).
    function _fulfilmentVerifier(bytes32 modelId, uint32 version) private view returns (address verifier) {
        IModelRegistry.VersionStatus status;
        bool stopped;
        (status, verifier, stopped) = _fulfilmentTarget(modelId, version);
        _checkFulfillable(modelId, version, status, verifier, stopped);
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
        (IModelRegistry.VersionStatus status, , bool stopped) = _fulfilmentTarget(modelId, version);
        return stopped || status == IModelRegistry.VersionStatus.Revoked;
    }

    /// @dev `keccak256(abi.encode(inputCommitment, vkaDigest))`, hashed in the scratch space.
    function _binding(bytes32 inputCommitment, bytes32 vkaDigest) private pure returns (bytes32 hash) {
        assembly ("memory-safe") {
            mstore(0x00, inputCommitment)
            mstore(0x20, vkaDigest)
            hash := keccak256(0x00, 0x40)
        }
    }

    /// @dev Always reverts, with the route's error for the half of the binding that failed: `VerifierVkaDigestMismatch`
    ///      if the verifier's digest is not the version's (read from the registry, where it is immutable), else
    ///      `VerifierInputCommitmentMismatch`, as the input hash is then what differs. Only on this failure path does
    ///      `fulfill` read the stored input commitment.
    function _revertUnbound(
        OpenRequest storage r,
        bytes32 modelId,
        uint32 version,
        bytes32 input,
        bytes32 digest
    ) private view {
        bytes32 registered = REGISTRY.verificationTarget(modelId, version).vkaDigest;
        InferenceProof.checkVkaDigest(modelId, version, registered, digest);
        revert IInferenceVerifier.VerifierInputCommitmentMismatch({
            expected: r.inputCommitment,
            actual: input
        });
    }

    /// @dev Emits `InferenceFulfilled(requestId, modelId, version, outputs, proofHash, payee)`, encoding the
    ///      data (`version`, offset, `proofHash`, `outputs`) with one `mcopy` of the array instead of Solidity's
    ///      element-by-element event encoding. Written past the free memory pointer without moving it (scratch).
    function _emitFulfilled(
        uint256 requestId,
        bytes32 modelId,
        uint32 version,
        int256[] memory outputs,
        bytes32 proofHash,
        address payee
    ) private {
        bytes32 topic = InferenceFulfilled.selector;
        assembly ("memory-safe") {
            let arrayBytes := add(0x20, shl(5, mload(outputs)))
            let ptr := mload(0x40)
            mstore(ptr, and(version, 0xffffffff)) // bits above a uint32 are not guaranteed clean in assembly
            mstore(add(ptr, 0x20), 0x60) // offset of `outputs` in the data
            mstore(add(ptr, 0x40), proofHash)
            mcopy(add(ptr, 0x60), outputs, arrayBytes)
            log4(ptr, add(0x60, arrayBytes), topic, requestId, modelId, payee)
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

    /// @dev A fulfilled request's slot 1 as one word: `Settlement({status: Fulfilled, version, callback,
    ///      fulfilledAt: now, fulfiller: payee})`, following Solidity's packing of `Settlement` (first field in
    ///      the lowest bits): status bits 0-7, version 8-39, callback 40-47, fulfilledAt 48-95, fulfiller 96-255.
    ///      Solidity would read-modify-write the slot once per field; `receipt` reads it back through the struct,
    ///      which the tests check. Every field is cast to its width, so none spills into another.
    function _settlementWord(
        uint32 version,
        CallbackStatus callback,
        address payee
    ) private view returns (uint256) {
        return
            uint256(uint8(RequestStatus.Fulfilled)) |
            (uint256(version) << 8) |
            (uint256(uint8(callback)) << 40) |
            (uint256(uint48(block.timestamp)) << 48) |
            (uint256(uint160(payee)) << 96);
    }

    /// @dev The fulfilled form of a request's slots (see `OpenRequest` and `FulfilledRequest`).
    function _asFulfilled(OpenRequest storage r) private pure returns (FulfilledRequest storage f) {
        assembly ("memory-safe") {
            f.slot := r.slot
        }
    }

    /// @dev Reverts with the error that names why a request is not open.
    function _revertNotOpen(uint256 requestId, OpenRequest storage r) private view {
        RequestStatus status = r.terms.status; // the same bits in either form of slot 1
        if (status == RequestStatus.None) revert CoordinatorRequestUnknown({requestId: requestId});
        if (status == RequestStatus.Fulfilled) {
            address fulfiller = _asFulfilled(r).settlement.fulfiller;
            revert CoordinatorRequestAlreadyFulfilled({requestId: requestId, fulfiller: fulfiller});
        }
        if (status == RequestStatus.Locked) {
            Lock memory held = _lockOf(requestId);
            revert CoordinatorRequestLocked({
                requestId: requestId,
                locker: held.locker,
                lockDeadline: held.lockDeadline
            });
        }
        if (status == RequestStatus.Cancelled) revert CoordinatorRequestCancelled({requestId: requestId});
        revert CoordinatorRequestAlreadyRefunded({requestId: requestId});
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
