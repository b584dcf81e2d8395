// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

// =============================================================================================================
// TEST-ONLY. This mock proves nothing. It exists ONLY for unit tests of the coordinator's routing and escrow logic
// (request bookkeeping, fees, refunds, withdrawals, callbacks, pausing) where proof checking is not under test.
// Never pass it to a deployed coordinator. Proof checking is tested on the real route (InferenceVerifier) with
// MockHalo2Verifier in unit tests and with real EZKL verifiers and proofs in integration tests.
// =============================================================================================================

import {IInferenceVerifier} from "../interfaces/IInferenceVerifier.sol";
import {IModelRegistry} from "../interfaces/IModelRegistry.sol";

/// @title MockInferenceRoute (TEST-ONLY)
/// @notice A stand-in route whose answer the test controls: accept with chosen outputs, or reject.
contract MockInferenceRoute is IInferenceVerifier {
    IModelRegistry private immutable REGISTRY;
    bool private _accepts = true;
    int256[] private _outputs;
    bytes private _rawAnswer;

    /// @param registry_ The registry `registry()` reports (the coordinator's constructor checks it).
    constructor(IModelRegistry registry_) {
        REGISTRY = registry_;
    }

    /// @notice Makes every later verification accept (returning `outputs`) or reject.
    /// @param accepts Whether to accept.
    /// @param outputs The outputs to return when accepting.
    function setAnswer(bool accepts, int256[] calldata outputs) external {
        _accepts = accepts;
        _outputs = outputs;
    }

    /// @notice Makes every later accepting verification return `answer` verbatim instead of the encoded outputs
    ///         (to test how a caller handles a malformed answer); empty restores the normal answer.
    /// @param answer The raw return data.
    function setRawAnswer(bytes calldata answer) external {
        _rawAnswer = answer;
    }

    /// @inheritdoc IInferenceVerifier
    function registry() external view override returns (IModelRegistry) {
        return REGISTRY;
    }

    /// @inheritdoc IInferenceVerifier
    function verify(
        bytes32 modelId,
        uint32 version,
        int256[] calldata,
        bytes calldata,
        uint256[] calldata
    ) external view override returns (int256[] memory) {
        return _answer(modelId, version);
    }

    /// @inheritdoc IInferenceVerifier
    function verifyCommitted(
        bytes32 modelId,
        uint32 version,
        bytes32,
        bytes calldata,
        uint256[] calldata
    ) external view override returns (int256[] memory) {
        return _answer(modelId, version);
    }

    function _answer(bytes32 modelId, uint32 version) private view returns (int256[] memory) {
        if (!_accepts) {
            revert VerifierProofRejected({modelId: modelId, version: version, verifier: address(0)});
        }
        bytes memory raw = _rawAnswer;
        if (raw.length != 0) {
            // Returns the raw bytes as the whole return data.
            assembly ("memory-safe") {
                return(add(raw, 0x20), mload(raw))
            }
        }
        return _outputs;
    }
}
