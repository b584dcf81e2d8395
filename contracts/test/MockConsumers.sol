// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

// =============================================================================================================
// TEST-ONLY. Consumers for unit tests of the coordinator's callback and escrow logic: a well-behaved one that
// records what it receives, and adversarial ones (reverting, gas-burning, re-entering, returning huge revert data,
// needing an exact amount of gas). Never deploy them outside tests.
// =============================================================================================================

import {IInferenceCoordinator} from "../interfaces/IInferenceCoordinator.sol";
import {InferenceConsumer} from "../consumer/InferenceConsumer.sol";

/// @notice A fixed price of `msg.value`, lockable without collateral until `deadline`.
function fixedOffer(
    uint32 callbackGasLimit,
    uint64 deadline
) view returns (IInferenceCoordinator.Offer memory) {
    return
        IInferenceCoordinator.Offer({
            minPrice: msg.value,
            rampPeriod: 0,
            lockTimeout: uint32(deadline > block.timestamp ? deadline - block.timestamp : 1),
            lockCollateral: 0,
            callbackGasLimit: callbackGasLimit,
            deadline: deadline
        });
}

/// @title MockConsumer (TEST-ONLY)
/// @notice Shared plumbing: request on behalf of the test, withdraw refunds, accept ether.
abstract contract MockConsumer is InferenceConsumer {
    constructor(IInferenceCoordinator coordinator_) InferenceConsumer(coordinator_) {}

    /// @notice Accepts withdrawals from the coordinator.
    receive() external payable {}

    /// @notice Requests an inference with this contract as the requester at the fixed price `msg.value`, lockable
    ///         without collateral until the deadline.
    function request(
        bytes32 modelId,
        uint32 version,
        int256[] calldata input,
        uint32 callbackGasLimit,
        uint64 deadline
    ) external payable returns (uint256) {
        return _requestInference(modelId, version, input, fixedOffer(callbackGasLimit, deadline), msg.value);
    }

    /// @notice Requests an inference with this contract as the requester on `offer`, paying `msg.value`.
    function requestWith(
        bytes32 modelId,
        uint32 version,
        int256[] calldata input,
        IInferenceCoordinator.Offer calldata offer
    ) external payable returns (uint256) {
        return _requestInference(modelId, version, input, offer, msg.value);
    }

    /// @notice Cancels one of this contract's requests, passing back its terms.
    function cancelRequest(uint256 requestId, IInferenceCoordinator.Terms calldata terms) external {
        coordinator().cancel(requestId, terms);
    }

    /// @notice Refunds one of this contract's requests through `InferenceConsumer._refundInference`.
    function refundRequest(
        uint256 requestId,
        IInferenceCoordinator.Terms calldata terms,
        IInferenceCoordinator.LockState calldata held
    ) external returns (uint256) {
        return _refundInference(requestId, terms, held);
    }

    /// @notice Withdraws this contract's credit (refunds) from the coordinator.
    function withdrawCredit() external returns (uint256) {
        return coordinator().withdraw();
    }
}

/// @title CeremonyConsumer (TEST-ONLY)
/// @notice A consumer that requires the ceremony SRS (`_requiresCeremonySrs`), and offers the "latest" opt-in.
contract CeremonyConsumer is MockConsumer {
    constructor(IInferenceCoordinator coordinator_) MockConsumer(coordinator_) {}

    /// @notice Requests the model's latest version, paying `msg.value`.
    function requestLatest(
        bytes32 modelId,
        int256[] calldata input,
        uint32 callbackGasLimit,
        uint64 deadline
    ) external payable returns (uint256) {
        return _requestLatestInference(modelId, input, fixedOffer(callbackGasLimit, deadline), msg.value);
    }

    function _requiresCeremonySrs() internal pure override returns (bool) {
        return true;
    }

    function _receiveInference(uint256, bytes32, uint32, int256[] calldata) internal override {}
}

/// @title RecordingConsumer (TEST-ONLY)
/// @notice Records every callback.
contract RecordingConsumer is MockConsumer {
    uint256 public calls;
    uint256 public lastRequestId;
    bytes32 public lastModelId;
    uint32 public lastVersion;
    int256[] private _lastOutputs;

    constructor(IInferenceCoordinator coordinator_) MockConsumer(coordinator_) {}

    function lastOutputs() external view returns (int256[] memory) {
        return _lastOutputs;
    }

    function _receiveInference(
        uint256 requestId,
        bytes32 modelId,
        uint32 version,
        int256[] calldata outputs
    ) internal override {
        ++calls;
        lastRequestId = requestId;
        lastModelId = modelId;
        lastVersion = version;
        _lastOutputs = outputs;
    }
}

/// @title RevertingConsumer (TEST-ONLY)
/// @notice Always reverts with a named error.
contract RevertingConsumer is MockConsumer {
    error MockConsumerRefused(uint256 requestId);

    constructor(IInferenceCoordinator coordinator_) MockConsumer(coordinator_) {}

    function _receiveInference(uint256 requestId, bytes32, uint32, int256[] calldata) internal pure override {
        revert MockConsumerRefused(requestId);
    }
}

/// @title GasBurningConsumer (TEST-ONLY)
/// @notice Loops until it runs out of gas.
contract GasBurningConsumer is MockConsumer {
    constructor(IInferenceCoordinator coordinator_) MockConsumer(coordinator_) {}

    function _receiveInference(uint256, bytes32, uint32, int256[] calldata) internal view override {
        uint256 spins = 0;
        while (gasleft() > 0) {
            // unchecked: cannot reach 2^256 spins before running out of gas.
            unchecked {
                ++spins;
            }
        }
    }
}

/// @title ReentrantConsumer (TEST-ONLY)
/// @notice From its callback, calls back into the coordinator in the chosen way and lets any revert bubble up.
contract ReentrantConsumer is MockConsumer {
    enum Mode {
        Fulfill,
        Refund,
        Withdraw,
        RequestAgain
    }

    Mode public mode;
    uint256 public followUpRequestId;
    int256[] private _followUpInput;

    constructor(IInferenceCoordinator coordinator_) MockConsumer(coordinator_) {}

    function setMode(Mode mode_, int256[] calldata followUpInput) external {
        mode = mode_;
        _followUpInput = followUpInput;
    }

    function _receiveInference(
        uint256 requestId,
        bytes32 modelId,
        uint32 version,
        int256[] calldata
    ) internal override {
        IInferenceCoordinator c = coordinator();
        // Any terms: the reentrancy guard stops the call before they are read.
        IInferenceCoordinator.Terms memory terms;
        IInferenceCoordinator.LockState memory held;
        if (mode == Mode.Fulfill) c.fulfill(requestId, terms, held, "", new uint256[](0));
        else if (mode == Mode.Refund) c.refund(requestId, terms, held);
        else if (mode == Mode.Withdraw) c.withdraw();
        else
            followUpRequestId = c.requestInference(
                modelId,
                version,
                _followUpInput,
                fixedOffer(0, uint64(block.timestamp + 1))
            );
    }
}

/// @title HugeRevertConsumer (TEST-ONLY)
/// @notice Reverts with `SIZE` bytes of revert data (paying for the memory itself).
contract HugeRevertConsumer is MockConsumer {
    uint256 public immutable SIZE;

    constructor(IInferenceCoordinator coordinator_, uint256 size) MockConsumer(coordinator_) {
        SIZE = size;
    }

    function _receiveInference(uint256, bytes32, uint32, int256[] calldata) internal view override {
        uint256 size = SIZE;
        // Reverts with whatever memory holds from offset 0 (zeros past the used area); writes nothing.
        assembly ("memory-safe") {
            mstore(0, 0xdeadbeef)
            revert(0, size)
        }
    }
}

/// @title ExactGasConsumer (TEST-ONLY)
/// @notice Does a fixed amount of work with no storage access, so the gas its callback needs is the same in every
///         context; succeeds exactly when given at least that much.
contract ExactGasConsumer is MockConsumer {
    uint256 public immutable ROUNDS;

    event Worked(bytes32 digest);

    constructor(IInferenceCoordinator coordinator_, uint256 rounds) MockConsumer(coordinator_) {
        ROUNDS = rounds;
    }

    function _receiveInference(uint256, bytes32, uint32, int256[] calldata outputs) internal override {
        bytes32 h = bytes32(outputs.length);
        for (uint256 i = 0; i < ROUNDS; ++i) h = keccak256(abi.encode(h, i));
        emit Worked(h);
    }
}
