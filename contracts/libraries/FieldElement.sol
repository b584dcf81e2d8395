// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title FieldElement
/// @notice Converts between signed fixed-point integers and elements of the BN254 scalar field, the form in
///         which EZKL exposes a circuit's public inputs and outputs ("instances").
/// @dev EZKL quantises a real number r at scale s to the integer x = round(r * 2^s) and places x in the
///      circuit as the field element x mod p. Negative integers therefore live in the upper half of the field:
///      x < 0 is encoded as p - |x|. Decoding takes v <= (p - 1) / 2 as the positive integer v and any larger v
///      as the negative integer v - p. The two maps are inverse bijections between the integers
///      [-(p - 1) / 2, (p - 1) / 2] and the field [0, p); anything outside those ranges is rejected rather than
///      reduced, because a silent reduction would let two different integers bind to the same instance.
library FieldElement {
    /// @notice The BN254 (alt_bn128) scalar field modulus: the order of the group the Halo2 KZG proofs live in.
    uint256 internal constant MODULUS =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;

    /// @notice The largest field element that decodes to a non-negative integer, (p - 1) / 2.
    uint256 internal constant HALF_MODULUS = (MODULUS - 1) / 2;

    /// @notice The smallest field element that decodes to a negative integer, (p + 1) / 2.
    uint256 internal constant NEGATIVE_START = HALF_MODULUS + 1;

    /// @notice The largest integer that can be encoded, (p - 1) / 2.
    int256 internal constant MAX_INT = int256(HALF_MODULUS);

    /// @notice The smallest integer that can be encoded, -(p - 1) / 2.
    int256 internal constant MIN_INT = -int256(HALF_MODULUS);

    /// @notice Thrown when a value given as a field element is not reduced, i.e. `value >= MODULUS`.
    /// @dev Usually a malformed instance array: EZKL's own verifiers reject such instances too.
    /// @param value The offending value.
    error FieldElementOutOfRange(uint256 value);

    /// @notice Thrown when an integer's magnitude exceeds (p - 1) / 2 and so has no unique field encoding.
    /// @dev Real fixed-point inputs are tiny compared with this bound; hitting it means a scaling bug upstream.
    /// @param value The offending integer.
    error FieldElementIntOutOfRange(int256 value);

    /// @notice Encodes a signed fixed-point integer as a field element.
    /// @param x An integer in [MIN_INT, MAX_INT].
    /// @return The field element `x` for `x >= 0`, `MODULUS - |x|` for `x < 0`.
    function encode(int256 x) internal pure returns (uint256) {
        if (x < MIN_INT || x > MAX_INT) revert FieldElementIntOutOfRange({value: x});
        if (x < 0) {
            // unchecked: MIN_INT <= x < 0, so -x cannot overflow and 0 < -x <= HALF_MODULUS < MODULUS.
            unchecked {
                return MODULUS - uint256(-x);
            }
        }
        return uint256(x);
    }

    /// @notice Decodes a field element to the signed fixed-point integer it represents.
    /// @param v A field element, `v < MODULUS`.
    /// @return `v` when `v <= HALF_MODULUS`, otherwise `v - MODULUS` (a negative integer).
    function decode(uint256 v) internal pure returns (int256) {
        if (v < NEGATIVE_START) return int256(v);
        if (v < MODULUS) {
            // unchecked: HALF_MODULUS < v < MODULUS, so 0 < MODULUS - v <= HALF_MODULUS, which fits in int256.
            unchecked {
                return -int256(MODULUS - v);
            }
        }
        revert FieldElementOutOfRange({value: v});
    }

    /// @notice The commitment to an input that a proof's input instances must match: the keccak256 of the
    ///         input's field encodings, each as a 32-byte word, in order.
    /// @dev Equals `keccak256(abi.encodePacked(encoded))` for `encoded[i] = encode(xs[i])`, i.e. the keccak256 of
    ///      the input slice of the public instances a proof of this input carries, so a verifier can check the
    ///      binding by hashing that slice. Reverts like `encode` for an element without a field encoding. In
    ///      assembly because it runs on every request over the whole input (64 elements for an 8x8 image).
    /// @param xs Signed fixed-point integers, each in [MIN_INT, MAX_INT].
    /// @return commitment The keccak256 of the encodings.
    function commit(int256[] calldata xs) internal pure returns (bytes32 commitment) {
        uint256 modulus = MODULUS;
        int256 maxInt = MAX_INT;
        int256 minInt = MIN_INT;
        uint256 bad = type(uint256).max;
        // Writes the encodings past the free memory pointer without moving it (scratch, never read again).
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            for {
                let i := 0
            } lt(i, xs.length) {
                i := add(i, 1)
            } {
                let x := calldataload(add(xs.offset, shl(5, i)))
                if or(sgt(x, maxInt), slt(x, minInt)) {
                    bad := i
                    break
                }
                // For negative x, add wraps mod 2^256 to MODULUS - |x|.
                let encoded := x
                if slt(x, 0) {
                    encoded := add(modulus, x)
                }
                mstore(add(ptr, shl(5, i)), encoded)
            }
            commitment := keccak256(ptr, shl(5, xs.length))
        }
        if (bad != type(uint256).max) encode(xs[bad]); // reverts with FieldElementIntOutOfRange
    }

    /// @notice `commit` of an input given packed: each element as `width` big-endian bytes of its two's complement
    ///         (1 <= width <= 32, `packed.length` a multiple of it; the caller checks both).
    /// @param width The bytes per element.
    /// @param packed The elements.
    /// @return commitment The same hash `commit` gives for the unpacked elements.
    function commitPacked(uint256 width, bytes calldata packed) internal pure returns (bytes32 commitment) {
        uint256 modulus = MODULUS;
        int256 maxInt = MAX_INT;
        int256 minInt = MIN_INT;
        uint256 bad = type(uint256).max;
        int256 badValue;
        // Writes the encodings past the free memory pointer without moving it (scratch, never read again).
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            let count := div(packed.length, width)
            let shift := sub(256, shl(3, width))
            let signByte := sub(width, 1)
            for {
                let i := 0
            } lt(i, count) {
                i := add(i, 1)
            } {
                // The element's bytes at the top of the word, moved down and sign-extended.
                let x := signextend(signByte, shr(shift, calldataload(add(packed.offset, mul(i, width)))))
                if or(sgt(x, maxInt), slt(x, minInt)) {
                    bad := i
                    badValue := x
                    break
                }
                let encoded := x
                if slt(x, 0) {
                    encoded := add(modulus, x)
                }
                mstore(add(ptr, shl(5, i)), encoded)
            }
            commitment := keccak256(ptr, shl(5, count))
        }
        if (bad != type(uint256).max) encode(badValue); // reverts with FieldElementIntOutOfRange
    }

    /// @notice Whether `v` is a reduced field element (`v < MODULUS`).
    /// @param v The value to test.
    /// @return True when `v < MODULUS`.
    function isReduced(uint256 v) internal pure returns (bool) {
        return v < MODULUS;
    }
}
