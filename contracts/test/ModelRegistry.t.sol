// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

// Test names follow `test_<subject>_<behaviour>` / `testFuzz_...` (see STYLE.md), and gas rules do not apply here.
/* solhint-disable func-name-mixedcase, gas-small-strings, gas-strict-inequalities, function-max-lines */

import {RegistryFixture} from "./utils/RegistryFixture.t.sol";
import {Vm} from "./utils/TestBase.t.sol";
import {IModelRegistry} from "../interfaces/IModelRegistry.sol";
import {ModelRegistry} from "../registry/ModelRegistry.sol";

/// @dev Unit and fuzz tests of ModelRegistry. Stateful invariants are in ModelRegistryInvariants.t.sol.
contract ModelRegistryTest is RegistryFixture {
    bytes32 internal modelId;

    function setUp() public override {
        super.setUp();
        modelId = _register(alice, "digits-mlp");
    }

    // ---------------------------------------------------------------------------------------------------------
    // registerModel
    // ---------------------------------------------------------------------------------------------------------

    function test_registerModel_storesOwnerAndNameAndEmits() public {
        bytes32 expectedId = registry.computeModelId(bob, "diabetes-mlp");
        assertEq(expectedId, keccak256(abi.encode(bob, "diabetes-mlp")), "id derivation");
        vm.expectEmit(true, true, false, true, address(registry));
        emit IModelRegistry.ModelRegistered(expectedId, bob, "diabetes-mlp");
        bytes32 id = _register(bob, "diabetes-mlp");
        assertEq(id, expectedId, "returned id");

        IModelRegistry.ModelInfo memory info = registry.getModel(id);
        assertEq(info.owner, bob, "owner");
        assertEq(info.pendingOwner, address(0), "pending owner");
        assertEq(uint256(info.versionCount), 0, "version count");
        assertEq(info.name, "diabetes-mlp", "name");
        assertTrue(registry.modelExists(id), "exists");
        assertEq(uint256(registry.latestVersion(id)), 0, "latest");
        assertEq(uint256(registry.latestActiveVersion(id)), 0, "latest active");
    }

    function testFuzz_registerModel_sameNameDifferentRegistrantsGetDistinctIds(address a, address b) public {
        vm.assume(a != b && a != address(0) && b != address(0));
        bytes32 idA = _register(a, "shared-name");
        bytes32 idB = _register(b, "shared-name");
        assertNotEq(idA, idB, "ids collide");
        assertEq(registry.getModel(idA).owner, a, "owner a");
        assertEq(registry.getModel(idB).owner, b, "owner b");
    }

    function test_registerModel_revertsOnEmptyName() public {
        vm.expectRevert(abi.encodeWithSelector(IModelRegistry.RegistryModelNameEmpty.selector, bob));
        _register(bob, "");
    }

    function testFuzz_registerModel_revertsOnNameOverLimit(uint8 extra) public {
        uint256 length = registry.MAX_NAME_LENGTH() + 1 + uint256(extra);
        string memory name = string(new bytes(length));
        vm.expectRevert(abi.encodeWithSelector(IModelRegistry.RegistryModelNameTooLong.selector, length, 64));
        _register(bob, name);
    }

    function test_registerModel_acceptsNameAtLimit() public {
        string memory name = string(new bytes(registry.MAX_NAME_LENGTH()));
        bytes32 id = _register(bob, name);
        assertEq(registry.getModel(id).name, name, "name at limit");
    }

    function test_registerModel_revertsWhenAlreadyRegistered() public {
        vm.expectRevert(
            abi.encodeWithSelector(IModelRegistry.RegistryModelAlreadyRegistered.selector, modelId)
        );
        _register(alice, "digits-mlp");
    }

    function test_registerModel_revertsWhenRegistrantTransferredTheModelAway() public {
        vm.prank(alice);
        registry.transferModelOwnership(modelId, bob);
        vm.prank(bob);
        registry.acceptModelOwnership(modelId);
        vm.expectRevert(
            abi.encodeWithSelector(IModelRegistry.RegistryModelAlreadyRegistered.selector, modelId)
        );
        _register(alice, "digits-mlp");
    }

    // ---------------------------------------------------------------------------------------------------------
    // addVersion
    // ---------------------------------------------------------------------------------------------------------

    function test_addVersion_storesEveryFieldAndEmits() public {
        IModelRegistry.VersionParams memory p = _params(_defaultLayout(64, 10), 42);
        bytes32[] memory vka = _vka(42, true);
        bytes32 digest = keccak256(abi.encodePacked(vka));
        vm.warp(1_700_000_000);
        address store = _nextCreateAddress(address(registry));
        vm.expectEmit(true, true, true, true, address(registry));
        emit IModelRegistry.VersionRegistered(
            modelId,
            1,
            digest,
            1,
            store,
            true,
            p.vkHash,
            1_700_000_000 + LATEST_DELAY,
            p.metadataURI
        );
        uint32 version = _addVersion(alice, modelId, p, vka);
        assertEq(uint256(version), 1, "first version is 1");

        IModelRegistry.ModelVersion memory v = registry.getVersion(modelId, 1);
        assertEq(v.modelHash, p.modelHash, "modelHash");
        assertEq(v.settingsHash, p.settingsHash, "settingsHash");
        assertEq(v.circuitHash, p.circuitHash, "circuitHash");
        assertEq(v.srsHash, p.srsHash, "srsHash");
        assertEq(v.vkHash, p.vkHash, "vkHash");
        assertEq(v.vkaDigest, digest, "vkaDigest");
        assertEq(uint256(v.vkaWords), 32, "vkaWords");
        assertEq(uint256(v.suiteVerifierId), 1, "suite verifier");
        assertTrue(v.ceremonySrs, "ceremony SRS read from the VKA");
        assertEq(uint256(v.inputScale), uint256(p.inputScale), "inputScale");
        assertEq(uint256(v.outputScale), uint256(p.outputScale), "outputScale");
        assertEq(uint256(v.layout.instanceCount), 74, "instanceCount");
        assertEq(uint256(v.layout.inputOffset), 0, "inputOffset");
        assertEq(uint256(v.layout.inputCount), 64, "inputCount");
        assertEq(uint256(v.layout.outputOffset), 64, "outputOffset");
        assertEq(uint256(v.layout.outputCount), 10, "outputCount");
        assertEq(uint256(v.floatMetricBps), uint256(p.floatMetricBps), "floatMetricBps");
        assertEq(uint256(v.circuitMetricBps), uint256(p.circuitMetricBps), "circuitMetricBps");
        assertEq(uint256(v.registeredAt), 1_700_000_000, "registeredAt");
        assertEq(uint256(v.status), uint256(IModelRegistry.VersionStatus.Active), "new version is active");
        assertEq(_contentHash(v), _expectedContentHash(p, vka, v.vka, 1_700_000_000), "content hash");

        // The VKA store holds exactly a STOP byte, the version's description and the words.
        assertEq(v.vka.code.length, 1 + 32 * 32 + 168, "store length");
        assertEq(
            keccak256(v.vka.code),
            keccak256(_versionStoreCode(vka, p)),
            "VKA and description stored as code"
        );

        IModelRegistry.VerificationTarget memory t = registry.verificationTarget(modelId, 1);
        assertTrue(
            t.modelExists && t.status == IModelRegistry.VersionStatus.Active && !t.verifierStopped,
            "flags"
        );
        assertTrue(t.ceremonySrs, "target ceremony");
        assertEq(uint256(t.latestVersion), 1, "target latest");
        assertEq(t.verifier, address(digestVerifier), "target verifier");
        assertEq(t.vka, v.vka, "target vka");
        assertEq(t.vkaDigest, digest, "target digest");
        assertEq(keccak256(abi.encode(t.layout)), keccak256(abi.encode(p.layout)), "target layout");
        assertTrue(registry.usesCeremonySrs(modelId, 1), "usesCeremonySrs");
        assertEq(v.vka, store, "the VKA store");
    }

    function test_addVersion_recordsADevSrsAsNotTheCeremony() public {
        _addVersion(alice, modelId, _params(1), _vka(1, false));
        assertFalse(registry.usesCeremonySrs(modelId, 1), "dev SRS");
        assertFalse(registry.getVersion(modelId, 1).ceremonySrs, "dev SRS in the version");
    }

    /// @dev Only both G2 points of the ceremony count: [1]2 altered, or any word of -[tau]2 altered, reads dev.
    function testFuzz_isCeremonyVka_needsEveryG2WordOfTheCeremony(uint8 word, bytes32 value) public view {
        bytes32[] memory vka = _vka(3, true);
        assertTrue(registry.isCeremonyVka(vka), "ceremony");
        uint256 i = 16 + (uint256(word) % 8);
        vm.assume(value != vka[i]);
        vka[i] = value;
        assertFalse(registry.isCeremonyVka(vka), "one G2 word changed");
    }

    /// @dev The same build registered twice: refused with the existing version named, unless asked for.
    function test_addVersion_refusesADuplicateDigestUnlessAllowed() public {
        IModelRegistry.VersionParams memory p = _params(1);
        bytes32[] memory vka = _vka(1, false);
        _addVersion(alice, modelId, p, vka);
        vm.expectRevert(
            abi.encodeWithSelector(
                IModelRegistry.RegistryVersionDuplicate.selector,
                modelId,
                keccak256(abi.encodePacked(vka)),
                1
            )
        );
        _addVersion(alice, modelId, _params(2), vka);

        vm.prank(alice);
        uint32 v2 = registry.addVersion(modelId, _params(2), vka, _noVariants(), true);
        assertEq(uint256(v2), 2, "added with allowDuplicate");

        // Another model may use the same VKA: the duplicate check is per model.
        bytes32 other = _register(bob, "digits-mlp");
        _addVersion(bob, other, p, vka);
    }

    /// @dev Versions with the same VKA (a duplicate allowed, or another model) each get a store of their own, which
    ///      holds their own description and reads back through `getVersion`.
    function test_addVersion_givesEveryVersionItsOwnStore() public {
        IModelRegistry.VersionParams memory p1 = _params(1);
        IModelRegistry.VersionParams memory p2 = _params(2);
        bytes32[] memory vka = _vka(1, false);
        _addVersion(alice, modelId, p1, vka);
        vm.prank(alice);
        registry.addVersion(modelId, p2, vka, _noVariants(), true);
        bytes32 other = _register(bob, "digits-mlp");
        _addVersion(bob, other, p1, vka);

        IModelRegistry.ModelVersion memory v1 = registry.getVersion(modelId, 1);
        IModelRegistry.ModelVersion memory v2 = registry.getVersion(modelId, 2);
        IModelRegistry.ModelVersion memory w1 = registry.getVersion(other, 1);
        assertTrue(v1.vka != v2.vka && v1.vka != w1.vka && v2.vka != w1.vka, "three stores");
        assertEq(keccak256(v1.vka.code), keccak256(_versionStoreCode(vka, p1)), "version 1's store");
        assertEq(keccak256(v2.vka.code), keccak256(_versionStoreCode(vka, p2)), "version 2's store");
        assertEq(keccak256(w1.vka.code), keccak256(_versionStoreCode(vka, p1)), "the other model's store");
        assertEq(v1.vkaDigest, v2.vkaDigest, "one digest");
        assertEq(v2.modelHash, p2.modelHash, "version 2's own description");
        assertEq(uint256(v2.circuitMetricBps), uint256(p2.circuitMetricBps), "version 2's own metric");
        assertEq(
            _contentHash(v1),
            _expectedContentHash(p1, vka, v1.vka, uint64(block.timestamp)),
            "version 1"
        );
        assertEq(
            _contentHash(v2),
            _expectedContentHash(p2, vka, v2.vka, uint64(block.timestamp)),
            "version 2"
        );
        assertEq(
            _contentHash(w1),
            _expectedContentHash(p1, vka, w1.vka, uint64(block.timestamp)),
            "other model"
        );
    }

    /// @dev Every field of the description round-trips through the store's code, whatever its value (the metrics
    ///      at their uint32 extremes included) and whatever the VKA's length.
    function testFuzz_getVersion_readsTheDescriptionBackFromTheStore(
        bytes32 modelHash,
        bytes32 vkHash,
        uint32 floatMetricBps,
        uint32 circuitMetricBps,
        uint16 words
    ) public {
        vm.assume(modelHash != 0 && vkHash != 0);
        IModelRegistry.VersionParams memory p = _params(7);
        p.modelHash = modelHash;
        p.vkHash = vkHash;
        p.floatMetricBps = floatMetricBps;
        p.circuitMetricBps = circuitMetricBps;
        bytes32[] memory vka = new bytes32[](bound(words, 24, 762));
        for (uint256 i; i < vka.length; ++i) vka[i] = keccak256(abi.encode(i, modelHash));
        _addVersion(alice, modelId, p, vka);
        IModelRegistry.ModelVersion memory v = registry.getVersion(modelId, 1);
        assertEq(v.modelHash, modelHash, "modelHash");
        assertEq(v.settingsHash, p.settingsHash, "settingsHash");
        assertEq(v.circuitHash, p.circuitHash, "circuitHash");
        assertEq(v.srsHash, p.srsHash, "srsHash");
        assertEq(v.vkHash, vkHash, "vkHash");
        assertEq(uint256(v.floatMetricBps), uint256(floatMetricBps), "floatMetricBps");
        assertEq(uint256(v.circuitMetricBps), uint256(circuitMetricBps), "circuitMetricBps");
        assertEq(v.vka.code.length, 1 + 32 * vka.length + 168, "store length");
        assertEq(keccak256(v.vka.code), keccak256(_versionStoreCode(vka, p)), "store code");
    }

    /// @dev The metadata URI is not stored: `VersionRegistered` carries it, an empty one included.
    function test_addVersion_emitsTheMetadataUri() public {
        IModelRegistry.VersionParams memory p = _params(5);
        p.metadataURI = "data:application/json;base64,eyJuYW1lIjoiZGlnaXRzLW1scCJ9";
        bytes32[] memory vka = _vka(5, false);
        vm.recordLogs();
        _addVersion(alice, modelId, p, vka);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(logs.length, 1, "one event");
        assertEq(logs[0].topics[0], IModelRegistry.VersionRegistered.selector, "VersionRegistered");
        (, , , , , string memory uri) = abi.decode(
            logs[0].data,
            (uint32, address, bool, bytes32, uint64, string)
        );
        assertEq(uri, p.metadataURI, "the URI in the event");

        IModelRegistry.VersionParams memory q = _params(6);
        q.metadataURI = "";
        vm.recordLogs();
        _addVersion(alice, modelId, q, _vka(6, false));
        logs = vm.getRecordedLogs();
        (, , , , , uri) = abi.decode(logs[0].data, (uint32, address, bool, bytes32, uint64, string));
        assertEq(bytes(uri).length, 0, "an empty URI");
    }

    function testFuzz_addVersion_refusesAVkaOfTheWrongLength(uint16 words) public {
        vm.assume(words < 24 || words > 762);
        words = uint16(bound(words, 0, 2_000));
        vm.assume(words < 24 || words > 762);
        bytes32[] memory vka = new bytes32[](words);
        vm.expectRevert(
            abi.encodeWithSelector(IModelRegistry.RegistryVkaLengthInvalid.selector, uint256(words), 24, 762)
        );
        _addVersion(alice, modelId, _params(1), vka);
    }

    /// @dev A VKA at the EIP-170 limit (with the description before it) is stored and read back whole; one word more
    ///      is refused before anything is deployed.
    function test_addVersion_storesTheLongestVka() public {
        bytes32[] memory vka = new bytes32[](762);
        for (uint256 i; i < vka.length; ++i) vka[i] = bytes32(i + 1);
        IModelRegistry.VersionParams memory p = _params(1);
        _addVersion(alice, modelId, p, vka);
        IModelRegistry.ModelVersion memory v = registry.getVersion(modelId, 1);
        assertEq(v.vka.code.length, 1 + 762 * 32 + 168, "code length");
        assertLe(v.vka.code.length, 24_576, "EIP-170");
        assertEq(keccak256(v.vka.code), keccak256(_versionStoreCode(vka, p)), "code");
        assertEq(v.modelHash, p.modelHash, "description read back");

        bytes32[] memory longer = new bytes32[](763);
        vm.expectRevert(
            abi.encodeWithSelector(IModelRegistry.RegistryVkaLengthInvalid.selector, 763, 24, 762)
        );
        _addVersion(alice, modelId, _params(2), longer);
    }

    /// @dev A suite verifier that answers `registerVka` with another digest is not EZKL's: nothing is added.
    function test_addVersion_revertsWhenTheSuiteVerifierReportsAnotherDigest() public {
        LyingRegistrar liar = new LyingRegistrar();
        ModelRegistry r = new ModelRegistry(admin, address(liar), address(liar).codehash, 0, 0);
        vm.startPrank(alice);
        bytes32 id = r.registerModel("m");
        bytes32[] memory vka = _vka(1, false);
        bytes32 digest = keccak256(abi.encodePacked(vka));
        vm.expectRevert(
            abi.encodeWithSelector(IModelRegistry.RegistryVkaDigestMismatch.selector, digest, ~digest)
        );
        r.addVersion(id, _params(1), vka, _noVariants(), false);
        vm.stopPrank();
    }

    function testFuzz_addVersion_numbersAreConsecutiveFromOne(uint8 count, uint256 seed) public {
        count = uint8(bound(count, 1, 24));
        for (uint32 i = 1; i <= count; ++i) {
            uint32 version = _addVersion(alice, modelId, _params(seed ^ i));
            assertEq(uint256(version), uint256(i), "version number");
            assertEq(uint256(registry.latestVersion(modelId)), uint256(i), "latest follows");
            assertEq(uint256(registry.getModel(modelId).versionCount), uint256(i), "count follows");
        }
    }

    function testFuzz_addVersion_revertsForAnyoneButTheOwner(address caller, uint256 seed) public {
        vm.assume(caller != alice);
        IModelRegistry.VersionParams memory p = _params(seed);
        vm.expectRevert(
            abi.encodeWithSelector(IModelRegistry.RegistryNotModelOwner.selector, modelId, caller, alice)
        );
        _addVersion(caller, modelId, p);
        assertEq(uint256(registry.latestVersion(modelId)), 0, "nothing added");
    }

    function testFuzz_addVersion_revertsForUnknownModel(bytes32 unknownId) public {
        vm.assume(unknownId != modelId);
        IModelRegistry.VersionParams memory p = _params(1);
        vm.expectRevert(abi.encodeWithSelector(IModelRegistry.RegistryModelUnknown.selector, unknownId));
        _addVersion(alice, unknownId, p);
    }

    function test_addVersion_revertsOnEachMissingArtifactHash() public {
        for (uint8 which = 0; which < 5; ++which) {
            IModelRegistry.VersionParams memory p = _params(7);
            if (which == 0) p.modelHash = bytes32(0);
            if (which == 1) p.settingsHash = bytes32(0);
            if (which == 2) p.circuitHash = bytes32(0);
            if (which == 3) p.srsHash = bytes32(0);
            if (which == 4) p.vkHash = bytes32(0);
            vm.expectRevert(
                abi.encodeWithSelector(IModelRegistry.RegistryArtifactHashMissing.selector, which)
            );
            _addVersion(alice, modelId, p);
        }
    }

    /// @dev Fuzzes small layouts and checks the registry against an index-by-index oracle (a different algorithm
    ///      from the contract's interval arithmetic).
    function testFuzz_addVersion_acceptsExactlyTheWellFormedLayouts(
        uint32 instanceCount,
        uint32 inputOffset,
        uint32 inputCount,
        uint32 outputOffset,
        uint32 outputCount
    ) public {
        IModelRegistry.InstanceLayout memory layout = IModelRegistry.InstanceLayout({
            instanceCount: uint32(bound(instanceCount, 0, 24)),
            inputOffset: uint32(bound(inputOffset, 0, 24)),
            inputCount: uint32(bound(inputCount, 0, 12)),
            outputOffset: uint32(bound(outputOffset, 0, 24)),
            outputCount: uint32(bound(outputCount, 0, 12))
        });
        IModelRegistry.VersionParams memory p = _params(layout, 3);

        bytes memory expectedError;
        if (layout.inputCount == 0 || layout.outputCount == 0) {
            expectedError = abi.encodeWithSelector(
                IModelRegistry.RegistryLayoutCountZero.selector,
                layout.inputCount,
                layout.outputCount
            );
        } else if (!_rangeInside(layout.inputOffset, layout.inputCount, layout.instanceCount)) {
            expectedError = abi.encodeWithSelector(
                IModelRegistry.RegistryLayoutRangeOutOfBounds.selector,
                layout.inputOffset,
                layout.inputCount,
                layout.instanceCount
            );
        } else if (!_rangeInside(layout.outputOffset, layout.outputCount, layout.instanceCount)) {
            expectedError = abi.encodeWithSelector(
                IModelRegistry.RegistryLayoutRangeOutOfBounds.selector,
                layout.outputOffset,
                layout.outputCount,
                layout.instanceCount
            );
        } else if (_rangesShareAnIndex(layout)) {
            expectedError = abi.encodeWithSelector(
                IModelRegistry.RegistryLayoutRangesOverlap.selector,
                layout.inputOffset,
                layout.inputCount,
                layout.outputOffset,
                layout.outputCount
            );
        }

        if (expectedError.length != 0) {
            vm.expectRevert(expectedError);
            _addVersion(alice, modelId, p);
        } else {
            uint32 version = _addVersion(alice, modelId, p);
            IModelRegistry.InstanceLayout memory stored = registry.getVersion(modelId, version).layout;
            assertEq(keccak256(abi.encode(stored)), keccak256(abi.encode(layout)), "layout stored as given");
        }
    }

    function testFuzz_addVersion_rejectsRangesThatWouldWrapAroundUint32(uint32 offset) public {
        offset = uint32(bound(offset, type(uint32).max - 4, type(uint32).max));
        IModelRegistry.InstanceLayout memory layout = IModelRegistry.InstanceLayout({
            instanceCount: 16,
            inputOffset: offset,
            inputCount: 8,
            outputOffset: 8,
            outputCount: 8
        });
        vm.expectRevert(
            abi.encodeWithSelector(IModelRegistry.RegistryLayoutRangeOutOfBounds.selector, offset, 8, 16)
        );
        _addVersion(alice, modelId, _params(layout, 1));
    }

    /// @dev A version stores its layout in 16 bits a field: 65,535 instances are accepted and read back whole, one
    ///      more is refused by name, and a layout field can therefore never be truncated in storage.
    function testFuzz_addVersion_layoutOf16BitsOrNamedRevert(uint32 instanceCount) public {
        instanceCount = uint32(bound(instanceCount, type(uint16).max - 2, type(uint32).max));
        IModelRegistry.InstanceLayout memory layout = IModelRegistry.InstanceLayout({
            instanceCount: instanceCount,
            inputOffset: 1,
            inputCount: instanceCount - 3,
            outputOffset: instanceCount - 2,
            outputCount: 2
        });
        IModelRegistry.VersionParams memory p = _params(layout, 5);
        if (instanceCount > type(uint16).max) {
            vm.expectRevert(
                abi.encodeWithSelector(
                    IModelRegistry.RegistryLayoutTooLarge.selector,
                    instanceCount,
                    uint32(type(uint16).max)
                )
            );
            _addVersion(alice, modelId, p);
        } else {
            uint32 version = _addVersion(alice, modelId, p);
            IModelRegistry.InstanceLayout memory stored = registry.getVersion(modelId, version).layout;
            assertEq(keccak256(abi.encode(stored)), keccak256(abi.encode(layout)), "layout stored whole");
            (, uint32 inputCount, ) = registry.requestTarget(modelId, version);
            assertEq(uint256(inputCount), uint256(instanceCount - 3), "request target's input count");
        }
    }

    /// @dev `fulfilmentCircuit` and `requestTarget` read the version's packed first slot (16-bit layout fields, 8-bit
    ///      verifier id): what they return must be what `getVersion` reads, for any layout and status.
    function testFuzz_fulfilmentCircuit_readsTheVersionsFirstSlot(
        uint16 inputCount,
        uint16 outputCount,
        uint16 gap,
        uint8 status
    ) public {
        inputCount = uint16(bound(inputCount, 1, 30_000));
        outputCount = uint16(bound(outputCount, 1, 30_000));
        gap = uint16(bound(gap, 0, type(uint16).max - uint256(inputCount) - outputCount));
        IModelRegistry.InstanceLayout memory layout = IModelRegistry.InstanceLayout({
            instanceCount: uint32(inputCount) + outputCount + gap,
            inputOffset: uint32(outputCount) + gap,
            inputCount: inputCount,
            outputOffset: 0,
            outputCount: outputCount
        });
        uint32 version = _addVersion(alice, modelId, _params(layout, 9));
        vm.startPrank(alice);
        if (status % 3 == 1) registry.deprecateVersion(modelId, version);
        if (status % 3 == 2) registry.revokeVersion(modelId, version);
        vm.stopPrank();
        IModelRegistry.ModelVersion memory v = registry.getVersion(modelId, version);
        IModelRegistry.FulfilmentCircuit memory c = registry.fulfilmentCircuit(
            modelId,
            version,
            layout.instanceCount
        );
        assertEq(uint256(c.status), uint256(v.status), "status");
        assertEq(c.vka, v.vka, "store");
        assertEq(c.verifier, registry.suiteVerifier(v.suiteVerifierId).verifier, "verifier");
        assertEq(uint256(c.batchSize), 1, "batch size");
        assertEq(keccak256(abi.encode(c.layout)), keccak256(abi.encode(v.layout)), "layout");
        assertEq(keccak256(abi.encode(c.layout)), keccak256(abi.encode(layout)), "layout as given");
        (IModelRegistry.VersionStatus s, uint32 n, bool stopped) = registry.requestTarget(modelId, version);
        assertEq(uint256(s), uint256(v.status), "request target status");
        assertEq(uint256(n), uint256(inputCount), "request target input count");
        assertFalse(stopped, "not stopped");
    }

    function _rangeInside(uint32 offset, uint32 count, uint32 instanceCount) private pure returns (bool) {
        for (uint256 i = 0; i < count; ++i) {
            if (uint256(offset) + i >= instanceCount) return false;
        }
        return true;
    }

    function _rangesShareAnIndex(IModelRegistry.InstanceLayout memory layout) private pure returns (bool) {
        for (uint256 i = 0; i < layout.inputCount; ++i) {
            for (uint256 j = 0; j < layout.outputCount; ++j) {
                if (uint256(layout.inputOffset) + i == uint256(layout.outputOffset) + j) return true;
            }
        }
        return false;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Immutability
    // ---------------------------------------------------------------------------------------------------------

    /// @dev Whatever happens after registration (more versions, status flips, an ownership change), the content
    ///      of every version stays exactly what was registered.
    function testFuzz_versionsAreImmutableAfterRegistration(uint256 seed, uint8 count, uint8 flips) public {
        count = uint8(bound(count, 1, 8));
        bytes32[] memory expected = new bytes32[](count + 1);
        for (uint32 i = 1; i <= count; ++i) {
            vm.warp(1_000 + uint256(i) * 13);
            IModelRegistry.VersionParams memory p = _params(_defaultLayout(i, 1), seed ^ i);
            _addVersion(alice, modelId, p);
            expected[i] = _expectedContentHash(
                p,
                _vkaFor(p),
                registry.getVersion(modelId, i).vka,
                uint64(1_000 + uint256(i) * 13)
            );
        }

        for (uint256 k = 0; k < bound(flips, 0, 16); ++k) {
            uint32 v = uint32(1 + (uint256(keccak256(abi.encode(seed, k))) % count));
            bool deprecated =
                registry.getVersion(modelId, v).status == IModelRegistry.VersionStatus.Deprecated;
            vm.prank(alice);
            if (deprecated) registry.reactivateVersion(modelId, v);
            else registry.deprecateVersion(modelId, v);
        }
        vm.prank(alice);
        registry.transferModelOwnership(modelId, bob);
        vm.prank(bob);
        registry.acceptModelOwnership(modelId);
        _addVersion(bob, modelId, _params(~seed));

        for (uint32 i = 1; i <= count; ++i) {
            assertEq(_contentHash(registry.getVersion(modelId, i)), expected[i], "version content changed");
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // deprecate / reactivate
    // ---------------------------------------------------------------------------------------------------------

    function test_deprecateAndReactivate_flipStatusAndEmit() public {
        _addVersion(alice, modelId, _params(1));

        vm.expectEmit(true, true, false, true, address(registry));
        emit IModelRegistry.VersionDeprecated(modelId, 1);
        vm.prank(alice);
        registry.deprecateVersion(modelId, 1);
        assertEq(
            uint256(registry.getVersion(modelId, 1).status),
            uint256(IModelRegistry.VersionStatus.Deprecated),
            "deprecated"
        );
        (IModelRegistry.VersionStatus status, address verifier, bool stopped) = registry.fulfilmentTarget(
            modelId,
            1
        );
        assertEq(
            uint256(status),
            uint256(IModelRegistry.VersionStatus.Deprecated),
            "fulfilment target status"
        );
        assertEq(verifier, address(digestVerifier), "fulfilment target verifier");
        assertFalse(stopped, "not stopped");

        vm.expectEmit(true, true, false, true, address(registry));
        emit IModelRegistry.VersionReactivated(modelId, 1);
        vm.prank(alice);
        registry.reactivateVersion(modelId, 1);
        assertEq(
            uint256(registry.getVersion(modelId, 1).status),
            uint256(IModelRegistry.VersionStatus.Active),
            "active"
        );
    }

    /// @dev Revoke is final: no reactivation, no second revoke, no deprecation.
    function test_revoke_isFinal() public {
        _addVersion(alice, modelId, _params(1));
        vm.startPrank(alice);
        registry.deprecateVersion(modelId, 1);
        vm.expectEmit(true, true, false, true, address(registry));
        emit IModelRegistry.VersionRevoked(modelId, 1);
        registry.revokeVersion(modelId, 1);
        bytes memory revoked = abi.encodeWithSelector(
            IModelRegistry.RegistryVersionStatusInvalid.selector,
            modelId,
            1,
            IModelRegistry.VersionStatus.Revoked
        );
        vm.expectRevert(revoked);
        registry.reactivateVersion(modelId, 1);
        vm.expectRevert(revoked);
        registry.revokeVersion(modelId, 1);
        vm.expectRevert(revoked);
        registry.deprecateVersion(modelId, 1);
        vm.stopPrank();
        assertEq(
            uint256(registry.getVersion(modelId, 1).status),
            uint256(IModelRegistry.VersionStatus.Revoked),
            "revoked"
        );
    }

    /// @dev `fulfilmentTarget` reads one packed slot of the version; its answer must not depend on the fields packed
    ///      beside the status and must match `verificationTarget` for every version.
    function testFuzz_fulfilmentTarget_agreesWithTheVerificationTarget(
        uint32 inputCount,
        uint8 statusMask
    ) public {
        inputCount = uint32(bound(inputCount, 1, type(uint16).max - 1));
        IModelRegistry.InstanceLayout memory wide = IModelRegistry.InstanceLayout({
            instanceCount: type(uint16).max, // the widest layout a version stores (`RegistryLayoutTooLarge`)
            inputOffset: type(uint16).max - inputCount,
            inputCount: inputCount,
            outputOffset: 0,
            outputCount: 1
        });
        _addVersion(alice, modelId, _params(1));
        _addVersion(alice, modelId, _params(wide, 2));
        _addVersion(alice, modelId, _params(3));
        for (uint32 v = 1; v <= 3; ++v) {
            uint8 bits = (statusMask >> (2 * (v - 1))) & 3;
            vm.startPrank(alice);
            if (bits == 1) registry.deprecateVersion(modelId, v);
            if (bits == 2) registry.revokeVersion(modelId, v);
            vm.stopPrank();
        }
        for (uint32 v = 0; v <= 4; ++v) {
            IModelRegistry.VerificationTarget memory t = registry.verificationTarget(modelId, v);
            (IModelRegistry.VersionStatus status, address verifier, bool stopped) = registry.fulfilmentTarget(
                modelId,
                v
            );
            assertEq(uint256(status), uint256(t.status), "status");
            assertEq(verifier, t.verifier, "verifier");
            assertEq(stopped, t.verifierStopped, "stopped");
        }
    }

    function test_deprecate_revertsWhenAlreadyDeprecated() public {
        _addVersion(alice, modelId, _params(1));
        vm.startPrank(alice);
        registry.deprecateVersion(modelId, 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IModelRegistry.RegistryVersionStatusInvalid.selector,
                modelId,
                1,
                IModelRegistry.VersionStatus.Deprecated
            )
        );
        registry.deprecateVersion(modelId, 1);
        vm.stopPrank();
    }

    function test_reactivate_revertsWhenNotDeprecated() public {
        _addVersion(alice, modelId, _params(1));
        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(
                IModelRegistry.RegistryVersionStatusInvalid.selector,
                modelId,
                1,
                IModelRegistry.VersionStatus.Active
            )
        );
        registry.reactivateVersion(modelId, 1);
    }

    function testFuzz_deprecateAndReactivate_revertForAnyoneButTheOwner(address caller) public {
        vm.assume(caller != alice);
        _addVersion(alice, modelId, _params(1));
        bytes memory notOwner = abi.encodeWithSelector(
            IModelRegistry.RegistryNotModelOwner.selector,
            modelId,
            caller,
            alice
        );
        vm.prank(caller);
        vm.expectRevert(notOwner);
        registry.deprecateVersion(modelId, 1);

        vm.prank(alice);
        registry.deprecateVersion(modelId, 1);
        vm.prank(caller);
        vm.expectRevert(notOwner);
        registry.reactivateVersion(modelId, 1);
        vm.prank(caller);
        vm.expectRevert(notOwner);
        registry.revokeVersion(modelId, 1);
        assertEq(
            uint256(registry.getVersion(modelId, 1).status),
            uint256(IModelRegistry.VersionStatus.Deprecated),
            "deprecated"
        );
    }

    function testFuzz_deprecate_revertsForUnknownVersion(uint32 version) public {
        _addVersion(alice, modelId, _params(1));
        _addVersion(alice, modelId, _params(2));
        vm.assume(version == 0 || version > 2);
        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(IModelRegistry.RegistryVersionUnknown.selector, modelId, version, 2)
        );
        registry.deprecateVersion(modelId, version);
    }

    function test_latestActiveVersion_skipsDeprecatedAndRevokedVersions() public {
        for (uint256 i = 1; i <= 4; ++i) _addVersion(alice, modelId, _params(i));
        vm.warp(block.timestamp + LATEST_DELAY);
        assertEq(uint256(registry.latestActiveVersion(modelId)), 4, "all active");
        vm.startPrank(alice);
        registry.revokeVersion(modelId, 4);
        registry.deprecateVersion(modelId, 3);
        assertEq(uint256(registry.latestActiveVersion(modelId)), 2, "4 revoked, 3 deprecated");
        registry.deprecateVersion(modelId, 1);
        assertEq(uint256(registry.latestActiveVersion(modelId)), 2, "1 and 3 deprecated");
        registry.deprecateVersion(modelId, 2);
        assertEq(uint256(registry.latestActiveVersion(modelId)), 0, "none active");
        registry.reactivateVersion(modelId, 1);
        assertEq(uint256(registry.latestActiveVersion(modelId)), 1, "1 reactivated");
        vm.stopPrank();
        assertEq(uint256(registry.latestVersion(modelId)), 4, "latest ignores status");
    }

    /// @dev A new version is not "latest" until `LATEST_DELAY` has passed since it was added.
    function testFuzz_latestActiveVersion_waitsForTheDelay(uint64 elapsed) public {
        _addVersion(alice, modelId, _params(1));
        vm.warp(block.timestamp + LATEST_DELAY);
        _addVersion(alice, modelId, _params(2));
        elapsed = uint64(bound(elapsed, 0, 3 * LATEST_DELAY));
        vm.warp(block.timestamp + elapsed);
        assertEq(uint256(registry.latestActiveVersion(modelId)), elapsed >= LATEST_DELAY ? 2 : 1, "latest");
        assertEq(uint256(registry.LATEST_DELAY()), uint256(LATEST_DELAY), "delay fixed at deployment");
    }

    // ---------------------------------------------------------------------------------------------------------
    // Suite verifiers
    // ---------------------------------------------------------------------------------------------------------

    function test_constructor_recordsTheFirstSuiteVerifierActiveAtOnce() public view {
        assertEq(uint256(registry.suiteVerifierCount()), 1, "one");
        assertEq(uint256(registry.currentSuiteVerifier()), 1, "current");
        IModelRegistry.SuiteVerifier memory v = registry.suiteVerifier(1);
        assertEq(v.verifier, address(digestVerifier), "verifier");
        assertEq(v.codeHash, address(digestVerifier).codehash, "code hash");
        assertEq(uint256(v.activatesAt), block.timestamp, "active from deployment");
        assertFalse(v.stopped, "running");
        assertEq(registry.owner(), admin, "suite admin");
    }

    function testFuzz_constructor_rejectsAVerifierWithoutTheGivenCode(bytes32 wrongHash) public {
        vm.assume(wrongHash != address(digestVerifier).codehash);
        vm.expectRevert(
            abi.encodeWithSelector(
                IModelRegistry.RegistrySuiteVerifierCodeHashMismatch.selector,
                address(digestVerifier),
                wrongHash,
                address(digestVerifier).codehash
            )
        );
        new ModelRegistry(admin, address(digestVerifier), wrongHash, LATEST_DELAY, VERIFIER_DELAY);
        vm.expectRevert(
            abi.encodeWithSelector(
                IModelRegistry.RegistrySuiteVerifierCodeHashMismatch.selector,
                bob,
                wrongHash,
                bob.codehash
            )
        );
        new ModelRegistry(admin, bob, wrongHash, LATEST_DELAY, VERIFIER_DELAY);
    }

    /// @dev A model owner has no say over verifier code: only the suite admin proposes, behind a timelock.
    function testFuzz_proposeSuiteVerifier_isForTheSuiteAdminOnly(address caller) public {
        vm.assume(caller != admin);
        vm.prank(caller);
        vm.expectRevert(abi.encodeWithSignature("OwnableUnauthorizedAccount(address)", caller));
        registry.proposeSuiteVerifier(address(silentVerifier), address(silentVerifier).codehash);
        vm.prank(caller);
        vm.expectRevert(abi.encodeWithSignature("OwnableUnauthorizedAccount(address)", caller));
        registry.stopSuiteVerifier(1);
    }

    /// @dev A proposed verifier is used by new versions only after the delay; existing versions keep theirs.
    function test_proposeSuiteVerifier_activatesAfterTheDelay() public {
        _addVersion(alice, modelId, _params(1));
        vm.prank(admin);
        vm.expectEmit(true, true, false, true, address(registry));
        emit IModelRegistry.SuiteVerifierProposed(
            2,
            address(falseVerifier),
            address(falseVerifier).codehash,
            uint64(block.timestamp) + VERIFIER_DELAY
        );
        uint32 id = registry.proposeSuiteVerifier(address(falseVerifier), address(falseVerifier).codehash);
        assertEq(uint256(id), 2, "id");
        assertEq(uint256(registry.currentSuiteVerifier()), 1, "not yet");
        _addVersion(alice, modelId, _params(2));
        assertEq(uint256(registry.getVersion(modelId, 2).suiteVerifierId), 1, "still the first");

        vm.warp(block.timestamp + VERIFIER_DELAY);
        assertEq(uint256(registry.currentSuiteVerifier()), 2, "active");
        _addVersion(alice, modelId, _params(3));
        assertEq(uint256(registry.getVersion(modelId, 3).suiteVerifierId), 2, "new versions use it");
        assertEq(uint256(registry.getVersion(modelId, 1).suiteVerifierId), 1, "old versions keep theirs");
    }

    function test_proposeSuiteVerifier_checksTheCodeHash() public {
        vm.prank(admin);
        vm.expectRevert(
            abi.encodeWithSelector(
                IModelRegistry.RegistrySuiteVerifierCodeHashMismatch.selector,
                address(falseVerifier),
                address(digestVerifier).codehash,
                address(falseVerifier).codehash
            )
        );
        registry.proposeSuiteVerifier(address(falseVerifier), address(digestVerifier).codehash);
    }

    /// @dev A version holds its suite verifier's id in 8 bits: the 255th verifier is the last one accepted.
    function test_proposeSuiteVerifier_stopsAtTheLimit() public {
        assertEq(uint256(registry.MAX_SUITE_VERIFIERS()), 255, "limit");
        vm.startPrank(admin);
        for (uint256 i = registry.suiteVerifierCount(); i < 255; ++i) {
            registry.proposeSuiteVerifier(address(digestVerifier), address(digestVerifier).codehash);
        }
        assertEq(uint256(registry.suiteVerifierCount()), 255, "255 added");
        vm.expectRevert(
            abi.encodeWithSelector(IModelRegistry.RegistrySuiteVerifierLimitReached.selector, 255)
        );
        registry.proposeSuiteVerifier(address(digestVerifier), address(digestVerifier).codehash);
        vm.stopPrank();
        vm.warp(block.timestamp + VERIFIER_DELAY);
        assertEq(uint256(registry.currentSuiteVerifier()), 255, "the last one is current");
        uint32 version = _addVersion(alice, modelId, _params(4));
        assertEq(
            uint256(registry.getVersion(modelId, version).suiteVerifierId),
            255,
            "stored whole in 8 bits"
        );
        assertEq(
            registry.verificationTarget(modelId, version).verifier,
            address(digestVerifier),
            "its verifier"
        );
    }

    /// @dev Stopping is a tombstone: final, and with every verifier stopped no version can be added.
    function test_stopSuiteVerifier_isFinal() public {
        vm.startPrank(admin);
        vm.expectEmit(true, true, false, true, address(registry));
        emit IModelRegistry.SuiteVerifierStopped(1, address(digestVerifier));
        registry.stopSuiteVerifier(1);
        vm.expectRevert(abi.encodeWithSelector(IModelRegistry.RegistrySuiteVerifierNotStoppable.selector, 1));
        registry.stopSuiteVerifier(1);
        vm.expectRevert(abi.encodeWithSelector(IModelRegistry.RegistrySuiteVerifierNotStoppable.selector, 9));
        registry.stopSuiteVerifier(9);
        vm.stopPrank();
        assertTrue(registry.suiteVerifier(1).stopped, "stopped");
        assertEq(uint256(registry.currentSuiteVerifier()), 0, "none current");
        vm.expectRevert(abi.encodeWithSelector(IModelRegistry.RegistryNoSuiteVerifier.selector, 1));
        _addVersion(alice, modelId, _params(1));
        vm.expectRevert(abi.encodeWithSelector(IModelRegistry.RegistrySuiteVerifierUnknown.selector, 2, 1));
        registry.suiteVerifier(2);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Ownership
    // ---------------------------------------------------------------------------------------------------------

    function testFuzz_ownershipTransfer_takesTwoSteps(address newOwner, address stranger) public {
        vm.assume(newOwner != address(0) && newOwner != alice);
        vm.assume(stranger != newOwner);

        vm.expectEmit(true, true, true, true, address(registry));
        emit IModelRegistry.ModelOwnershipTransferStarted(modelId, alice, newOwner);
        vm.prank(alice);
        registry.transferModelOwnership(modelId, newOwner);

        // Step one changes nothing but the pending owner.
        IModelRegistry.ModelInfo memory info = registry.getModel(modelId);
        assertEq(info.owner, alice, "owner unchanged until accepted");
        assertEq(info.pendingOwner, newOwner, "pending owner");
        vm.expectRevert(
            abi.encodeWithSelector(IModelRegistry.RegistryNotModelOwner.selector, modelId, newOwner, alice)
        );
        _addVersion(newOwner, modelId, _params(1));

        // Nobody else can accept.
        vm.prank(stranger);
        vm.expectRevert(
            abi.encodeWithSelector(
                IModelRegistry.RegistryNotPendingModelOwner.selector,
                modelId,
                stranger,
                newOwner
            )
        );
        registry.acceptModelOwnership(modelId);

        vm.expectEmit(true, true, true, true, address(registry));
        emit IModelRegistry.ModelOwnershipTransferred(modelId, alice, newOwner);
        vm.prank(newOwner);
        registry.acceptModelOwnership(modelId);

        info = registry.getModel(modelId);
        assertEq(info.owner, newOwner, "new owner");
        assertEq(info.pendingOwner, address(0), "pending cleared");

        // The old owner lost every power; the new one has them.
        vm.expectRevert(
            abi.encodeWithSelector(IModelRegistry.RegistryNotModelOwner.selector, modelId, alice, newOwner)
        );
        _addVersion(alice, modelId, _params(1));
        assertEq(uint256(_addVersion(newOwner, modelId, _params(2))), 1, "new owner adds");

        // Acceptance cannot be replayed.
        vm.prank(newOwner);
        vm.expectRevert(
            abi.encodeWithSelector(
                IModelRegistry.RegistryNotPendingModelOwner.selector,
                modelId,
                newOwner,
                address(0)
            )
        );
        registry.acceptModelOwnership(modelId);
    }

    function test_ownershipTransfer_canBeCancelledWithTheZeroAddress() public {
        vm.startPrank(alice);
        registry.transferModelOwnership(modelId, bob);
        registry.transferModelOwnership(modelId, address(0));
        vm.stopPrank();
        vm.prank(bob);
        vm.expectRevert(
            abi.encodeWithSelector(
                IModelRegistry.RegistryNotPendingModelOwner.selector,
                modelId,
                bob,
                address(0)
            )
        );
        registry.acceptModelOwnership(modelId);
        assertEq(registry.getModel(modelId).owner, alice, "owner kept");
    }

    function test_ownershipTransfer_aNewProposalReplacesTheOld() public {
        vm.startPrank(alice);
        registry.transferModelOwnership(modelId, bob);
        registry.transferModelOwnership(modelId, carol);
        vm.stopPrank();
        vm.prank(bob);
        vm.expectRevert(
            abi.encodeWithSelector(IModelRegistry.RegistryNotPendingModelOwner.selector, modelId, bob, carol)
        );
        registry.acceptModelOwnership(modelId);
        vm.prank(carol);
        registry.acceptModelOwnership(modelId);
        assertEq(registry.getModel(modelId).owner, carol, "carol owns");
    }

    function testFuzz_transferModelOwnership_revertsForAnyoneButTheOwner(address caller) public {
        vm.assume(caller != alice);
        vm.prank(caller);
        vm.expectRevert(
            abi.encodeWithSelector(IModelRegistry.RegistryNotModelOwner.selector, modelId, caller, alice)
        );
        registry.transferModelOwnership(modelId, caller);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Views on unknown ids
    // ---------------------------------------------------------------------------------------------------------

    function testFuzz_views_revertOrReportForUnknownModel(bytes32 unknownId, uint32 version) public {
        vm.assume(unknownId != modelId);
        bytes memory unknown = abi.encodeWithSelector(
            IModelRegistry.RegistryModelUnknown.selector,
            unknownId
        );
        assertFalse(registry.modelExists(unknownId), "exists");
        vm.expectRevert(unknown);
        registry.getModel(unknownId);
        vm.expectRevert(unknown);
        registry.getVersion(unknownId, version);
        vm.expectRevert(unknown);
        registry.latestVersion(unknownId);
        vm.expectRevert(unknown);
        registry.latestActiveVersion(unknownId);
        vm.expectRevert(unknown);
        registry.acceptModelOwnership(unknownId);

        IModelRegistry.VerificationTarget memory t = registry.verificationTarget(unknownId, version);
        assertFalse(t.modelExists || t.verifierStopped || t.ceremonySrs, "target flags");
        assertEq(uint256(t.status), uint256(IModelRegistry.VersionStatus.None), "target status");
        assertEq(t.verifier, address(0), "target verifier");
        (IModelRegistry.VersionStatus status, , ) = registry.fulfilmentTarget(unknownId, version);
        assertEq(
            uint256(status),
            uint256(IModelRegistry.VersionStatus.None),
            "an unknown model does not exist"
        );
    }

    function testFuzz_views_reportUnknownVersion(uint32 version) public {
        _addVersion(alice, modelId, _params(1));
        vm.assume(version != 1);
        vm.expectRevert(
            abi.encodeWithSelector(IModelRegistry.RegistryVersionUnknown.selector, modelId, version, 1)
        );
        registry.getVersion(modelId, version);
        (IModelRegistry.VersionStatus status, , ) = registry.fulfilmentTarget(modelId, version);
        assertEq(
            uint256(status),
            uint256(IModelRegistry.VersionStatus.None),
            "an unknown version does not exist"
        );
        IModelRegistry.VerificationTarget memory t = registry.verificationTarget(modelId, version);
        assertTrue(t.modelExists, "model exists");
        assertEq(uint256(t.status), uint256(IModelRegistry.VersionStatus.None), "version does not");
        assertEq(uint256(t.latestVersion), 1, "latest reported");
    }
}

/// @dev Test-only: a "verifier" whose `registerVka` reports the complement of the real digest.
contract LyingRegistrar {
    /// @notice Returns the wrong digest.
    /// @param vka The VKA.
    /// @return The complement of its digest.
    function registerVka(bytes32[] calldata vka) external pure returns (bytes32) {
        return ~keccak256(abi.encodePacked(vka));
    }
}
