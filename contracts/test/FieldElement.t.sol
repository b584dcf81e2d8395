// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

// Test names follow `test_<subject>_<behaviour>` / `testFuzz_...` (see STYLE.md), and gas rules do not apply here.
/* solhint-disable func-name-mixedcase, gas-small-strings, gas-strict-inequalities, function-max-lines */

import {TestBase} from "./utils/TestBase.t.sol";
import {FieldElement} from "../libraries/FieldElement.sol";

/// @dev Exposes the library's internal functions externally so reverts can be asserted with `expectRevert`.
contract FieldElementHarness {
    function encode(int256 x) external pure returns (uint256) {
        return FieldElement.encode(x);
    }

    function decode(uint256 v) external pure returns (int256) {
        return FieldElement.decode(v);
    }

    function commit(int256[] calldata xs) external pure returns (bytes32) {
        return FieldElement.commit(xs);
    }
}

/// forge-config: default.fuzz.runs = 1024
contract FieldElementTest is TestBase {
    uint256 internal constant P =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;
    uint256 internal constant HALF = (P - 1) / 2;

    FieldElementHarness internal fe;

    function setUp() public {
        fe = new FieldElementHarness();
    }

    function test_constantsMatchTheBn254ScalarField() public pure {
        // r = 36u^4 + 36u^3 + 18u^2 + 6u + 1 with the BN254 parameter u = 4965661367192848881.
        uint256 u = 4965661367192848881;
        uint256 r = 36 * u ** 4 + 36 * u ** 3 + 18 * u ** 2 + 6 * u + 1;
        assertEq(FieldElement.MODULUS, r, "modulus");
        assertEq(FieldElement.MODULUS, P, "modulus literal");
        assertEq(FieldElement.HALF_MODULUS, HALF, "half");
        assertEq(FieldElement.MAX_INT, int256(HALF), "max");
        assertEq(FieldElement.MIN_INT, -int256(HALF), "min");
    }

    function test_encode_edgeValues() public view {
        assertEq(fe.encode(0), 0, "0");
        assertEq(fe.encode(1), 1, "1");
        assertEq(fe.encode(-1), P - 1, "-1");
        assertEq(fe.encode(-2), P - 2, "-2");
        assertEq(fe.encode(int256(HALF)), HALF, "max");
        assertEq(fe.encode(-int256(HALF)), HALF + 1, "min");
    }

    function test_decode_edgeValues() public view {
        assertEq(fe.decode(0), 0, "0");
        assertEq(fe.decode(1), 1, "1");
        assertEq(fe.decode(P - 1), -1, "p-1");
        assertEq(fe.decode(HALF), int256(HALF), "half");
        assertEq(fe.decode(HALF + 1), -int256(HALF), "half+1");
    }

    function test_encode_revertsJustOutsideTheRange() public {
        int256[3] memory bad = [int256(HALF) + 1, -int256(HALF) - 1, type(int256).min];
        for (uint256 i = 0; i < bad.length; ++i) {
            vm.expectRevert(abi.encodeWithSelector(FieldElement.FieldElementIntOutOfRange.selector, bad[i]));
            fe.encode(bad[i]);
        }
        vm.expectRevert(
            abi.encodeWithSelector(FieldElement.FieldElementIntOutOfRange.selector, type(int256).max)
        );
        fe.encode(type(int256).max);
    }

    function test_decode_revertsAtTheModulus() public {
        vm.expectRevert(abi.encodeWithSelector(FieldElement.FieldElementOutOfRange.selector, P));
        fe.decode(P);
        vm.expectRevert(
            abi.encodeWithSelector(FieldElement.FieldElementOutOfRange.selector, type(uint256).max)
        );
        fe.decode(type(uint256).max);
    }

    /// @dev int -> field -> int is the identity on [-(p-1)/2, (p-1)/2]; everything else is rejected by name.
    function testFuzz_encodeThenDecode_isIdentityOrNamedRevert(int256 x) public {
        bool inRange = x >= -int256(HALF) && x <= int256(HALF);
        if (!inRange) {
            vm.expectRevert(abi.encodeWithSelector(FieldElement.FieldElementIntOutOfRange.selector, x));
            fe.encode(x);
            return;
        }
        uint256 v = fe.encode(x);
        assertTrue(v < P, "encoding is reduced");
        assertEq(fe.decode(v), x, "round trip");
    }

    /// @dev The same over the magnitudes real fixed-point data has (the fuzzer rarely draws them as int256).
    function testFuzz_encodeThenDecode_smallMagnitudes(int64 x) public view {
        uint256 v = fe.encode(x);
        assertEq(fe.decode(v), int256(x), "round trip");
        assertEq(v, x >= 0 ? uint256(int256(x)) : P - uint256(-int256(x)), "negative x -> p - |x|");
    }

    /// @dev field -> int -> field is the identity on [0, p); every value >= p is rejected by name.
    function testFuzz_decodeThenEncode_isIdentityOrNamedRevert(uint256 v) public {
        if (v >= P) {
            vm.expectRevert(abi.encodeWithSelector(FieldElement.FieldElementOutOfRange.selector, v));
            fe.decode(v);
            return;
        }
        int256 x = fe.decode(v);
        assertEq(fe.encode(x), v, "round trip");
        assertEq(x >= 0, v <= HALF, "sign follows the half-field split");
    }

    /// @dev The same restricted to reduced values, so every run exercises the decoding path.
    function testFuzz_decodeThenEncode_reducedValues(uint256 v) public view {
        v = bound(v, 0, P - 1);
        int256 x = fe.decode(v);
        assertTrue(x >= -int256(HALF) && x <= int256(HALF), "decoded value in range");
        assertEq(fe.encode(x), v, "round trip");
    }

    function testFuzz_decode_rejectsEveryUnreducedValue(uint256 v) public {
        v = bound(v, P, type(uint256).max);
        vm.expectRevert(abi.encodeWithSelector(FieldElement.FieldElementOutOfRange.selector, v));
        fe.decode(v);
    }

    /// @dev The encoding is the ring map Z -> F_p: it turns integer addition and negation into field addition,
    ///      which is what makes EZKL's in-circuit arithmetic on encoded values agree with integer arithmetic.
    function testFuzz_encode_isAdditive(int128 a, int128 b) public view {
        int256 sum = int256(a) + int256(b);
        assertEq(
            fe.encode(sum),
            addmod(fe.encode(a), fe.encode(b), P),
            "encode(a + b) == encode(a) + encode(b)"
        );
        assertEq(addmod(fe.encode(a), fe.encode(-int256(a)), P), 0, "encode(-a) == -encode(a)");
    }

    // ---------------------------------------------------------------------------------------------------------
    // commit
    // ---------------------------------------------------------------------------------------------------------

    /// @dev The reference definition: keccak256 of the encodings packed as 32-byte words.
    function _referenceCommit(int256[] memory xs) internal pure returns (bytes32) {
        uint256[] memory encoded = new uint256[](xs.length);
        for (uint256 i = 0; i < xs.length; ++i) encoded[i] = FieldElement.encode(xs[i]);
        return keccak256(abi.encodePacked(encoded));
    }

    function testFuzz_commit_isTheKeccakOfTheEncodings(int128[] memory raw) public view {
        int256[] memory xs = new int256[](raw.length);
        for (uint256 i = 0; i < raw.length; ++i) xs[i] = raw[i];
        assertEq(fe.commit(xs), _referenceCommit(xs), "commitment");
    }

    function test_commit_ofNothingIsTheEmptyKeccak() public view {
        assertEq(fe.commit(new int256[](0)), keccak256(""), "empty commitment");
    }

    function test_commit_acceptsTheRangeEnds() public view {
        int256[] memory xs = new int256[](3);
        (xs[0], xs[1], xs[2]) = (FieldElement.MIN_INT, 0, FieldElement.MAX_INT);
        assertEq(fe.commit(xs), _referenceCommit(xs), "commitment of the extremes");
    }

    function testFuzz_commit_bindsOrderAndLength(int64 a, int64 b) public view {
        vm.assume(a != b);
        int256[] memory ab = new int256[](2);
        (ab[0], ab[1]) = (a, b);
        int256[] memory ba = new int256[](2);
        (ba[0], ba[1]) = (b, a);
        int256[] memory aOnly = new int256[](1);
        aOnly[0] = a;
        assertNotEq(fe.commit(ab), fe.commit(ba), "order matters");
        assertNotEq(fe.commit(ab), fe.commit(aOnly), "length matters");
    }

    function testFuzz_commit_revertsForAnElementWithoutEncoding(uint8 length, uint8 index, bool high) public {
        length = uint8(bound(length, 1, 20));
        index = uint8(bound(index, 0, length - 1));
        int256[] memory xs = new int256[](length);
        int256 bad = high ? FieldElement.MAX_INT + 1 : FieldElement.MIN_INT - 1;
        xs[index] = bad;
        vm.expectRevert(abi.encodeWithSelector(FieldElement.FieldElementIntOutOfRange.selector, bad));
        fe.commit(xs);
    }
}
