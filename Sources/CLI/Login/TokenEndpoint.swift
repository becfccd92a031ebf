import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// An OAuth 2.0 token endpoint (RFC 6749 §3.2): a form POST, client credentials with HTTP Basic
/// for a confidential client (§2.3.1), the client id in the form for a public one.
struct TokenEndpoint {
    let url: String
    let clientID: String
    let clientSecret: String?

    struct Tokens {
        var accessToken: String
        var refreshToken: String?
        var idToken: String?
        var expiresIn: Double
    }

    func request(_ parameters: [String: String]) async throws -> Tokens {
        guard let endpoint = URL(string: url) else { throw CLIError("the token endpoint '\(url)' is not a URL") }
        var form = parameters
        var request = URLRequest(url: endpoint)
        request.httpMethod = "POST"
        request.timeoutInterval = 30
        request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
        if let clientSecret {
            let pair = "\(formEncoded(clientID)):\(formEncoded(clientSecret))"
            request.setValue("Basic \(Data(pair.utf8).base64EncodedString())", forHTTPHeaderField: "Authorization")
        } else {
            form["client_id"] = clientID
        }
        request.httpBody = Data(form.sorted { $0.key < $1.key }.map { "\($0.key)=\(formEncoded($0.value))" }
            .joined(separator: "&").utf8)
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await URLSession.shared.data(for: request)
        } catch {
            throw CLIError("cannot reach the token endpoint \(url): \(error.localizedDescription)")
        }
        let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        guard (response as? HTTPURLResponse)?.statusCode == 200, let access = object["access_token"] as? String else {
            let reason = [object["error"] as? String, object["error_description"] as? String].compactMap { $0 }
            throw CLIError("the token endpoint refused: \(reason.isEmpty ? "no access token" : reason.joined(separator: ": "))")
        }
        let expiresIn = (object["expires_in"] as? Double) ?? (object["expires_in"] as? Int).map(Double.init) ?? 300
        return Tokens(accessToken: access, refreshToken: object["refresh_token"] as? String,
                      idToken: object["id_token"] as? String, expiresIn: expiresIn)
    }
}

/// `application/x-www-form-urlencoded` value encoding.
func formEncoded(_ text: String) -> String {
    text.addingPercentEncoding(withAllowedCharacters: CharacterSet(charactersIn:
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")) ?? text
}
