import COpenSSL
import Foundation

/// A JWT signature algorithm this API accepts. Everything else (`none`, `HS*`, `PS*`, …) is
/// refused before any key is looked at: an HMAC "signed" with a public key proves nothing.
enum SignatureAlgorithm: String, Sendable {
    case rs256 = "RS256"
    case es256 = "ES256"
}

/// An RSA or P-256 public key held by OpenSSL's libcrypto, which does all the cryptography.
final class PublicKey: @unchecked Sendable {
    // @unchecked: the EVP_PKEY is never mutated after construction; OpenSSL 3 allows concurrent
    // use of one key from several threads for verification.
    private let key: OpaquePointer
    let algorithm: SignatureAlgorithm

    struct Invalid: Error, CustomStringConvertible { let description: String }

    /// An RSA key from its big-endian modulus and exponent; at least 2048 bits.
    init(rsaModulus modulus: [UInt8], exponent: [UInt8]) throws {
        guard let n = BN_bin2bn(modulus, Int32(modulus.count), nil) else { throw Invalid(description: "out of memory") }
        defer { BN_free(n) }
        guard let e = BN_bin2bn(exponent, Int32(exponent.count), nil) else { throw Invalid(description: "out of memory") }
        defer { BN_free(e) }
        key = try Self.make(type: "RSA") { builder in
            guard OSSL_PARAM_BLD_push_BN(builder, COPENSSL_PARAM_RSA_N, n) == 1,
                OSSL_PARAM_BLD_push_BN(builder, COPENSSL_PARAM_RSA_E, e) == 1
            else { return nil }
            return OSSL_PARAM_BLD_to_param(builder)
        }
        algorithm = .rs256
        guard EVP_PKEY_get_bits(key) >= 2048 else {
            EVP_PKEY_free(key)
            throw Invalid(description: "RSA keys must have at least 2048 bits")
        }
    }

    /// A P-256 key from its affine coordinates (32 bytes each).
    init(p256X x: [UInt8], y: [UInt8]) throws {
        guard x.count == 32, y.count == 32 else { throw Invalid(description: "P-256 coordinates must be 32 bytes") }
        let point = [0x04] + x + y  // SEC 1 uncompressed point
        key = try Self.make(type: "EC") { builder in
            // The builder references the point until to_param: both happen inside this scope.
            point.withUnsafeBufferPointer { buffer in
                guard OSSL_PARAM_BLD_push_utf8_string(builder, COPENSSL_PARAM_GROUP, COPENSSL_GROUP_P256, 0) == 1,
                    OSSL_PARAM_BLD_push_octet_string(builder, COPENSSL_PARAM_PUB, buffer.baseAddress, buffer.count) == 1
                else { return nil }
                return OSSL_PARAM_BLD_to_param(builder)
            }
        }
        algorithm = .es256
    }

    deinit { EVP_PKEY_free(key) }

    /// Whether `signature` is this key's signature of `message` under JWS `algorithm` (RFC 7518 §3).
    func verify(_ signature: [UInt8], of message: [UInt8], algorithm: SignatureAlgorithm) -> Bool {
        guard algorithm == self.algorithm else { return false }
        let der: [UInt8]
        switch algorithm {
        case .rs256: der = signature
        case .es256:
            // JWS carries ECDSA signatures as r‖s (RFC 7518 §3.4); OpenSSL wants DER.
            guard signature.count == 64, let converted = Self.derSignature(r: signature[0..<32], s: signature[32..<64])
            else { return false }
            der = converted
        }
        guard let context = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestVerifyInit(context, nil, EVP_sha256(), nil, key) == 1 else { return false }
        let result = EVP_DigestVerify(context, der, der.count, message, message.count)
        ERR_clear_error()  // a failed verification leaves errors on this thread's queue
        return result == 1
    }

    /// A public key of `type` from the parameters `build` pushes and turns into an `OSSL_PARAM` array.
    private static func make(type: String, _ build: (OpaquePointer) -> UnsafeMutablePointer<OSSL_PARAM>?) throws -> OpaquePointer {
        guard let builder = OSSL_PARAM_BLD_new() else { throw Invalid(description: "out of memory") }
        defer { OSSL_PARAM_BLD_free(builder) }
        guard let parameters = build(builder) else { throw Invalid(description: "cannot build \(type) key parameters") }
        defer { OSSL_PARAM_free(parameters) }
        guard let context = EVP_PKEY_CTX_new_from_name(nil, type, nil) else { throw Invalid(description: "no \(type) support") }
        defer { EVP_PKEY_CTX_free(context) }
        var key: OpaquePointer?
        guard EVP_PKEY_fromdata_init(context) == 1,
            EVP_PKEY_fromdata(context, &key, COPENSSL_PUBLIC_KEY, parameters) == 1, let key
        else {
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(ERR_get_error(), &buffer, buffer.count)
            ERR_clear_error()
            throw Invalid(description: "not a valid \(type) public key: \(String(cString: buffer))")
        }
        return key
    }

    private static func derSignature(r: ArraySlice<UInt8>, s: ArraySlice<UInt8>) -> [UInt8]? {
        guard let signature = ECDSA_SIG_new() else { return nil }
        defer { ECDSA_SIG_free(signature) }
        let rNumber = Array(r).withUnsafeBufferPointer { BN_bin2bn($0.baseAddress, Int32($0.count), nil) }
        let sNumber = Array(s).withUnsafeBufferPointer { BN_bin2bn($0.baseAddress, Int32($0.count), nil) }
        guard let rNumber, let sNumber else {
            BN_free(rNumber)
            BN_free(sNumber)
            return nil
        }
        ECDSA_SIG_set0(signature, rNumber, sNumber)  // takes ownership of both numbers
        let length = i2d_ECDSA_SIG(signature, nil)
        guard length > 0 else { return nil }
        var der = [UInt8](repeating: 0, count: Int(length))
        let written = der.withUnsafeMutableBufferPointer { buffer -> Int32 in
            var cursor = buffer.baseAddress
            return i2d_ECDSA_SIG(signature, &cursor)
        }
        return written == length ? der : nil
    }
}
