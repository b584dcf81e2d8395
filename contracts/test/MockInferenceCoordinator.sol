// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {IInferenceConsumer} from "../interfaces/IInferenceConsumer.sol";
import {IInferenceCoordinator} from "../interfaces/IInferenceCoordinator.sol";

/// @title MockInferenceCoordinator — TEST-ONLY. Never deploy it anywhere that matters.
/// @notice A stand-in coordinator for unit tests of consumer contracts: it takes requests like the real one and
///         lets the test deliver any outputs it likes with `deliver`. It checks NO proof: it is evidence of how a
///         consumer handles outputs, escrow and refunds, never of verification (the real-proof tests in test/
///         are).
/// @dev Implements the part of `IInferenceCoordinator` a consumer calls (`requestInference`, `requestState`,
///      `checkReceipt`, `refund`, `withdraw`, `withdrawTo`) with the same selectors, the same ids (the hash of the
///      terms, hashed again while taken) and the same revert conditions for them (`CoordinatorTermsMismatch` for
///      terms that are not the request's), so a consumer built on `InferenceConsumer` runs against it unchanged.
///      It keeps the terms and the receipt in storage for the test to read (`termsOf`, `receiptOf`), where the
///      real coordinator only logs them. A request here is never locked.
// Test-only: gas rules do not apply, and the callback is a low-level call as in the real coordinator.
/* solhint-disable gas-struct-packing, gas-strict-inequalities, gas-increment-by-one, avoid-low-level-calls */
contract MockInferenceCoordinator {
    /// @notice A request as the mock keeps it.
    struct MockRequest {
        IInferenceCoordinator.Terms terms;
        IInferenceCoordinator.RequestStatus status;
        int256[] input;
        IInferenceCoordinator.Receipt receipt;
    }

    /// @notice `deliver` of a request that is not open.
    error MockRequestNotOpen(uint256 requestId);
    /// @notice `withdraw` / `withdrawTo` of zero or of more than the caller's credit, or a send that failed.
    error MockWithdrawalFailed(address account, uint256 amount, uint256 credit);

    mapping(uint256 requestId => MockRequest) private _requests;
    mapping(address account => uint256) public credits;

    /// @notice Same signature as `IInferenceCoordinator.requestInference`; records the request (version as given:
    ///         the mock has no registry to resolve 0 against).
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
        IInferenceCoordinator.Terms memory terms = IInferenceCoordinator.Terms({
            requester: msg.sender,
            modelId: modelId,
            version: version,
            inputCommitment: keccak256(abi.encodePacked(input)),
            maxPrice: msg.value,
            minPrice: offer.minPrice,
            requestedAt: uint64(block.timestamp),
            rampPeriod: offer.rampPeriod,
            lockDeadline: uint64(block.timestamp + offer.lockTimeout),
            lockCollateral: offer.lockCollateral,
            callbackGasLimit: offer.callbackGasLimit,
            deadline: deadline
        });
        requestId = uint256(keccak256(abi.encode(terms)));
        while (_requests[requestId].status != IInferenceCoordinator.RequestStatus.None) {
            requestId = uint256(keccak256(abi.encode(requestId)));
        }
        MockRequest storage r = _requests[requestId];
        r.terms = terms;
        r.status = IInferenceCoordinator.RequestStatus.Open;
        r.input = input;
    }

    /// @notice TEST-ONLY: fulfil `requestId` with `outputs` (no proof), calling the requester back with the
    ///         request's gas limit as the real coordinator does. Returns whether the callback succeeded.
    function deliver(uint256 requestId, int256[] calldata outputs) external returns (bool ok) {
        MockRequest storage r = _requests[requestId];
        if (r.status != IInferenceCoordinator.RequestStatus.Open) revert MockRequestNotOpen(requestId);
        IInferenceCoordinator.Terms memory t = r.terms;
        r.status = IInferenceCoordinator.RequestStatus.Fulfilled;
        credits[msg.sender] += t.maxPrice;
        (ok, ) = t.requester.call{gas: t.callbackGasLimit}(
            abi.encodeCall(IInferenceConsumer.receiveInference, (requestId, t.modelId, t.version, outputs))
        );
        r.receipt = IInferenceCoordinator.Receipt({
            modelId: t.modelId,
            version: t.version,
            inputCommitment: t.inputCommitment,
            outputsHash: keccak256(abi.encode(outputs)),
            proofHash: bytes32(0),
            fulfiller: msg.sender,
            fulfilledAt: uint64(block.timestamp),
            callback: ok
                ? IInferenceCoordinator.CallbackStatus.Succeeded
                : IInferenceCoordinator.CallbackStatus.Failed
        });
    }

    /// @notice As `IInferenceCoordinator.requestState` (the hash is 0 here: the mock keeps the terms instead).
    function requestState(
        uint256 requestId
    ) external view returns (IInferenceCoordinator.RequestStatus status, bytes32 stateHash) {
        return (_requests[requestId].status, bytes32(0));
    }

    /// @notice As `IInferenceCoordinator.checkReceipt`: true only for the delivered request's own receipt.
    function checkReceipt(
        uint256 requestId,
        IInferenceCoordinator.Receipt calldata r
    ) external view returns (bool) {
        MockRequest storage m = _requests[requestId];
        if (m.status != IInferenceCoordinator.RequestStatus.Fulfilled) return false;
        return keccak256(abi.encode(m.receipt)) == keccak256(abi.encode(r));
    }

    /// @notice TEST-ONLY: the terms a request was made on (the real coordinator logs them in `InferenceRequested`).
    function termsOf(uint256 requestId) external view returns (IInferenceCoordinator.Terms memory) {
        return _requests[requestId].terms;
    }

    /// @notice TEST-ONLY: a delivered request's receipt (the real coordinator stores only its hash).
    function receiptOf(uint256 requestId) external view returns (IInferenceCoordinator.Receipt memory) {
        return _requests[requestId].receipt;
    }

    /// @notice The input a request was made with (for assertions).
    function inputOf(uint256 requestId) external view returns (int256[] memory) {
        return _requests[requestId].input;
    }

    /// @notice As `IInferenceCoordinator.refund`: after the deadline, the escrow becomes the requester's credit.
    function refund(
        uint256 requestId,
        IInferenceCoordinator.Terms calldata terms,
        IInferenceCoordinator.LockState calldata
    ) external {
        MockRequest storage r = _requests[requestId];
        IInferenceCoordinator.RequestStatus status = r.status;
        if (status == IInferenceCoordinator.RequestStatus.None) {
            revert IInferenceCoordinator.CoordinatorRequestUnknown({requestId: requestId});
        }
        if (status == IInferenceCoordinator.RequestStatus.Fulfilled) {
            revert IInferenceCoordinator.CoordinatorRequestAlreadyFulfilled({requestId: requestId});
        }
        if (status == IInferenceCoordinator.RequestStatus.Refunded) {
            revert IInferenceCoordinator.CoordinatorRequestAlreadyRefunded({requestId: requestId});
        }
        if (keccak256(abi.encode(terms)) != keccak256(abi.encode(r.terms))) {
            revert IInferenceCoordinator.CoordinatorTermsMismatch({requestId: requestId, status: status});
        }
        if (block.timestamp <= terms.deadline) {
            revert IInferenceCoordinator.CoordinatorRequestNotExpired({
                requestId: requestId,
                deadline: terms.deadline
            });
        }
        r.status = IInferenceCoordinator.RequestStatus.Refunded;
        credits[terms.requester] += terms.maxPrice;
    }

    /// @notice As `IInferenceCoordinator.withdraw`.
    function withdraw() external returns (uint256 amount) {
        amount = credits[msg.sender];
        _pay(payable(msg.sender), amount);
    }

    /// @notice As `IInferenceCoordinator.withdrawTo`.
    function withdrawTo(address payable to, uint256 amount) external {
        _pay(to, amount);
    }

    function _pay(address payable to, uint256 amount) private {
        uint256 credit = credits[msg.sender];
        if (amount == 0 || amount > credit) revert MockWithdrawalFailed(msg.sender, amount, credit);
        credits[msg.sender] = credit - amount;
        (bool sent, ) = to.call{value: amount}("");
        if (!sent) revert MockWithdrawalFailed(to, amount, credit);
    }
}
