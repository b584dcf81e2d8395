// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

// Test names follow `test_<subject>_<behaviour>` / `testFuzz_...` (see STYLE.md), and gas rules do not apply here.
/* solhint-disable func-name-mixedcase, gas-small-strings, gas-strict-inequalities, function-max-lines */

import {TestBase} from "./utils/TestBase.t.sol";
import {RegistryFixture} from "./utils/RegistryFixture.t.sol";
import {IInferenceCoordinator} from "../interfaces/IInferenceCoordinator.sol";
import {IInferenceVerifier} from "../interfaces/IInferenceVerifier.sol";
import {InferenceCoordinator} from "../coordinator/InferenceCoordinator.sol";
import {InferenceVerifier} from "../verifier/InferenceVerifier.sol";
import {FieldElement} from "../libraries/FieldElement.sol";
import {MockConsumer, RecordingConsumer, RevertingConsumer} from "./MockConsumers.sol";

/// @dev Drives the coordinator with random sequences of requests, fulfilments, refunds, withdrawals, pauses and
///      time jumps by random actors (EOAs and consumer contracts, one of which always reverts its callback), with
///      MockHalo2Verifier (TEST-ONLY) as the registered verifier: each fulfilment randomly carries the one proof
///      it accepts for the request's input and random outputs, or a forged one. Keeps a ghost ledger; every call's
///      outcome (success, or the exact named error) is checked against it.
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
        int256 input0; // the input is (input0, 0, 0)
        IInferenceCoordinator.RequestStatus status;
        address fulfiller;
    }

    mapping(uint256 id => Ghost) internal ghost;
    mapping(address account => uint256) public ghostCredits;
    uint256 public ghostOpenEscrow;
    bool internal requestsPaused;
    bool internal fulfilmentsPaused;

    uint256 public violations;
    string public firstViolation;
    uint256 public successfulCalls;

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

    function accountCount() external view returns (uint256) {
        return accounts.length;
    }

    function accountAt(uint256 i) external view returns (address) {
        return accounts[i];
    }

    // ---------------------------------------------------------------------------------------------------------
    // Actions
    // ---------------------------------------------------------------------------------------------------------

    function request(uint256 actorSeed, uint256 fee, uint32 callbackGasLimit, uint32 ttl) external {
        fee = bound(fee, 0, 5 ether);
        callbackGasLimit = uint32(bound(callbackGasLimit, 0, 500_000));
        uint64 deadline = uint64(block.timestamp) + uint64(bound(ttl, 1, 3 days));
        uint256 pick = actorSeed % accounts.length;
        address requester = accounts[pick];
        int256[] memory input = new int256[](3);
        input[0] = int256(actorSeed % 1000);
        uint256 expectedId = COORDINATOR.nextRequestId();

        bool ok;
        bytes memory reason;
        if (pick < eoas.length) {
            vm.deal(requester, requester.balance + fee);
            vm.prank(requester);
            try
                COORDINATOR.requestInference{value: fee}(MODEL_ID, 1, input, callbackGasLimit, deadline)
            returns (uint256 id) {
                ok = id == expectedId;
            } catch (bytes memory r) {
                reason = r;
            }
        } else {
            vm.deal(address(this), address(this).balance + fee);
            try
                consumers[pick - eoas.length].request{value: fee}(
                    MODEL_ID,
                    1,
                    input,
                    callbackGasLimit,
                    deadline
                )
            returns (uint256 id) {
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
        ghost[expectedId] = Ghost({
            fee: fee,
            requester: requester,
            deadline: deadline,
            input0: input[0],
            status: IInferenceCoordinator.RequestStatus.Open,
            fulfiller: address(0)
        });
        ghostOpenEscrow += fee;
        ++successfulCalls;
    }

    function fulfil(uint256 actorSeed, uint256 idSeed, bool accepts) external {
        address fulfiller = eoas[actorSeed % eoas.length];
        uint256 id = _pickId(idSeed);
        // Instances of the request's input with random outputs; the one proof the mock accepts for them, or not.
        uint256[] memory instances = new uint256[](5);
        instances[0] = FieldElement.encode(ghost[id].input0);
        instances[3] = FieldElement.encode(int256(idSeed % 97) - 48);
        instances[4] = FieldElement.encode(int256(actorSeed % 89));
        bytes memory proof = accepts ? abi.encodePacked(keccak256(abi.encode(instances))) : bytes(hex"00");

        vm.prank(fulfiller);
        try COORDINATOR.fulfill(id, proof, instances) {
            bytes memory expected = _fulfilError(id, accepts);
            if (expected.length != 0) return _violate("fulfilled against the rules");
            ghost[id].status = IInferenceCoordinator.RequestStatus.Fulfilled;
            ghost[id].fulfiller = fulfiller;
            ghostOpenEscrow -= ghost[id].fee;
            ghostCredits[fulfiller] += ghost[id].fee;
            ++successfulCalls;
        } catch (bytes memory reason) {
            bytes memory expected = _fulfilError(id, accepts);
            if (expected.length == 0) return _violate("a valid fulfilment failed");
            _expectReason(reason, expected);
        }
    }

    function refund(uint256 actorSeed, uint256 idSeed) external {
        uint256 id = _pickId(idSeed);
        vm.prank(accounts[actorSeed % accounts.length]);
        try COORDINATOR.refund(id) {
            if (_notOpenError(id).length != 0 || block.timestamp <= ghost[id].deadline) {
                return _violate("refunded against the rules");
            }
            ghost[id].status = IInferenceCoordinator.RequestStatus.Refunded;
            ghostOpenEscrow -= ghost[id].fee;
            ghostCredits[ghost[id].requester] += ghost[id].fee;
            ++successfulCalls;
        } catch (bytes memory reason) {
            bytes memory expected = _notOpenError(id);
            if (expected.length == 0) {
                if (block.timestamp > ghost[id].deadline) return _violate("a valid refund failed");
                expected = abi.encodeWithSelector(
                    IInferenceCoordinator.CoordinatorRequestNotExpired.selector,
                    id,
                    ghost[id].deadline
                );
            }
            _expectReason(reason, expected);
        }
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
        vm.warp(block.timestamp + bound(seconds_, 1, 2 days));
    }

    /// @dev Accepts the fees it forwards for consumer requests.
    receive() external payable {}

    // ---------------------------------------------------------------------------------------------------------
    // Expected outcomes
    // ---------------------------------------------------------------------------------------------------------

    /// @dev A known id most of the time, sometimes an unknown one.
    function _pickId(uint256 seed) internal view returns (uint256) {
        if (ids.length == 0 || seed % 8 == 0) return 1_000_000 + (seed % 5);
        return ids[seed % ids.length];
    }

    function _notOpenError(uint256 id) internal view returns (bytes memory) {
        IInferenceCoordinator.RequestStatus s = ghost[id].status;
        if (s == IInferenceCoordinator.RequestStatus.None) {
            return abi.encodeWithSelector(IInferenceCoordinator.CoordinatorRequestUnknown.selector, id);
        }
        if (s == IInferenceCoordinator.RequestStatus.Fulfilled) {
            return
                abi.encodeWithSelector(
                    IInferenceCoordinator.CoordinatorRequestAlreadyFulfilled.selector,
                    id,
                    ghost[id].fulfiller
                );
        }
        if (s == IInferenceCoordinator.RequestStatus.Refunded) {
            return
                abi.encodeWithSelector(IInferenceCoordinator.CoordinatorRequestAlreadyRefunded.selector, id);
        }
        return "";
    }

    /// @dev The error `fulfill` must revert with, or empty when it must succeed.
    function _fulfilError(uint256 id, bool accepts) internal view returns (bytes memory expected) {
        expected = _notOpenError(id);
        if (expected.length != 0) return expected;
        if (block.timestamp > ghost[id].deadline) {
            return
                abi.encodeWithSelector(
                    IInferenceCoordinator.CoordinatorRequestExpired.selector,
                    id,
                    ghost[id].deadline
                );
        }
        if (fulfilmentsPaused) {
            return
                abi.encodeWithSelector(
                    IInferenceCoordinator.CoordinatorFulfilmentsPaused.selector,
                    id,
                    GUARDIAN
                );
        }
        if (!accepts) {
            return
                abi.encodeWithSelector(
                    IInferenceVerifier.VerifierProofRejected.selector,
                    MODEL_ID,
                    1,
                    VERIFIER
                );
        }
        return "";
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

    /// @dev Every call's outcome matched the rules: who may fulfil or refund what and when, with which error.
    function invariant_everyOutcomeMatchesTheRules() public view {
        assertEq(handler.violations(), 0, handler.firstViolation());
    }

    /// @dev The coordinator holds exactly the fees of open requests plus every unwithdrawn credit, read from the
    ///      coordinator's own state; and that agrees with the ghost ledger.
    function invariant_balanceIsOpenEscrowPlusCredits() public view {
        uint256 openEscrow = 0;
        for (uint256 i = 0; i < handler.requestCount(); ++i) {
            IInferenceCoordinator.Request memory r = coordinator.request(handler.requestAt(i));
            if (r.status == IInferenceCoordinator.RequestStatus.Open) openEscrow += r.fee;
        }
        uint256 credits = 0;
        for (uint256 i = 0; i < handler.accountCount(); ++i)
            credits += coordinator.credits(handler.accountAt(i));
        assertEq(address(coordinator).balance, openEscrow + credits, "balance = open escrow + credits");
        assertEq(openEscrow, handler.ghostOpenEscrow(), "open escrow matches the ghost");
    }

    /// @dev Every account's credit and every request's status are what the rules imply.
    function invariant_creditsAndStatusesMatchTheGhost() public view {
        for (uint256 i = 0; i < handler.accountCount(); ++i) {
            address a = handler.accountAt(i);
            assertEq(coordinator.credits(a), handler.ghostCredits(a), "credit");
        }
        for (uint256 i = 0; i < handler.requestCount(); ++i) {
            uint256 id = handler.requestAt(i);
            assertEq(uint256(coordinator.request(id).status), uint256(handler.ghostStatus(id)), "status");
        }
    }
}
