// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

// Test names follow `test_<subject>_<behaviour>` / `testFuzz_...` (see STYLE.md), and gas rules do not apply here.
/* solhint-disable func-name-mixedcase, gas-small-strings, gas-strict-inequalities, function-max-lines, gas-increment-by-one, max-states-count */

import {TestBase} from "./utils/TestBase.t.sol";
import {RegistryFixture} from "./utils/RegistryFixture.t.sol";
import {IInferenceCoordinator} from "../interfaces/IInferenceCoordinator.sol";
import {IInferenceVerifier} from "../interfaces/IInferenceVerifier.sol";
import {InferenceCoordinator} from "../coordinator/InferenceCoordinator.sol";
import {InferenceVerifier} from "../verifier/InferenceVerifier.sol";
import {FieldElement} from "../libraries/FieldElement.sol";
import {MockConsumer, RecordingConsumer, RevertingConsumer} from "./MockConsumers.sol";

/// @dev Drives the coordinator with random sequences of requests, deposits, locks, commitments, fulfilments (in
///      a lock, open, or after a lapsed lock: slashing), cancels, refunds, withdrawals, pauses, blocks and time
///      jumps by random actors (EOAs and consumer contracts, one of which always reverts its callback), with
///      MockHalo2Verifier (TEST-ONLY) as the registered verifier: each fulfilment randomly carries the one proof it
///      accepts for the request's input and outputs, or a forged one. Keeps a ghost ledger; every call's outcome
///      (success, or the exact named error) is checked against it.
contract CoordinatorHandler is TestBase {
    InferenceCoordinator internal immutable COORDINATOR;
    address internal immutable VERIFIER;
    bytes32 internal immutable MODEL_ID;
    address internal immutable GUARDIAN;

    address[] internal eoas;
    MockConsumer[] internal consumers;
    address[] internal accounts; // every account that can hold credit: the EOAs and the consumers

    uint256[] internal ids;
    /// @dev What the rules say about a request.
    struct Ghost {
        uint256 fee;
        address requester;
        uint64 deadline;
        uint64 lockDeadline;
        uint256 collateral;
        int256 input0; // the input is (input0, 0, 0)
        IInferenceCoordinator.RequestStatus status;
        address fulfiller;
        address locker;
        uint256 lockedAt;
    }

    mapping(uint256 id => Ghost) internal ghost;
    /// @dev Each request's terms, built here from what the handler asked (and checked against the id), and its
    ///      lock, as `lock` must have taken it: what every call passes back.
    mapping(uint256 id => IInferenceCoordinator.Terms) internal termsOf;
    mapping(uint256 id => IInferenceCoordinator.LockState) internal lockOf;
    mapping(address account => uint256) public ghostCredits;
    mapping(bytes32 commitment => uint256 blockNumber) internal ghostCommitments;
    uint256 public ghostOpenEscrow;
    uint256 public ghostLockedCollateral;
    bool internal requestsPaused;
    bool internal fulfilmentsPaused;

    uint256 public violations;
    string public firstViolation;
    uint256 public successfulCalls;
    uint256 public lapsedFills; // fulfilments after a lapsed lock (slashes), so a run shows it reached them
    uint256 public forgeries; // calls with forged terms or locks refused, so a run shows it reached them

    constructor(InferenceCoordinator coordinator_, address verifier_, bytes32 modelId_, address guardian_) {
        COORDINATOR = coordinator_;
        VERIFIER = verifier_;
        MODEL_ID = modelId_;
        GUARDIAN = guardian_;
        eoas = [makeAddr("eve"), makeAddr("frank"), makeAddr("grace"), makeAddr("heidi")];
        consumers.push(new RecordingConsumer(coordinator_));
        consumers.push(new RevertingConsumer(coordinator_));
        for (uint256 i = 0; i < eoas.length; ++i) accounts.push(eoas[i]);
        for (uint256 i = 0; i < consumers.length; ++i) accounts.push(address(consumers[i]));
    }

    function requestCount() external view returns (uint256) {
        return ids.length;
    }

    function requestAt(uint256 i) external view returns (uint256) {
        return ids[i];
    }

    function ghostStatus(uint256 id) external view returns (IInferenceCoordinator.RequestStatus) {
        return ghost[id].status;
    }

    function termsAt(uint256 id) external view returns (IInferenceCoordinator.Terms memory) {
        return termsOf[id];
    }

    function lockAt(uint256 id) external view returns (IInferenceCoordinator.LockState memory) {
        return lockOf[id];
    }

    function accountCount() external view returns (uint256) {
        return accounts.length;
    }

    function accountAt(uint256 i) external view returns (address) {
        return accounts[i];
    }

    // ---------------------------------------------------------------------------------------------------------
    // Actions
    // ---------------------------------------------------------------------------------------------------------

    function request(
        uint256 actorSeed,
        uint256 fee,
        uint32 callbackGasLimit,
        uint32 ttl,
        uint256 lockSeed
    ) external {
        fee = bound(fee, 0, 5 ether);
        IInferenceCoordinator.Offer memory offer = _makeOffer(fee, callbackGasLimit, ttl, lockSeed);
        uint256 pick = actorSeed % accounts.length;
        address requester = accounts[pick];
        int256[] memory input = new int256[](3);
        input[0] = int256(actorSeed % 1000);
        IInferenceCoordinator.Terms memory terms = IInferenceCoordinator.Terms({
            requester: requester,
            modelId: MODEL_ID,
            version: 1,
            inputCommitment: _commitment(input),
            maxPrice: fee,
            minPrice: offer.minPrice,
            requestedAt: uint64(block.timestamp),
            rampPeriod: offer.rampPeriod,
            lockDeadline: uint64(block.timestamp) + offer.lockTimeout,
            lockCollateral: offer.lockCollateral,
            callbackGasLimit: offer.callbackGasLimit,
            deadline: offer.deadline
        });
        // The hash of the terms, hashed again while taken (the same terms in the same block).
        uint256 expectedId = uint256(keccak256(abi.encode(terms)));
        while (ghost[expectedId].status != IInferenceCoordinator.RequestStatus.None) {
            expectedId = uint256(keccak256(abi.encode(expectedId)));
        }

        bool ok;
        bytes memory reason;
        if (pick < eoas.length) {
            vm.deal(requester, requester.balance + fee);
            vm.prank(requester);
            try COORDINATOR.requestInference{value: fee}(MODEL_ID, 1, input, offer) returns (uint256 id) {
                ok = id == expectedId;
            } catch (bytes memory r) {
                reason = r;
            }
        } else {
            vm.deal(address(this), address(this).balance + fee);
            try consumers[pick - eoas.length].requestWith{value: fee}(MODEL_ID, 1, input, offer) returns (
                uint256 id
            ) {
                ok = id == expectedId;
            } catch (bytes memory r) {
                reason = r;
            }
        }
        if (requestsPaused) {
            if (ok) return _violate("requested while paused");
            return
                _expectReason(
                    reason,
                    abi.encodeWithSelector(IInferenceCoordinator.CoordinatorRequestsPaused.selector, GUARDIAN)
                );
        }
        if (!ok) return _violate("request failed");
        ids.push(expectedId);
        Ghost storage g = ghost[expectedId];
        g.fee = fee;
        g.requester = requester;
        g.deadline = offer.deadline;
        g.lockDeadline = uint64(block.timestamp) + offer.lockTimeout;
        g.collateral = offer.lockCollateral;
        g.input0 = input[0];
        g.status = IInferenceCoordinator.RequestStatus.Open;
        termsOf[expectedId] = terms;
        ghostOpenEscrow += fee;
        ++successfulCalls;
    }

    function deposit(uint256 actorSeed, uint256 amount) external {
        address who = eoas[actorSeed % eoas.length];
        amount = bound(amount, 1 ether, 5 ether);
        vm.deal(who, who.balance + amount);
        vm.prank(who);
        COORDINATOR.deposit{value: amount}();
        ghostCredits[who] += amount;
        ++successfulCalls;
    }

    function lock(uint256 actorSeed, uint256 idSeed) external {
        address who = eoas[actorSeed % eoas.length];
        uint256 id = _pickId(idSeed);
        uint256[] memory list = new uint256[](1);
        list[0] = id;
        IInferenceCoordinator.Terms[] memory terms = new IInferenceCoordinator.Terms[](1);
        terms[0] = termsOf[id];
        vm.prank(who);
        try COORDINATOR.lock(list, terms) {
            if (_lockError(id, who).length != 0) return _violate("locked against the rules");
            Ghost storage g = ghost[id];
            g.status = IInferenceCoordinator.RequestStatus.Locked;
            g.locker = who;
            g.lockedAt = block.number;
            // A fixed price: the lock's price is the whole escrow.
            lockOf[id] = IInferenceCoordinator.LockState({
                locker: who,
                lockedAt: uint64(block.number),
                price: g.fee
            });
            ghostCredits[who] -= g.collateral;
            ghostLockedCollateral += g.collateral;
            ++successfulCalls;
        } catch (bytes memory reason) {
            bytes memory expected = _lockError(id, who);
            if (expected.length == 0) return _violate("a valid lock failed");
            _expectReason(reason, expected);
        }
    }

    function commit(uint256 actorSeed, uint256 idSeed) external {
        address who = eoas[actorSeed % eoas.length];
        uint256 id = _pickId(idSeed);
        bytes32 c = COORDINATOR.fillCommitment(who, _one(id), keccak256(_goodProof(id)));
        vm.prank(who);
        try COORDINATOR.commit(c) {
            if (ghostCommitments[c] != 0) return _violate("committed twice");
            ghostCommitments[c] = block.number;
            ++successfulCalls;
        } catch (bytes memory reason) {
            if (ghostCommitments[c] == 0) return _violate("a valid commitment failed");
            _expectReason(
                reason,
                abi.encodeWithSelector(
                    IInferenceCoordinator.CoordinatorAlreadyCommitted.selector,
                    c,
                    ghostCommitments[c]
                )
            );
        }
    }

    function fulfil(uint256 actorSeed, uint256 idSeed, bool accepts, bool commitFirst) external {
        address sender = eoas[actorSeed % eoas.length];
        uint256 id = _pickId(idSeed);
        if (commitFirst) {
            // Commit (if not yet) and let a block pass, as an honest open filler does.
            bytes32 c = COORDINATOR.fillCommitment(sender, _one(id), keccak256(_goodProof(id)));
            if (ghostCommitments[c] == 0) {
                vm.prank(sender);
                COORDINATOR.commit(c);
                ghostCommitments[c] = block.number;
            }
            vm.roll(block.number + 1);
        }
        uint256[] memory instances = _instances(id);
        bytes memory proof = accepts ? _goodProof(id) : bytes(hex"00");
        (bytes memory expected, address payee, bytes32 used) = _fulfilOutcome(id, sender, proof, accepts);

        IInferenceCoordinator.Terms memory terms = termsOf[id];
        IInferenceCoordinator.LockState memory held = lockOf[id];
        vm.prank(sender);
        try COORDINATOR.fulfill(id, terms, held, proof, instances) {
            if (expected.length != 0) return _violate("fulfilled against the rules");
            _settleFulfilment(id, payee);
            if (used != bytes32(0)) delete ghostCommitments[used];
            ++successfulCalls;
        } catch (bytes memory reason) {
            if (expected.length == 0) return _violate("a valid fulfilment failed");
            _expectReason(reason, expected);
        }
    }

    function cancel(uint256 actorSeed, uint256 idSeed) external {
        uint256 id = _pickId(idSeed);
        // The requester most of the time, sometimes somebody else.
        address who =
            actorSeed % 4 == 0 || ghost[id].requester == address(0)
                ? eoas[actorSeed % eoas.length]
                : ghost[id].requester;
        bool ok;
        bytes memory reason;
        uint256 consumerIndex = type(uint256).max;
        for (uint256 i = 0; i < consumers.length; ++i) if (address(consumers[i]) == who) consumerIndex = i;
        if (consumerIndex != type(uint256).max) {
            try consumers[consumerIndex].cancelRequest(id, termsOf[id]) {
                ok = true;
            } catch (bytes memory r) {
                reason = r;
            }
        } else {
            IInferenceCoordinator.Terms memory terms = termsOf[id];
            vm.prank(who);
            try COORDINATOR.cancel(id, terms) {
                ok = true;
            } catch (bytes memory r) {
                reason = r;
            }
        }
        bytes memory expected = _notOpenError(id);
        if (expected.length == 0 && ghost[id].status == IInferenceCoordinator.RequestStatus.Locked) {
            expected = _lockedError(id);
        }
        if (expected.length == 0 && who != ghost[id].requester) {
            expected = abi.encodeWithSelector(
                IInferenceCoordinator.CoordinatorNotRequester.selector,
                id,
                who,
                ghost[id].requester
            );
        }
        if (ok) {
            if (expected.length != 0) return _violate("cancelled against the rules");
            ghost[id].status = IInferenceCoordinator.RequestStatus.Cancelled;
            ghostOpenEscrow -= ghost[id].fee;
            ghostCredits[ghost[id].requester] += ghost[id].fee;
            ++successfulCalls;
        } else {
            if (expected.length == 0) return _violate("a valid cancel failed");
            _expectReason(reason, expected);
        }
    }

    function refund(uint256 actorSeed, uint256 idSeed) external {
        uint256 id = _pickId(idSeed);
        Ghost storage g = ghost[id];
        bytes memory expected = _notOpenError(id);
        if (expected.length == 0 && block.timestamp <= g.deadline && !fulfilmentsPaused) {
            expected = abi.encodeWithSelector(
                IInferenceCoordinator.CoordinatorRequestNotExpired.selector,
                id,
                g.deadline
            );
        }
        IInferenceCoordinator.Terms memory terms = termsOf[id];
        IInferenceCoordinator.LockState memory held = lockOf[id];
        vm.prank(accounts[actorSeed % accounts.length]);
        try COORDINATOR.refund(id, terms, held) {
            if (expected.length != 0) return _violate("refunded against the rules");
            ghostOpenEscrow -= g.fee;
            ghostCredits[g.requester] += g.fee;
            if (g.status == IInferenceCoordinator.RequestStatus.Locked) {
                ghostLockedCollateral -= g.collateral;
                // A pause never slashes; after the deadline the lapsed lock's collateral goes to the requester.
                ghostCredits[fulfilmentsPaused ? g.locker : g.requester] += g.collateral;
            }
            g.status = IInferenceCoordinator.RequestStatus.Refunded;
            ++successfulCalls;
        } catch (bytes memory reason) {
            if (expected.length == 0) return _violate("a valid refund failed");
            _expectReason(reason, expected);
        }
    }

    /// @dev Passes back a request's terms with one field changed, or (when locked) its lock with one field
    ///      changed, to `lock`, `fulfill`, `cancel` or `refund` (`op` 0..3): refused with `CoordinatorTermsMismatch`
    ///      whenever the call gets as far as reading them, nothing moves.
    function forge(uint256 actorSeed, uint256 idSeed, uint8 op, uint8 field) external {
        address who = eoas[actorSeed % eoas.length];
        uint256 id = _pickId(idSeed);
        op %= 4;
        Ghost storage g = ghost[id];
        IInferenceCoordinator.Terms memory terms = termsOf[id];
        IInferenceCoordinator.LockState memory held = lockOf[id];
        bool locked = g.status == IInferenceCoordinator.RequestStatus.Locked;
        // Forge the lock (only read when locked) or one of the twelve fields of the terms.
        bool forgeLock = locked && op % 2 == 1 && field % 2 == 0; // fulfill / refund read the lock
        if (forgeLock) {
            if (field % 3 == 0) held.locker = address(uint160(held.locker) ^ 1);
            else if (field % 3 == 1) held.price += 1;
            else held.lockedAt += 1;
        } else {
            _forgeField(terms, field % 12);
        }
        bytes memory expected = _forgedError(id, op);
        bool ok;
        bytes memory reason;
        vm.prank(op == 2 && g.requester != address(0) ? g.requester : who); // a cancel by the requester
        if (op == 0) {
            IInferenceCoordinator.Terms[] memory list = new IInferenceCoordinator.Terms[](1);
            list[0] = terms;
            try COORDINATOR.lock(_one(id), list) {
                ok = true;
            } catch (bytes memory r) {
                reason = r;
            }
        } else if (op == 1) {
            try COORDINATOR.fulfill(id, terms, held, _goodProof(id), _instances(id)) {
                ok = true;
            } catch (bytes memory r) {
                reason = r;
            }
        } else if (op == 2) {
            try COORDINATOR.cancel(id, terms) {
                ok = true;
            } catch (bytes memory r) {
                reason = r;
            }
        } else {
            try COORDINATOR.refund(id, terms, held) {
                ok = true;
            } catch (bytes memory r) {
                reason = r;
            }
        }
        if (ok) return _violate("accepted forged terms");
        _expectReason(reason, expected);
        if (bytes4(reason) == IInferenceCoordinator.CoordinatorTermsMismatch.selector) ++forgeries;
    }

    function _forgeField(IInferenceCoordinator.Terms memory t, uint256 field) internal pure {
        if (field == 0) t.requester = address(uint160(t.requester) ^ 1);
        else if (field == 1) t.modelId = t.modelId ^ bytes32(uint256(1));
        else if (field == 2) t.version ^= 1;
        else if (field == 3) t.inputCommitment = t.inputCommitment ^ bytes32(uint256(1));
        else if (field == 4) t.maxPrice += 1;
        else if (field == 5) t.minPrice ^= 1;
        else if (field == 6) t.requestedAt ^= 1;
        else if (field == 7) t.rampPeriod ^= 1;
        else if (field == 8) t.lockDeadline ^= 1;
        else if (field == 9) t.lockCollateral ^= 1;
        else if (field == 10) t.callbackGasLimit ^= 1;
        else t.deadline ^= 1;
    }

    /// @dev The error a forged call must revert with: the checks the coordinator makes before it reads the terms
    ///      (the pause of `lock` and `fulfill`; `lock` and `cancel` name a status other than open), then
    ///      `CoordinatorTermsMismatch`.
    function _forgedError(uint256 id, uint8 op) internal view returns (bytes memory) {
        IInferenceCoordinator.RequestStatus status = ghost[id].status;
        if ((op == 0 || op == 1) && fulfilmentsPaused) {
            return
                abi.encodeWithSelector(
                    IInferenceCoordinator.CoordinatorFulfilmentsPaused.selector,
                    id,
                    GUARDIAN
                );
        }
        bytes memory notOpen = _notOpenError(id);
        if (notOpen.length != 0) return notOpen;
        if (status == IInferenceCoordinator.RequestStatus.Locked && (op == 0 || op == 2))
            return _lockedError(id);
        return abi.encodeWithSelector(IInferenceCoordinator.CoordinatorTermsMismatch.selector, id, status);
    }

    function withdraw(uint256 actorSeed, uint256 amountSeed, bool whole) external {
        uint256 pick = actorSeed % accounts.length;
        address account = accounts[pick];
        uint256 credit = ghostCredits[account];
        if (pick >= eoas.length) whole = true; // a consumer withdraws its whole credit
        uint256 amount = whole || credit == 0 ? credit : bound(amountSeed, 1, credit);
        uint256 balanceBefore = account.balance;
        bool ok;
        bytes memory reason;
        if (pick >= eoas.length) {
            try consumers[pick - eoas.length].withdrawCredit() {
                ok = true;
            } catch (bytes memory r) {
                reason = r;
            }
        } else if (whole) {
            vm.prank(account);
            try COORDINATOR.withdraw() {
                ok = true;
            } catch (bytes memory r) {
                reason = r;
            }
        } else {
            vm.prank(account);
            try COORDINATOR.withdrawTo(payable(account), amount) {
                ok = true;
            } catch (bytes memory r) {
                reason = r;
            }
        }
        if (credit == 0) {
            if (ok) return _violate("withdrew nothing");
            return
                _expectReason(
                    reason,
                    abi.encodeWithSelector(
                        IInferenceCoordinator.CoordinatorNothingToWithdraw.selector,
                        account
                    )
                );
        }
        if (!ok) return _violate("a valid withdrawal failed");
        ghostCredits[account] -= amount;
        if (account.balance != balanceBefore + amount) return _violate("withdrawal paid the wrong amount");
        ++successfulCalls;
    }

    function setPaused(bool requests, bool fulfilments) external {
        vm.prank(GUARDIAN);
        COORDINATOR.setPaused(requests, fulfilments);
        requestsPaused = requests;
        fulfilmentsPaused = fulfilments;
    }

    function warp(uint32 seconds_) external {
        vm.warp(block.timestamp + bound(seconds_, 1, 12 hours));
        vm.roll(block.number + 1);
    }

    function mine() external {
        vm.roll(block.number + 1);
    }

    /// @dev Accepts the fees it forwards for consumer requests.
    receive() external payable {}

    // ---------------------------------------------------------------------------------------------------------
    // Expected outcomes
    // ---------------------------------------------------------------------------------------------------------

    /// @dev Fixed-price terms (auctions are fuzzed in the unit tests) with a random lock timeout and collateral.
    function _makeOffer(
        uint256 fee,
        uint32 callbackGasLimit,
        uint32 ttl,
        uint256 lockSeed
    ) internal view returns (IInferenceCoordinator.Offer memory) {
        uint64 window = uint64(bound(ttl, 1, 2 days));
        return
            IInferenceCoordinator.Offer({
                minPrice: fee,
                rampPeriod: 0,
                lockTimeout: uint32(bound(lockSeed % 2 ** 32, 1, window)),
                lockCollateral: bound(lockSeed >> 32, 0, 1 ether),
                callbackGasLimit: uint32(bound(callbackGasLimit, 0, 500_000)),
                deadline: uint64(block.timestamp) + window
            });
    }

    /// @dev The input commitment, computed here: the keccak of the elements' field encodings.
    function _commitment(int256[] memory input) internal pure returns (bytes32) {
        uint256[] memory encoded = new uint256[](input.length);
        for (uint256 i = 0; i < input.length; ++i) encoded[i] = FieldElement.encode(input[i]);
        return keccak256(abi.encodePacked(encoded));
    }

    function _one(uint256 id) internal pure returns (uint256[] memory list) {
        list = new uint256[](1);
        list[0] = id;
    }

    /// @dev A known id most of the time, sometimes an unknown one.
    function _pickId(uint256 seed) internal view returns (uint256) {
        if (ids.length == 0 || seed % 8 == 0) return 1_000_000 + (seed % 5);
        // Mostly one of the latest few, so a request lives through lock, lapse and fill.
        if (seed % 4 != 0) return ids[ids.length - 1 - ((seed >> 8) % (ids.length < 3 ? ids.length : 3))];
        return ids[seed % ids.length];
    }

    /// @dev The instances of a request's input with outputs fixed per request, so a commitment can name the proof.
    function _instances(uint256 id) internal view returns (uint256[] memory instances) {
        instances = new uint256[](5);
        instances[0] = FieldElement.encode(ghost[id].input0);
        instances[3] = FieldElement.encode(int256(id % 97) - 48);
        instances[4] = FieldElement.encode(int256(id % 89));
    }

    /// @dev The one proof the mock accepts for `_instances(id)`.
    function _goodProof(uint256 id) internal view returns (bytes memory) {
        return abi.encodePacked(keccak256(abi.encode(_instances(id))));
    }

    /// @dev The error for a request that is neither open nor locked, or empty.
    function _notOpenError(uint256 id) internal view returns (bytes memory) {
        IInferenceCoordinator.RequestStatus s = ghost[id].status;
        if (s == IInferenceCoordinator.RequestStatus.None) {
            return abi.encodeWithSelector(IInferenceCoordinator.CoordinatorRequestUnknown.selector, id);
        }
        if (s == IInferenceCoordinator.RequestStatus.Fulfilled) {
            return
                abi.encodeWithSelector(IInferenceCoordinator.CoordinatorRequestAlreadyFulfilled.selector, id);
        }
        if (s == IInferenceCoordinator.RequestStatus.Refunded) {
            return
                abi.encodeWithSelector(IInferenceCoordinator.CoordinatorRequestAlreadyRefunded.selector, id);
        }
        if (s == IInferenceCoordinator.RequestStatus.Cancelled) {
            return abi.encodeWithSelector(IInferenceCoordinator.CoordinatorRequestCancelled.selector, id);
        }
        return "";
    }

    function _lockedError(uint256 id) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(IInferenceCoordinator.CoordinatorRequestLocked.selector, id);
    }

    /// @dev The error `lock` must revert with, or empty when it must succeed.
    function _lockError(uint256 id, address who) internal view returns (bytes memory expected) {
        Ghost storage g = ghost[id];
        if (fulfilmentsPaused) {
            return
                abi.encodeWithSelector(
                    IInferenceCoordinator.CoordinatorFulfilmentsPaused.selector,
                    id,
                    GUARDIAN
                );
        }
        expected = _notOpenError(id);
        if (expected.length != 0) return expected;
        if (g.status == IInferenceCoordinator.RequestStatus.Locked) return _lockedError(id);
        if (block.timestamp > g.lockDeadline) {
            return
                abi.encodeWithSelector(
                    IInferenceCoordinator.CoordinatorLockDeadlinePassed.selector,
                    id,
                    g.lockDeadline
                );
        }
        if (g.collateral > ghostCredits[who]) {
            return
                abi.encodeWithSelector(
                    IInferenceCoordinator.CoordinatorInsufficientBalance.selector,
                    who,
                    g.collateral,
                    ghostCredits[who]
                );
        }
        return "";
    }

    /// @dev What `fulfill` must do: the error it must revert with (empty: success), who it pays, and the
    ///      commitment it uses up (zero: none).
    function _fulfilOutcome(
        uint256 id,
        address sender,
        bytes memory proof,
        bool accepts
    ) internal view returns (bytes memory expected, address payee, bytes32 used) {
        Ghost storage g = ghost[id];
        if (fulfilmentsPaused) {
            return (
                abi.encodeWithSelector(
                    IInferenceCoordinator.CoordinatorFulfilmentsPaused.selector,
                    id,
                    GUARDIAN
                ),
                address(0),
                bytes32(0)
            );
        }
        expected = _notOpenError(id);
        if (expected.length != 0) return (expected, address(0), bytes32(0));
        if (block.timestamp > g.deadline) {
            return (
                abi.encodeWithSelector(
                    IInferenceCoordinator.CoordinatorRequestExpired.selector,
                    id,
                    g.deadline
                ),
                address(0),
                bytes32(0)
            );
        }
        bytes32 c = COORDINATOR.fillCommitment(sender, _one(id), keccak256(proof));
        uint256 at = ghostCommitments[c];
        bool withinLock =
            g.status == IInferenceCoordinator.RequestStatus.Locked && block.timestamp <= g.lockDeadline;
        if (withinLock) {
            if (sender == g.locker) payee = sender;
            else if (at != 0 && at < g.lockedAt) (payee, used) = (sender, c);
            else payee = g.locker;
        } else {
            if (at == 0) {
                return (
                    abi.encodeWithSelector(
                        IInferenceCoordinator.CoordinatorFillNotCommitted.selector,
                        id,
                        sender,
                        c
                    ),
                    address(0),
                    bytes32(0)
                );
            }
            if (at >= block.number) {
                return (
                    abi.encodeWithSelector(
                        IInferenceCoordinator.CoordinatorCommitmentTooRecent.selector,
                        id,
                        c,
                        at
                    ),
                    address(0),
                    bytes32(0)
                );
            }
            (payee, used) = (sender, c);
        }
        if (!accepts) {
            return (
                abi.encodeWithSelector(
                    IInferenceVerifier.VerifierProofRejected.selector,
                    MODEL_ID,
                    1,
                    VERIFIER
                ),
                address(0),
                bytes32(0)
            );
        }
    }

    /// @dev The ghost ledger after a successful fulfilment paying `payee` (fixed prices: the price is the escrow).
    function _settleFulfilment(uint256 id, address payee) internal {
        Ghost storage g = ghost[id];
        ghostOpenEscrow -= g.fee;
        ghostCredits[payee] += g.fee;
        if (g.status == IInferenceCoordinator.RequestStatus.Locked) {
            ghostLockedCollateral -= g.collateral;
            if (block.timestamp <= g.lockDeadline) {
                ghostCredits[g.locker] += g.collateral; // the locker's collateral back, whoever was paid
            } else {
                ++lapsedFills;
                uint256 toFulfiller = (g.collateral * 5_000) / 10_000;
                ghostCredits[payee] += toFulfiller;
                ghostCredits[g.requester] += g.collateral - toFulfiller;
            }
        }
        g.status = IInferenceCoordinator.RequestStatus.Fulfilled;
        g.fulfiller = payee;
    }

    function _expectReason(bytes memory actual, bytes memory expected) internal {
        if (keccak256(actual) != keccak256(expected)) _violate("unexpected revert reason");
    }

    function _violate(string memory what) internal {
        if (violations == 0) firstViolation = what;
        ++violations;
    }
}

/// @dev Stateful invariants of the coordinator's escrow under random call sequences (see CoordinatorHandler).
/// forge-config: default.invariant.runs = 64
/// forge-config: default.invariant.depth = 64
/// forge-config: default.invariant.fail-on-revert = true
contract InferenceCoordinatorInvariantsTest is RegistryFixture {
    InferenceCoordinator internal coordinator;
    CoordinatorHandler internal handler;

    function setUp() public override {
        super.setUp();
        bytes32 modelId = _register(alice, "digits-mlp");
        _addVersion(alice, modelId, _params(_defaultLayout(3, 2), 1));
        address guardian = makeAddr("guardian");
        coordinator = new InferenceCoordinator(
            registry,
            new InferenceVerifier(registry),
            makeAddr("owner"),
            guardian
        );
        handler = new CoordinatorHandler(coordinator, address(digestVerifier), modelId, guardian);
    }

    /// @dev The fuzzer calls only the handler.
    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    /// @dev The handler itself reaches the slashing path (lock, lapse, committed fill by another prover), so the
    ///      invariants below are checked against it.
    function test_handler_reachesAFillAfterALapsedLock() public {
        handler.request(0, 1 ether, 0, 1 days, (uint256(0.5 ether) << 32) | 3600);
        uint256 id = handler.requestAt(0);
        handler.deposit(0, 2 ether);
        handler.lock(0, 1);
        assertEq(
            uint256(handler.ghostStatus(id)),
            uint256(IInferenceCoordinator.RequestStatus.Locked),
            "locked"
        );
        handler.warp(7200);
        handler.fulfil(1, 1, true, true);
        assertEq(handler.violations(), 0, handler.firstViolation());
        assertEq(handler.lapsedFills(), 1, "a fill after the lapsed lock");
        invariant_balanceIsEscrowPlusCollateralPlusCredits();
        invariant_creditsAndStatusesMatchTheGhost();
    }

    /// @dev The handler's forged calls are refused with `CoordinatorTermsMismatch` on open and locked requests
    ///      alike, for every operation, and move nothing.
    function test_handler_refusesForgedTermsAndLocks() public {
        handler.request(0, 1 ether, 0, 1 days, (uint256(0.5 ether) << 32) | 3600);
        handler.request(1, 1 ether, 0, 1 days, (uint256(0.5 ether) << 32) | 3600);
        handler.deposit(0, 2 ether);
        handler.lock(0, 1); // the latest request
        for (uint8 op = 0; op < 4; ++op) {
            for (uint8 field = 0; field < 12; ++field) {
                handler.forge(op, 1, op, field); // the locked one
                handler.forge(op, 257, op, field); // the open one (`_pickId(257)`: the one before the latest)
            }
        }
        assertEq(handler.violations(), 0, handler.firstViolation());
        assertLt(60, handler.forgeries(), "refused with CoordinatorTermsMismatch");
        invariant_balanceIsEscrowPlusCollateralPlusCredits();
        invariant_creditsAndStatusesMatchTheGhost();
    }

    /// @dev Every call's outcome matched the rules: who may fulfil or refund what and when, with which error.
    function invariant_everyOutcomeMatchesTheRules() public view {
        assertEq(handler.violations(), 0, handler.firstViolation());
    }

    /// @dev The coordinator holds exactly the escrow of open and locked requests plus the collateral of live
    ///      locks plus every balance, read from the coordinator's own state; and that agrees with the ghost ledger.
    function invariant_balanceIsEscrowPlusCollateralPlusCredits() public view {
        uint256 escrow = 0;
        uint256 collateral = 0;
        for (uint256 i = 0; i < handler.requestCount(); ++i) {
            uint256 id = handler.requestAt(i);
            (IInferenceCoordinator.RequestStatus status, bytes32 stateHash) = coordinator.requestState(id);
            IInferenceCoordinator.Terms memory t = handler.termsAt(id);
            // The coordinator's word is the hash of these terms (and lock), so the sums read its own state.
            if (status == IInferenceCoordinator.RequestStatus.Open) {
                assertEq(stateHash, coordinator.hashTerms(t), "an open request's word: its terms");
                escrow += t.maxPrice;
            }
            if (status == IInferenceCoordinator.RequestStatus.Locked) {
                IInferenceCoordinator.LockState memory held = handler.lockAt(id);
                assertEq(
                    stateHash,
                    coordinator.hashLocked(t, held),
                    "a locked request's word: terms and lock"
                );
                (escrow, collateral) = (escrow + held.price, collateral + t.lockCollateral);
            }
        }
        uint256 credits = 0;
        for (uint256 i = 0; i < handler.accountCount(); ++i)
            credits += coordinator.credits(handler.accountAt(i));
        assertEq(
            address(coordinator).balance,
            escrow + collateral + credits,
            "balance = escrow + locked collateral + credits"
        );
        assertEq(escrow, handler.ghostOpenEscrow(), "escrow matches the ghost");
        assertEq(collateral, handler.ghostLockedCollateral(), "locked collateral matches the ghost");
    }

    /// @dev Every account's credit and every request's status are what the rules imply.
    function invariant_creditsAndStatusesMatchTheGhost() public view {
        for (uint256 i = 0; i < handler.accountCount(); ++i) {
            address a = handler.accountAt(i);
            assertEq(coordinator.credits(a), handler.ghostCredits(a), "credit");
        }
        for (uint256 i = 0; i < handler.requestCount(); ++i) {
            uint256 id = handler.requestAt(i);
            (IInferenceCoordinator.RequestStatus status, ) = coordinator.requestState(id);
            assertEq(uint256(status), uint256(handler.ghostStatus(id)), "status");
        }
    }
}
