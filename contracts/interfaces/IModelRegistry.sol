// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title IModelRegistry
/// @notice The on-chain record of which EZKL circuit, verifying key and Solidity verifier stand for a model
///         version, so that anyone can audit the chain ONNX -> settings -> circuit -> SRS -> VK -> verifier.
/// @dev Anyone may register a model and becomes its owner. Only the owner adds versions, numbered 1, 2, 3, ...
///      A version's content is immutable once added; only its status (active / deprecated) can change.
///      Ownership of a model moves in two steps (propose, then accept), like OpenZeppelin's `Ownable2Step`.
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

    /// @notice What the owner supplies to add a version; every hash comes from the build manifest.
    /// @param modelHash sha256 of the ONNX file.
    /// @param settingsHash sha256 of EZKL's settings.json (visibilities, scales, logrows).
    /// @param circuitHash sha256 of the compiled circuit.
    /// @param srsHash sha256 of the structured reference string the keys were made with.
    /// @param vkHash sha256 of the verifying key (the `fixed` weights live inside it).
    /// @param verifier The deployed EZKL-generated `Halo2Verifier` for this circuit.
    /// @param verifierCodeHash The expected `extcodehash` of `verifier`; checked at registration and on every
    ///        verification, so a verifier whose code changes stops verifying.
    /// @param inputScale Fixed-point scale of the inputs: an input real r is the integer round(r * 2^inputScale).
    /// @param outputScale Fixed-point scale of the outputs: an output integer x is the real x / 2^outputScale.
    /// @param layout Where inputs and outputs sit among the public instances.
    /// @param floatMetricBps The model's evaluation metric in basis points, run in floating point.
    /// @param circuitMetricBps The same metric in basis points, run through the quantised circuit.
    /// @param metadataURI Where the manifest and the rest of the artefacts can be fetched (may be empty).
    // An ABI argument, never stored, so field order serves readers, not packing.
    // solhint-disable-next-line gas-struct-packing
    struct VersionParams {
        bytes32 modelHash;
        bytes32 settingsHash;
        bytes32 circuitHash;
        bytes32 srsHash;
        bytes32 vkHash;
        address verifier;
        bytes32 verifierCodeHash;
        uint8 inputScale;
        uint8 outputScale;
        InstanceLayout layout;
        uint32 floatMetricBps;
        uint32 circuitMetricBps;
        string metadataURI;
    }

    /// @notice A registered version as stored: the `VersionParams` fields, when it was added, and its status.
    /// @dev Every field except `deprecated` is immutable once the version exists.
    /// @param registeredAt Block timestamp of the `addVersion` call.
    /// @param deprecated Whether the owner has deprecated the version (a deprecated version does not verify).
    // A return value, never stored (the registry packs its own storage form), so field order serves readers.
    // solhint-disable-next-line gas-struct-packing
    struct ModelVersion {
        bytes32 modelHash;
        bytes32 settingsHash;
        bytes32 circuitHash;
        bytes32 srsHash;
        bytes32 vkHash;
        address verifier;
        bytes32 verifierCodeHash;
        uint8 inputScale;
        uint8 outputScale;
        InstanceLayout layout;
        uint32 floatMetricBps;
        uint32 circuitMetricBps;
        string metadataURI;
        uint64 registeredAt;
        bool deprecated;
    }

    /// @notice A registered model.
    /// @param owner The account allowed to add, deprecate and reactivate versions and to transfer ownership.
    /// @param pendingOwner The account that may accept ownership, or zero when no transfer is pending.
    /// @param versionCount Number of versions added so far; also the latest version number (0 = none yet).
    /// @param name The name given at registration.
    struct ModelInfo {
        address owner;
        address pendingOwner;
        uint32 versionCount;
        string name;
    }

    /// @notice Everything a verification route needs about one (model, version), read in a single call.
    /// @dev Never reverts, so the route can name its own errors: an unknown model has `modelExists == false`,
    ///      an unknown version `versionExists == false`; the other fields are then zero.
    /// @param modelExists Whether the model is registered.
    /// @param versionExists Whether the version exists (1 <= version <= latestVersion).
    /// @param deprecated Whether the version is deprecated.
    /// @param latestVersion The model's latest version number (0 when none or unknown).
    /// @param verifier The version's verifier.
    /// @param verifierCodeHash The verifier's code hash as registered.
    /// @param layout The version's instance layout.
    struct VerificationTarget {
        bool modelExists;
        bool versionExists;
        bool deprecated;
        uint32 latestVersion;
        address verifier;
        bytes32 verifierCodeHash;
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
    /// @param verifier The version's verifier.
    /// @param verifierCodeHash The verifier's code hash.
    /// @param vkHash sha256 of the verifying key.
    event VersionRegistered(
        bytes32 indexed modelId,
        uint32 indexed version,
        address indexed verifier,
        bytes32 verifierCodeHash,
        bytes32 vkHash
    );

    /// @notice Emitted when the owner deprecates a version; it no longer verifies.
    /// @param modelId The model.
    /// @param version The version deprecated.
    event VersionDeprecated(bytes32 indexed modelId, uint32 indexed version);

    /// @notice Emitted when the owner reactivates a deprecated version; it verifies again.
    /// @param modelId The model.
    /// @param version The version reactivated.
    event VersionReactivated(bytes32 indexed modelId, uint32 indexed version);

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

    /// @notice Thrown when a version number is 0 or greater than the model's latest version.
    /// @param modelId The model.
    /// @param version The unknown version.
    /// @param latestVersion The model's latest version (0 when it has none).
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

    /// @notice Thrown by `deprecateVersion` when the version is already deprecated.
    /// @param modelId The model.
    /// @param version The version.
    error RegistryVersionAlreadyDeprecated(bytes32 modelId, uint32 version);

    /// @notice Thrown by `reactivateVersion` when the version is not deprecated.
    /// @param modelId The model.
    /// @param version The version.
    error RegistryVersionNotDeprecated(bytes32 modelId, uint32 version);

    /// @notice Thrown by `addVersion` when the verifier address holds no code (not deployed, or wrong chain).
    /// @param verifier The address given.
    error RegistryVerifierHasNoCode(address verifier);

    /// @notice Thrown by `addVersion` when the verifier's code hash differs from the one given; the deployed
    ///         verifier is not the one the manifest describes (rebuilt with other settings, or another model).
    /// @param verifier The verifier.
    /// @param expected The code hash given in the parameters.
    /// @param actual The verifier's actual `extcodehash`.
    error RegistryVerifierCodeHashMismatch(address verifier, bytes32 expected, bytes32 actual);

    /// @notice Thrown by `addVersion` when an artefact hash is zero, which means the manifest lacked it.
    /// @param artifact Which hash is missing.
    error RegistryArtifactHashMissing(Artifact artifact);

    /// @notice Thrown by `addVersion` when the layout has no inputs or no outputs.
    /// @param inputCount The input count given.
    /// @param outputCount The output count given.
    error RegistryLayoutCountZero(uint32 inputCount, uint32 outputCount);

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

    /// @notice Thrown by `addVersion` when the model already has the maximum number of versions (2^32 - 1).
    /// @param modelId The model.
    error RegistryVersionLimitReached(bytes32 modelId);

    // ---------------------------------------------------------------------------------------------------------
    // Owner actions
    // ---------------------------------------------------------------------------------------------------------

    /// @notice Registers a model owned by the caller.
    /// @param name A non-empty name of at most `MAX_NAME_LENGTH` bytes, unique per registrant.
    /// @return modelId `computeModelId(msg.sender, name)`.
    function registerModel(string calldata name) external returns (bytes32 modelId);

    /// @notice Adds the next version of a model; only its owner may.
    /// @dev Checks that the verifier has code whose hash is `params.verifierCodeHash`, that no artefact hash is
    ///      zero and that the layout is well formed. The version's content can never change afterwards.
    /// @param modelId The model.
    /// @param params The version's content.
    /// @return version The new version number: the previous latest plus one, starting at 1.
    function addVersion(bytes32 modelId, VersionParams calldata params) external returns (uint32 version);

    /// @notice Deprecates a version so the route stops verifying proofs for it; only the owner may.
    /// @param modelId The model.
    /// @param version An active version.
    function deprecateVersion(bytes32 modelId, uint32 version) external;

    /// @notice Reactivates a deprecated version; only the owner may.
    /// @param modelId The model.
    /// @param version A deprecated version.
    function reactivateVersion(bytes32 modelId, uint32 version) external;

    /// @notice Proposes `newOwner` as the model's next owner; they must call `acceptModelOwnership`.
    /// @dev Replaces any earlier proposal; the zero address cancels it. Only the owner may.
    /// @param modelId The model.
    /// @param newOwner The proposed owner.
    function transferModelOwnership(bytes32 modelId, address newOwner) external;

    /// @notice Completes a transfer: the caller, the proposed owner, becomes the model's owner.
    /// @param modelId The model.
    function acceptModelOwnership(bytes32 modelId) external;

    // ---------------------------------------------------------------------------------------------------------
    // Views
    // ---------------------------------------------------------------------------------------------------------

    /// @notice The longest model name accepted, in bytes.
    /// @return The limit.
    function MAX_NAME_LENGTH() external view returns (uint256);

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

    /// @notice The model's latest version number, deprecated or not; reverts for an unknown model.
    /// @param modelId The model.
    /// @return The latest version, 0 when the model has none.
    function latestVersion(bytes32 modelId) external view returns (uint32);

    /// @notice The model's highest version that is not deprecated; reverts for an unknown model.
    /// @dev Walks down from the latest version, so it costs more the more recent versions are deprecated.
    /// @param modelId The model.
    /// @return The latest active version, 0 when none is active.
    function latestActiveVersion(bytes32 modelId) external view returns (uint32);

    /// @notice Whether proofs of a version are accepted now: it exists and is not deprecated.
    /// @dev One storage read, for verification paths that took a version's immutable content (verifier, code
    ///      hash, layout) earlier and only need its one mutable part, e.g. a coordinator at fulfilment. Never
    ///      reverts: an unknown model or version is not active.
    /// @param modelId The model.
    /// @param version The version.
    /// @return True when the version exists and is not deprecated.
    function isVersionActive(bytes32 modelId, uint32 version) external view returns (bool);

    /// @notice What a verification route needs about a version, in one call; never reverts.
    /// @param modelId The model.
    /// @param version The version.
    /// @return target See `VerificationTarget`.
    function verificationTarget(
        bytes32 modelId,
        uint32 version
    ) external view returns (VerificationTarget memory target);
}
