// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {Address} from "@openzeppelin/contracts/utils/Address.sol";
import {ILendingPool} from "../interfaces/ILendingPool.sol";
import {IInferenceCoordinator} from "../interfaces/IInferenceCoordinator.sol";
import {InferenceConsumer} from "../consumer/InferenceConsumer.sol";

/// @title LendingPool
/// @notice Example dApp: loans priced by a verified credit-risk model on the borrower's record as this pool keeps
///         it. See `ILendingPool` for why its economics hold with a public model.
/// @dev Accounting invariant: `address(this).balance == _idle + _reserved + _refundsOwed` (the principal of an active
///      loan has left the pool; it comes back with `repay`, or is lost at a default). Pull payments only: the
///      callback sends nothing (it runs under a gas cap), and a refunded inference fee waits in `claimRefund`, so a
///      borrower whose address refuses ether cannot keep its reserved amount locked by making `expire` revert.
contract LendingPool is ILendingPool, InferenceConsumer, Ownable2Step {
    /// @dev After the due date, how long before anyone may mark the loan defaulted.
    uint64 private constant GRACE = 7 days;

    /// @dev Caps of the features, as the model was trained (examples/models/credit-logreg/train.py).
    uint256 private constant MAX_REPAID = 10;
    uint256 private constant MAX_DEFAULTS = 5;
    uint256 private constant MAX_TENURE = 730 days;

    Config private _config;
    uint256 private _idle;
    uint256 private _reserved;
    mapping(address borrower => Record) private _records;
    mapping(address borrower => Loan) private _loans;
    mapping(uint256 requestId => address borrower) private _applicants;
    mapping(address borrower => uint256) private _refunds;
    uint256 private _refundsOwed;

    /// @param coordinator_ The inference coordinator.
    /// @param initialOwner The owner, who sets the risk policy and manages liquidity.
    /// @param config_ The initial settings.
    constructor(
        IInferenceCoordinator coordinator_,
        address initialOwner,
        Config memory config_
    ) InferenceConsumer(coordinator_) Ownable(initialOwner) {
        _setConfig(config_);
    }

    /// @notice Accepts fee refunds withdrawn from the coordinator in `expire`; liquidity comes through `fund`.
    receive() external payable {
        if (msg.sender != address(coordinator())) revert PoolUnexpectedEther({sender: msg.sender});
    }

    // ---------------------------------------------------------------------------------------------------------
    // Borrowers
    // ---------------------------------------------------------------------------------------------------------

    /// @inheritdoc ILendingPool
    function applyForLoan(uint256 amount) external payable override returns (uint256 requestId) {
        Loan storage current = _loans[msg.sender];
        if (current.status != LoanStatus.None)
            revert PoolLoanOpen({borrower: msg.sender, status: current.status});
        Config memory c = _config;
        if (amount == 0 || amount > c.maxLoan) revert PoolAmountInvalid({amount: amount, maxLoan: c.maxLoan});
        uint256 idle = _idle;
        if (amount > idle) revert PoolLiquidityShort({amount: amount, available: idle});
        // unchecked: amount <= idle was just checked.
        unchecked {
            _idle = idle - amount;
        }
        _reserved += amount;

        int256[] memory input = _features(_records[msg.sender], amount, c.inputScale);
        // A fixed price (the borrower's fee), a lock for half the timeout, no collateral: a refund is exactly the fee.
        requestId = _requestInference(
            c.modelId,
            c.modelVersion,
            input,
            IInferenceCoordinator.Offer({
                minPrice: msg.value,
                rampPeriod: 0,
                lockTimeout: uint32(c.requestTimeout > 1 ? c.requestTimeout / 2 : 1),
                lockCollateral: 0,
                callbackGasLimit: c.callbackGasLimit,
                deadline: uint64(block.timestamp) + c.requestTimeout
            }),
            msg.value
        );
        _loans[msg.sender] = Loan({
            status: LoanStatus.Pending,
            requestId: requestId,
            amount: uint128(amount), // amount <= maxLoan, a uint128
            interest: 0,
            defaultBps: 0,
            due: 0,
            terms: Terms({
                outputScale: c.outputScale,
                maxDefaultBps: c.maxDefaultBps,
                baseRateBps: c.baseRateBps,
                riskRateBps: c.riskRateBps,
                term: c.term
            })
        });
        _applicants[requestId] = msg.sender;
        emit LoanRequested({borrower: msg.sender, requestId: requestId, amount: amount, features: input});
    }

    /// @inheritdoc ILendingPool
    function draw() external override {
        Loan storage ln = _loanIn(msg.sender, LoanStatus.Approved);
        uint256 amount = ln.amount;
        uint64 due = uint64(block.timestamp) + ln.terms.term;
        ln.status = LoanStatus.Active;
        ln.due = due;
        Record storage r = _records[msg.sender];
        if (r.firstLoanAt == 0) r.firstLoanAt = uint64(block.timestamp);
        // unchecked: an approved loan's amount is part of `_reserved` until it is drawn.
        unchecked {
            _reserved -= amount;
        }
        emit LoanDrawn({borrower: msg.sender, amount: amount, due: due});
        Address.sendValue(payable(msg.sender), amount);
    }

    /// @inheritdoc ILendingPool
    function repay() external payable override {
        Loan memory ln = _loanIn(msg.sender, LoanStatus.Active);
        uint256 owed = uint256(ln.amount) + ln.interest;
        if (msg.value != owed)
            revert PoolRepaymentMismatch({borrower: msg.sender, paid: msg.value, owed: owed});
        bool late = block.timestamp > ln.due;
        Record storage r = _records[msg.sender];
        if (late) ++r.late;
        else ++r.onTime;
        r.repaidVolume += ln.amount;
        delete _loans[msg.sender];
        _idle += owed;
        emit LoanRepaid({borrower: msg.sender, amount: owed, late: late});
    }

    /// @inheritdoc ILendingPool
    function markDefault(address borrower) external override {
        Loan memory ln = _loanIn(borrower, LoanStatus.Active);
        uint256 overdueAt = uint256(ln.due) + GRACE;
        bool overdue = block.timestamp > overdueAt;
        if (!overdue) {
            revert PoolNotOverdue({borrower: borrower, due: overdueAt, timestamp: block.timestamp});
        }
        ++_records[borrower].defaults;
        delete _loans[borrower];
        emit LoanDefaulted({borrower: borrower, amount: ln.amount});
    }

    /// @inheritdoc ILendingPool
    function expire(
        address borrower,
        IInferenceCoordinator.Terms calldata terms,
        IInferenceCoordinator.LockState calldata held
    ) external override {
        Loan memory ln = _loanIn(borrower, LoanStatus.Pending);
        (IInferenceCoordinator.RequestStatus status, ) = coordinator().requestState(ln.requestId);
        // Fulfilled while still pending means the callback failed: the result is in the receipt, not expired.
        if (status == IInferenceCoordinator.RequestStatus.Fulfilled) {
            revert PoolApplicationFulfilled({borrower: borrower, requestId: ln.requestId});
        }
        // Refunds it if nobody has yet (reverting before the deadline); an application's offer is a fixed price
        // without collateral, so the refund is the fee.
        uint256 fee = _refundInference(ln.requestId, terms, held);
        _close(borrower, ln);
        if (fee != 0) {
            _refunds[borrower] += fee;
            _refundsOwed += fee;
            // Our coordinator credit holds every refunded, not yet expired application's fee, so it covers this one.
            coordinator().withdrawTo(payable(address(this)), fee);
        }
        emit ApplicationExpired({borrower: borrower, requestId: ln.requestId, refundedFee: fee});
    }

    /// @inheritdoc ILendingPool
    function settleFromReceipt(
        address borrower,
        IInferenceCoordinator.Receipt calldata r,
        int256[] calldata outputs
    ) external override {
        uint256 requestId = _loanIn(borrower, LoanStatus.Pending).requestId;
        // Only the request's own receipt, so only once it was fulfilled; a pending application's fulfilled
        // request is one whose callback failed, since a successful callback closes or approves it.
        if (!coordinator().checkReceipt(requestId, r)) revert PoolReceiptUnknown({requestId: requestId});
        bytes32 actual = keccak256(abi.encode(outputs));
        if (actual != r.outputsHash) {
            revert PoolOutputsMismatch({requestId: requestId, expected: r.outputsHash, actual: actual});
        }
        _price(requestId, outputs);
    }

    /// @inheritdoc ILendingPool
    function claimRefund() external override returns (uint256 amount) {
        amount = _refunds[msg.sender];
        if (amount == 0) revert PoolNothingToClaim({account: msg.sender});
        delete _refunds[msg.sender];
        // unchecked: every entry of `_refunds` is part of `_refundsOwed`.
        unchecked {
            _refundsOwed -= amount;
        }
        emit RefundClaimed({borrower: msg.sender, amount: amount});
        Address.sendValue(payable(msg.sender), amount);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Liquidity and settings
    // ---------------------------------------------------------------------------------------------------------

    /// @inheritdoc ILendingPool
    function fund() external payable override {
        _idle += msg.value;
        emit PoolFunded({funder: msg.sender, amount: msg.value});
    }

    /// @inheritdoc ILendingPool
    function withdrawLiquidity(address payable to, uint256 amount) external override onlyOwner {
        uint256 idle = _idle;
        if (amount > idle) revert PoolLiquidityShort({amount: amount, available: idle});
        // unchecked: amount <= idle was just checked.
        unchecked {
            _idle = idle - amount;
        }
        emit LiquidityWithdrawn({to: to, amount: amount});
        Address.sendValue(to, amount);
    }

    /// @inheritdoc ILendingPool
    function setConfig(Config calldata config_) external override onlyOwner {
        _setConfig(config_);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Views
    // ---------------------------------------------------------------------------------------------------------

    /// @inheritdoc ILendingPool
    function features(address borrower, uint256 amount) external view override returns (int256[] memory) {
        return _features(_records[borrower], amount, _config.inputScale);
    }

    /// @inheritdoc ILendingPool
    function record(address borrower) external view override returns (Record memory) {
        return _records[borrower];
    }

    /// @inheritdoc ILendingPool
    function loan(address borrower) external view override returns (Loan memory) {
        return _loans[borrower];
    }

    /// @inheritdoc ILendingPool
    function available() external view override returns (uint256) {
        return _idle;
    }

    /// @inheritdoc ILendingPool
    function config() external view override returns (Config memory) {
        return _config;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Internals
    // ---------------------------------------------------------------------------------------------------------

    /// @dev The verified price of one of our applications. Never reverts for a pending application (a revert
    ///      would not undo the fulfilment): malformed outputs decline it. A callback that fails anyway (out of gas)
    ///      leaves the application to `settleFromReceipt`.
    function _receiveInference(
        uint256 requestId,
        bytes32,
        uint32,
        int256[] calldata outputs
    ) internal override {
        _price(requestId, outputs);
    }

    /// @dev Approves or declines the application behind `requestId` from its verified outputs, under the terms
    ///      snapshotted when it was made (never the current config).
    function _price(uint256 requestId, int256[] calldata outputs) private {
        address borrower = _applicants[requestId];
        if (borrower == address(0)) revert PoolRequestUnknown({requestId: requestId});
        delete _applicants[requestId];
        Loan storage ln = _loans[borrower];
        Terms memory t = ln.terms;
        // outputs = [p(repay), p(default)] at the output scale; a probability outside [0, 1] is clamped.
        uint256 defaultBps = 10_000;
        if (outputs.length == 2) {
            int256 p = outputs[1];
            if (p < 0) p = 0;
            defaultBps = (uint256(p) * 10_000) >> t.outputScale;
            if (defaultBps > 10_000) defaultBps = 10_000;
        }
        if (outputs.length != 2 || defaultBps > t.maxDefaultBps) {
            _close(borrower, ln);
            emit LoanDeclined({borrower: borrower, requestId: requestId, defaultBps: defaultBps});
            return;
        }
        uint256 rateBps = t.baseRateBps + (uint256(t.riskRateBps) * defaultBps) / 10_000;
        uint256 interest = (uint256(ln.amount) * rateBps) / 10_000;
        ln.status = LoanStatus.Approved;
        ln.interest = uint128(interest); // amount * rate / 10^4 with rate < 2^17: well inside uint128
        ln.defaultBps = uint16(defaultBps); // <= 10_000
        emit LoanApproved({
            borrower: borrower,
            requestId: requestId,
            defaultBps: defaultBps,
            interest: interest
        });
    }

    /// @dev round-down fixed point of the model's five features; see `ILendingPool` for each.
    function _features(
        Record memory r,
        uint256 amount,
        uint8 scale
    ) private view returns (int256[] memory x) {
        uint256 one = 1 << scale;
        x = new int256[](5);
        x[0] = int256((_min(r.onTime, MAX_REPAID) * one) / MAX_REPAID);
        x[1] = int256((_min(r.late, MAX_REPAID) * one) / MAX_REPAID);
        x[2] = int256((_min(r.defaults, MAX_DEFAULTS) * one) / MAX_DEFAULTS);
        x[3] = int256((amount * one) / (uint256(r.repaidVolume) + amount));
        uint256 tenure = r.firstLoanAt == 0 ? 0 : block.timestamp - r.firstLoanAt;
        x[4] = int256((_min(tenure, MAX_TENURE) * one) / MAX_TENURE);
    }

    /// @dev Closes a pending or approved application, returning its reserved amount to the idle liquidity.
    function _close(address borrower, Loan memory ln) private {
        delete _loans[borrower];
        // unchecked: a pending or approved application's amount is part of `_reserved`.
        unchecked {
            _reserved -= ln.amount;
        }
        _idle += ln.amount;
    }

    function _loanIn(address borrower, LoanStatus expected) private view returns (Loan storage ln) {
        ln = _loans[borrower];
        if (ln.status != expected)
            revert PoolWrongStatus({borrower: borrower, status: ln.status, expected: expected});
    }

    function _setConfig(Config memory c) private {
        if (c.modelVersion == 0 || c.term == 0 || c.requestTimeout == 0 || c.maxDefaultBps > 10_000) {
            revert PoolConfigInvalid({
                modelVersion: c.modelVersion,
                term: c.term,
                requestTimeout: c.requestTimeout,
                maxDefaultBps: c.maxDefaultBps
            });
        }
        _config = c;
        emit ConfigUpdated({modelId: c.modelId, modelVersion: c.modelVersion, maxLoan: c.maxLoan});
    }

    function _min(uint256 a, uint256 b) private pure returns (uint256) {
        return a < b ? a : b;
    }
}
