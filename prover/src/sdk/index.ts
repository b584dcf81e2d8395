/**
 * @zkinfer/sdk: what a dApp's TypeScript imports. Pure viem (a peer dependency); no EZKL, no Python. Request a
 * verified inference, wait for it, encode inputs from floats and decode outputs, read a request's terms and its
 * receipt back from the logs (the coordinator stores only their hashes), verify a receipt from nothing but an RPC,
 * the suite's typed ABIs and its addresses from a deployment record. (Checking a proof with EZKL on your machine,
 * `verifyReceiptLocally`, needs the prover package.)
 */
export {
  InferenceTimeoutError,
  NoActiveVersionError,
  VERSION_STATUS,
  deadlineIn,
  decodeOutputs,
  getRegisteredVersion,
  modelIdOf,
  offerFor,
  requestInference,
  requestOffer,
  settleRequest,
  waitForInference,
  withdrawCredit,
  type InferenceResult,
  type OfferTerms,
  type RegisteredVersion,
  type RequestParams,
  type SettledRequest,
  type SubmittedRequest,
  type VersionStatus,
} from "./inference.js";
export {
  CALLBACK_STATUS,
  FulfilmentNotFoundError,
  ReceiptMismatchError,
  fetchFulfilment,
  findFulfilledEvent,
  outputsHashOf,
  readReceipt,
  verifyReceipt,
  type CallbackStatus,
  type Fulfilment,
  type Receipt,
  type ReceiptCheck,
  type ReceiptVerification,
} from "./receipt.js";
export {
  NO_LOCK,
  REQUEST_STATUS,
  RequestNotFoundError,
  fetchLock,
  fetchRequest,
  fillCommitment,
  fulfilledOutputs,
  hashLocked,
  hashTerms,
  locksInLogs,
  priceAt,
  requestArgs,
  requestFromLog,
  requestState,
  requestsInLogs,
  sameState,
  termsFromJson,
  termsOf,
  termsToJson,
  packInput,
  unpackInput,
  type LockState,
  type RequestRecord,
  type RequestStatus,
  type Terms,
} from "./terms.js";
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
