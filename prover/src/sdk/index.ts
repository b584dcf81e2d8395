/**
 * @zkinfer/sdk: what a dApp's TypeScript imports. Pure viem (a peer dependency); no EZKL, no Python. Request a
 * verified inference, wait for it, encode inputs from floats and decode outputs, verify a receipt from nothing but
 * an RPC, the suite's typed ABIs and its addresses from a deployment record. (Checking a proof with EZKL on your
 * machine, `verifyReceiptLocally`, needs the prover package.)
 */
export {
  CALLBACK_STATUS,
  InferenceTimeoutError,
  NoActiveVersionError,
  VERSION_STATUS,
  deadlineIn,
  decodeOutputs,
  findFulfilledEvent,
  getRegisteredVersion,
  modelIdOf,
  offerFor,
  readReceipt,
  requestInference,
  requestOffer,
  settleRequest,
  waitForInference,
  withdrawCredit,
  type CallbackStatus,
  type InferenceResult,
  type OfferTerms,
  type RegisteredVersion,
  type RequestParams,
  type SettledRequest,
  type SubmittedRequest,
  type VersionStatus,
} from "./inference.js";
export {
  FulfilmentNotFoundError,
  fetchFulfilment,
  verifyReceipt,
  type Fulfilment,
  type ReceiptCheck,
  type ReceiptVerification,
} from "./receipt.js";
export { decodeOutputTensors, encodeInput } from "./tensors.js";
export { deploymentFor, loadDeployment, suiteAddresses, type Deployment, type SuiteAddresses } from "./deployment.js";
export type { InputSpec } from "../models/input.js";
export type { TensorLayout } from "../models/manifest.js";
export type { NamedTensor } from "../models/tensors.js";
export { ZkinferError, isZkinferError } from "../errors.js";
export {
  halo2VerifierReusableAbi,
  inferenceConsumerAbi,
  inferenceCoordinatorAbi,
  inferenceVerifierAbi,
  modelRegistryAbi,
  zkinferErrorsAbi,
} from "../chain/abis.js";
