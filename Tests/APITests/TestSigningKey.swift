import COpenSSL
import Foundation
import SchedulerCore

@testable import API

/// A key pair made by OpenSSL for the test, with its JWK and a JWS signer.
final class TestSigningKey: @unchecked Sendable {
    // @unchecked: used by one test at a time; the EVP_PKEY is not mutated after generation.
    let key: OpaquePointer
    let kid: String
    let alg: String

    private init(key: OpaquePointer, kid: String, alg: String) {
        self.key = key
        self.kid = kid
        self.alg = alg
    }

    deinit { EVP_PKEY_free(key) }

    static func rsa(kid: String, bits: UInt32 = 2048) -> TestSigningKey {
        let context = EVP_PKEY_CTX_new_from_name(nil, "RSA", nil)!
        defer { EVP_PKEY_CTX_free(context) }
        precondition(EVP_PKEY_keygen_init(context) == 1)
        precondition(EVP_PKEY_CTX_set_rsa_keygen_bits(context, Int32(bits)) == 1)
        var key: OpaquePointer?
        precondition(EVP_PKEY_generate(context, &key) == 1)
        return TestSigningKey(key: key!, kid: kid, alg: "RS256")
    }

    static func p256(kid: String) -> TestSigningKey {
        let context = EVP_PKEY_CTX_new_from_name(nil, "EC", nil)!
        defer { EVP_PKEY_CTX_free(context) }
        precondition(EVP_PKEY_keygen_init(context) == 1)
        precondition(EVP_PKEY_CTX_set_group_name(context, "P-256") == 1)
        var key: OpaquePointer?
        precondition(EVP_PKEY_generate(context, &key) == 1)
        return TestSigningKey(key: key!, kid: kid, alg: "ES256")
    }

    /// The public key as a JWKS entry.
    var jwk: [String: String] {
        if alg == "RS256" {
            return ["kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256", "n": base64URL(Data(number("n"))), "e": base64URL(Data(number("e")))]
        }
        var point = [UInt8](repeating: 0, count: 65)
        var length = 0
        precondition(EVP_PKEY_get_octet_string_param(key, "pub", &point, point.count, &length) == 1 && length == 65)
        return ["kty": "EC", "kid": kid, "use": "sig", "crv": "P-256", "x": base64URL(Data(point[1..<33])), "y": base64URL(Data(point[33..<65]))]
    }

    /// The DER of the public key: what an HS256 forgery would use as its "secret".
    var publicKeyBytes: [UInt8] {
        var pointer: UnsafeMutablePointer<UInt8>?
        let length = i2d_PUBKEY(key, &pointer)
        defer { CRYPTO_free(pointer, #file, #line) }
        return Array(UnsafeBufferPointer(start: pointer, count: Int(length)))
    }

    /// A compact JWS of `claims`, signed with this key unless `header` says otherwise.
    func token(_ claims: [String: Any], header: [String: Any]? = nil) -> String {
        let header = header ?? ["alg": alg, "kid": kid, "typ": "JWT"]
        let input = encode(header) + "." + encode(claims)
        return input + "." + base64URL(Data(sign(Array(input.utf8))))
    }

    func encode(_ object: [String: Any]) -> String {
        base64URL(try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
    }

    func sign(_ message: [UInt8]) -> [UInt8] {
        let context = EVP_MD_CTX_new()!
        defer { EVP_MD_CTX_free(context) }
        precondition(EVP_DigestSignInit(context, nil, EVP_sha256(), nil, key) == 1)
        var length = 0
        precondition(EVP_DigestSign(context, nil, &length, message, message.count) == 1)
        var signature = [UInt8](repeating: 0, count: length)
        precondition(EVP_DigestSign(context, &signature, &length, message, message.count) == 1)
        signature = Array(signature[0..<length])
        guard alg == "ES256" else { return signature }
        // DER → r‖s, as JWS carries ECDSA signatures (RFC 7518 §3.4).
        var cursor: UnsafePointer<UInt8>? = signature.withUnsafeBufferPointer { $0.baseAddress }
        let parsed = signature.withUnsafeBufferPointer { buffer -> OpaquePointer? in
            cursor = buffer.baseAddress
            return d2i_ECDSA_SIG(nil, &cursor, buffer.count)
        }!
        defer { ECDSA_SIG_free(parsed) }
        var raw = [UInt8](repeating: 0, count: 64)
        raw.withUnsafeMutableBufferPointer { buffer in
            _ = BN_bn2binpad(ECDSA_SIG_get0_r(parsed), buffer.baseAddress, 32)
            _ = BN_bn2binpad(ECDSA_SIG_get0_s(parsed), buffer.baseAddress! + 32, 32)
        }
        return raw
    }

    private func number(_ name: String) -> [UInt8] {
        var number: OpaquePointer?
        precondition(EVP_PKEY_get_bn_param(key, name, &number) == 1)
        defer { BN_free(number) }
        var bytes = [UInt8](repeating: 0, count: Int((BN_num_bits(number) + 7) / 8))
        _ = BN_bn2bin(number, &bytes)
        return bytes
    }
}

/// HMAC-SHA256 with libcrypto, for the alg-confusion forgery.
func hmacSHA256(key: [UInt8], message: [UInt8]) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: 32)
    var length: UInt32 = 0
    HMAC(EVP_sha256(), key, Int32(key.count), message, message.count, &out, &length)
    return out
}
