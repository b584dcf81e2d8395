import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import { suiteVerifierArtifact } from "../../prover/src/models/suite-verifier.js";

/** How long a new version waits before "latest" (version 0) may resolve to it: one day. */
export const DEFAULT_LATEST_DELAY = 86_400n;
/** How long a proposed suite verifier (an EZKL upgrade) waits before new versions use it: seven days. */
export const DEFAULT_VERIFIER_ACTIVATION_DELAY = 604_800n;

/**
 * The suite verifier (EZKL's reusable verifier, contracts/generated/, one for every model) and the
 * model registry that fixes it. Models are registered as data (their VKA); nobody supplies verifier
 * code. The registry's owner, the suite admin, can only propose a new suite verifier (active after
 * `verifierActivationDelay`) or stop one for good.
 *
 * Parameters (module "Registry"):
 * - `admin`: the suite admin (default: the deploying account);
 * - `latestDelay`: seconds before a new version can be "latest" (default one day);
 * - `verifierActivationDelay`: seconds before a proposed suite verifier is used (default seven days).
 */
export const RegistryModule = buildModule("Registry", (m) => {
  const suiteVerifier = m.contract("Halo2VerifierReusable");
  const admin = m.getParameter("admin", m.getAccount(0));
  const latestDelay = m.getParameter("latestDelay", DEFAULT_LATEST_DELAY);
  const verifierActivationDelay = m.getParameter("verifierActivationDelay", DEFAULT_VERIFIER_ACTIVATION_DELAY);
  const registry = m.contract("ModelRegistry", [
    admin,
    suiteVerifier,
    suiteVerifierArtifact().codeHash,
    latestDelay,
    verifierActivationDelay,
  ]);
  return { registry, suiteVerifier };
});

/** The verifier route: (modelId, version) → the suite verifier with the version's VKA, with input binding. */
export const VerifierRouteModule = buildModule("VerifierRoute", (m) => {
  const { registry, suiteVerifier } = m.useModule(RegistryModule);
  const verifierRoute = m.contract("InferenceVerifier", [registry]);
  return { registry, suiteVerifier, verifierRoute };
});

/**
 * The whole suite: suite verifier, registry, route and the request → fulfil → callback coordinator.
 *
 * Parameters (module "ZkinferSuite"):
 * - `owner`: the coordinator's owner (default: the deploying account);
 * - `guardian`: who may pause requests and fulfilments in an emergency (default: the deploying
 *   account). Refunds and withdrawals can never be paused.
 */
export default buildModule("ZkinferSuite", (m) => {
  const { registry, suiteVerifier, verifierRoute } = m.useModule(VerifierRouteModule);
  const deployer = m.getAccount(0);
  const owner = m.getParameter("owner", deployer);
  const guardian = m.getParameter("guardian", deployer);
  const coordinator = m.contract("InferenceCoordinator", [registry, verifierRoute, owner, guardian]);
  return { registry, suiteVerifier, verifierRoute, coordinator };
});
