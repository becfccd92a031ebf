import Foundation
import SchedulerCore

/// The keys of a JWKS document (RFC 7517) that can verify RS256 or ES256 signatures, by `kid`.
/// Other keys (encryption keys, other curves, symmetric keys) are skipped, not errors: issuers
/// publish them side by side.
struct JSONWebKeySet: Sendable {
    var keys: [String: PublicKey] = [:]

    init(keys: [String: PublicKey] = [:]) { self.keys = keys }

    init(json: Data) throws {
        guard case .object(let document) = try JSONDecoder().decode(JSONValue.self, from: json),
            case .array(let entries)? = document["keys"]
        else { throw PublicKey.Invalid(description: "the JWKS document has no 'keys' array") }
        for case .object(let entry) in entries {
            guard case .string(let kid)? = entry["kid"], let key = Self.key(entry) else { continue }
            keys[kid] = key
        }
    }

    private static func key(_ entry: [String: JSONValue]) -> PublicKey? {
        if case .string(let use)? = entry["use"], use != "sig" { return nil }
        func bytes(_ name: String) -> [UInt8]? {
            guard case .string(let text)? = entry[name], let data = Data(base64URL: text) else { return nil }
            return Array(data)
        }
        switch entry["kty"] {
        case .string("RSA")?:
            if case .string(let alg)? = entry["alg"], alg != "RS256" { return nil }
            guard let n = bytes("n"), let e = bytes("e") else { return nil }
            return try? PublicKey(rsaModulus: n, exponent: e)
        case .string("EC")?:
            guard case .string("P-256")? = entry["crv"], let x = bytes("x"), let y = bytes("y") else { return nil }
            return try? PublicKey(p256X: x, y: y)
        default:
            return nil
        }
    }
}
