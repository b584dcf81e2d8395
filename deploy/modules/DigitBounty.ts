import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";

/**
 * The example dApp: a bounty that pays for a correctly classified handwritten digit, decided by the
 * verified `digits-mlp` model. Deploy it after the suite and after registering the model.
 *
 * Parameters (module "DigitBounty"): `coordinator`, `owner` (default: deployer), and the game's
 * `config` — the IDigitBounty.Config struct: { modelId, modelVersion (pinned, never 0), prize,
 * callbackGasLimit, requestTimeout }.
 */
export default buildModule("DigitBounty", (m) => {
  const coordinator = m.getParameter<string>("coordinator");
  const owner = m.getParameter("owner", m.getAccount(0));
  const config = m.getParameter("config");
  const bounty = m.contract("DigitBounty", [coordinator, owner, config]);
  return { bounty };
});
