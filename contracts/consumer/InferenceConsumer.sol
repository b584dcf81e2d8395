// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {IInferenceConsumer} from "../interfaces/IInferenceConsumer.sol";
import {IInferenceCoordinator} from "../interfaces/IInferenceCoordinator.sol";

/// @title InferenceConsumer
/// @notice The base a dApp inherits to request verified inferences and receive their outputs: implement
///         `_receiveInference`, and call `_requestInference` (a pinned version) or `_requestLatestInference` (an
///         explicit opt-in to the model's latest version) to ask. Override `_requiresCeremonySrs` to refuse versions
///         whose SRS is not the public ceremony's.
/// @dev The one external entry checks that the coordinator is calling and forwards to the internal hook, so a
///      stranger can never inject outputs. The dApp is the requester, so it gets the callback and, after a
///      deadline, the refund credit at the coordinator (withdraw it with `coordinator().withdraw()`; the
///      coordinator then sends ether here, so a dApp that relies on refunds needs a `receive` function).
abstract contract InferenceConsumer is IInferenceConsumer {
    IInferenceCoordinator private immutable COORDINATOR;

    /// @param coordinator_ The coordinator to request from and accept callbacks from.
    constructor(IInferenceCoordinator coordinator_) {
        if (address(coordinator_).code.length == 0) {
            revert ConsumerCoordinatorHasNoCode({coordinator: address(coordinator_)});
        }
        COORDINATOR = coordinator_;
    }

    /// @inheritdoc IInferenceConsumer
    function receiveInference(
        uint256 requestId,
        bytes32 modelId,
        uint32 version,
        int256[] calldata outputs
    ) external override {
        if (msg.sender != address(COORDINATOR)) {
            revert ConsumerCallerNotCoordinator({caller: msg.sender, coordinator: address(COORDINATOR)});
        }
        _receiveInference(requestId, modelId, version, outputs);
    }

    /// @inheritdoc IInferenceConsumer
    function coordinator() public view override returns (IInferenceCoordinator) {
        return COORDINATOR;
    }

    /// @notice Requests an inference of a pinned version with this contract as the requester; see
    ///         `IInferenceCoordinator.requestInference` (the offer states price, lock and callback terms). A pinned
    ///         version is immutable: no later version of the model applies to the request.
    /// @param modelId The model.
    /// @param version The version (not 0: `ConsumerVersionNotPinned`).
    /// @param input The flattened input tensor as fixed-point integers at the version's input scale.
    /// @param offer The terms; its `callbackGasLimit` is the gas `_receiveInference` gets (include the base's own
    ///        check, about 1k gas), and its `minPrice` must cover that gas (see
    ///        `IInferenceCoordinator.CALLBACK_GAS_PRICE_MULTIPLIER`).
    /// @param fee The maximum price, sent from this contract's balance (e.g. the caller's `msg.value`).
    /// @return requestId The request's id.
    function _requestInference(
        bytes32 modelId,
        uint32 version,
        int256[] memory input,
        IInferenceCoordinator.Offer memory offer,
        uint256 fee
    ) internal returns (uint256 requestId) {
        if (version == 0) revert ConsumerVersionNotPinned({modelId: modelId});
        if (_requiresCeremonySrs()) _checkCeremonySrs(modelId, version);
        requestId = COORDINATOR.requestInference{value: fee}(modelId, version, input, offer);
    }

    /// @notice Requests an inference of the model's latest active version now (`IModelRegistry.latestActiveVersion`,
    ///         which moves only after the registry's `LATEST_DELAY`), an explicit opt-in to trusting the model's
    ///         owner with future versions; otherwise like `_requestInference`.
    /// @param modelId The model.
    /// @param input The flattened input tensor.
    /// @param offer The terms (see `_requestInference`).
    /// @param fee The maximum price.
    /// @return requestId The request's id.
    function _requestLatestInference(
        bytes32 modelId,
        int256[] memory input,
        IInferenceCoordinator.Offer memory offer,
        uint256 fee
    ) internal returns (uint256 requestId) {
        if (_requiresCeremonySrs()) {
            _checkCeremonySrs(modelId, COORDINATOR.registry().latestActiveVersion(modelId));
        }
        requestId = COORDINATOR.requestInference{value: fee}(modelId, 0, input, offer);
    }

    /// @notice Refunds one of this contract's unfulfilled requests at the coordinator if nobody has yet, and returns
    ///         what that credited (or had credited) to this contract there: the request's maximum price (its
    ///         escrow, returned in full however it was locked; collateral a lapsed locker lost comes on top and is
    ///         not counted). Reverts if the request was fulfilled or cancelled, with the coordinator's errors before
    ///         its deadline, and with `ConsumerTermsMismatch` if `terms` are not the request's.
    /// @dev While the request is open or locked the coordinator checks `terms` (and `held`); once anyone refunded
    ///      it, they are checked against the request id, which is their hash (hashed again for each earlier
    ///      request of the same terms in the same second: at most `MAX_ID_REHASHES` are followed).
    /// @param requestId The request.
    /// @param terms Its terms (from `InferenceRequested`).
    /// @param held Its lock when locked (from `RequestLocked`; zero otherwise).
    /// @return refunded The escrow refunded to this contract's coordinator credit.
    function _refundInference(
        uint256 requestId,
        IInferenceCoordinator.Terms calldata terms,
        IInferenceCoordinator.LockState calldata held
    ) internal returns (uint256 refunded) {
        (IInferenceCoordinator.RequestStatus status, ) = COORDINATOR.requestState(requestId);
        if (terms.requester != address(this))
            revert ConsumerTermsMismatch({requestId: requestId, status: status});
        if (
            status == IInferenceCoordinator.RequestStatus.Open ||
            status == IInferenceCoordinator.RequestStatus.Locked
        ) {
            COORDINATOR.refund(requestId, terms, held);
        } else if (status != IInferenceCoordinator.RequestStatus.Refunded || !_idOf(requestId, terms)) {
            revert ConsumerTermsMismatch({requestId: requestId, status: status});
        }
        return terms.maxPrice;
    }

    /// @dev How many times `_refundInference` follows an id hashed again (see `requestInference`).
    uint256 private constant MAX_ID_REHASHES = 64;

    /// @dev Whether `requestId` is the id `requestInference` gave a request of `terms`.
    function _idOf(
        uint256 requestId,
        IInferenceCoordinator.Terms calldata terms
    ) private pure returns (bool) {
        uint256 id = uint256(keccak256(abi.encode(terms)));
        for (uint256 i = 0; i < MAX_ID_REHASHES + 1; ++i) {
            if (id == requestId) return true;
            id = uint256(keccak256(abi.encode(id)));
        }
        return false;
    }

    /// @notice Whether this consumer only requests versions built on the public ceremony SRS; false by default.
    /// @dev Override to return true (e.g. from an immutable) in a dApp that pays out on outputs: a dev-SRS version's
    ///      maker may know the SRS's secret and forge proofs.
    /// @return True to require the ceremony SRS.
    function _requiresCeremonySrs() internal view virtual returns (bool) {
        return false;
    }

    /// @dev Reverts with `ConsumerSrsNotCeremony` unless the version uses the ceremony SRS (a version 0 here means
    ///      the model has no latest version; the coordinator then names that).
    function _checkCeremonySrs(bytes32 modelId, uint32 version) private view {
        if (version == 0) return;
        if (!COORDINATOR.registry().usesCeremonySrs(modelId, version)) {
            revert ConsumerSrsNotCeremony({modelId: modelId, version: version});
        }
    }

    /// @notice Receives the verified outputs of one of this contract's requests.
    /// @dev Runs with the request's callback gas limit. A revert here does not undo the fulfilment: the
    ///      coordinator records the failure and emits `CallbackFailed`, and the request is closed, so prefer
    ///      handling bad outcomes over reverting.
    /// @param requestId The request.
    /// @param modelId The model.
    /// @param version The version whose VKA the suite verifier accepted the proof against.
    /// @param outputs The flattened output tensor as fixed-point integers at the version's output scale.
    function _receiveInference(
        uint256 requestId,
        bytes32 modelId,
        uint32 version,
        int256[] calldata outputs
    ) internal virtual;
}
