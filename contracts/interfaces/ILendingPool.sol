// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {IInferenceCoordinator} from "./IInferenceCoordinator.sol";

// Amounts, rates and flags are event data, not filter keys: a topic costs 375 gas where a data word costs 256,
// and nobody filters by them. Ids and accounts are indexed.
/* solhint-disable gas-indexed-events */

/// @title ILendingPool
/// @notice Example dApp: a pool that lends ether at a rate priced by a verified credit-risk model
///         (examples/models/credit-logreg), whose input is the borrower's repayment record as this contract
///         keeps it. The borrower chooses only the amount; every feature is a fact of the pool's own ledger.
/// @dev Why the economics hold with a public model (DigitBounty's do not: a player there picks the input, runs
///      the public model first, and wins every time): here the model being public only makes the price
///      transparent. A borrower cannot pick the input, so knowing the model tells them their rate, not a way to
///      a better one; the only way to a better rate is a better record. What remains to guard against, and how
///      this example does:
///      - a fresh address has no record: the model prices zero history as risky, and `Config.maxLoan` caps what
///        any single loan can lose;
///      - a record farmed with small loans repaid on time: the `leverage` feature (amount / (repaid volume +
///        amount)) makes a large request after small repayments risky again;
///      - a stale price: the rate is fixed from the verified output when the loan is approved, and the request
///        pins the model version the pool was configured with.
///      Features, each scaled to about [0, 1] as the model was trained (examples/models/credit-logreg/train.py):
///      repaid = min(onTime, 10) / 10, late = min(late, 10) / 10, defaults = min(defaults, 5) / 5,
///      leverage = amount / (repaidVolume + amount), tenure = min(days since first loan, 730) / 730; each is
///      sent as round(x * 2^inputScale) (rounded down, as the pool computes it in integers).
interface ILendingPool {
    /// @notice What the pool owner sets.
    /// @param modelId The credit-risk model.
    /// @param modelVersion The pinned version (never "latest": a new version must not reprice loans silently).
    /// @param inputScale The version's input scale (fixed-point bits of each feature).
    /// @param outputScale The version's output scale (fixed-point bits of each probability).
    /// @param maxDefaultBps The largest default probability the pool lends at, in basis points.
    /// @param baseRateBps The interest for a loan's term at zero risk, in basis points of the amount.
    /// @param riskRateBps Extra interest per unit of default probability, in basis points (interest =
    ///        amount * (baseRateBps + riskRateBps * p) / 10^4 for the whole term).
    /// @param maxLoan The largest amount one loan may be.
    /// @param term How long a borrower has to repay, in seconds.
    /// @param callbackGasLimit Gas for the pool's callback.
    /// @param requestTimeout How long a request may wait for its proof, in seconds.
    struct Config {
        bytes32 modelId;
        uint32 modelVersion;
        uint8 inputScale;
        uint8 outputScale;
        uint16 maxDefaultBps;
        uint16 baseRateBps;
        uint16 riskRateBps;
        uint32 callbackGasLimit;
        uint64 term;
        uint64 requestTimeout;
        uint128 maxLoan;
    }

    /// @notice The pricing terms an application was made under, copied from `Config` when it is made: the
    ///         verified output is priced with these, whatever the config is when the proof arrives.
    /// @param outputScale The pinned version's output scale.
    /// @param maxDefaultBps The largest default probability lent at.
    /// @param baseRateBps Interest at zero risk for the term.
    /// @param riskRateBps Extra interest per unit of default probability.
    /// @param term How long the borrower has to repay once drawn.
    struct Terms {
        uint8 outputScale;
        uint16 maxDefaultBps;
        uint16 baseRateBps;
        uint16 riskRateBps;
        uint64 term;
    }

    /// @notice A borrower's record, kept by the pool: the model's input.
    struct Record {
        uint32 onTime;
        uint32 late;
        uint32 defaults;
        uint64 firstLoanAt;
        uint128 repaidVolume;
    }

    /// @notice Where a borrower's application or loan stands.
    enum LoanStatus {
        None,
        Pending,
        Approved,
        Active
    }

    /// @notice A borrower's current application or loan (one at a time).
    /// @param status Where it stands.
    /// @param requestId The inference request that priced it.
    /// @param amount The amount applied for (reserved from the pool while pending).
    /// @param interest The interest owed for the term (set at approval).
    /// @param defaultBps The verified default probability, in basis points (set at approval).
    /// @param due When repayment is due (set when drawn).
    /// @param terms The pricing terms of the application (snapshotted from `Config` when it was made).
    struct Loan {
        LoanStatus status;
        uint256 requestId;
        uint128 amount;
        uint128 interest;
        uint16 defaultBps;
        uint64 due;
        Terms terms;
    }

    /// @notice A borrower applied; the pool asked the model to price them.
    event LoanRequested(
        address indexed borrower,
        uint256 indexed requestId,
        uint256 amount,
        int256[] features
    );
    /// @notice The verified model priced an application and the pool approved it.
    event LoanApproved(
        address indexed borrower,
        uint256 indexed requestId,
        uint256 defaultBps,
        uint256 interest
    );
    /// @notice The verified model priced an application above the pool's risk limit.
    event LoanDeclined(address indexed borrower, uint256 indexed requestId, uint256 defaultBps);
    /// @notice An application whose request was never fulfilled was closed and its fee refunded.
    event ApplicationExpired(address indexed borrower, uint256 indexed requestId, uint256 refundedFee);
    /// @notice A borrower took a refunded inference fee.
    event RefundClaimed(address indexed borrower, uint256 amount);
    /// @notice An approved loan was paid out.
    event LoanDrawn(address indexed borrower, uint256 amount, uint256 due);
    /// @notice A loan was repaid, on time or late.
    event LoanRepaid(address indexed borrower, uint256 amount, bool late);
    /// @notice A loan was not repaid by its due date plus the grace period.
    event LoanDefaulted(address indexed borrower, uint256 amount);
    /// @notice The pool received liquidity.
    event PoolFunded(address indexed funder, uint256 amount);
    /// @notice The owner took idle liquidity out.
    event LiquidityWithdrawn(address indexed to, uint256 amount);
    /// @notice The owner changed the settings.
    event ConfigUpdated(bytes32 indexed modelId, uint32 modelVersion, uint256 maxLoan);

    /// @notice The borrower has an application or loan open already.
    error PoolLoanOpen(address borrower, LoanStatus status);
    /// @notice The amount is zero or above `Config.maxLoan`.
    error PoolAmountInvalid(uint256 amount, uint256 maxLoan);
    /// @notice The pool's idle liquidity does not cover the amount.
    error PoolLiquidityShort(uint256 amount, uint256 available);
    /// @notice The borrower has no loan in the status the call needs.
    error PoolWrongStatus(address borrower, LoanStatus status, LoanStatus expected);
    /// @notice A repayment of the wrong amount.
    error PoolRepaymentMismatch(address borrower, uint256 paid, uint256 owed);
    /// @notice `markDefault` before the due date plus the grace period.
    error PoolNotOverdue(address borrower, uint256 due, uint256 timestamp);
    /// @notice The callback named a request the pool did not make or has closed.
    error PoolRequestUnknown(uint256 requestId);
    /// @notice The outputs do not hold a default probability (the model must output [p(repay), p(default)]).
    error PoolOutputsInvalid(uint256 requestId, uint256 length);
    /// @notice A config the pool cannot work with (a zero term or timeout, "latest" as the version, no limit).
    error PoolConfigInvalid(uint32 modelVersion, uint64 term, uint64 requestTimeout, uint16 maxDefaultBps);
    /// @notice `settleFromReceipt` with outputs other than the ones the coordinator's receipt hashed.
    error PoolOutputsMismatch(uint256 requestId, bytes32 expected, bytes32 actual);

    /// @notice Thrown by `settleFromReceipt` when the receipt passed is not the coordinator's for the request (or
    ///         the request is not fulfilled).
    /// @param requestId The request.
    error PoolReceiptUnknown(uint256 requestId);
    /// @notice `expire` of an application whose request was fulfilled (its callback failed): settle it with
    ///         `settleFromReceipt` instead.
    error PoolApplicationFulfilled(address borrower, uint256 requestId);
    /// @notice `claimRefund` with nothing refunded.
    error PoolNothingToClaim(address account);
    /// @notice Ether arrived from someone other than the coordinator outside `fund` / `repay`.
    error PoolUnexpectedEther(address sender);

    /// @notice Applies for a loan of `amount`: reserves it and asks the model to price this borrower. Send the
    ///         inference fee as `msg.value`.
    /// @return requestId The inference request.
    function applyForLoan(uint256 amount) external payable returns (uint256 requestId);

    /// @notice Pays out the caller's approved loan; repayment is due `Config.term` later.
    function draw() external;

    /// @notice Repays the caller's loan: send exactly amount + interest. Late repayments count as late.
    function repay() external payable;

    /// @notice Records a loan not repaid by due date + 7 days as defaulted (anyone may call).
    function markDefault(address borrower) external;

    /// @notice Closes an application whose request expired unfulfilled; its fee waits in `claimRefund`.
    /// @param borrower The applicant.
    /// @param terms The request's terms (from `InferenceRequested`).
    /// @param held Its lock, if it was locked (from `RequestLocked`; zero otherwise).
    function expire(
        address borrower,
        IInferenceCoordinator.Terms calldata terms,
        IInferenceCoordinator.LockState calldata held
    ) external;

    /// @notice Prices a pending application whose request was fulfilled but whose callback failed (ran out of
    ///         gas, say), from the verified outputs: `outputs` must hash to the coordinator's receipt (they are in
    ///         its `InferenceFulfilled` event, packed). Anyone may call; the result is the one the callback would
    ///         have had, under the application's own terms.
    /// @param borrower The applicant.
    /// @param r The request's receipt (see `IInferenceCoordinator.checkReceipt`).
    /// @param outputs The fulfilment's outputs: `InferenceFulfilled`'s, unpacked (each `outputWidth` big-endian
    ///        two's-complement bytes, sign-extended to int256; the SDK's `fulfilledOutputs`).
    function settleFromReceipt(
        address borrower,
        IInferenceCoordinator.Receipt calldata r,
        int256[] calldata outputs
    ) external;

    /// @notice Sends the caller the inference fees refunded to it by `expire`.
    function claimRefund() external returns (uint256 amount);

    /// @notice Adds liquidity.
    function fund() external payable;

    /// @notice The owner takes out idle liquidity.
    function withdrawLiquidity(address payable to, uint256 amount) external;

    /// @notice The owner changes the settings (applications already made keep their terms, loans their price).
    function setConfig(Config calldata config_) external;

    /// @notice The features the model would be given for `borrower` applying for `amount` now.
    function features(address borrower, uint256 amount) external view returns (int256[] memory);

    /// @notice A borrower's record.
    function record(address borrower) external view returns (Record memory);

    /// @notice A borrower's current application or loan.
    function loan(address borrower) external view returns (Loan memory);

    /// @notice Liquidity not reserved or lent.
    function available() external view returns (uint256);

    /// @notice The settings.
    function config() external view returns (Config memory);
}
