// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

// Test names follow `test_<subject>_<behaviour>` / `testFuzz_...` (see STYLE.md), and gas rules do not apply here.
/* solhint-disable func-name-mixedcase, gas-small-strings, gas-strict-inequalities, function-max-lines */

// Test-only. Shared set-up for the registry and route tests: a registry, a few mock verifiers with distinct code
// hashes, and builders for valid version parameters.

import {TestBase} from "./TestBase.t.sol";
import {IModelRegistry} from "../../interfaces/IModelRegistry.sol";
import {ModelRegistry} from "../../registry/ModelRegistry.sol";
import {MockHalo2Verifier} from "../MockHalo2Verifier.sol";

abstract contract RegistryFixture is TestBase {
    ModelRegistry internal registry;
    MockHalo2Verifier internal digestVerifier;
    MockHalo2Verifier internal falseVerifier;
    MockHalo2Verifier internal revertVerifier;
    MockHalo2Verifier internal silentVerifier;

    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");
    address internal carol = makeAddr("carol");

    function setUp() public virtual {
        registry = new ModelRegistry();
        digestVerifier = new MockHalo2Verifier(MockHalo2Verifier.Behaviour.Digest);
        falseVerifier = new MockHalo2Verifier(MockHalo2Verifier.Behaviour.ReturnFalse);
        revertVerifier = new MockHalo2Verifier(MockHalo2Verifier.Behaviour.RevertAlways);
        silentVerifier = new MockHalo2Verifier(MockHalo2Verifier.Behaviour.ReturnNothing);
    }

    /// @dev EZKL's default layout: `[inputs..., outputs...]`.
    function _defaultLayout(
        uint32 inputCount,
        uint32 outputCount
    ) internal pure returns (IModelRegistry.InstanceLayout memory) {
        return
            IModelRegistry.InstanceLayout({
                instanceCount: inputCount + outputCount,
                inputOffset: 0,
                inputCount: inputCount,
                outputOffset: inputCount,
                outputCount: outputCount
            });
    }

    /// @dev Valid parameters for `verifier` with the given layout; `seed` varies every other field.
    function _params(
        address verifier,
        IModelRegistry.InstanceLayout memory layout,
        uint256 seed
    ) internal view returns (IModelRegistry.VersionParams memory p) {
        p.modelHash = _nonZeroHash(seed, "model");
        p.settingsHash = _nonZeroHash(seed, "settings");
        p.circuitHash = _nonZeroHash(seed, "circuit");
        p.srsHash = _nonZeroHash(seed, "srs");
        p.vkHash = _nonZeroHash(seed, "vk");
        p.verifier = verifier;
        p.verifierCodeHash = verifier.codehash;
        p.inputScale = uint8(seed);
        p.outputScale = uint8(seed >> 8);
        p.layout = layout;
        p.floatMetricBps = uint32(seed >> 16) % 10_001;
        p.circuitMetricBps = uint32(seed >> 48) % 10_001;
        p.metadataURI = string(abi.encodePacked("ipfs://", _nonZeroHash(seed, "uri")));
    }

    function _params(
        address verifier,
        uint256 seed
    ) internal view returns (IModelRegistry.VersionParams memory) {
        return _params(verifier, _defaultLayout(3, 2), seed);
    }

    function _nonZeroHash(uint256 seed, string memory tag) internal pure returns (bytes32) {
        return keccak256(abi.encode(seed, tag)) | bytes32(uint256(1));
    }

    /// @dev Registers `name` as `owner` and returns its id.
    function _register(address owner, string memory name) internal returns (bytes32 modelId) {
        vm.prank(owner);
        modelId = registry.registerModel(name);
    }

    /// @dev Adds a version as `owner` and returns its number.
    function _addVersion(
        address owner,
        bytes32 modelId,
        IModelRegistry.VersionParams memory p
    ) internal returns (uint32 version) {
        vm.prank(owner);
        version = registry.addVersion(modelId, p);
    }

    /// @dev Hash of everything in a stored version except its mutable status.
    function _contentHash(IModelRegistry.ModelVersion memory v) internal pure returns (bytes32) {
        v.deprecated = false;
        return keccak256(abi.encode(v));
    }

    /// @dev The content hash a version added with `p` at `registeredAt` must have.
    function _expectedContentHash(
        IModelRegistry.VersionParams memory p,
        uint64 registeredAt
    ) internal pure returns (bytes32) {
        IModelRegistry.ModelVersion memory v = IModelRegistry.ModelVersion({
            modelHash: p.modelHash,
            settingsHash: p.settingsHash,
            circuitHash: p.circuitHash,
            srsHash: p.srsHash,
            vkHash: p.vkHash,
            verifier: p.verifier,
            verifierCodeHash: p.verifierCodeHash,
            inputScale: p.inputScale,
            outputScale: p.outputScale,
            layout: p.layout,
            floatMetricBps: p.floatMetricBps,
            circuitMetricBps: p.circuitMetricBps,
            metadataURI: p.metadataURI,
            registeredAt: registeredAt,
            deprecated: false
        });
        return keccak256(abi.encode(v));
    }
}
