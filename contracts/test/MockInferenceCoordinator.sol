// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {IInferenceConsumer} from "../interfaces/IInferenceConsumer.sol";
import {IInferenceCoordinator} from "../interfaces/IInferenceCoordinator.sol";

/// @title MockInferenceCoordinator — TEST-ONLY. Never deploy it anywhere that matters.
/// @notice A stand-in coordinator for unit tests of consumer contracts: it takes requests like the real one and
///         lets the test deliver any outputs it likes with `deliver`. It checks NO proof: it is evidence of how a
///         consumer handles outputs, escrow and refunds, never of verification (the real-proof tests in test/
///         are).
/// @dev Implements the part of `IInferenceCoordinator` a consumer calls (`requestInference`, `request`, `receipt`,
///      `refund`, `withdrawTo`) with the same selectors and the same revert conditions for them, so a consumer built on
///      `InferenceConsumer` runs against it unchanged.
// Test-only: gas rules do not apply, and the callback is a low-level call as in the real coordinator.
/* solhint-disable gas-struct-packing, gas-strict-inequalities, gas-increment-by-one, avoid-low-level-calls */
contract MockInferenceCoordinator {
    /// @notice A request as the mock keeps it.
    struct MockRequest {
        address requester;
        bytes32 modelId;
        uint32 version;
        bytes32 inputCommitment;
        uint256 fee;
        uint32 callbackGasLimit;
        uint64 deadline;
        IInferenceCoordinator.RequestStatus status;
        int256[] input;
        IInferenceCoordinator.Receipt receipt;
    }

    /// @notice `deliver` or `refund` of a request that is not open.
    error MockRequestNotOpen(uint256 requestId);
    /// @notice `withdrawTo` of zero or of more than the caller's credit, or a send that failed.
    error MockWithdrawalFailed(address account, uint256 amount, uint256 credit);

    uint256 public nextRequestId = 1;
    mapping(uint256 requestId => MockRequest) private _requests;
    mapping(address account => uint256) public credits;

    /// @notice Same signature as `IInferenceCoordinator.requestInference`; records the request.
    function requestInference(
        bytes32 modelId,
        uint32 version,
        int256[] calldata input,
        IInferenceCoordinator.Offer calldata offer
    ) external payable returns (uint256 requestId) {
        uint64 deadline = offer.deadline;
        if (deadline <= block.timestamp) {
            revert IInferenceCoordinator.CoordinatorDeadlineNotInFuture({
                deadline: deadline,
                timestamp: block.timestamp
            });
        }
        requestId = nextRequestId++;
        MockRequest storage r = _requests[requestId];
        r.requester = msg.sender;
        r.modelId = modelId;
        r.version = version;
        r.inputCommitment = keccak256(abi.encodePacked(input));
        r.fee = msg.value;
        r.callbackGasLimit = offer.callbackGasLimit;
        r.deadline = deadline;
        r.status = IInferenceCoordinator.RequestStatus.Open;
        r.input = input;
    }

    /// @notice TEST-ONLY: fulfil `requestId` with `outputs` (no proof), calling the requester back with the
    ///         request's gas limit as the real coordinator does. Returns whether the callback succeeded.
    function deliver(uint256 requestId, int256[] calldata outputs) external returns (bool ok) {
        MockRequest storage r = _requests[requestId];
        if (r.status != IInferenceCoordinator.RequestStatus.Open) revert MockRequestNotOpen(requestId);
        r.status = IInferenceCoordinator.RequestStatus.Fulfilled;
        credits[msg.sender] += r.fee;
        (ok, ) = r.requester.call{gas: r.callbackGasLimit}(
            abi.encodeCall(IInferenceConsumer.receiveInference, (requestId, r.modelId, r.version, outputs))
        );
        r.receipt = IInferenceCoordinator.Receipt({
            modelId: r.modelId,
            version: r.version,
            inputCommitment: r.inputCommitment,
            outputsHash: keccak256(abi.encode(outputs)),
            proofHash: bytes32(0),
            fulfiller: msg.sender,
            fulfilledAt: uint64(block.timestamp),
            callback: ok
                ? IInferenceCoordinator.CallbackStatus.Succeeded
                : IInferenceCoordinator.CallbackStatus.Failed
        });
    }

    /// @notice As `IInferenceCoordinator.receipt`: reverts unless the request was delivered.
    function receipt(uint256 requestId) external view returns (IInferenceCoordinator.Receipt memory) {
        MockRequest storage r = _requests[requestId];
        if (r.status != IInferenceCoordinator.RequestStatus.Fulfilled) {
            revert IInferenceCoordinator.CoordinatorRequestNotFulfilled({
                requestId: requestId,
                status: r.status
            });
        }
        return r.receipt;
    }

    /// @notice The input a request was made with (for assertions).
    function inputOf(uint256 requestId) external view returns (int256[] memory) {
        return _requests[requestId].input;
    }

    /// @notice Same shape as `IInferenceCoordinator.request`.
    function request(uint256 requestId) external view returns (IInferenceCoordinator.Request memory) {
        MockRequest storage r = _requests[requestId];
        if (r.status == IInferenceCoordinator.RequestStatus.None) {
            revert IInferenceCoordinator.CoordinatorRequestUnknown({requestId: requestId});
        }
        return
            IInferenceCoordinator.Request({
                requester: r.requester,
                modelId: r.modelId,
                version: r.version,
                inputCommitment: r.inputCommitment,
                fee: r.fee,
                callbackGasLimit: r.callbackGasLimit,
                deadline: r.deadline,
                status: r.status,
                lockCollateral: 0,
                lockDeadline: 0,
                locker: address(0)
            });
    }

    /// @notice As `IInferenceCoordinator.refund`: after the deadline, the fee becomes the requester's credit.
    function refund(uint256 requestId) external {
        MockRequest storage r = _requests[requestId];
        if (r.status != IInferenceCoordinator.RequestStatus.Open) revert MockRequestNotOpen(requestId);
        if (block.timestamp <= r.deadline) {
            revert IInferenceCoordinator.CoordinatorRequestNotExpired({
                requestId: requestId,
                deadline: r.deadline
            });
        }
        r.status = IInferenceCoordinator.RequestStatus.Refunded;
        credits[r.requester] += r.fee;
    }

    /// @notice As `IInferenceCoordinator.withdrawTo`.
    function withdrawTo(address payable to, uint256 amount) external {
        uint256 credit = credits[msg.sender];
        if (amount == 0 || amount > credit) revert MockWithdrawalFailed(msg.sender, amount, credit);
        credits[msg.sender] = credit - amount;
        (bool sent, ) = to.call{value: amount}("");
        if (!sent) revert MockWithdrawalFailed(to, amount, credit);
    }
}
