// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {IInferenceCoordinator} from "./IInferenceCoordinator.sol";

/// @title IInferenceConsumer
/// @notice The callback a contract that requests inferences from an `IInferenceCoordinator` receives when one of
///         its requests is fulfilled with a verified proof.
/// @dev Implementations must accept the call only from their coordinator (`InferenceConsumer` does). The call
///      carries exactly the requested callback gas limit; if it reverts or runs out of gas, the fulfilment, its
///      receipt and the prover's fee stand anyway and the coordinator emits `CallbackFailed`, so keep the
///      callback cheap and non-reverting. The outputs can be re-checked later against the receipt's
///      `outputsHash` (`keccak256(abi.encode(outputs))`).
interface IInferenceConsumer {
    /// @notice Thrown by `receiveInference` when the caller is not the consumer's coordinator.
    /// @param caller The caller.
    /// @param coordinator The only allowed caller.
    error ConsumerCallerNotCoordinator(address caller, address coordinator);

    /// @notice Thrown by the constructor when the coordinator address holds no code.
    /// @param coordinator The address given.
    error ConsumerCoordinatorHasNoCode(address coordinator);

    /// @notice Thrown by `_requestInference` for version 0: the helpers pin a version; use `_requestLatestInference`
    ///         to opt in to "latest" explicitly.
    /// @param modelId The model.
    error ConsumerVersionNotPinned(bytes32 modelId);

    /// @notice Thrown by the request helpers of a consumer that requires the ceremony SRS (`_requiresCeremonySrs`)
    ///         when the version's SRS is not the public ceremony's (a dev SRS, whose maker could forge proofs).
    /// @param modelId The model.
    /// @param version The version.
    error ConsumerSrsNotCeremony(bytes32 modelId, uint32 version);

    /// @notice Thrown by `_refundInference` when the terms passed are not the request's, or the request is neither
    ///         open, locked nor refunded (fulfilled or cancelled: nothing to refund).
    /// @param requestId The request.
    /// @param status Its status at the coordinator.
    error ConsumerTermsMismatch(uint256 requestId, IInferenceCoordinator.RequestStatus status);

    /// @notice Receives the verified outputs of one of this contract's requests; only the coordinator may call.
    /// @param requestId The request.
    /// @param modelId The model.
    /// @param version The version whose VKA the suite verifier accepted the proof against.
    /// @param outputs The flattened output tensor as fixed-point integers at the version's output scale.
    function receiveInference(
        uint256 requestId,
        bytes32 modelId,
        uint32 version,
        int256[] calldata outputs
    ) external;

    /// @notice The coordinator this consumer requests from and accepts callbacks from.
    /// @return The coordinator.
    function coordinator() external view returns (IInferenceCoordinator);
}
