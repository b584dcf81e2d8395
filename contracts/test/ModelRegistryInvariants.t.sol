// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

// Test names follow `test_<subject>_<behaviour>` / `testFuzz_...` (see STYLE.md), and gas rules do not apply here.
/* solhint-disable func-name-mixedcase, gas-small-strings, gas-strict-inequalities, function-max-lines */

import {TestBase} from "./utils/TestBase.t.sol";
import {RegistryFixture} from "./utils/RegistryFixture.t.sol";
import {IModelRegistry} from "../interfaces/IModelRegistry.sol";
import {ModelRegistry} from "../registry/ModelRegistry.sol";

/// @dev Drives the registry with random sequences of calls from random actors and keeps a ghost model of what
///      the registry must contain. Every call's outcome (success, or the exact named error) is checked against
///      the ghost; any disagreement is counted as a violation, which the invariants assert to be zero.
contract RegistryHandler is TestBase {
    ModelRegistry internal immutable REGISTRY;
    address[4] internal actors = [makeAddr("alice"), makeAddr("bob"), makeAddr("carol"), makeAddr("dave")];

    bytes32[] internal modelIds;
    mapping(bytes32 => bool) internal known;
    mapping(bytes32 => address) public ghostOwner;
    mapping(bytes32 => address) public ghostPending;
    mapping(bytes32 => uint32) public ghostCount;
    mapping(bytes32 => mapping(uint32 => bytes32)) public ghostContent;
    mapping(bytes32 => mapping(uint32 => IModelRegistry.VersionStatus)) public ghostStatus;
    mapping(bytes32 => mapping(bytes32 => uint32)) internal ghostVersionOfDigest;

    uint256 public violations;
    string public firstViolation;
    uint256 public successfulCalls;

    constructor(ModelRegistry registry_) {
        REGISTRY = registry_;
    }

    function modelCount() external view returns (uint256) {
        return modelIds.length;
    }

    function modelAt(uint256 i) external view returns (bytes32) {
        return modelIds[i];
    }

    // ---------------------------------------------------------------------------------------------------------
    // Actions
    // ---------------------------------------------------------------------------------------------------------

    function registerModel(uint256 actorSeed, uint8 nameSeed) external {
        address actor = actors[actorSeed % actors.length];
        string memory name = string(abi.encodePacked("model-", bytes1(uint8(0x30) + (nameSeed % 3))));
        bytes32 id = REGISTRY.computeModelId(actor, name);
        vm.prank(actor);
        try REGISTRY.registerModel(name) returns (bytes32 returned) {
            if (known[id]) return _violate("registered a duplicate");
            if (returned != id) return _violate("returned id differs from computeModelId");
            known[id] = true;
            modelIds.push(id);
            ghostOwner[id] = actor;
            ++successfulCalls;
        } catch (bytes memory reason) {
            _expect(
                known[id],
                reason,
                abi.encodeWithSelector(IModelRegistry.RegistryModelAlreadyRegistered.selector, id)
            );
        }
    }

    function addVersion(uint256 actorSeed, uint256 modelSeed, uint256 paramSeed, uint8 vkaSeed) external {
        if (modelIds.length == 0) return;
        bytes32 id = modelIds[modelSeed % modelIds.length];
        address actor = _actor(actorSeed, ghostOwner[id]);
        IModelRegistry.VersionParams memory p = _params(paramSeed);
        // Few distinct VKAs, so duplicates happen; one call in four allows them.
        bytes32[] memory vka = _vka(vkaSeed % 6);
        bytes32 digest = keccak256(abi.encodePacked(vka));
        bool allowDuplicate = vkaSeed >= 192;
        uint32 existing = ghostVersionOfDigest[id][digest];
        vm.prank(actor);
        try REGISTRY.addVersion(id, p, vka, new IModelRegistry.Variant[](0), allowDuplicate) returns (
            uint32 version
        ) {
            if (actor != ghostOwner[id]) return _violate("non-owner added a version");
            if (existing != 0 && !allowDuplicate) return _violate("added a duplicate digest");
            if (version != ghostCount[id] + 1) return _violate("version number not previous + 1");
            ghostCount[id] = version;
            ghostContent[id][version] = _contentHash(p, digest, uint64(block.timestamp));
            ghostStatus[id][version] = IModelRegistry.VersionStatus.Active;
            if (existing == 0) ghostVersionOfDigest[id][digest] = version;
            ++successfulCalls;
        } catch (bytes memory reason) {
            if (actor != ghostOwner[id]) return _expectNotOwner(id, actor, reason);
            _expect(
                existing != 0 && !allowDuplicate,
                reason,
                abi.encodeWithSelector(IModelRegistry.RegistryVersionDuplicate.selector, id, digest, existing)
            );
        }
    }

    /// @dev `op` 0 deprecates, 1 reactivates, 2 revokes.
    function setStatus(uint256 actorSeed, uint256 modelSeed, uint32 versionSeed, uint8 op) external {
        if (modelIds.length == 0) return;
        bytes32 id = modelIds[modelSeed % modelIds.length];
        address actor = _actor(actorSeed, ghostOwner[id]);
        // Mostly existing versions, sometimes 0 or one past the end.
        uint32 version = uint32(uint256(versionSeed) % (uint256(ghostCount[id]) + 2));
        op %= 3;
        IModelRegistry.VersionStatus was = ghostStatus[id][version];
        (IModelRegistry.VersionStatus from, IModelRegistry.VersionStatus to) = op == 0
            ? (IModelRegistry.VersionStatus.Active, IModelRegistry.VersionStatus.Deprecated)
            : op == 1
                ? (IModelRegistry.VersionStatus.Deprecated, IModelRegistry.VersionStatus.Active)
                : (was, IModelRegistry.VersionStatus.Revoked);
        bytes memory call =
            op == 0
                ? abi.encodeCall(IModelRegistry.deprecateVersion, (id, version))
                : op == 1
                    ? abi.encodeCall(IModelRegistry.reactivateVersion, (id, version))
                    : abi.encodeCall(IModelRegistry.revokeVersion, (id, version));
        bool allowed = was == from && was != IModelRegistry.VersionStatus.Revoked;
        vm.prank(actor);
        // A low-level call so one path handles the three functions' outcomes; the revert data is checked below.
        // solhint-disable-next-line avoid-low-level-calls
        (bool ok, bytes memory reason) = address(REGISTRY).call(call);
        if (ok) {
            if (actor != ghostOwner[id]) return _violate("non-owner changed a version's status");
            if (version == 0 || version > ghostCount[id])
                return _violate("status changed on unknown version");
            if (!allowed) return _violate("a status change the rules forbid");
            ghostStatus[id][version] = to;
            ++successfulCalls;
            return;
        }
        bytes memory expected;
        if (actor != ghostOwner[id]) {
            expected = abi.encodeWithSelector(
                IModelRegistry.RegistryNotModelOwner.selector,
                id,
                actor,
                ghostOwner[id]
            );
        } else if (version == 0 || version > ghostCount[id]) {
            expected = abi.encodeWithSelector(
                IModelRegistry.RegistryVersionUnknown.selector,
                id,
                version,
                ghostCount[id]
            );
        } else {
            expected = abi.encodeWithSelector(
                IModelRegistry.RegistryVersionStatusInvalid.selector,
                id,
                version,
                was
            );
        }
        _expect(true, reason, expected);
    }

    function transferOwnership(uint256 actorSeed, uint256 modelSeed, uint256 newOwnerSeed) external {
        if (modelIds.length == 0) return;
        bytes32 id = modelIds[modelSeed % modelIds.length];
        address actor = _actor(actorSeed, ghostOwner[id]);
        // One time in five, cancel with the zero address.
        address newOwner = newOwnerSeed % 5 == 0 ? address(0) : actors[newOwnerSeed % actors.length];
        vm.prank(actor);
        try REGISTRY.transferModelOwnership(id, newOwner) {
            if (actor != ghostOwner[id]) return _violate("non-owner started a transfer");
            ghostPending[id] = newOwner;
            ++successfulCalls;
        } catch (bytes memory reason) {
            _expectNotOwner(id, actor, reason);
        }
    }

    function acceptOwnership(uint256 actorSeed, uint256 modelSeed) external {
        if (modelIds.length == 0) return;
        bytes32 id = modelIds[modelSeed % modelIds.length];
        address actor = _actor(actorSeed, ghostPending[id]);
        vm.prank(actor);
        try REGISTRY.acceptModelOwnership(id) {
            if (actor != ghostPending[id]) return _violate("non-pending account accepted ownership");
            ghostOwner[id] = actor;
            ghostPending[id] = address(0);
            ++successfulCalls;
        } catch (bytes memory reason) {
            _expect(
                actor != ghostPending[id],
                reason,
                abi.encodeWithSelector(
                    IModelRegistry.RegistryNotPendingModelOwner.selector,
                    id,
                    actor,
                    ghostPending[id]
                )
            );
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Helpers
    // ---------------------------------------------------------------------------------------------------------

    /// @dev Three times in four the account entitled to act (so that successful paths are exercised deeply),
    ///      otherwise any actor (who may or may not be entitled).
    function _actor(uint256 seed, address entitled) internal view returns (address) {
        if (seed % 4 != 0 && entitled != address(0)) return entitled;
        return actors[(seed >> 2) % actors.length];
    }

    /// @dev A 24-word VKA-shaped array per seed.
    function _vka(uint256 seed) internal pure returns (bytes32[] memory vka) {
        vka = new bytes32[](24);
        for (uint256 i; i < 24; ++i) vka[i] = keccak256(abi.encode(seed, i));
    }

    function _params(uint256 seed) internal pure returns (IModelRegistry.VersionParams memory p) {
        uint32 inputCount = uint32(1 + ((seed >> 8) % 100));
        uint32 outputCount = uint32(1 + ((seed >> 16) % 20));
        p.modelHash = keccak256(abi.encode(seed, 1)) | bytes32(uint256(1));
        p.settingsHash = keccak256(abi.encode(seed, 2)) | bytes32(uint256(1));
        p.circuitHash = keccak256(abi.encode(seed, 3)) | bytes32(uint256(1));
        p.srsHash = keccak256(abi.encode(seed, 4)) | bytes32(uint256(1));
        p.vkHash = keccak256(abi.encode(seed, 5)) | bytes32(uint256(1));
        p.inputScale = uint8(seed >> 24);
        p.outputScale = uint8(seed >> 32);
        p.layout = IModelRegistry.InstanceLayout({
            instanceCount: inputCount + outputCount,
            inputOffset: 0,
            inputCount: inputCount,
            outputOffset: inputCount,
            outputCount: outputCount
        });
        p.floatMetricBps = uint32(seed >> 40);
        p.circuitMetricBps = uint32(seed >> 72);
        p.metadataURI = (seed >> 104) % 2 == 0 ? "" : "ipfs://bafy-manifest";
    }

    function _contentHash(
        IModelRegistry.VersionParams memory p,
        bytes32 vkaDigest,
        uint64 registeredAt
    ) internal pure returns (bytes32) {
        p.metadataURI = ""; // emitted, not stored
        return keccak256(abi.encode(p, vkaDigest, registeredAt));
    }

    function _expectNotOwner(bytes32 id, address actor, bytes memory reason) internal {
        _expect(
            actor != ghostOwner[id],
            reason,
            abi.encodeWithSelector(IModelRegistry.RegistryNotModelOwner.selector, id, actor, ghostOwner[id])
        );
    }

    function _expect(bool shouldRevert, bytes memory reason, bytes memory expected) internal {
        if (!shouldRevert) return _violate("an allowed call reverted");
        if (keccak256(reason) != keccak256(expected)) return _violate("reverted with an unexpected error");
    }

    function _violate(string memory what) internal {
        if (violations == 0) firstViolation = what;
        ++violations;
    }
}

/// @dev Stateful invariants of ModelRegistry under random call sequences (see RegistryHandler).
/// forge-config: default.invariant.runs = 48
/// forge-config: default.invariant.depth = 48
/// forge-config: default.invariant.fail-on-revert = true
contract ModelRegistryInvariantsTest is RegistryFixture {
    RegistryHandler internal handler;

    function setUp() public override {
        super.setUp();
        handler = new RegistryHandler(registry);
    }

    /// @dev The fuzzer calls only the handler.
    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    /// @dev Every call's outcome matched the ghost: only owners added versions or changed their status, never to
    ///      or from a status the rules forbid (revoke is final), no duplicate digest without `allowDuplicate`, only
    ///      pending owners accepted, version numbers were previous + 1, and every revert carried the expected error.
    function invariant_everyOutcomeMatchesTheRules() public view {
        assertEq(handler.violations(), 0, handler.firstViolation());
    }

    /// @dev A version's content never changes after registration, and its status is the last one set.
    function invariant_versionsAreImmutable() public view {
        for (uint256 m = 0; m < handler.modelCount(); ++m) {
            bytes32 id = handler.modelAt(m);
            uint32 count = handler.ghostCount(id);
            for (uint32 v = 1; v <= count; ++v) {
                IModelRegistry.ModelVersion memory stored = registry.getVersion(id, v);
                assertEq(_storedContentHash(stored), handler.ghostContent(id, v), "version content changed");
                assertEq(uint256(stored.status), uint256(handler.ghostStatus(id, v)), "version status");
                (IModelRegistry.VersionStatus status, , ) = registry.fulfilmentTarget(id, v);
                assertEq(uint256(status), uint256(handler.ghostStatus(id, v)), "fulfilment status");
            }
        }
    }

    /// @dev Version numbers are 1..count with no gaps: the latest is the ghost count and nothing lies beyond it.
    function invariant_versionNumbersAreConsecutive() public view {
        for (uint256 m = 0; m < handler.modelCount(); ++m) {
            bytes32 id = handler.modelAt(m);
            uint32 count = handler.ghostCount(id);
            assertEq(uint256(registry.latestVersion(id)), uint256(count), "latest version");
            IModelRegistry.VerificationTarget memory beyond = registry.verificationTarget(id, count + 1);
            assertEq(uint256(beyond.status), 0, "a version beyond the latest exists");
        }
    }

    /// @dev Owner and pending owner are exactly what the two-step protocol implies.
    function invariant_ownershipFollowsTheTwoStepProtocol() public view {
        for (uint256 m = 0; m < handler.modelCount(); ++m) {
            bytes32 id = handler.modelAt(m);
            IModelRegistry.ModelInfo memory info = registry.getModel(id);
            assertEq(info.owner, handler.ghostOwner(id), "owner");
            assertEq(info.pendingOwner, handler.ghostPending(id), "pending owner");
            assertTrue(info.owner != address(0), "owner is never zero");
        }
    }

    function _storedContentHash(IModelRegistry.ModelVersion memory v) internal pure returns (bytes32) {
        IModelRegistry.VersionParams memory p = IModelRegistry.VersionParams({
            modelHash: v.modelHash,
            settingsHash: v.settingsHash,
            circuitHash: v.circuitHash,
            srsHash: v.srsHash,
            vkHash: v.vkHash,
            inputScale: v.inputScale,
            outputScale: v.outputScale,
            layout: v.layout,
            floatMetricBps: v.floatMetricBps,
            circuitMetricBps: v.circuitMetricBps,
            metadataURI: ""
        });
        return keccak256(abi.encode(p, v.vkaDigest, v.registeredAt));
    }
}
