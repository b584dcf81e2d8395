// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

// Test names follow `test_<subject>_<behaviour>` / `testFuzz_...` (see STYLE.md), and gas rules do not apply here.
/* solhint-disable func-name-mixedcase, gas-small-strings, gas-strict-inequalities, function-max-lines */

// Test-only. Shared set-up for the registry and route tests: a registry whose suite verifier is a MockHalo2Verifier
// (TEST-ONLY), a few more mock verifiers with other behaviours, and builders for valid version parameters and VKAs.

import {TestBase} from "./TestBase.t.sol";
import {IModelRegistry} from "../../interfaces/IModelRegistry.sol";
import {ModelRegistry} from "../../registry/ModelRegistry.sol";
import {MockHalo2Verifier} from "../MockHalo2Verifier.sol";

abstract contract RegistryFixture is TestBase {
    uint64 internal constant LATEST_DELAY = 1 days;
    uint64 internal constant VERIFIER_DELAY = 7 days;

    ModelRegistry internal registry;
    MockHalo2Verifier internal digestVerifier;
    MockHalo2Verifier internal falseVerifier;
    MockHalo2Verifier internal revertVerifier;
    MockHalo2Verifier internal silentVerifier;
    MockHalo2Verifier internal wrongDigestVerifier;

    address internal admin = makeAddr("admin");
    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");
    address internal carol = makeAddr("carol");

    function setUp() public virtual {
        digestVerifier = new MockHalo2Verifier(MockHalo2Verifier.Behaviour.Digest);
        falseVerifier = new MockHalo2Verifier(MockHalo2Verifier.Behaviour.ReturnFalse);
        revertVerifier = new MockHalo2Verifier(MockHalo2Verifier.Behaviour.RevertAlways);
        silentVerifier = new MockHalo2Verifier(MockHalo2Verifier.Behaviour.ReturnNothing);
        wrongDigestVerifier = new MockHalo2Verifier(MockHalo2Verifier.Behaviour.WrongDigest);
        registry = _registryWith(digestVerifier);
    }

    /// @dev A registry whose first suite verifier is `verifier`.
    function _registryWith(MockHalo2Verifier verifier) internal returns (ModelRegistry) {
        return
            new ModelRegistry(
                admin,
                address(verifier),
                address(verifier).codehash,
                LATEST_DELAY,
                VERIFIER_DELAY
            );
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

    /// @dev Valid parameters with the given layout; `seed` varies every other field.
    function _params(
        IModelRegistry.InstanceLayout memory layout,
        uint256 seed
    ) internal pure returns (IModelRegistry.VersionParams memory p) {
        p.modelHash = _nonZeroHash(seed, "model");
        p.settingsHash = _nonZeroHash(seed, "settings");
        p.circuitHash = _nonZeroHash(seed, "circuit");
        p.srsHash = _nonZeroHash(seed, "srs");
        p.vkHash = _nonZeroHash(seed, "vk");
        p.inputScale = uint8(seed);
        p.outputScale = uint8(seed >> 8);
        p.layout = layout;
        p.floatMetricBps = uint32(seed >> 16) % 10_001;
        p.circuitMetricBps = uint32(seed >> 48) % 10_001;
        p.metadataURI = string(abi.encodePacked("ipfs://", _nonZeroHash(seed, "uri")));
    }

    function _params(uint256 seed) internal pure returns (IModelRegistry.VersionParams memory) {
        return _params(_defaultLayout(3, 2), seed);
    }

    function _nonZeroHash(uint256 seed, string memory tag) internal pure returns (bytes32) {
        return keccak256(abi.encode(seed, tag)) | bytes32(uint256(1));
    }

    /// @dev No batch variants, for `addVersion`.
    function _noVariants() internal pure returns (IModelRegistry.Variant[] memory) {
        return new IModelRegistry.Variant[](0);
    }

    /// @dev A 32-word VKA-shaped array: words 16..23 hold the ceremony's G2 points or a dev SRS's (the dev points of
    ///      a real dev-SRS build of digits-mlp), every other word varies with `seed`.
    function _vka(uint256 seed, bool ceremony) internal pure returns (bytes32[] memory vka) {
        vka = new bytes32[](32);
        for (uint256 i; i < 32; ++i) vka[i] = keccak256(abi.encode(seed, i));
        vka[16] = 0x198e9393920d483a7260bfb731fb5d25f1aa493335a9e71297e485b7aef312c2;
        vka[17] = 0x1800deef121f1e76426a00665e5c4479674322d4f75edadd46debd5cd992f6ed;
        vka[18] = 0x090689d0585ff075ec9e99ad690c3395bc4b313370b38ef355acdadcd122975b;
        vka[19] = 0x12c85ea5db8c6deb4aab71808dcb408fe3d1e7690c43d37b4ce6cc0166fa7daa;
        if (ceremony) {
            vka[20] = 0x186282957db913abd99f91db59fe69922e95040603ef44c0bd7aa3adeef8f5ac;
            vka[21] = 0x17944351223333f260ddc3b4af45191b856689eda9eab5cbcddbbe570ce860d2;
            vka[22] = 0x06d971ff4a7467c3ec596ed6efc674572e32fd6f52b721f97e35b0b3d3546753;
            vka[23] = 0x06ecdb9f9567f59ed2eee36e1e1d58797fd13cc97fafc2910f5e8a12f202fa9a;
        } else {
            vka[20] = 0x160964d86313569421a1248eb226ce6a35106c781c26a71d204e9130a2c595e6;
            vka[21] = 0x0f8dc2870603eaa1be6c2cc5f5963de63a86a93df83ff8e9a0b3e98911dbc5a3;
            vka[22] = 0x20663eb42537f7cce9a1e36d7d8d7365de1d26b45cfa0dd4a1deaa6b936e6ad4;
            vka[23] = 0x2db0ef55a6eb21b7d3b1fff0195b54299f456f5b0b6160c02d273aa0ecb27ada;
        }
    }

    /// @dev The (dev-SRS) VKA `_addVersion` uses for `p`: distinct parameters get distinct VKAs.
    function _vkaFor(IModelRegistry.VersionParams memory p) internal pure returns (bytes32[] memory) {
        return _vka(uint256(keccak256(abi.encode(p))), false);
    }

    /// @dev Registers `name` as `owner` and returns its id.
    function _register(address owner, string memory name) internal returns (bytes32 modelId) {
        vm.prank(owner);
        modelId = registry.registerModel(name);
    }

    /// @dev Adds a version as `owner` with `_vkaFor(p)` and returns its number.
    function _addVersion(
        address owner,
        bytes32 modelId,
        IModelRegistry.VersionParams memory p
    ) internal returns (uint32 version) {
        version = _addVersion(owner, modelId, p, _vkaFor(p));
    }

    /// @dev Adds a version as `owner` with `vka` and returns its number.
    function _addVersion(
        address owner,
        bytes32 modelId,
        IModelRegistry.VersionParams memory p,
        bytes32[] memory vka
    ) internal returns (uint32 version) {
        vm.prank(owner);
        version = registry.addVersion(modelId, p, vka, _noVariants(), false);
    }

    /// @dev The description a version added with `p` keeps after its VKA in its store's code (168 bytes).
    function _description(IModelRegistry.VersionParams memory p) internal pure returns (bytes memory) {
        return
            abi.encodePacked(
                p.modelHash,
                p.settingsHash,
                p.circuitHash,
                p.srsHash,
                p.vkHash,
                p.floatMetricBps,
                p.circuitMetricBps
            );
    }

    /// @dev The code a version's VKA store must hold: STOP, the VKA's words, the description of `p`.
    function _versionStoreCode(
        bytes32[] memory vka,
        IModelRegistry.VersionParams memory p
    ) internal pure returns (bytes memory) {
        return abi.encodePacked(bytes1(0x00), _description(p), vka);
    }

    /// @dev Hash of everything in a stored version except its mutable status.
    function _contentHash(IModelRegistry.ModelVersion memory v) internal pure returns (bytes32) {
        v.status = IModelRegistry.VersionStatus.None;
        return keccak256(abi.encode(v));
    }

    /// @dev The content hash a version added with `p` and `vka` at `registeredAt` on suite verifier 1 must have
    ///      (`vkaStore` is where its VKA is stored).
    function _expectedContentHash(
        IModelRegistry.VersionParams memory p,
        bytes32[] memory vka,
        address vkaStore,
        uint64 registeredAt
    ) internal pure returns (bytes32) {
        IModelRegistry.ModelVersion memory v;
        v.modelHash = p.modelHash;
        v.settingsHash = p.settingsHash;
        v.circuitHash = p.circuitHash;
        v.srsHash = p.srsHash;
        v.vkHash = p.vkHash;
        v.vkaDigest = keccak256(abi.encodePacked(vka));
        v.vka = vkaStore;
        v.vkaWords = uint32(vka.length);
        v.suiteVerifierId = 1;
        v.ceremonySrs = vka[20] == 0x186282957db913abd99f91db59fe69922e95040603ef44c0bd7aa3adeef8f5ac;
        v.inputScale = p.inputScale;
        v.outputScale = p.outputScale;
        v.layout = p.layout;
        v.floatMetricBps = p.floatMetricBps;
        v.circuitMetricBps = p.circuitMetricBps;
        v.registeredAt = registeredAt;
        return keccak256(abi.encode(v));
    }
}
