// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IInferenceConsumer} from "../interfaces/IInferenceConsumer.sol";
import {IInferenceCoordinator} from "../interfaces/IInferenceCoordinator.sol";

/// @title InferenceConsumer
/// @notice The base a dApp inherits to request verified inferences and receive their outputs: implement
///         `_receiveInference`, and call `_requestInference` to ask.
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

    /// @notice Requests an inference with this contract as the requester; see
    ///         `IInferenceCoordinator.requestInference`.
    /// @param modelId The model.
    /// @param version The version, or 0 for the latest active one.
    /// @param input The flattened input tensor as fixed-point integers at the version's input scale.
    /// @param callbackGasLimit The gas `_receiveInference` gets (include the base's own check, about 1k gas).
    /// @param deadline The last timestamp at which the request can be fulfilled.
    /// @param fee The prover's fee, sent from this contract's balance (e.g. the caller's `msg.value`).
    /// @return requestId The request's id.
    function _requestInference(
        bytes32 modelId,
        uint32 version,
        int256[] memory input,
        uint32 callbackGasLimit,
        uint64 deadline,
        uint256 fee
    ) internal returns (uint256 requestId) {
        requestId = COORDINATOR.requestInference{value: fee}(
            modelId,
            version,
            input,
            callbackGasLimit,
            deadline
        );
    }

    /// @notice Receives the verified outputs of one of this contract's requests.
    /// @dev Runs with the request's callback gas limit. A revert here does not undo the fulfilment: the
    ///      coordinator records the failure and emits `CallbackFailed`, and the request is closed, so prefer
    ///      handling bad outcomes over reverting.
    /// @param requestId The request.
    /// @param modelId The model.
    /// @param version The version whose registered verifier accepted the proof.
    /// @param outputs The flattened output tensor as fixed-point integers at the version's output scale.
    function _receiveInference(
        uint256 requestId,
        bytes32 modelId,
        uint32 version,
        int256[] calldata outputs
    ) internal virtual;
}
