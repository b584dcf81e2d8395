// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

// Test names follow `test_<subject>_<behaviour>` / `testFuzz_...` (see STYLE.md), and gas rules do not apply here.
/* solhint-disable func-name-mixedcase, gas-small-strings, gas-strict-inequalities, function-max-lines */

import {RegistryFixture} from "./utils/RegistryFixture.t.sol";
import {IModelRegistry} from "../interfaces/IModelRegistry.sol";

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
        IModelRegistry.VersionParams memory p = _params(address(digestVerifier), _defaultLayout(64, 10), 42);
        vm.warp(1_700_000_000);
        vm.expectEmit(true, true, true, true, address(registry));
        emit IModelRegistry.VersionRegistered(
            modelId,
            1,
            address(digestVerifier),
            p.verifierCodeHash,
            p.vkHash
        );
        uint32 version = _addVersion(alice, modelId, p);
        assertEq(uint256(version), 1, "first version is 1");

        IModelRegistry.ModelVersion memory v = registry.getVersion(modelId, 1);
        assertEq(v.modelHash, p.modelHash, "modelHash");
        assertEq(v.settingsHash, p.settingsHash, "settingsHash");
        assertEq(v.circuitHash, p.circuitHash, "circuitHash");
        assertEq(v.srsHash, p.srsHash, "srsHash");
        assertEq(v.vkHash, p.vkHash, "vkHash");
        assertEq(v.verifier, address(digestVerifier), "verifier");
        assertEq(v.verifierCodeHash, address(digestVerifier).codehash, "verifierCodeHash");
        assertEq(uint256(v.inputScale), uint256(p.inputScale), "inputScale");
        assertEq(uint256(v.outputScale), uint256(p.outputScale), "outputScale");
        assertEq(uint256(v.layout.instanceCount), 74, "instanceCount");
        assertEq(uint256(v.layout.inputOffset), 0, "inputOffset");
        assertEq(uint256(v.layout.inputCount), 64, "inputCount");
        assertEq(uint256(v.layout.outputOffset), 64, "outputOffset");
        assertEq(uint256(v.layout.outputCount), 10, "outputCount");
        assertEq(uint256(v.floatMetricBps), uint256(p.floatMetricBps), "floatMetricBps");
        assertEq(uint256(v.circuitMetricBps), uint256(p.circuitMetricBps), "circuitMetricBps");
        assertEq(v.metadataURI, p.metadataURI, "metadataURI");
        assertEq(uint256(v.registeredAt), 1_700_000_000, "registeredAt");
        assertFalse(v.deprecated, "new version is active");
        assertEq(_contentHash(v), _expectedContentHash(p, 1_700_000_000), "content hash");

        IModelRegistry.VerificationTarget memory t = registry.verificationTarget(modelId, 1);
        assertTrue(t.modelExists && t.versionExists && !t.deprecated, "target flags");
        assertEq(uint256(t.latestVersion), 1, "target latest");
        assertEq(t.verifier, address(digestVerifier), "target verifier");
        assertEq(t.verifierCodeHash, p.verifierCodeHash, "target code hash");
        assertEq(keccak256(abi.encode(t.layout)), keccak256(abi.encode(p.layout)), "target layout");
    }

    function testFuzz_addVersion_numbersAreConsecutiveFromOne(uint8 count, uint256 seed) public {
        count = uint8(bound(count, 1, 24));
        for (uint32 i = 1; i <= count; ++i) {
            uint32 version = _addVersion(alice, modelId, _params(address(digestVerifier), seed ^ i));
            assertEq(uint256(version), uint256(i), "version number");
            assertEq(uint256(registry.latestVersion(modelId)), uint256(i), "latest follows");
            assertEq(uint256(registry.getModel(modelId).versionCount), uint256(i), "count follows");
        }
    }

    function testFuzz_addVersion_revertsForAnyoneButTheOwner(address caller, uint256 seed) public {
        vm.assume(caller != alice);
        IModelRegistry.VersionParams memory p = _params(address(digestVerifier), seed);
        vm.expectRevert(
            abi.encodeWithSelector(IModelRegistry.RegistryNotModelOwner.selector, modelId, caller, alice)
        );
        _addVersion(caller, modelId, p);
        assertEq(uint256(registry.latestVersion(modelId)), 0, "nothing added");
    }

    function testFuzz_addVersion_revertsForUnknownModel(bytes32 unknownId) public {
        vm.assume(unknownId != modelId);
        IModelRegistry.VersionParams memory p = _params(address(digestVerifier), 1);
        vm.expectRevert(abi.encodeWithSelector(IModelRegistry.RegistryModelUnknown.selector, unknownId));
        _addVersion(alice, unknownId, p);
    }

    function testFuzz_addVersion_revertsWhenVerifierHasNoCode(address verifier) public {
        vm.assume(verifier.code.length == 0);
        IModelRegistry.VersionParams memory p = _params(address(digestVerifier), 1);
        p.verifier = verifier;
        vm.expectRevert(abi.encodeWithSelector(IModelRegistry.RegistryVerifierHasNoCode.selector, verifier));
        _addVersion(alice, modelId, p);
    }

    function testFuzz_addVersion_revertsOnCodeHashMismatch(bytes32 wrongHash) public {
        bytes32 actual = address(digestVerifier).codehash;
        vm.assume(wrongHash != actual);
        IModelRegistry.VersionParams memory p = _params(address(digestVerifier), 1);
        p.verifierCodeHash = wrongHash;
        vm.expectRevert(
            abi.encodeWithSelector(
                IModelRegistry.RegistryVerifierCodeHashMismatch.selector,
                address(digestVerifier),
                wrongHash,
                actual
            )
        );
        _addVersion(alice, modelId, p);
    }

    function test_addVersion_revertsWhenTheCodeHashNamesAnotherVerifier() public {
        IModelRegistry.VersionParams memory p = _params(address(digestVerifier), 1);
        p.verifierCodeHash = address(falseVerifier).codehash;
        vm.expectRevert(
            abi.encodeWithSelector(
                IModelRegistry.RegistryVerifierCodeHashMismatch.selector,
                address(digestVerifier),
                address(falseVerifier).codehash,
                address(digestVerifier).codehash
            )
        );
        _addVersion(alice, modelId, p);
    }

    function test_addVersion_revertsOnEachMissingArtifactHash() public {
        for (uint8 which = 0; which < 5; ++which) {
            IModelRegistry.VersionParams memory p = _params(address(digestVerifier), 7);
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
        IModelRegistry.VersionParams memory p = _params(address(digestVerifier), layout, 3);

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
        _addVersion(alice, modelId, _params(address(digestVerifier), layout, 1));
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
            IModelRegistry.VersionParams memory p = _params(
                address(digestVerifier),
                _defaultLayout(i, 1),
                seed ^ i
            );
            _addVersion(alice, modelId, p);
            expected[i] = _expectedContentHash(p, uint64(1_000 + uint256(i) * 13));
        }

        for (uint256 k = 0; k < bound(flips, 0, 16); ++k) {
            uint32 v = uint32(1 + (uint256(keccak256(abi.encode(seed, k))) % count));
            bool deprecated = registry.getVersion(modelId, v).deprecated;
            vm.prank(alice);
            if (deprecated) registry.reactivateVersion(modelId, v);
            else registry.deprecateVersion(modelId, v);
        }
        vm.prank(alice);
        registry.transferModelOwnership(modelId, bob);
        vm.prank(bob);
        registry.acceptModelOwnership(modelId);
        _addVersion(bob, modelId, _params(address(falseVerifier), ~seed));

        for (uint32 i = 1; i <= count; ++i) {
            assertEq(_contentHash(registry.getVersion(modelId, i)), expected[i], "version content changed");
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // deprecate / reactivate
    // ---------------------------------------------------------------------------------------------------------

    function test_deprecateAndReactivate_flipStatusAndEmit() public {
        _addVersion(alice, modelId, _params(address(digestVerifier), 1));

        vm.expectEmit(true, true, false, true, address(registry));
        emit IModelRegistry.VersionDeprecated(modelId, 1);
        vm.prank(alice);
        registry.deprecateVersion(modelId, 1);
        assertTrue(registry.getVersion(modelId, 1).deprecated, "deprecated");
        assertTrue(registry.verificationTarget(modelId, 1).deprecated, "target deprecated");
        assertFalse(registry.isVersionActive(modelId, 1), "inactive");

        vm.expectEmit(true, true, false, true, address(registry));
        emit IModelRegistry.VersionReactivated(modelId, 1);
        vm.prank(alice);
        registry.reactivateVersion(modelId, 1);
        assertFalse(registry.getVersion(modelId, 1).deprecated, "reactivated");
        assertTrue(registry.isVersionActive(modelId, 1), "active again");
    }

    /// @dev `isVersionActive` reads one packed slot; its answer must not depend on the fields packed beside the
    ///      status (the verifier and the first layout fields) and must match `verificationTarget` for every version.
    function testFuzz_isVersionActive_agreesWithTheVerificationTarget(
        uint32 inputCount,
        uint8 deprecateMask
    ) public {
        inputCount = uint32(bound(inputCount, 1, type(uint32).max - 1));
        IModelRegistry.InstanceLayout memory wide = IModelRegistry.InstanceLayout({
            instanceCount: type(uint32).max,
            inputOffset: type(uint32).max - inputCount,
            inputCount: inputCount,
            outputOffset: 0,
            outputCount: 1
        });
        _addVersion(alice, modelId, _params(address(digestVerifier), 1));
        _addVersion(alice, modelId, _params(address(falseVerifier), wide, 2));
        _addVersion(alice, modelId, _params(address(revertVerifier), 3));
        for (uint32 v = 1; v <= 3; ++v) {
            if (deprecateMask & (1 << (v - 1)) != 0) {
                vm.prank(alice);
                registry.deprecateVersion(modelId, v);
            }
        }
        for (uint32 v = 0; v <= 4; ++v) {
            IModelRegistry.VerificationTarget memory t = registry.verificationTarget(modelId, v);
            assertEq(registry.isVersionActive(modelId, v), t.versionExists && !t.deprecated, "active");
        }
    }

    function test_deprecate_revertsWhenAlreadyDeprecated() public {
        _addVersion(alice, modelId, _params(address(digestVerifier), 1));
        vm.startPrank(alice);
        registry.deprecateVersion(modelId, 1);
        vm.expectRevert(
            abi.encodeWithSelector(IModelRegistry.RegistryVersionAlreadyDeprecated.selector, modelId, 1)
        );
        registry.deprecateVersion(modelId, 1);
        vm.stopPrank();
    }

    function test_reactivate_revertsWhenNotDeprecated() public {
        _addVersion(alice, modelId, _params(address(digestVerifier), 1));
        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(IModelRegistry.RegistryVersionNotDeprecated.selector, modelId, 1)
        );
        registry.reactivateVersion(modelId, 1);
    }

    function testFuzz_deprecateAndReactivate_revertForAnyoneButTheOwner(address caller) public {
        vm.assume(caller != alice);
        _addVersion(alice, modelId, _params(address(digestVerifier), 1));
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
        assertTrue(registry.getVersion(modelId, 1).deprecated, "status unchanged");
    }

    function testFuzz_deprecate_revertsForUnknownVersion(uint32 version) public {
        _addVersion(alice, modelId, _params(address(digestVerifier), 1));
        _addVersion(alice, modelId, _params(address(digestVerifier), 2));
        vm.assume(version == 0 || version > 2);
        vm.prank(alice);
        vm.expectRevert(
            abi.encodeWithSelector(IModelRegistry.RegistryVersionUnknown.selector, modelId, version, 2)
        );
        registry.deprecateVersion(modelId, version);
    }

    function test_latestActiveVersion_skipsDeprecatedVersions() public {
        for (uint256 i = 1; i <= 3; ++i) _addVersion(alice, modelId, _params(address(digestVerifier), i));
        assertEq(uint256(registry.latestActiveVersion(modelId)), 3, "all active");
        vm.startPrank(alice);
        registry.deprecateVersion(modelId, 3);
        assertEq(uint256(registry.latestActiveVersion(modelId)), 2, "3 deprecated");
        registry.deprecateVersion(modelId, 1);
        assertEq(uint256(registry.latestActiveVersion(modelId)), 2, "1 and 3 deprecated");
        registry.deprecateVersion(modelId, 2);
        assertEq(uint256(registry.latestActiveVersion(modelId)), 0, "none active");
        registry.reactivateVersion(modelId, 1);
        assertEq(uint256(registry.latestActiveVersion(modelId)), 1, "1 reactivated");
        vm.stopPrank();
        assertEq(uint256(registry.latestVersion(modelId)), 3, "latest ignores status");
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
        _addVersion(newOwner, modelId, _params(address(digestVerifier), 1));

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
        _addVersion(alice, modelId, _params(address(digestVerifier), 1));
        assertEq(
            uint256(_addVersion(newOwner, modelId, _params(address(digestVerifier), 1))),
            1,
            "new owner adds"
        );

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
        assertFalse(t.modelExists || t.versionExists || t.deprecated, "target flags");
        assertEq(t.verifier, address(0), "target verifier");
        assertFalse(registry.isVersionActive(unknownId, version), "an unknown model is not active");
    }

    function testFuzz_views_reportUnknownVersion(uint32 version) public {
        _addVersion(alice, modelId, _params(address(digestVerifier), 1));
        vm.assume(version != 1);
        vm.expectRevert(
            abi.encodeWithSelector(IModelRegistry.RegistryVersionUnknown.selector, modelId, version, 1)
        );
        registry.getVersion(modelId, version);
        assertFalse(registry.isVersionActive(modelId, version), "an unknown version is not active");
        IModelRegistry.VerificationTarget memory t = registry.verificationTarget(modelId, version);
        assertTrue(t.modelExists, "model exists");
        assertFalse(t.versionExists, "version does not");
        assertEq(uint256(t.latestVersion), 1, "latest reported");
    }
}
