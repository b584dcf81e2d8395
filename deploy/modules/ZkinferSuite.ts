import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

/**
 * The model registry. Permissionless: anyone registers a model under their own account, so it has
 * no owner and no parameters.
 */
export const RegistryModule = buildModule("Registry", (m) => {
  const registry = m.contract("ModelRegistry");
  return { registry };
});

/** The verifier route: (modelId, version) → the registered EZKL verifier, with input binding. */
export const VerifierRouteModule = buildModule("VerifierRoute", (m) => {
  const { registry } = m.useModule(RegistryModule);
  const verifierRoute = m.contract("InferenceVerifier", [registry]);
  return { registry, verifierRoute };
});

/**
 * The whole suite: registry, route and the request → fulfil → callback coordinator.
 *
 * Parameters (module "ZkinferSuite"):
 * - `owner`: the coordinator's owner (default: the deploying account);
 * - `guardian`: who may pause requests and fulfilments in an emergency (default: the deploying
 *   account). Refunds and withdrawals can never be paused.
 */
export default buildModule("ZkinferSuite", (m) => {
  const { registry, verifierRoute } = m.useModule(VerifierRouteModule);
  const deployer = m.getAccount(0);
  const owner = m.getParameter("owner", deployer);
  const guardian = m.getParameter("guardian", deployer);
  const coordinator = m.contract("InferenceCoordinator", [registry, verifierRoute, owner, guardian]);
  return { registry, verifierRoute, coordinator };
});
