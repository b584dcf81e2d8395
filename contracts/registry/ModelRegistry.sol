// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {IHalo2VerifierReusable} from "../interfaces/IHalo2VerifierReusable.sol";
import {IModelRegistry} from "../interfaces/IModelRegistry.sol";
import {InferenceProof} from "../libraries/InferenceProof.sol";

/// @title ModelRegistry
/// @notice Records models and their immutable versions as data: the VKA each is verified against (stored on-chain as
///         contract code, after the version's artefact hashes and metrics), the suite verifier that checks it,
///         its layout, scales and SRS provenance. Owners cannot supply verifier code.
/// @dev The registry's owner (`Ownable2Step`) is the suite admin: it can only propose suite verifiers (timelocked
///      by the immutable `VERIFIER_ACTIVATION_DELAY`) and stop them (final). Models have their own owners. The
///      stored version is packed so that a request and a fulfilment each read one slot of it (the VKA store,
///      status, verifier id and layout: `requestTarget`, `fulfilmentCircuit`) plus the verifier's slot. What no
///      path reads on-chain (artefact hashes, metrics) lives in the VKA store's code, before the VKA (200 gas a
///      byte against 625 for storage), and the metadata URI only in `VersionRegistered`.
contract ModelRegistry is IModelRegistry, Ownable2Step {
    /// @inheritdoc IModelRegistry
    uint256 public constant override MAX_NAME_LENGTH = 64;

    /// @dev The VKA words the SRS G2 points end at: [1]2 is words 16..19, -[tau]2 words 20..23 (see
    ///      `IHalo2VerifierReusable`); a shorter VKA is not EZKL's.
    uint256 private constant MIN_VKA_WORDS = 24;

    /// @dev The longest VKA one contract's code can hold after its leading STOP byte and a version's description
    ///      (EIP-170: 24,576 bytes).
    uint256 private constant MAX_VKA_WORDS = 762; // floor((24,576 - 1 - DESCRIPTION_BYTES) / 32)

    /// @dev The length of a version's description in its VKA store's code, before the VKA: the store format is
    ///      `InferenceProof`'s, which the coordinator and the route read the VKA with.
    uint256 private constant DESCRIPTION_BYTES = InferenceProof.DESCRIPTION_BYTES;

    // The ceremony SRS's G2 points, as the pairing check of an EZKL verifier uses them (x = x1 + x2*u, y likewise,
    // each word as EZKL writes it). [1]2 is BN254's standard G2 generator. -[tau]2 is the Perpetual Powers of Tau
    // ceremony's, as EZKL distributes it (`get_srs`, the files whose SHA-256 EZKL pins per k in
    // zkonduit/ezkl src/srs_sha.rs; tau is the same for every k): copied from EZKL's own test verifier built on
    // that SRS, zkonduit/ezkl@5da444ee tests/assets/wasm.code (mstore of words 0x186282..., 0x179443...,
    // 0x06d971..., 0x06ecdb... as neg_s_g2), the same four words every public EZKL-generated verifier on the
    // public SRS embeds as `neg_s_g2_x_1, neg_s_g2_x_2, neg_s_g2_y_1, neg_s_g2_y_2`.
    bytes32 private constant G2_X_1 = 0x198e9393920d483a7260bfb731fb5d25f1aa493335a9e71297e485b7aef312c2;
    bytes32 private constant G2_X_2 = 0x1800deef121f1e76426a00665e5c4479674322d4f75edadd46debd5cd992f6ed;
    bytes32 private constant G2_Y_1 = 0x090689d0585ff075ec9e99ad690c3395bc4b313370b38ef355acdadcd122975b;
    bytes32 private constant G2_Y_2 = 0x12c85ea5db8c6deb4aab71808dcb408fe3d1e7690c43d37b4ce6cc0166fa7daa;
    bytes32 private constant NEG_TAU_G2_X_1 =
        0x186282957db913abd99f91db59fe69922e95040603ef44c0bd7aa3adeef8f5ac;
    bytes32 private constant NEG_TAU_G2_X_2 =
        0x17944351223333f260ddc3b4af45191b856689eda9eab5cbcddbbe570ce860d2;
    bytes32 private constant NEG_TAU_G2_Y_1 =
        0x06d971ff4a7467c3ec596ed6efc674572e32fd6f52b721f97e35b0b3d3546753;
    bytes32 private constant NEG_TAU_G2_Y_2 =
        0x06ecdb9f9567f59ed2eee36e1e1d58797fd13cc97fafc2910f5e8a12f202fa9a;

    /// @inheritdoc IModelRegistry
    uint32 public constant override MAX_BATCH_SIZE = 64;

    /// @inheritdoc IModelRegistry
    uint256 public constant override MAX_VARIANTS = 8;

    /// @inheritdoc IModelRegistry
    uint32 public constant override MAX_SUITE_VERIFIERS = 255; // a version holds its verifier id in 8 bits

    /// @inheritdoc IModelRegistry
    uint64 public immutable override LATEST_DELAY;

    /// @inheritdoc IModelRegistry
    uint64 public immutable override VERIFIER_ACTIVATION_DELAY;

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

    /// @dev Storage form of a version. `status != None` is the existence flag (an added version is `Active`).
    ///      Slots are grouped by who reads them together (see the slot comments), not packed tightest. The rest of
    ///      the version (artefact hashes, metrics) is in its VKA store's code, before the VKA.
    // solhint-disable-next-line gas-struct-packing
    struct StoredVersion {
        // slot 0 (hot: the one version slot a request and a fulfilment read, through `requestTarget` and
        // `fulfilmentCircuit`): the layout is stored in 16 bits a field and the suite verifier id in 8, both
        // checked when added (`RegistryLayoutTooLarge`, `RegistrySuiteVerifierLimitReached`).
        address vka;
        VersionStatus status;
        uint8 suiteVerifierId;
        uint16 instanceCount;
        uint16 inputOffset;
        uint16 inputCount;
        uint16 outputOffset;
        uint16 outputCount;
        // slot 1
        uint32 vkaWords;
        bool ceremonySrs;
        uint8 inputScale;
        uint8 outputScale;
        uint64 registeredAt;
        // slot 2 (the route's `verificationTarget`; a fulfilment hashes the VKA it copies instead)
        bytes32 vkaDigest;
    }

    /// @dev Storage form of a batch variant; slot 0 (the store) is what fulfilment reads.
    struct StoredVariant {
        address vka;
        bytes32 vkaDigest;
    }

    /// @dev Storage form of a suite verifier; slot 0 is what fulfilment reads.
    struct StoredVerifier {
        address verifier;
        uint64 activatesAt;
        bool stopped;
        bytes32 codeHash;
    }

    mapping(bytes32 modelId => StoredModel) private _models;
    mapping(bytes32 modelId => mapping(uint32 version => StoredVersion)) private _versions;
    /// @dev The first version of a model with a VKA digest (0: none), for the duplicate check.
    mapping(bytes32 modelId => mapping(bytes32 vkaDigest => uint32 version)) private _versionOfDigest;
    mapping(uint32 id => StoredVerifier) private _suiteVerifiers;
    uint32 private _suiteVerifierCount;

    /// @dev A version's batch variants by batch size (see `Variant`), and their sizes in registration order
    ///      (ascending) for `variants`.
    mapping(bytes32 modelId => mapping(uint32 version => mapping(uint32 batchSize => StoredVariant)))
        private _variants;
    mapping(bytes32 modelId => mapping(uint32 version => uint32[] batchSizes)) private _variantSizes;

    /// @param admin The suite admin (the registry's owner), who proposes and stops suite verifiers.
    /// @param verifier The first suite verifier (EZKL's reusable verifier, deployed with the suite), active at once.
    /// @param verifierCodeHash Its expected code hash.
    /// @param latestDelay `LATEST_DELAY`, in seconds.
    /// @param verifierActivationDelay `VERIFIER_ACTIVATION_DELAY`, in seconds.
    constructor(
        address admin,
        address verifier,
        bytes32 verifierCodeHash,
        uint64 latestDelay,
        uint64 verifierActivationDelay
    ) Ownable(admin) {
        LATEST_DELAY = latestDelay;
        VERIFIER_ACTIVATION_DELAY = verifierActivationDelay;
        _addSuiteVerifier(verifier, verifierCodeHash, uint64(block.timestamp));
    }

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
        VersionParams calldata params,
        bytes32[] calldata vka,
        Variant[] calldata batchVariants,
        bool allowDuplicate
    ) external override returns (uint32 version) {
        StoredModel storage model = _ownedModel(modelId);
        _checkArtifactHashes(params);
        _checkLayout(params.layout);
        (bytes32 digest, address store, uint32 verifierId) = _registerVka(
            modelId,
            params,
            vka,
            allowDuplicate
        );

        {
            uint32 latest = model.versionCount;
            if (latest == type(uint32).max) revert RegistryVersionLimitReached({modelId: modelId});
            // unchecked: latest < type(uint32).max was just checked.
            unchecked {
                version = latest + 1;
            }
        }
        model.versionCount = version;
        if (_versionOfDigest[modelId][digest] == 0) _versionOfDigest[modelId][digest] = version;

        StoredVersion storage stored = _versions[modelId][version];
        stored.vka = store;
        stored.status = VersionStatus.Active;
        stored.suiteVerifierId = uint8(verifierId); // <= MAX_SUITE_VERIFIERS, checked in `_addSuiteVerifier`
        stored.vkaWords = uint32(vka.length); // <= MAX_VKA_WORDS, checked in `_registerVka`
        stored.ceremonySrs = isCeremonyVka(vka);
        stored.vkaDigest = digest;
        _storeParams(stored, params);
        _emitRegistered(modelId, version, stored, params);
        if (batchVariants.length != 0) _addVariants(modelId, version, stored, batchVariants);
    }

    /// @inheritdoc IModelRegistry
    function deprecateVersion(bytes32 modelId, uint32 version) external override {
        _setStatus(modelId, version, VersionStatus.Active, VersionStatus.Deprecated);
        emit VersionDeprecated({modelId: modelId, version: version});
    }

    /// @inheritdoc IModelRegistry
    function reactivateVersion(bytes32 modelId, uint32 version) external override {
        _setStatus(modelId, version, VersionStatus.Deprecated, VersionStatus.Active);
        emit VersionReactivated({modelId: modelId, version: version});
    }

    /// @inheritdoc IModelRegistry
    function revokeVersion(bytes32 modelId, uint32 version) external override {
        StoredVersion storage stored = _existingVersion(_ownedModel(modelId), modelId, version);
        VersionStatus status = stored.status;
        if (status == VersionStatus.Revoked) {
            revert RegistryVersionStatusInvalid({modelId: modelId, version: version, status: status});
        }
        stored.status = VersionStatus.Revoked;
        emit VersionRevoked({modelId: modelId, version: version});
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
    // Suite admin
    // ---------------------------------------------------------------------------------------------------------

    /// @inheritdoc IModelRegistry
    function proposeSuiteVerifier(
        address verifier,
        bytes32 codeHash
    ) external override onlyOwner returns (uint32 id) {
        id = _addSuiteVerifier(verifier, codeHash, uint64(block.timestamp) + VERIFIER_ACTIVATION_DELAY);
    }

    /// @inheritdoc IModelRegistry
    function stopSuiteVerifier(uint32 id) external override onlyOwner {
        StoredVerifier storage v = _suiteVerifiers[id];
        if (v.verifier == address(0) || v.stopped) revert RegistrySuiteVerifierNotStoppable({id: id});
        v.stopped = true;
        emit SuiteVerifierStopped({id: id, verifier: v.verifier});
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
    ) external view override returns (ModelVersion memory v) {
        StoredVersion storage stored = _existingVersion(_existingModel(modelId), modelId, version);
        (v.vka, v.vkaWords) = (stored.vka, stored.vkaWords);
        _readDescription(v);
        v.vkaDigest = stored.vkaDigest;
        v.suiteVerifierId = stored.suiteVerifierId;
        v.ceremonySrs = stored.ceremonySrs;
        v.inputScale = stored.inputScale;
        v.outputScale = stored.outputScale;
        v.layout = _layoutOf(stored);
        v.registeredAt = stored.registeredAt;
        v.status = stored.status;
    }

    /// @inheritdoc IModelRegistry
    function latestVersion(bytes32 modelId) external view override returns (uint32) {
        return _existingModel(modelId).versionCount;
    }

    /// @inheritdoc IModelRegistry
    function latestActiveVersion(bytes32 modelId) external view override returns (uint32) {
        mapping(uint32 => StoredVersion) storage versions = _versions[modelId];
        for (uint32 v = _existingModel(modelId).versionCount; v != 0;) {
            StoredVersion storage stored = versions[v];
            if (
                stored.status == VersionStatus.Active &&
                stored.registeredAt + LATEST_DELAY < block.timestamp + 1 &&
                !_suiteVerifiers[stored.suiteVerifierId].stopped
            ) return v;
            // unchecked: the loop condition guarantees v != 0.
            unchecked {
                --v;
            }
        }
        return 0;
    }

    /// @inheritdoc IModelRegistry
    function usesCeremonySrs(bytes32 modelId, uint32 version) external view override returns (bool) {
        return _existingVersion(_existingModel(modelId), modelId, version).ceremonySrs;
    }

    /// @inheritdoc IModelRegistry
    function isCeremonyVka(bytes32[] calldata vka) public pure override returns (bool) {
        if (vka.length < MIN_VKA_WORDS) return false;
        return
            vka[16] == G2_X_1 &&
            vka[17] == G2_X_2 &&
            vka[18] == G2_Y_1 &&
            vka[19] == G2_Y_2 &&
            vka[20] == NEG_TAU_G2_X_1 &&
            vka[21] == NEG_TAU_G2_X_2 &&
            vka[22] == NEG_TAU_G2_Y_1 &&
            vka[23] == NEG_TAU_G2_Y_2;
    }

    /// @inheritdoc IModelRegistry
    function fulfilmentTarget(
        bytes32 modelId,
        uint32 version
    ) external view override returns (VersionStatus status, address verifier, bool verifierStopped) {
        StoredVersion storage stored = _versions[modelId][version];
        (VersionStatus s, uint32 id) = (stored.status, stored.suiteVerifierId); // one slot, read once
        if (s == VersionStatus.None) return (s, address(0), false);
        StoredVerifier storage v = _suiteVerifiers[id];
        return (s, v.verifier, v.stopped);
    }

    /// @inheritdoc IModelRegistry
    function variants(
        bytes32 modelId,
        uint32 version
    ) external view override returns (VariantInfo[] memory list) {
        uint32[] storage sizes = _variantSizes[modelId][version];
        list = new VariantInfo[](sizes.length);
        for (uint256 i = 0; i < list.length; ++i) {
            uint32 batchSize = sizes[i];
            StoredVariant storage v = _variants[modelId][version][batchSize];
            list[i] = VariantInfo({batchSize: batchSize, vka: v.vka, vkaDigest: v.vkaDigest});
        }
    }

    /// @inheritdoc IModelRegistry
    function batchTarget(
        bytes32 modelId,
        uint32 version,
        uint32 batchSize
    )
        external
        view
        override
        returns (VersionStatus status, address verifier, bool verifierStopped, address vka, bytes32 vkaDigest)
    {
        StoredVersion storage stored = _versions[modelId][version];
        uint32 id;
        (status, id, vka) = (stored.status, stored.suiteVerifierId, stored.vka); // one slot, read once
        if (status == VersionStatus.None) return (status, address(0), false, address(0), bytes32(0));
        StoredVerifier storage v = _suiteVerifiers[id];
        (verifier, verifierStopped) = (v.verifier, v.stopped);
        if (batchSize == 1) return (status, verifier, verifierStopped, vka, stored.vkaDigest);
        StoredVariant storage variant = _variants[modelId][version][batchSize];
        return (status, verifier, verifierStopped, variant.vka, variant.vkaDigest);
    }

    /// @inheritdoc IModelRegistry
    function requestTarget(
        bytes32 modelId,
        uint32 version
    ) external view override returns (VersionStatus status, uint32 inputCount, bool verifierStopped) {
        StoredVersion storage stored = _versions[modelId][version];
        uint32 id;
        (status, id) = (stored.status, stored.suiteVerifierId); // one slot, read once
        if (status == VersionStatus.None) return (status, 0, false);
        return (status, stored.inputCount, _suiteVerifiers[id].stopped);
    }

    /// @inheritdoc IModelRegistry
    function fulfilmentCircuit(
        bytes32 modelId,
        uint32 version,
        uint256 instanceCount
    ) external view override returns (FulfilmentCircuit memory c) {
        StoredVersion storage stored = _versions[modelId][version];
        uint32 id;
        address vka;
        (c.status, id, vka) = (stored.status, stored.suiteVerifierId, stored.vka); // one slot, read once
        if (c.status == VersionStatus.None) return c;
        StoredVerifier storage v = _suiteVerifiers[id];
        (c.verifier, c.verifierStopped) = (v.verifier, v.stopped);
        c.layout = _layoutOf(stored);
        uint256 perBlock = c.layout.instanceCount; // > 0: no empty layout is registered
        uint256 size = instanceCount / perBlock;
        if (size == 0 || size * perBlock != instanceCount || size > MAX_BATCH_SIZE) return c;
        c.batchSize = uint32(size);
        c.vka = size == 1 ? vka : _variants[modelId][version][uint32(size)].vka;
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
        StoredVerifier storage v = _suiteVerifiers[stored.suiteVerifierId];
        target.status = stored.status;
        target.verifierStopped = v.stopped;
        target.ceremonySrs = stored.ceremonySrs;
        target.verifier = v.verifier;
        target.vka = stored.vka;
        target.vkaDigest = stored.vkaDigest;
        target.layout = _layoutOf(stored);
    }

    /// @inheritdoc IModelRegistry
    function suiteVerifierCount() external view override returns (uint32) {
        return _suiteVerifierCount;
    }

    /// @inheritdoc IModelRegistry
    function suiteVerifier(uint32 id) external view override returns (SuiteVerifier memory) {
        StoredVerifier storage v = _suiteVerifiers[id];
        if (v.verifier == address(0))
            revert RegistrySuiteVerifierUnknown({id: id, count: _suiteVerifierCount});
        return
            SuiteVerifier({
                verifier: v.verifier,
                codeHash: v.codeHash,
                activatesAt: v.activatesAt,
                stopped: v.stopped
            });
    }

    /// @inheritdoc IModelRegistry
    function currentSuiteVerifier() public view override returns (uint32 id) {
        for (id = _suiteVerifierCount; id != 0;) {
            StoredVerifier storage v = _suiteVerifiers[id];
            if (!v.stopped && v.activatesAt < block.timestamp + 1) return id;
            // unchecked: the loop condition guarantees id != 0.
            unchecked {
                --id;
            }
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Internals and checks
    // ---------------------------------------------------------------------------------------------------------

    /// @dev Records a suite verifier after checking its code hash; ids start at 1.
    function _addSuiteVerifier(
        address verifier,
        bytes32 codeHash,
        uint64 activatesAt
    ) private returns (uint32 id) {
        bytes32 actual = verifier.codehash;
        if (verifier.code.length == 0 || actual != codeHash) {
            revert RegistrySuiteVerifierCodeHashMismatch({
                verifier: verifier,
                expected: codeHash,
                actual: actual
            });
        }
        id = _suiteVerifierCount + 1;
        if (id > MAX_SUITE_VERIFIERS)
            revert RegistrySuiteVerifierLimitReached({maxCount: MAX_SUITE_VERIFIERS});
        _suiteVerifierCount = id;
        _suiteVerifiers[id] = StoredVerifier({
            verifier: verifier,
            activatesAt: activatesAt,
            stopped: false,
            codeHash: codeHash
        });
        emit SuiteVerifierProposed({
            id: id,
            verifier: verifier,
            codeHash: codeHash,
            activatesAt: activatesAt
        });
    }

    /// @dev Checks the VKA (length, not a duplicate for the model unless allowed), stores it after the version's
    ///      description (see `_description`) and registers it with the current suite verifier; returns its digest,
    ///      its store and the verifier's id.
    function _registerVka(
        bytes32 modelId,
        VersionParams calldata params,
        bytes32[] calldata vka,
        bool allowDuplicate
    ) private returns (bytes32 digest, address store, uint32 verifierId) {
        _checkVkaLength(vka.length);
        verifierId = currentSuiteVerifier();
        if (verifierId == 0) revert RegistryNoSuiteVerifier({suiteVerifierCount: _suiteVerifierCount});
        digest = _digest(vka);
        uint32 existing = _versionOfDigest[modelId][digest];
        if (existing != 0 && !allowDuplicate) {
            revert RegistryVersionDuplicate({modelId: modelId, vkaDigest: digest, existingVersion: existing});
        }
        store = _storeAndRegisterVka(vka, digest, _description(params), verifierId);
    }

    /// @dev Stores `description` then `vka` in a new contract and registers the VKA with suite verifier
    ///      `verifierId`, which must report `digest` for it; returns the store.
    function _storeAndRegisterVka(
        bytes32[] calldata vka,
        bytes32 digest,
        bytes memory description,
        uint32 verifierId
    ) private returns (address store) {
        store = _storeVka(vka, digest, description);
        bytes32 registered = IHalo2VerifierReusable(_suiteVerifiers[verifierId].verifier).registerVka(vka);
        if (registered != digest) revert RegistryVkaDigestMismatch({expected: digest, actual: registered});
    }

    /// @dev Registers a new version's batch variants (see `Variant`): at most `MAX_VARIANTS`, the version's layout
    ///      of the one form the block layout needs, then each variant (see `_addVariant`) in ascending batch size.
    function _addVariants(
        bytes32 modelId,
        uint32 version,
        StoredVersion storage stored,
        Variant[] calldata list
    ) private {
        if (list.length > MAX_VARIANTS)
            revert RegistryTooManyVariants({count: list.length, maxVariants: MAX_VARIANTS});
        (uint32 inputOffset, uint32 inputCount, uint32 outputOffset, uint32 instanceCount) = (
            stored.inputOffset,
            stored.inputCount,
            stored.outputOffset,
            stored.instanceCount
        );
        // outputOffset == inputCount and instanceCount == inputCount + outputCount (uint256: no wrap-around).
        if (
            inputOffset != 0 ||
            outputOffset != inputCount ||
            uint256(instanceCount) != uint256(inputCount) + stored.outputCount
        ) {
            revert RegistryVariantLayoutUnsupported({
                inputOffset: inputOffset,
                outputOffset: outputOffset,
                instanceCount: instanceCount
            });
        }
        uint32 previous = 1;
        for (uint256 i = 0; i < list.length; ++i) {
            previous = _addVariant(modelId, version, stored, list[i], previous);
        }
    }

    /// @dev Registers one variant of a batch size in (previous, MAX_BATCH_SIZE], with a VKA of a valid length on
    ///      the version's SRS, stored and registered with the version's suite verifier; returns its batch size.
    function _addVariant(
        bytes32 modelId,
        uint32 version,
        StoredVersion storage stored,
        Variant calldata v,
        uint32 previous
    ) private returns (uint32 batchSize) {
        batchSize = v.batchSize;
        if (batchSize < previous + 1 || batchSize > MAX_BATCH_SIZE) {
            revert RegistryVariantBatchSizeInvalid({
                batchSize: batchSize,
                previous: previous,
                maxBatchSize: MAX_BATCH_SIZE
            });
        }
        bytes32[] calldata vka = v.vka;
        _checkVkaLength(vka.length);
        bool ceremonySrs = stored.ceremonySrs;
        if (isCeremonyVka(vka) != ceremonySrs) {
            revert RegistryVariantSrsMismatch({batchSize: batchSize, ceremonySrs: ceremonySrs});
        }
        bytes32 digest = _digest(vka);
        address store = _storeAndRegisterVka(vka, digest, "", stored.suiteVerifierId);
        _variants[modelId][version][batchSize] = StoredVariant({vka: store, vkaDigest: digest});
        _variantSizes[modelId][version].push(batchSize);
        emit VariantRegistered({
            modelId: modelId,
            version: version,
            batchSize: batchSize,
            vkaDigest: digest,
            vka: store
        });
    }

    /// @dev Reverts with `RegistryVkaLengthInvalid` unless a VKA of `words` words can be stored and verified.
    function _checkVkaLength(uint256 words) private pure {
        if (words < MIN_VKA_WORDS || words > MAX_VKA_WORDS) {
            revert RegistryVkaLengthInvalid({words: words, minWords: MIN_VKA_WORDS, maxWords: MAX_VKA_WORDS});
        }
    }

    /// @dev Emits `VersionRegistered` for a version just stored (its slots are warm) from `params`.
    function _emitRegistered(
        bytes32 modelId,
        uint32 version,
        StoredVersion storage stored,
        VersionParams calldata params
    ) private {
        emit VersionRegistered({
            modelId: modelId,
            version: version,
            vkaDigest: stored.vkaDigest,
            suiteVerifierId: stored.suiteVerifierId,
            vka: stored.vka,
            ceremonySrs: stored.ceremonySrs,
            vkHash: params.vkHash,
            latestAt: stored.registeredAt + LATEST_DELAY,
            metadataURI: params.metadataURI
        });
    }

    /// @dev Copies the hot part of the owner-supplied version into its storage (the rest goes into the VKA store's
    ///      code, see `_description`, or into the event).
    function _storeParams(StoredVersion storage stored, VersionParams calldata params) private {
        InstanceLayout calldata layout = params.layout;
        // Each field <= instanceCount <= type(uint16).max, checked in `_checkLayout`.
        stored.instanceCount = uint16(layout.instanceCount);
        stored.inputOffset = uint16(layout.inputOffset);
        stored.inputCount = uint16(layout.inputCount);
        stored.outputOffset = uint16(layout.outputOffset);
        stored.outputCount = uint16(layout.outputCount);
        stored.inputScale = params.inputScale;
        stored.outputScale = params.outputScale;
        stored.registeredAt = uint64(block.timestamp);
    }

    /// @dev A version's description as its VKA store's code starts with, after the STOP byte (`DESCRIPTION_BYTES`
    ///      bytes; see
    ///      `IModelRegistry.ModelVersion.vka`).
    function _description(VersionParams calldata params) private pure returns (bytes memory) {
        return
            abi.encodePacked(
                params.modelHash,
                params.settingsHash,
                params.circuitHash,
                params.srsHash,
                params.vkHash,
                params.floatMetricBps,
                params.circuitMetricBps
            );
    }

    /// @dev Fills `v`'s description fields from its VKA store `v.vka` (the STOP byte, the description, then the
    ///      VKA; see `_description`) with one `EXTCODECOPY`.
    function _readDescription(ModelVersion memory v) private view {
        bytes32[6] memory d; // 192 zeroed bytes; the description fills the first DESCRIPTION_BYTES (168)
        (address store, uint256 length) = (v.vka, DESCRIPTION_BYTES); // assembly takes no imported constant
        assembly ("memory-safe") {
            extcodecopy(store, d, 1, length)
        }
        (v.modelHash, v.settingsHash, v.circuitHash, v.srsHash, v.vkHash) = (d[0], d[1], d[2], d[3], d[4]);
        bytes32 metrics = d[5]; // the two uint32s, big-endian, in its first 8 bytes
        v.floatMetricBps = uint32(bytes4(metrics));
        v.circuitMetricBps = uint32(bytes4(metrics << 32));
    }

    /// @dev Moves a version from status `from` to `to`, for its owner; reverts naming the current status otherwise.
    function _setStatus(bytes32 modelId, uint32 version, VersionStatus from, VersionStatus to) private {
        StoredVersion storage stored = _existingVersion(_ownedModel(modelId), modelId, version);
        VersionStatus status = stored.status;
        if (status != from)
            revert RegistryVersionStatusInvalid({modelId: modelId, version: version, status: status});
        stored.status = to;
    }

    /// @dev `keccak256(abi.encodePacked(vka))`, the suite verifier's digest, hashed past the free memory pointer
    ///      without moving it (scratch).
    function _digest(bytes32[] calldata vka) private pure returns (bytes32 digest) {
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            let len := shl(5, vka.length)
            calldatacopy(ptr, vka.offset, len)
            digest := keccak256(ptr, len)
        }
    }

    /// @dev Deploys a contract whose code is a STOP byte, `head` (a version's description, or nothing for a batch
    ///      variant), then the VKA's words (SSTORE2): nobody can call into it, and `EXTCODECOPY` from `1 + head`'s
    ///      length to the end reads the VKA back. The init code is 10 bytes: PUSH2 size, DUP1, PUSH1 10,
    ///      RETURNDATASIZE (0), CODECOPY (to memory 0 from offset 10), RETURNDATASIZE (0), RETURN; then the code.
    ///      Built past the free memory pointer (and past `head`) without moving it (scratch). The code is at most
    ///      1 + DESCRIPTION_BYTES + 32 * MAX_VKA_WORDS = 24,553 bytes: under EIP-170's 24,576 and 2^16, so `size`
    ///      fits PUSH2.
    function _storeVka(
        bytes32[] calldata vka,
        bytes32 digest,
        bytes memory head
    ) private returns (address store) {
        assembly ("memory-safe") {
            let len := shl(5, vka.length)
            let headLen := mload(head)
            let size := add(add(1, len), headLen)
            let ptr := mload(0x40)
            // Bytes 0..10: 61 <size:2> 80 60 0a 3d 39 3d f3 00.
            mstore(ptr, or(or(shl(248, 0x61), shl(232, size)), shl(176, 0x80600a3d393df3)))
            // Word by word, not MCOPY (this file compiles from solc 0.8.20, before Cancun's opcodes): the last
            // word may write up to 31 bytes past `head`, which the VKA's copy right after it overwrites.
            for {
                let i := 0
            } lt(i, headLen) {
                i := add(i, 0x20)
            } {
                mstore(add(add(ptr, 11), i), mload(add(add(head, 0x20), i)))
            }
            calldatacopy(add(add(ptr, 11), headLen), vka.offset, len)
            store := create(0, ptr, add(10, size))
        }
        if (store == address(0)) revert RegistryVkaStoreFailed({vkaDigest: digest});
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
        if (instanceCount > type(uint16).max) {
            revert RegistryLayoutTooLarge({instanceCount: instanceCount, maxInstanceCount: type(uint16).max});
        }
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

    /// @dev Reassembles the layout from its packed slot.
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
