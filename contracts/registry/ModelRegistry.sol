// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IModelRegistry} from "../interfaces/IModelRegistry.sol";

/// @title ModelRegistry
/// @notice Records models and their immutable versions: the artefact hashes of the EZKL build, the verifier
///         that checks proofs for it and that verifier's code hash.
/// @dev There is no registry-wide admin: each model has its own owner. The stored version is packed so that
///      `verificationTarget` (on the route's hot path) reads three slots of it: the verifier with the status and
///      the first layout fields, the remaining layout fields, and the code hash; and `isVersionActive` (on the
///      coordinator's) reads one, the verifier (the existence flag) with the status.
contract ModelRegistry is IModelRegistry {
    /// @inheritdoc IModelRegistry
    uint256 public constant override MAX_NAME_LENGTH = 64;

    /// @dev Storage form of a model. `owner != address(0)` is the existence flag: a registrant is never zero.
    struct StoredModel {
        // slot 0
        address owner;
        uint32 versionCount;
        // slot 1
        address pendingOwner;
        // slot 2..
        string name;
    }

    /// @dev Storage form of a version; the first three slots hold what `verificationTarget` returns. `verifier`
    ///      is never zero for an added version (`addVersion` requires code there), so it is the existence flag.
    struct StoredVersion {
        // slot 0 (hot; all `isVersionActive` reads)
        address verifier;
        bool deprecated;
        uint32 instanceCount;
        uint32 inputOffset;
        // slot 1 (hot)
        uint32 inputCount;
        uint32 outputOffset;
        uint32 outputCount;
        uint8 inputScale;
        uint8 outputScale;
        uint32 floatMetricBps;
        uint32 circuitMetricBps;
        uint64 registeredAt;
        // slot 2 (hot)
        bytes32 verifierCodeHash;
        // slots 3..7
        bytes32 modelHash;
        bytes32 settingsHash;
        bytes32 circuitHash;
        bytes32 srsHash;
        bytes32 vkHash;
        // slot 8..
        string metadataURI;
    }

    mapping(bytes32 modelId => StoredModel) private _models;
    mapping(bytes32 modelId => mapping(uint32 version => StoredVersion)) private _versions;

    /// @dev Reverts unless `modelId` is registered and the caller owns it; returns the model.
    function _ownedModel(bytes32 modelId) private view returns (StoredModel storage model) {
        model = _models[modelId];
        address owner = model.owner;
        if (owner == address(0)) revert RegistryModelUnknown({modelId: modelId});
        if (owner != msg.sender)
            revert RegistryNotModelOwner({modelId: modelId, caller: msg.sender, owner: owner});
    }

    /// @dev Reverts unless `modelId` is registered; returns the model.
    function _existingModel(bytes32 modelId) private view returns (StoredModel storage model) {
        model = _models[modelId];
        if (model.owner == address(0)) revert RegistryModelUnknown({modelId: modelId});
    }

    /// @dev Reverts unless `version` exists for `model`; returns the version.
    function _existingVersion(
        StoredModel storage model,
        bytes32 modelId,
        uint32 version
    ) private view returns (StoredVersion storage) {
        uint32 latest = model.versionCount;
        if (version == 0 || version > latest) {
            revert RegistryVersionUnknown({modelId: modelId, version: version, latestVersion: latest});
        }
        return _versions[modelId][version];
    }

    // ---------------------------------------------------------------------------------------------------------
    // Owner actions
    // ---------------------------------------------------------------------------------------------------------

    /// @inheritdoc IModelRegistry
    function registerModel(string calldata name) external override returns (bytes32 modelId) {
        uint256 length = bytes(name).length;
        if (length == 0) revert RegistryModelNameEmpty({registrant: msg.sender});
        if (length > MAX_NAME_LENGTH)
            revert RegistryModelNameTooLong({length: length, maxLength: MAX_NAME_LENGTH});
        modelId = computeModelId(msg.sender, name);
        StoredModel storage model = _models[modelId];
        if (model.owner != address(0)) revert RegistryModelAlreadyRegistered({modelId: modelId});
        model.owner = msg.sender;
        model.name = name;
        emit ModelRegistered({modelId: modelId, owner: msg.sender, name: name});
    }

    /// @inheritdoc IModelRegistry
    function addVersion(
        bytes32 modelId,
        VersionParams calldata params
    ) external override returns (uint32 version) {
        StoredModel storage model = _ownedModel(modelId);
        _checkVerifier(params.verifier, params.verifierCodeHash);
        _checkArtifactHashes(params);
        _checkLayout(params.layout);

        uint32 latest = model.versionCount;
        if (latest == type(uint32).max) revert RegistryVersionLimitReached({modelId: modelId});
        // unchecked: latest < type(uint32).max was just checked.
        unchecked {
            version = latest + 1;
        }
        model.versionCount = version;

        StoredVersion storage stored = _versions[modelId][version];
        InstanceLayout calldata layout = params.layout;
        stored.verifier = params.verifier;
        stored.instanceCount = layout.instanceCount;
        stored.inputOffset = layout.inputOffset;
        stored.inputCount = layout.inputCount;
        stored.outputOffset = layout.outputOffset;
        stored.outputCount = layout.outputCount;
        stored.inputScale = params.inputScale;
        stored.outputScale = params.outputScale;
        stored.floatMetricBps = params.floatMetricBps;
        stored.circuitMetricBps = params.circuitMetricBps;
        stored.registeredAt = uint64(block.timestamp);
        stored.verifierCodeHash = params.verifierCodeHash;
        stored.modelHash = params.modelHash;
        stored.settingsHash = params.settingsHash;
        stored.circuitHash = params.circuitHash;
        stored.srsHash = params.srsHash;
        stored.vkHash = params.vkHash;
        stored.metadataURI = params.metadataURI;

        emit VersionRegistered({
            modelId: modelId,
            version: version,
            verifier: params.verifier,
            verifierCodeHash: params.verifierCodeHash,
            vkHash: params.vkHash
        });
    }

    /// @inheritdoc IModelRegistry
    function deprecateVersion(bytes32 modelId, uint32 version) external override {
        StoredVersion storage stored = _existingVersion(_ownedModel(modelId), modelId, version);
        if (stored.deprecated) revert RegistryVersionAlreadyDeprecated({modelId: modelId, version: version});
        stored.deprecated = true;
        emit VersionDeprecated({modelId: modelId, version: version});
    }

    /// @inheritdoc IModelRegistry
    function reactivateVersion(bytes32 modelId, uint32 version) external override {
        StoredVersion storage stored = _existingVersion(_ownedModel(modelId), modelId, version);
        if (!stored.deprecated) revert RegistryVersionNotDeprecated({modelId: modelId, version: version});
        stored.deprecated = false;
        emit VersionReactivated({modelId: modelId, version: version});
    }

    /// @inheritdoc IModelRegistry
    function transferModelOwnership(bytes32 modelId, address newOwner) external override {
        StoredModel storage model = _ownedModel(modelId);
        model.pendingOwner = newOwner;
        emit ModelOwnershipTransferStarted({modelId: modelId, previousOwner: msg.sender, newOwner: newOwner});
    }

    /// @inheritdoc IModelRegistry
    function acceptModelOwnership(bytes32 modelId) external override {
        StoredModel storage model = _existingModel(modelId);
        address pending = model.pendingOwner;
        if (pending != msg.sender) {
            revert RegistryNotPendingModelOwner({
                modelId: modelId,
                caller: msg.sender,
                pendingOwner: pending
            });
        }
        address previousOwner = model.owner;
        model.owner = msg.sender;
        delete model.pendingOwner;
        emit ModelOwnershipTransferred({
            modelId: modelId,
            previousOwner: previousOwner,
            newOwner: msg.sender
        });
    }

    // ---------------------------------------------------------------------------------------------------------
    // Views
    // ---------------------------------------------------------------------------------------------------------

    /// @inheritdoc IModelRegistry
    function computeModelId(address registrant, string calldata name) public pure override returns (bytes32) {
        return keccak256(abi.encode(registrant, name));
    }

    /// @inheritdoc IModelRegistry
    function modelExists(bytes32 modelId) external view override returns (bool) {
        return _models[modelId].owner != address(0);
    }

    /// @inheritdoc IModelRegistry
    function getModel(bytes32 modelId) external view override returns (ModelInfo memory) {
        StoredModel storage model = _existingModel(modelId);
        return
            ModelInfo({
                owner: model.owner,
                pendingOwner: model.pendingOwner,
                versionCount: model.versionCount,
                name: model.name
            });
    }

    /// @inheritdoc IModelRegistry
    function getVersion(
        bytes32 modelId,
        uint32 version
    ) external view override returns (ModelVersion memory) {
        StoredVersion storage stored = _existingVersion(_existingModel(modelId), modelId, version);
        return
            ModelVersion({
                modelHash: stored.modelHash,
                settingsHash: stored.settingsHash,
                circuitHash: stored.circuitHash,
                srsHash: stored.srsHash,
                vkHash: stored.vkHash,
                verifier: stored.verifier,
                verifierCodeHash: stored.verifierCodeHash,
                inputScale: stored.inputScale,
                outputScale: stored.outputScale,
                layout: _layoutOf(stored),
                floatMetricBps: stored.floatMetricBps,
                circuitMetricBps: stored.circuitMetricBps,
                metadataURI: stored.metadataURI,
                registeredAt: stored.registeredAt,
                deprecated: stored.deprecated
            });
    }

    /// @inheritdoc IModelRegistry
    function latestVersion(bytes32 modelId) external view override returns (uint32) {
        return _existingModel(modelId).versionCount;
    }

    /// @inheritdoc IModelRegistry
    function latestActiveVersion(bytes32 modelId) external view override returns (uint32) {
        mapping(uint32 => StoredVersion) storage versions = _versions[modelId];
        for (uint32 v = _existingModel(modelId).versionCount; v != 0;) {
            if (!versions[v].deprecated) return v;
            // unchecked: the loop condition guarantees v != 0.
            unchecked {
                --v;
            }
        }
        return 0;
    }

    /// @inheritdoc IModelRegistry
    function isVersionActive(bytes32 modelId, uint32 version) external view override returns (bool) {
        StoredVersion storage stored = _versions[modelId][version];
        (address verifier, bool deprecated) = (stored.verifier, stored.deprecated); // one slot, read once
        return verifier != address(0) && !deprecated;
    }

    /// @inheritdoc IModelRegistry
    function verificationTarget(
        bytes32 modelId,
        uint32 version
    ) external view override returns (VerificationTarget memory target) {
        StoredModel storage model = _models[modelId];
        if (model.owner == address(0)) return target;
        target.modelExists = true;
        uint32 latest = model.versionCount;
        target.latestVersion = latest;
        if (version == 0 || version > latest) return target;
        StoredVersion storage stored = _versions[modelId][version];
        target.versionExists = true;
        target.deprecated = stored.deprecated;
        target.verifier = stored.verifier;
        target.verifierCodeHash = stored.verifierCodeHash;
        target.layout = _layoutOf(stored);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Checks
    // ---------------------------------------------------------------------------------------------------------

    /// @dev The verifier must be deployed code whose hash is the one the manifest names.
    function _checkVerifier(address verifier, bytes32 expectedCodeHash) private view {
        if (verifier.code.length == 0) revert RegistryVerifierHasNoCode({verifier: verifier});
        bytes32 actual = verifier.codehash;
        if (actual != expectedCodeHash) {
            revert RegistryVerifierCodeHashMismatch({
                verifier: verifier,
                expected: expectedCodeHash,
                actual: actual
            });
        }
    }

    /// @dev A zero sha256 cannot come from a real artefact: it means the manifest lacked the field.
    function _checkArtifactHashes(VersionParams calldata params) private pure {
        if (params.modelHash == bytes32(0)) revert RegistryArtifactHashMissing({artifact: Artifact.Model});
        if (params.settingsHash == bytes32(0))
            revert RegistryArtifactHashMissing({artifact: Artifact.Settings});
        if (params.circuitHash == bytes32(0))
            revert RegistryArtifactHashMissing({artifact: Artifact.Circuit});
        if (params.srsHash == bytes32(0)) revert RegistryArtifactHashMissing({artifact: Artifact.Srs});
        if (params.vkHash == bytes32(0))
            revert RegistryArtifactHashMissing({artifact: Artifact.VerifyingKey});
    }

    /// @dev Both ranges non-empty, inside [0, instanceCount), and disjoint. Sums are taken in uint256 so that
    ///      offsets near 2^32 cannot wrap around into range.
    function _checkLayout(InstanceLayout calldata layout) private pure {
        uint32 inputOffset = layout.inputOffset;
        uint32 inputCount = layout.inputCount;
        uint32 outputOffset = layout.outputOffset;
        uint32 outputCount = layout.outputCount;
        uint32 instanceCount = layout.instanceCount;
        if (inputCount == 0 || outputCount == 0) {
            revert RegistryLayoutCountZero({inputCount: inputCount, outputCount: outputCount});
        }
        uint256 inputEnd = uint256(inputOffset) + inputCount;
        uint256 outputEnd = uint256(outputOffset) + outputCount;
        if (inputEnd > instanceCount) {
            revert RegistryLayoutRangeOutOfBounds({
                offset: inputOffset,
                count: inputCount,
                instanceCount: instanceCount
            });
        }
        if (outputEnd > instanceCount) {
            revert RegistryLayoutRangeOutOfBounds({
                offset: outputOffset,
                count: outputCount,
                instanceCount: instanceCount
            });
        }
        if (inputOffset < outputEnd && outputOffset < inputEnd) {
            revert RegistryLayoutRangesOverlap({
                inputOffset: inputOffset,
                inputCount: inputCount,
                outputOffset: outputOffset,
                outputCount: outputCount
            });
        }
    }

    /// @dev Reassembles the layout from the two packed slots it is split over.
    function _layoutOf(StoredVersion storage stored) private view returns (InstanceLayout memory) {
        return
            InstanceLayout({
                instanceCount: stored.instanceCount,
                inputOffset: stored.inputOffset,
                inputCount: stored.inputCount,
                outputOffset: stored.outputOffset,
                outputCount: stored.outputCount
            });
    }
}
