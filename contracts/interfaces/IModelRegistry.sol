// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

// Event fields a consumer filters on are indexed; the rest are data (solhint would index every small field).
/* solhint-disable gas-indexed-events */

/// @title IModelRegistry
/// @notice The on-chain record of which EZKL circuit a model version is, held as data: its verifying-key artifact
///         (VKA) checked by the suite's one reusable verifier, its instance layout, scales and artefact hashes, and
///         whether its SRS is the public ceremony's. Anyone can audit ONNX -> settings -> VK -> VKA digest -> here.
/// @dev Anyone may register a model and becomes its owner. Only the owner adds versions, numbered 1, 2, 3, ...
///      A version's content is immutable once added; its status moves Active <-> Deprecated, or to Revoked, which
///      is final. No model owner supplies verifier code: every version is verified by a suite verifier (EZKL's
///      `Halo2VerifierReusable`) that the registry fixed at deployment or activated through a timelock
///      (`proposeSuiteVerifier`, then `VERIFIER_ACTIVATION_DELAY` seconds) and that can be stopped for good
///      (`stopSuiteVerifier`, a tombstone), in the manner of RISC Zero's verifier router and emergency stop.
///      Ownership of a model moves in two steps (propose, then accept), like OpenZeppelin's `Ownable2Step`; the
///      registry's own owner (the suite admin) only proposes and stops suite verifiers.
interface IModelRegistry {
    // ---------------------------------------------------------------------------------------------------------
    // Types
    // ---------------------------------------------------------------------------------------------------------

    /// @notice Where the model's inputs and outputs sit in the circuit's flattened public instances.
    /// @dev EZKL's default layout with public inputs and outputs and `fixed` params is
    ///      `[inputs..., outputs...]`, i.e. `inputOffset = 0`, `outputOffset = inputCount`,
    ///      `instanceCount = inputCount + outputCount`; the offsets are stored explicitly so other layouts
    ///      (e.g. extra public instances) need no contract change. Both ranges are non-empty, lie inside
    ///      `[0, instanceCount)` and do not overlap.
    /// @param instanceCount The total number of public instances the verifier expects.
    /// @param inputOffset Index of the first input instance.
    /// @param inputCount Number of input instances (the flattened input tensor's length).
    /// @param outputOffset Index of the first output instance.
    /// @param outputCount Number of output instances (the flattened output tensor's length).
    struct InstanceLayout {
        uint32 instanceCount;
        uint32 inputOffset;
        uint32 inputCount;
        uint32 outputOffset;
        uint32 outputCount;
    }

    /// @notice A version's status. Only `Active` versions take new requests; every status but `Revoked` (and the
    ///         `None` of a version that does not exist) can still be fulfilled.
    enum VersionStatus {
        None,
        Active,
        Deprecated,
        Revoked
    }

    /// @notice A batch variant of a version, as `addVersion` takes it: the version's ONNX and weights compiled at
    ///         batch size `batchSize`, so that one proof carries `batchSize` inferences. Its instances are blocks:
    ///         block i's input at `i * inputCount`, its output at `batchSize * inputCount + i * outputCount` (the
    ///         version's own layout must be one input range at 0 directly followed by one output range, which is
    ///         the layout of every batch-1 circuit with one input and one output tensor).
    /// @param batchSize The batch size, 2 to `MAX_BATCH_SIZE`.
    /// @param vka The variant's VKA words, as for the version's own VKA.
    struct Variant {
        uint32 batchSize;
        bytes32[] vka;
    }

    /// @notice A registered batch variant (see `Variant`).
    /// @param batchSize Its batch size.
    /// @param vka The contract holding its VKA.
    /// @param vkaDigest Its VKA digest on the version's suite verifier.
    struct VariantInfo {
        uint32 batchSize;
        address vka;
        bytes32 vkaDigest;
    }

    /// @notice What the owner supplies to add a version, besides its VKA; every hash comes from the build manifest.
    /// @param modelHash sha256 of the ONNX file.
    /// @param settingsHash sha256 of EZKL's settings.json (visibilities, scales, logrows).
    /// @param circuitHash sha256 of the compiled circuit.
    /// @param srsHash sha256 of the structured reference string the keys were made with.
    /// @param vkHash sha256 of the verifying key (the `fixed` weights live inside it).
    /// @param inputScale Fixed-point scale of the inputs: an input real r is the integer round(r * 2^inputScale).
    /// @param outputScale Fixed-point scale of the outputs: an output integer x is the real x / 2^outputScale.
    /// @param layout Where inputs and outputs sit among the public instances.
    /// @param floatMetricBps The model's evaluation metric in basis points, run in floating point.
    /// @param circuitMetricBps The same metric in basis points, run through the quantised circuit.
    /// @param metadataURI Where the manifest and the rest of the artefacts can be fetched (may be empty). Not
    ///        stored: `VersionRegistered` carries it.
    // An ABI argument, never stored, so field order serves readers, not packing.
    // solhint-disable-next-line gas-struct-packing
    struct VersionParams {
        bytes32 modelHash;
        bytes32 settingsHash;
        bytes32 circuitHash;
        bytes32 srsHash;
        bytes32 vkHash;
        uint8 inputScale;
        uint8 outputScale;
        InstanceLayout layout;
        uint32 floatMetricBps;
        uint32 circuitMetricBps;
        string metadataURI;
    }

    /// @notice A registered version: the `VersionParams` fields but `metadataURI` (emitted in `VersionRegistered`,
    ///         not stored), what the registry derived from the VKA, when it was added, and its status.
    /// @dev Every field except `status` is immutable once the version exists. The five artefact hashes and the two
    ///      metrics are kept in the code of the version's VKA store, not in storage (see `vka`).
    /// @param vkaDigest `keccak256` of the VKA's words: what the suite verifier returns for this version's proofs.
    /// @param vka The contract holding the VKA (SSTORE2-style: nobody can call into it). Its code is, byte for byte:
    ///        a STOP byte (0x00); the version's description, 168 bytes: `modelHash`, `settingsHash`, `circuitHash`,
    ///        `srsHash`, `vkHash` (32 bytes each), `floatMetricBps`, `circuitMetricBps` (4 bytes each, big-endian);
    ///        then the VKA's `vkaWords` words, to the end of the code. Read the description with `EXTCODECOPY` from
    ///        offset 1, the VKA from offset 169 (`InferenceProof.VERSION_VKA_OFFSET`). Each version has its own store,
    ///        even when its VKA is another version's. A batch variant's store is the STOP byte and its VKA only
    ///        (from offset 1).
    /// @param vkaWords The VKA's length in 32-byte words.
    /// @param suiteVerifierId The suite verifier that checks this version's proofs (see `suiteVerifier`).
    /// @param ceremonySrs Whether the VKA's G2 points are those of the public ceremony SRS (see `usesCeremonySrs`).
    /// @param registeredAt Block timestamp of the `addVersion` call.
    /// @param status The version's status.
    // A return value, never stored (the registry packs its own storage form), so field order serves readers.
    // solhint-disable-next-line gas-struct-packing
    struct ModelVersion {
        bytes32 modelHash;
        bytes32 settingsHash;
        bytes32 circuitHash;
        bytes32 srsHash;
        bytes32 vkHash;
        bytes32 vkaDigest;
        address vka;
        uint32 vkaWords;
        uint32 suiteVerifierId;
        bool ceremonySrs;
        uint8 inputScale;
        uint8 outputScale;
        InstanceLayout layout;
        uint32 floatMetricBps;
        uint32 circuitMetricBps;
        uint64 registeredAt;
        VersionStatus status;
    }

    /// @notice A registered model.
    /// @param owner The account allowed to add, deprecate, reactivate and revoke versions and to transfer ownership.
    /// @param pendingOwner The account that may accept ownership, or zero when no transfer is pending.
    /// @param versionCount Number of versions added so far; also the highest version number (0 = none yet).
    /// @param name The name given at registration.
    struct ModelInfo {
        address owner;
        address pendingOwner;
        uint32 versionCount;
        string name;
    }

    /// @notice A suite verifier: an EZKL reusable verifier every version registered while it was current uses.
    /// @param verifier The contract.
    /// @param codeHash Its `extcodehash`, checked when it was added.
    /// @param activatesAt When new versions start using it (its deployment time for the constructor's verifier).
    /// @param stopped Whether it was stopped (a tombstone: final; its versions can no longer be fulfilled).
    // A return value, never stored (the registry packs its own storage form), so field order serves readers.
    // solhint-disable-next-line gas-struct-packing
    struct SuiteVerifier {
        address verifier;
        bytes32 codeHash;
        uint64 activatesAt;
        bool stopped;
    }

    /// @notice Everything a verification route needs about one (model, version), read in a single call.
    /// @dev Never reverts, so the route can name its own errors: an unknown model has `modelExists == false`,
    ///      an unknown version `status == None`; the other fields are then zero.
    /// @param modelExists Whether the model is registered.
    /// @param status The version's status (`None` when it does not exist).
    /// @param verifierStopped Whether the version's suite verifier was stopped.
    /// @param ceremonySrs Whether the version uses the ceremony SRS.
    /// @param latestVersion The model's highest version number (0 when none or unknown).
    /// @param verifier The version's suite verifier.
    /// @param vka The contract holding the version's VKA (see `ModelVersion.vka`).
    /// @param vkaDigest The VKA's digest.
    /// @param layout The version's instance layout.
    // A return value, never stored, so field order serves readers.
    // solhint-disable-next-line gas-struct-packing
    struct VerificationTarget {
        bool modelExists;
        VersionStatus status;
        bool verifierStopped;
        bool ceremonySrs;
        uint32 latestVersion;
        address verifier;
        address vka;
        bytes32 vkaDigest;
        InstanceLayout layout;
    }

    /// @notice Names an artefact hash in `RegistryArtifactHashMissing`.
    enum Artifact {
        Model,
        Settings,
        Circuit,
        Srs,
        VerifyingKey
    }

    /// @notice What a fulfilment is checked with (see `fulfilmentCircuit`).
    /// @param status The version's status (`None` when it does not exist).
    /// @param verifier Its suite verifier.
    /// @param verifierStopped Whether that verifier was stopped.
    /// @param batchSize The instance count over the version's (0 when it is not a whole multiple).
    /// @param vka The circuit's VKA store: the version's at batch size 1, its variant's otherwise (zero: no such
    ///        circuit). Its digest is not returned: a store's code never changes and is the VKA whose digest was
    ///        registered, so a fulfilment hashes the VKA it copies from the store (0.8k gas for 126 words, against
    ///        a 2.1k storage read) and compares that with the digest the verifier returns. The VKA starts at
    ///        `InferenceProof.VERSION_VKA_OFFSET` in a version's store, `VARIANT_VKA_OFFSET` in a variant's.
    /// @param layout The version's own (batch-1) instance layout; a batch's block layout follows from it (see
    ///        `Variant`).
    // A return value, never stored, so field order serves readers.
    // solhint-disable-next-line gas-struct-packing
    struct FulfilmentCircuit {
        VersionStatus status;
        address verifier;
        bool verifierStopped;
        uint32 batchSize;
        address vka;
        InstanceLayout layout;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Events
    // ---------------------------------------------------------------------------------------------------------

    /// @notice Emitted when a model is registered.
    /// @param modelId The new model's id, `computeModelId(owner, name)`.
    /// @param owner The registrant, now the model's owner.
    /// @param name The model's name.
    event ModelRegistered(bytes32 indexed modelId, address indexed owner, string name);

    /// @notice Emitted when a version is added to a model.
    /// @param modelId The model.
    /// @param version The new version number.
    /// @param vkaDigest The VKA's digest.
    /// @param suiteVerifierId The suite verifier it uses.
    /// @param vka The contract holding the VKA.
    /// @param ceremonySrs Whether its SRS is the ceremony's.
    /// @param vkHash sha256 of the verifying key.
    /// @param latestAt When it can become the model's latest version (`registeredAt + LATEST_DELAY`).
    /// @param metadataURI Where the manifest and the artefacts can be fetched (may be empty); only this event holds it.
    event VersionRegistered(
        bytes32 indexed modelId,
        uint32 indexed version,
        bytes32 indexed vkaDigest,
        uint32 suiteVerifierId,
        address vka,
        bool ceremonySrs,
        bytes32 vkHash,
        uint64 latestAt,
        string metadataURI
    );

    /// @notice Emitted for each batch variant registered with a version (after `VersionRegistered`).
    /// @param modelId The model.
    /// @param version The version.
    /// @param batchSize The variant's batch size.
    /// @param vkaDigest Its VKA digest.
    /// @param vka The contract holding its VKA.
    event VariantRegistered(
        bytes32 indexed modelId,
        uint32 indexed version,
        uint32 batchSize,
        bytes32 vkaDigest,
        address vka
    );

    /// @notice Emitted when the owner deprecates a version; it takes no new requests (pending ones stay valid).
    /// @param modelId The model.
    /// @param version The version deprecated.
    event VersionDeprecated(bytes32 indexed modelId, uint32 indexed version);

    /// @notice Emitted when the owner reactivates a deprecated version; it takes requests again.
    /// @param modelId The model.
    /// @param version The version reactivated.
    event VersionReactivated(bytes32 indexed modelId, uint32 indexed version);

    /// @notice Emitted when the owner revokes a version: final; its pending requests can no longer be fulfilled
    ///         and are refundable at once.
    /// @param modelId The model.
    /// @param version The version revoked.
    event VersionRevoked(bytes32 indexed modelId, uint32 indexed version);

    /// @notice Emitted when the suite admin proposes a new suite verifier.
    /// @param id Its id.
    /// @param verifier The contract.
    /// @param codeHash Its code hash.
    /// @param activatesAt When new versions start using it.
    event SuiteVerifierProposed(
        uint32 indexed id,
        address indexed verifier,
        bytes32 codeHash,
        uint64 activatesAt
    );

    /// @notice Emitted when the suite admin stops a suite verifier (final).
    /// @param id Its id.
    /// @param verifier The contract.
    event SuiteVerifierStopped(uint32 indexed id, address indexed verifier);

    /// @notice Emitted when the owner proposes a new owner (or cancels a proposal with the zero address).
    /// @param modelId The model.
    /// @param previousOwner The current owner.
    /// @param newOwner The proposed owner, who must call `acceptModelOwnership`.
    event ModelOwnershipTransferStarted(
        bytes32 indexed modelId,
        address indexed previousOwner,
        address indexed newOwner
    );

    /// @notice Emitted when the proposed owner accepts ownership.
    /// @param modelId The model.
    /// @param previousOwner The former owner.
    /// @param newOwner The new owner.
    event ModelOwnershipTransferred(
        bytes32 indexed modelId,
        address indexed previousOwner,
        address indexed newOwner
    );

    // ---------------------------------------------------------------------------------------------------------
    // Errors
    // ---------------------------------------------------------------------------------------------------------

    /// @notice Thrown by `registerModel` when the name is empty.
    /// @param registrant The caller.
    error RegistryModelNameEmpty(address registrant);

    /// @notice Thrown by `registerModel` when the name is longer than `MAX_NAME_LENGTH` bytes.
    /// @param length The name's length in bytes.
    /// @param maxLength The limit.
    error RegistryModelNameTooLong(uint256 length, uint256 maxLength);

    /// @notice Thrown by `registerModel` when the caller already registered a model with this name.
    /// @dev The id is derived from the original registrant and the name, so this also fires after the model
    ///      was transferred away: pick another name.
    /// @param modelId The existing model's id.
    error RegistryModelAlreadyRegistered(bytes32 modelId);

    /// @notice Thrown when a model id is not registered; likely a typo or a registry on another chain.
    /// @param modelId The unknown id.
    error RegistryModelUnknown(bytes32 modelId);

    /// @notice Thrown when a version number is 0 or greater than the model's highest version.
    /// @param modelId The model.
    /// @param version The unknown version.
    /// @param latestVersion The model's highest version (0 when it has none).
    error RegistryVersionUnknown(bytes32 modelId, uint32 version, uint32 latestVersion);

    /// @notice Thrown when someone other than the model's owner tries an owner-only action.
    /// @param modelId The model.
    /// @param caller The caller.
    /// @param owner The model's owner.
    error RegistryNotModelOwner(bytes32 modelId, address caller, address owner);

    /// @notice Thrown by `acceptModelOwnership` when the caller is not the proposed owner.
    /// @param modelId The model.
    /// @param caller The caller.
    /// @param pendingOwner The proposed owner (zero when no transfer is pending).
    error RegistryNotPendingModelOwner(bytes32 modelId, address caller, address pendingOwner);

    /// @notice Thrown by `deprecateVersion`, `reactivateVersion` and `revokeVersion` when the version's status does
    ///         not allow the change (e.g. deprecating a deprecated version, or anything after a revoke).
    /// @param modelId The model.
    /// @param version The version.
    /// @param status Its current status.
    error RegistryVersionStatusInvalid(bytes32 modelId, uint32 version, VersionStatus status);

    /// @notice Thrown by `addVersion` when the model already has a version with this VKA digest on the current
    ///         suite verifier: the same build registered twice. Pass `allowDuplicate` to add it anyway.
    /// @param modelId The model.
    /// @param vkaDigest The digest.
    /// @param existingVersion The version that already has it.
    error RegistryVersionDuplicate(bytes32 modelId, bytes32 vkaDigest, uint32 existingVersion);

    /// @notice Thrown by `addVersion` when the VKA has fewer words than an EZKL VKA (its SRS points end at word 24)
    ///         or more than fit in one contract's code with the version's description (EIP-170: 762 words).
    /// @param words The VKA's length in words.
    /// @param minWords The shortest accepted.
    /// @param maxWords The longest accepted.
    error RegistryVkaLengthInvalid(uint256 words, uint256 minWords, uint256 maxWords);

    /// @notice Thrown by `addVersion` when deploying the contract that holds the VKA failed (out of gas).
    /// @param vkaDigest The VKA's digest.
    error RegistryVkaStoreFailed(bytes32 vkaDigest);

    /// @notice Thrown by `addVersion` when the suite verifier's `registerVka` returned another digest than the
    ///         registry computed: the suite verifier is not EZKL's reusable verifier.
    /// @param expected The registry's digest.
    /// @param actual The verifier's.
    error RegistryVkaDigestMismatch(bytes32 expected, bytes32 actual);

    /// @notice Thrown by `addVersion` when an artefact hash is zero, which means the manifest lacked it.
    /// @param artifact Which hash is missing.
    error RegistryArtifactHashMissing(Artifact artifact);

    /// @notice Thrown by `addVersion` when the layout has no inputs or no outputs.
    /// @param inputCount The input count given.
    /// @param outputCount The output count given.
    error RegistryLayoutCountZero(uint32 inputCount, uint32 outputCount);

    /// @notice Thrown by `addVersion` for a layout of more than 65,535 public instances (a version stores its layout
    ///         in 16 bits a field; a proof with that many instances would not fit in a block's calldata anyway).
    /// @param instanceCount The instance count given.
    /// @param maxInstanceCount 65,535.
    error RegistryLayoutTooLarge(uint32 instanceCount, uint32 maxInstanceCount);

    /// @notice Thrown by `addVersion` when a layout range runs past the instance count.
    /// @param offset The range's first index.
    /// @param count The range's length.
    /// @param instanceCount The total instance count.
    error RegistryLayoutRangeOutOfBounds(uint32 offset, uint32 count, uint32 instanceCount);

    /// @notice Thrown by `addVersion` when the input and output ranges share an index.
    /// @param inputOffset The input range's first index.
    /// @param inputCount The input range's length.
    /// @param outputOffset The output range's first index.
    /// @param outputCount The output range's length.
    error RegistryLayoutRangesOverlap(
        uint32 inputOffset,
        uint32 inputCount,
        uint32 outputOffset,
        uint32 outputCount
    );

    /// @notice Thrown by `addVersion` for a variant whose batch size is below 2, above `MAX_BATCH_SIZE`, or not
    ///         above the previous variant's (variants are listed by ascending batch size, one per size).
    /// @param batchSize The variant's batch size.
    /// @param previous The previous variant's batch size (1: the version itself).
    /// @param maxBatchSize `MAX_BATCH_SIZE`.
    error RegistryVariantBatchSizeInvalid(uint32 batchSize, uint32 previous, uint32 maxBatchSize);

    /// @notice Thrown by `addVersion` with variants when the version's layout is not one input range at 0 directly
    ///         followed by one output range (the block layout of `Variant` needs it).
    /// @param inputOffset The layout's input offset (must be 0).
    /// @param outputOffset The layout's output offset (must be the input count).
    /// @param instanceCount The layout's instance count (must be the input count plus the output count).
    error RegistryVariantLayoutUnsupported(uint32 inputOffset, uint32 outputOffset, uint32 instanceCount);

    /// @notice Thrown by `addVersion` when a variant's VKA does not use the same SRS as the version's (one on the
    ///         ceremony SRS, the other not): a consumer that checked `usesCeremonySrs` must get that SRS from every
    ///         circuit that can fulfil its request.
    /// @param batchSize The variant's batch size.
    /// @param ceremonySrs Whether the version's own VKA uses the ceremony SRS.
    error RegistryVariantSrsMismatch(uint32 batchSize, bool ceremonySrs);

    /// @notice Thrown by `addVersion` with more than `MAX_VARIANTS` variants.
    /// @param count The number given.
    /// @param maxVariants `MAX_VARIANTS`.
    error RegistryTooManyVariants(uint256 count, uint256 maxVariants);

    /// @notice Thrown by `addVersion` when the model already has the maximum number of versions (2^32 - 1).
    /// @param modelId The model.
    error RegistryVersionLimitReached(bytes32 modelId);

    /// @notice Thrown by `addVersion` when no suite verifier is usable (all stopped; propose a new one).
    error RegistryNoSuiteVerifier(uint32 suiteVerifierCount);

    /// @notice Thrown by the constructor and `proposeSuiteVerifier` when the verifier has no code or its code
    ///         hash is not the one given (the deployed contract is not the generated verifier the admin audited).
    /// @param verifier The address given.
    /// @param expected The code hash given.
    /// @param actual Its `extcodehash`.
    error RegistrySuiteVerifierCodeHashMismatch(address verifier, bytes32 expected, bytes32 actual);

    /// @notice Thrown by `proposeSuiteVerifier` once `MAX_SUITE_VERIFIERS` suite verifiers were added.
    /// @param maxCount `MAX_SUITE_VERIFIERS`.
    error RegistrySuiteVerifierLimitReached(uint32 maxCount);

    /// @notice Thrown by `stopSuiteVerifier` for an unknown id or an already stopped verifier.
    /// @param id The id given.
    error RegistrySuiteVerifierNotStoppable(uint32 id);

    /// @notice Thrown by `suiteVerifier` for an unknown id.
    /// @param id The id given.
    /// @param count The number of suite verifiers.
    error RegistrySuiteVerifierUnknown(uint32 id, uint32 count);

    // ---------------------------------------------------------------------------------------------------------
    // Owner actions
    // ---------------------------------------------------------------------------------------------------------

    /// @notice Registers a model owned by the caller.
    /// @param name A non-empty name of at most `MAX_NAME_LENGTH` bytes, unique per registrant.
    /// @return modelId `computeModelId(msg.sender, name)`.
    function registerModel(string calldata name) external returns (bytes32 modelId);

    /// @notice Adds the next version of a model; only its owner may. The version is verified by the current suite
    ///         verifier against `vka`, which the registry stores on-chain and registers with that verifier.
    /// @dev Checks that no artefact hash is zero, that the layout is well formed and that the model has no version
    ///      with this VKA digest on the current suite verifier (unless `allowDuplicate`). Stores the VKA and the
    ///      version's description as the code of a new contract (see `ModelVersion.vka`; each variant's VKA gets its
    ///      own too), reads its SRS G2 points to record `ceremonySrs`, and calls the suite verifier's `registerVka`. The version can never change afterwards;
    ///      it becomes eligible as the model's latest version `LATEST_DELAY` seconds later.
    /// @param modelId The model.
    /// @param params The version's content.
    /// @param vka The VKA's words (`create_evm_vka`'s output without its 8-byte length prefix).
    /// @param batchVariants The version's batch variants (see `Variant`), by ascending batch size; empty for none. They
    ///        are part of the version: none can be added, changed or removed later, so a request that pinned the
    ///        version is only ever proved with circuits that were registered with it.
    /// @param allowDuplicate Add the version even if one with the same digest exists (`--force`).
    /// @return version The new version number: the previous highest plus one, starting at 1.
    function addVersion(
        bytes32 modelId,
        VersionParams calldata params,
        bytes32[] calldata vka,
        Variant[] calldata batchVariants,
        bool allowDuplicate
    ) external returns (uint32 version);

    /// @notice Deprecates an active version: it takes no new requests; requests already made on it can still be
    ///         fulfilled. Only the owner may; `reactivateVersion` undoes it.
    /// @param modelId The model.
    /// @param version An active version.
    function deprecateVersion(bytes32 modelId, uint32 version) external;

    /// @notice Reactivates a deprecated version; only the owner may.
    /// @param modelId The model.
    /// @param version A deprecated version.
    function reactivateVersion(bytes32 modelId, uint32 version) external;

    /// @notice Revokes a version for good (a broken circuit): it takes no requests, its pending requests can no
    ///         longer be fulfilled and are refundable at once. Only the owner may; there is no undo.
    /// @param modelId The model.
    /// @param version An active or deprecated version.
    function revokeVersion(bytes32 modelId, uint32 version) external;

    /// @notice Proposes `newOwner` as the model's next owner; they must call `acceptModelOwnership`.
    /// @dev Replaces any earlier proposal; the zero address cancels it. Only the owner may.
    /// @param modelId The model.
    /// @param newOwner The proposed owner.
    function transferModelOwnership(bytes32 modelId, address newOwner) external;

    /// @notice Completes a transfer: the caller, the proposed owner, becomes the model's owner.
    /// @param modelId The model.
    function acceptModelOwnership(bytes32 modelId) external;

    // ---------------------------------------------------------------------------------------------------------
    // Suite admin (the registry's owner)
    // ---------------------------------------------------------------------------------------------------------

    /// @notice Proposes a new suite verifier (e.g. for an EZKL upgrade); versions added from
    ///         `block.timestamp + VERIFIER_ACTIVATION_DELAY` on use it. Existing versions keep their verifier.
    /// @dev Only the suite admin. A consumer watches `SuiteVerifierProposed` and has the delay to react.
    /// @param verifier The deployed verifier.
    /// @param codeHash Its expected code hash.
    /// @return id Its id.
    function proposeSuiteVerifier(address verifier, bytes32 codeHash) external returns (uint32 id);

    /// @notice Stops a suite verifier for good (a soundness bug): its versions take no requests and their pending
    ///         requests are refundable at once. Only the suite admin.
    /// @param id The verifier's id.
    function stopSuiteVerifier(uint32 id) external;

    // ---------------------------------------------------------------------------------------------------------
    // Views
    // ---------------------------------------------------------------------------------------------------------

    /// @notice The longest model name accepted, in bytes.
    /// @return The limit.
    function MAX_NAME_LENGTH() external view returns (uint256);

    /// @notice The largest batch size a variant may have.
    function MAX_BATCH_SIZE() external view returns (uint32);

    /// @notice The most variants a version may have.
    function MAX_VARIANTS() external view returns (uint256);

    /// @notice The most suite verifiers the registry can ever have (one per EZKL upgrade).
    function MAX_SUITE_VERIFIERS() external view returns (uint32);

    /// @notice How long after `addVersion` a version can become the model's latest (fixed at deployment).
    /// @return Seconds.
    function LATEST_DELAY() external view returns (uint64);

    /// @notice How long after `proposeSuiteVerifier` a suite verifier is used for new versions (fixed at deployment).
    /// @return Seconds.
    function VERIFIER_ACTIVATION_DELAY() external view returns (uint64);

    /// @notice The id a model registered by `registrant` under `name` gets.
    /// @param registrant The account that registers the model.
    /// @param name The model's name.
    /// @return `keccak256(abi.encode(registrant, name))`.
    function computeModelId(address registrant, string calldata name) external pure returns (bytes32);

    /// @notice Whether a model is registered.
    /// @param modelId The model.
    /// @return True when registered.
    function modelExists(bytes32 modelId) external view returns (bool);

    /// @notice A model's owner, pending owner, version count and name; reverts for an unknown model.
    /// @param modelId The model.
    /// @return The model.
    function getModel(bytes32 modelId) external view returns (ModelInfo memory);

    /// @notice A version's content and status; reverts for an unknown model or version.
    /// @param modelId The model.
    /// @param version The version.
    /// @return The version.
    function getVersion(bytes32 modelId, uint32 version) external view returns (ModelVersion memory);

    /// @notice The model's highest version number, whatever its status; reverts for an unknown model.
    /// @param modelId The model.
    /// @return The highest version, 0 when the model has none.
    function latestVersion(bytes32 modelId) external view returns (uint32);

    /// @notice What "latest" (version 0) means now: the model's highest version that is `Active`, whose suite
    ///         verifier is not stopped and that was added at least `LATEST_DELAY` seconds ago; reverts for an
    ///         unknown model.
    /// @dev Walks down from the highest version, so it costs more the more recent versions are skipped.
    /// @param modelId The model.
    /// @return The latest usable version, 0 when none is.
    function latestActiveVersion(bytes32 modelId) external view returns (uint32);

    /// @notice Whether a version's SRS is the public ceremony's (Perpetual Powers of Tau, as EZKL distributes it):
    ///         its VKA's G2 points are [1]2 and -[tau]2 of that ceremony. A dev SRS (generated on a machine, whose
    ///         owner may know tau and so forge proofs) reads false. Reverts for an unknown model or version.
    /// @param modelId The model.
    /// @param version The version.
    /// @return True for the ceremony SRS.
    function usesCeremonySrs(bytes32 modelId, uint32 version) external view returns (bool);

    /// @notice Whether a VKA's G2 points are the ceremony's (see `usesCeremonySrs`); false for a VKA too short to
    ///         hold them.
    /// @param vka The VKA's words.
    /// @return True for the ceremony SRS.
    function isCeremonyVka(bytes32[] calldata vka) external pure returns (bool);

    /// @notice The batch variants registered with a version, by ascending batch size (empty: none, or no such
    ///         version).
    /// @param modelId The model.
    /// @param version The version.
    /// @return The variants.
    function variants(bytes32 modelId, uint32 version) external view returns (VariantInfo[] memory);

    /// @notice What a batched fulfilment of `version` at `batchSize` is checked with: the version's status, its
    ///         suite verifier and whether that is stopped (as `fulfilmentTarget`), and the circuit's VKA store and
    ///         digest: the version's own at batch size 1, its variant's otherwise (zero address and digest: no such
    ///         variant).
    /// @param modelId The model.
    /// @param version The version.
    /// @param batchSize The batch size.
    function batchTarget(
        bytes32 modelId,
        uint32 version,
        uint32 batchSize
    )
        external
        view
        returns (
            VersionStatus status,
            address verifier,
            bool verifierStopped,
            address vka,
            bytes32 vkaDigest
        );

    /// @notice What a request needs to know about a version, in one call that never reverts: its status, its input
    ///         count, and whether its suite verifier was stopped.
    /// @dev Two storage reads (the version's first slot and its verifier's), for a coordinator that stores only a
    ///      hash of the request.
    /// @param modelId The model.
    /// @param version The version.
    /// @return status The version's status (`None` when it does not exist).
    /// @return inputCount Its input count.
    /// @return verifierStopped Whether its suite verifier was stopped.
    function requestTarget(
        bytes32 modelId,
        uint32 version
    ) external view returns (VersionStatus status, uint32 inputCount, bool verifierStopped);

    /// @notice Everything a fulfilment of `version` with `instanceCount` public instances is checked with, in one
    ///         call that never reverts (see `FulfilmentCircuit`).
    /// @param modelId The model.
    /// @param version The version.
    /// @param instanceCount The proof's instance count.
    /// @return The circuit.
    function fulfilmentCircuit(
        bytes32 modelId,
        uint32 version,
        uint256 instanceCount
    ) external view returns (FulfilmentCircuit memory);

    /// @notice The fulfilment-time facts about a version, in one call that never reverts: its status and its suite
    ///         verifier, and whether that verifier was stopped.
    /// @dev Two storage reads, for a coordinator that took the version's immutable content earlier.
    /// @param modelId The model.
    /// @param version The version.
    /// @return status The version's status (`None` when it does not exist).
    /// @return verifier Its suite verifier (zero when it does not exist).
    /// @return verifierStopped Whether that verifier was stopped.
    function fulfilmentTarget(
        bytes32 modelId,
        uint32 version
    ) external view returns (VersionStatus status, address verifier, bool verifierStopped);

    /// @notice What a verification route needs about a version, in one call; never reverts.
    /// @param modelId The model.
    /// @param version The version.
    /// @return target See `VerificationTarget`.
    function verificationTarget(
        bytes32 modelId,
        uint32 version
    ) external view returns (VerificationTarget memory target);

    /// @notice The number of suite verifiers ever added (ids are 1..count).
    /// @return The count.
    function suiteVerifierCount() external view returns (uint32);

    /// @notice A suite verifier by id; reverts for an unknown id.
    /// @param id The id.
    /// @return The verifier's record.
    function suiteVerifier(uint32 id) external view returns (SuiteVerifier memory);

    /// @notice The suite verifier new versions use now: the highest id that is active and not stopped (0: none).
    /// @return id Its id.
    function currentSuiteVerifier() external view returns (uint32 id);
}
