// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {IInferenceCoordinator} from "../interfaces/IInferenceCoordinator.sol";
import {IInferenceConsumer} from "../interfaces/IInferenceConsumer.sol";
import {IInferenceVerifier} from "../interfaces/IInferenceVerifier.sol";
import {IModelRegistry} from "../interfaces/IModelRegistry.sol";
import {FieldElement} from "../libraries/FieldElement.sol";

/// @title InferenceCoordinator
/// @notice Requests, proof-checked fulfilments with callbacks, fee escrow, deadlines, refunds and withdrawals for
///         verified inferences.
/// @dev Gas is spent deliberately on the fulfilment path, which sits on top of a ~600k-gas EZKL verification:
///      - a request is 7 storage slots (see `StoredRequest`); the requester pays for creating all of them,
///        including non-zero placeholders in the two receipt hash slots, so `fulfill` only ever rewrites non-zero
///        slots (about 5k gas each, where a zero-to-non-zero write would cost about 22k);
///      - `fulfill` reads 5 request slots and the pause flag, rewrites 3 request slots and the prover's credit;
///        it never reads the registry (the route does, once) and stores outputs only as a hash (the outputs are
///        in `InferenceFulfilled` and in the callback);
///      - the outputs are taken from the route's return data as they lie: hashed, logged and passed on without
///        being decoded or re-encoded; the proof is hashed in scratch memory that the route call's encoding then
///        reuses, so its memory is paid for once; the reentrancy lock lives in transient storage (EIP-1153).
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

    /// @dev Written at request time into the receipt hash slots so `fulfill` rewrites them non-zero to non-zero.
    ///      Never visible: `receipt` only answers for fulfilled requests.
    bytes32 private constant PLACEHOLDER = bytes32(uint256(1));

    /// @dev Slot 0 of a request: who asked and what they pay. Read by `fulfill` (callback target, fee) and by
    ///      `refund`. The fee fits: `requestInference` rejects a `msg.value` above `type(uint96).max`.
    struct RequestHead {
        address requester;
        uint96 fee;
    }

    /// @dev Slot 1 of a request: what `fulfill` needs to route and to call back, and the deadline.
    struct RequestTerms {
        uint32 version;
        uint64 deadline;
        uint32 callbackGasLimit;
    }

    /// @dev Slot 2 of a request: how it ends. Written at request time with status `Open` (so the slot is non-zero)
    ///      and rewritten whole, in one write, by `fulfill` (or its status only by `refund`).
    struct Settlement {
        RequestStatus status;
        CallbackStatus callback;
        uint64 fulfilledAt;
        address fulfiller;
    }

    /// @dev Storage form of a request: 7 slots, all written non-zero at request time.
    ///      slot 0  head: requester (160) | fee (96)
    ///      slot 1  terms: version (32) | deadline (64) | callbackGasLimit (32)
    ///      slot 2  settlement: status (8) | callback (8) | fulfilledAt (64) | fulfiller (160)
    ///      slot 3  modelId
    ///      slot 4  inputCommitment
    ///      slot 5  outputsHash (PLACEHOLDER until fulfilled)
    ///      slot 6  proofHash (PLACEHOLDER until fulfilled)
    ///      `fulfill` reads slots 0-4 once each and rewrites slots 2, 5 and 6: every write replaces a non-zero
    ///      value, which costs 2.9k gas after the read (slot 2) or 5k cold (slots 5, 6) instead of 22.1k.
    struct StoredRequest {
        RequestHead head;
        RequestTerms terms;
        Settlement settlement;
        bytes32 modelId;
        bytes32 inputCommitment;
        bytes32 outputsHash;
        bytes32 proofHash;
    }

    /// @dev One slot: `requestInference` reads the pause flag and bumps the counter in one read and one write;
    ///      `fulfill` reads the other pause flag from the same slot.
    struct Config {
        address guardian;
        bool requestsPaused;
        bool fulfilmentsPaused;
        uint64 nextRequestId;
    }

    IModelRegistry private immutable REGISTRY;
    IInferenceVerifier private immutable ROUTE;

    /// @dev The reentrancy lock, 1 while a guarded function runs (EIP-1153 transient storage: 300 gas a guarded
    ///      call instead of two storage writes; a full word, so setting it needs no read-modify-write).
    ///      OpenZeppelin's `ReentrancyGuardTransient` does the same with inline-assembly `tstore`, which solc flags
    ///      with a warning on every build; the `transient` keyword compiles to the same TLOAD/TSTORE.
    uint256 private transient _locked;

    Config private _config;
    mapping(uint256 requestId => StoredRequest) private _requests;

    /// @dev An account's credit plus one, once it has ever been credited (0: never). Withdrawing everything leaves
    ///      1, not 0, so the account's next credit rewrites a non-zero slot (~5k gas) instead of creating one
    ///      (~22k): without it every prover's first fulfilment after a withdrawal would pay 17k more.
    mapping(address account => uint256) private _creditsPlusOne;

    /// @dev Guards the paths that move value or call out (`fulfill`, `refund`, `withdraw`, `withdrawTo`) against
    ///      re-entry from a callback or a withdrawal recipient. Not on `requestInference`, which makes no external
    ///      call that could re-enter (registry reads only), so a consumer may request again from its callback.
    modifier nonReentrant() {
        if (_locked != 0) revert CoordinatorReentrantCall({caller: msg.sender});
        _locked = 1;
        _;
        _locked = 0;
    }

    /// @param registry_ The model registry requests are resolved against.
    /// @param route_ The verification route; must read `registry_`.
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
        uint32 callbackGasLimit,
        uint64 deadline
    ) external payable override returns (uint256 requestId) {
        Config memory config = _config;
        if (config.requestsPaused) revert CoordinatorRequestsPaused({guardian: config.guardian});
        if (callbackGasLimit > MAX_CALLBACK_GAS_LIMIT) {
            revert CoordinatorCallbackGasLimitTooHigh({
                callbackGasLimit: callbackGasLimit,
                maxCallbackGasLimit: MAX_CALLBACK_GAS_LIMIT
            });
        }
        bool deadlineInFuture = deadline > block.timestamp;
        if (!deadlineInFuture) {
            revert CoordinatorDeadlineNotInFuture({deadline: deadline, timestamp: block.timestamp});
        }
        if (msg.value > type(uint96).max)
            revert CoordinatorFeeTooLarge({fee: msg.value, maxFee: type(uint96).max});
        version = _resolveVersion(modelId, version, input.length);
        bytes32 inputCommitment = FieldElement.commit(input); // reverts FieldElementIntOutOfRange

        requestId = config.nextRequestId;
        _config.nextRequestId = config.nextRequestId + 1; // checked: 2^64 requests are out of reach anyway

        StoredRequest storage r = _requests[requestId];
        r.head = RequestHead({requester: msg.sender, fee: uint96(msg.value)});
        r.terms = RequestTerms({version: version, deadline: deadline, callbackGasLimit: callbackGasLimit});
        r.settlement.status = RequestStatus.Open;
        r.modelId = modelId;
        r.inputCommitment = inputCommitment;
        r.outputsHash = PLACEHOLDER;
        r.proofHash = PLACEHOLDER;

        emit InferenceRequested({
            requestId: requestId,
            modelId: modelId,
            version: version,
            requester: msg.sender,
            input: input,
            inputCommitment: inputCommitment,
            fee: msg.value,
            callbackGasLimit: callbackGasLimit,
            deadline: deadline
        });
    }

    /// @inheritdoc IInferenceCoordinator
    function refund(uint256 requestId) external override nonReentrant {
        StoredRequest storage r = _requests[requestId];
        if (r.settlement.status != RequestStatus.Open) _revertNotOpen(requestId, r.settlement);
        uint64 deadline = r.terms.deadline;
        bool expired = block.timestamp > deadline;
        if (!expired) revert CoordinatorRequestNotExpired({requestId: requestId, deadline: deadline});

        r.settlement.status = RequestStatus.Refunded;
        RequestHead memory head = r.head;
        if (head.fee != 0) _credit(head.requester, head.fee);
        emit InferenceRefunded({requestId: requestId, requester: head.requester, amount: head.fee});
    }

    // ---------------------------------------------------------------------------------------------------------
    // Provers
    // ---------------------------------------------------------------------------------------------------------

    /// @inheritdoc IInferenceCoordinator
    function fulfill(
        uint256 requestId,
        bytes calldata proof,
        uint256[] calldata instances
    ) external override nonReentrant {
        StoredRequest storage r = _requests[requestId];
        if (r.settlement.status != RequestStatus.Open) _revertNotOpen(requestId, r.settlement);
        RequestTerms memory terms = r.terms;
        if (block.timestamp > terms.deadline) {
            revert CoordinatorRequestExpired({requestId: requestId, deadline: terms.deadline});
        }
        if (_config.fulfilmentsPaused) {
            revert CoordinatorFulfilmentsPaused({requestId: requestId, guardian: _config.guardian});
        }

        RequestHead memory head = r.head;
        bool callBack = terms.callbackGasLimit != 0 && head.requester.code.length != 0;
        bytes memory callbackData = _verifyAndRecord(r, requestId, terms.version, proof, instances, callBack);

        if (head.fee != 0) _credit(msg.sender, head.fee);

        if (callBack && !_callBack(requestId, head.requester, terms.callbackGasLimit, callbackData)) {
            r.settlement.callback = CallbackStatus.Failed;
            emit CallbackFailed({
                requestId: requestId,
                consumer: head.requester,
                reason: _returnDataPrefix()
            });
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
    function request(uint256 requestId) external view override returns (Request memory) {
        StoredRequest storage r = _requests[requestId];
        RequestStatus status = r.settlement.status;
        if (status == RequestStatus.None) revert CoordinatorRequestUnknown({requestId: requestId});
        RequestTerms memory terms = r.terms;
        return
            Request({
                requester: r.head.requester,
                modelId: r.modelId,
                version: terms.version,
                inputCommitment: r.inputCommitment,
                fee: r.head.fee,
                callbackGasLimit: terms.callbackGasLimit,
                deadline: terms.deadline,
                status: status
            });
    }

    /// @inheritdoc IInferenceCoordinator
    function receipt(uint256 requestId) external view override returns (Receipt memory) {
        StoredRequest storage r = _requests[requestId];
        Settlement memory s = r.settlement;
        if (s.status == RequestStatus.None) revert CoordinatorRequestUnknown({requestId: requestId});
        if (s.status != RequestStatus.Fulfilled) {
            revert CoordinatorRequestNotFulfilled({requestId: requestId, status: s.status});
        }
        return
            Receipt({
                modelId: r.modelId,
                version: r.terms.version,
                inputCommitment: r.inputCommitment,
                outputsHash: r.outputsHash,
                proofHash: r.proofHash,
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
    function computeInputCommitment(int256[] calldata input) external pure override returns (bytes32) {
        return FieldElement.commit(input);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Internals
    // ---------------------------------------------------------------------------------------------------------

    /// @dev Resolves version 0 to the latest active version and checks that the version is usable and that the
    ///      input has its input count. At request time only: `fulfill` leaves the registry to the route.
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
        IModelRegistry.VerificationTarget memory target = REGISTRY.verificationTarget(modelId, version);
        if (!target.modelExists) revert CoordinatorModelUnknown({modelId: modelId});
        if (!target.versionExists) {
            revert CoordinatorVersionUnknown({
                modelId: modelId,
                version: version,
                latestVersion: target.latestVersion
            });
        }
        if (target.deprecated) revert CoordinatorVersionDeprecated({modelId: modelId, version: version});
        if (inputLength != target.layout.inputCount) {
            revert CoordinatorInputLengthMismatch({
                modelId: modelId,
                version: version,
                expected: target.layout.inputCount,
                actual: inputLength
            });
        }
        return version;
    }

    /// @dev The route checks the proof against the request; then the receipt is written (the settlement slot in
    ///      one write, callback provisionally `Succeeded` when one will be made, corrected if it fails) and
    ///      `InferenceFulfilled` emitted. Returns the callback's calldata (empty when none is made).
    function _verifyAndRecord(
        StoredRequest storage r,
        uint256 requestId,
        uint32 version,
        bytes calldata proof,
        uint256[] calldata instances,
        bool callBack
    ) private returns (bytes memory callbackData) {
        bytes32 modelId = r.modelId;
        bytes32 proofHash = _hashCalldata(proof);
        (int256[] memory outputs, bytes32 outputsHash) = _callRoute(
            modelId,
            version,
            r.inputCommitment,
            proof,
            instances
        );

        _storeFulfilled(r.settlement, callBack ? CallbackStatus.Succeeded : CallbackStatus.None);
        r.outputsHash = outputsHash;
        r.proofHash = proofHash;
        _emitFulfilled(requestId, modelId, version, outputs, proofHash);
        if (callBack) callbackData = _callbackData(requestId, modelId, version, outputs);
    }

    /// @dev Calls `route.verifyCommitted` and takes the outputs straight from its return data, which is
    ///      `abi.encode(outputs)`: its keccak256 is the outputs hash and the array is used where it lies, so the
    ///      outputs are neither decoded nor re-encoded. A route revert (its named error) is re-thrown unchanged.
    ///      The route is immutable and answers in the canonical encoding; the shape is checked anyway, so nothing
    ///      can be read past the copied data. The return data is copied to the free memory pointer, which is moved
    ///      past it.
    function _callRoute(
        bytes32 modelId,
        uint32 version,
        bytes32 inputCommitment,
        bytes calldata proof,
        uint256[] calldata instances
    ) private view returns (int256[] memory outputs, bytes32 outputsHash) {
        bytes memory data = abi.encodeCall(
            IInferenceVerifier.verifyCommitted,
            (modelId, version, inputCommitment, proof, instances)
        );
        address routeAddress = address(ROUTE);
        bool wellFormed;
        assembly ("memory-safe") {
            let ok := staticcall(gas(), routeAddress, add(data, 0x20), mload(data), 0, 0)
            let size := returndatasize()
            let ret := mload(0x40)
            returndatacopy(ret, 0, size)
            if iszero(ok) {
                revert(ret, size)
            }
            mstore(0x40, add(ret, and(add(size, 31), not(31))))
            // Well formed: [0x20][n][n words], and n small enough that the length check cannot wrap.
            if gt(size, 0x3f) {
                let n := mload(add(ret, 0x20))
                wellFormed := and(and(eq(mload(ret), 0x20), lt(n, size)), eq(size, add(0x40, shl(5, n))))
            }
            outputs := add(ret, 0x20)
            outputsHash := keccak256(ret, size)
        }
        if (!wellFormed) revert CoordinatorRouteAnswerMalformed({route: routeAddress});
    }

    /// @dev Emits `InferenceFulfilled(requestId, modelId, version, outputs, proofHash, msg.sender)`, encoding the
    ///      data (`version`, offset, `proofHash`, `outputs`) with one `mcopy` of the array instead of Solidity's
    ///      element-by-element event encoding. Written past the free memory pointer without moving it (scratch).
    function _emitFulfilled(
        uint256 requestId,
        bytes32 modelId,
        uint32 version,
        int256[] memory outputs,
        bytes32 proofHash
    ) private {
        bytes32 topic = InferenceFulfilled.selector;
        assembly ("memory-safe") {
            let arrayBytes := add(0x20, shl(5, mload(outputs)))
            let ptr := mload(0x40)
            mstore(ptr, and(version, 0xffffffff)) // bits above a uint32 are not guaranteed clean in assembly
            mstore(add(ptr, 0x20), 0x60) // offset of `outputs` in the data
            mstore(add(ptr, 0x40), proofHash)
            mcopy(add(ptr, 0x60), outputs, arrayBytes)
            log4(ptr, add(0x60, arrayBytes), topic, requestId, modelId, caller())
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

    /// @dev Writes a fulfilled request's settlement slot in one SSTORE: `Settlement({status: Fulfilled, callback,
    ///      fulfilledAt: now, fulfiller: msg.sender})`. Solidity would read-modify-write the slot once per field.
    ///      The word follows Solidity's packing of `Settlement` (first field in the lowest bits): status bits
    ///      0-7, callback 8-15, fulfilledAt 16-79, fulfiller 80-239; `receipt` reads it back through the struct,
    ///      which the tests check.
    function _storeFulfilled(Settlement storage s, CallbackStatus callback) private {
        uint256 word =
            uint256(uint8(RequestStatus.Fulfilled)) |
                (uint256(uint8(callback)) << 8) |
                (uint256(uint64(block.timestamp)) << 16) |
                (uint256(uint160(msg.sender)) << 80);
        // Writes exactly the one slot of `s`, with every field in range (each was cast to its width above).
        assembly ("memory-safe") {
            sstore(s.slot, word)
        }
    }

    /// @dev Adds `amount` to `account`'s credit (see `_creditsPlusOne`). Checked: the sum of all credits is bounded
    ///      by the ether the coordinator holds.
    function _credit(address account, uint256 amount) private {
        uint256 stored = _creditsPlusOne[account];
        _creditsPlusOne[account] = (stored == 0 ? 1 : stored) + amount;
    }

    /// @dev `account`'s credit (see `_creditsPlusOne`).
    function _creditOf(address account) private view returns (uint256) {
        uint256 stored = _creditsPlusOne[account];
        // unchecked: stored - 1 only when stored >= 1.
        unchecked {
            return stored == 0 ? 0 : stored - 1;
        }
    }

    /// @dev Reverts with the error that names why a request is not open.
    function _revertNotOpen(uint256 requestId, Settlement storage s) private view {
        if (s.status == RequestStatus.None) revert CoordinatorRequestUnknown({requestId: requestId});
        if (s.status == RequestStatus.Fulfilled) {
            revert CoordinatorRequestAlreadyFulfilled({requestId: requestId, fulfiller: s.fulfiller});
        }
        revert CoordinatorRequestAlreadyRefunded({requestId: requestId});
    }

    /// @dev keccak256 of calldata bytes, hashed past the free memory pointer without moving it, so the route
    ///      call's encoding reuses the same (already paid for) memory.
    function _hashCalldata(bytes calldata data) private pure returns (bytes32 hash) {
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            calldatacopy(ptr, data.offset, data.length)
            hash := keccak256(ptr, data.length)
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
