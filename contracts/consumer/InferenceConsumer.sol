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
