import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The API over HTTP. Any status other than 200, 201 and 204 is a `CLIError` carrying the API's
/// own `error` message.
struct APIClient: Sendable {
    let base: URL
    let token: String?

    struct Response {
        var status: Int
        var body: Data

        /// The body as JSON.
        func json() throws -> Any {
            try JSONSerialization.jsonObject(with: body, options: [.fragmentsAllowed])
        }
    }

    /// `path` is relative to the base URL (`jobs/x`); `query` is percent-encoded here.
    @discardableResult
    func send(_ method: String, _ path: String, query: [(String, String)] = [], body: [String: Any]? = nil) async throws -> Response {
        var components = URLComponents(url: base.appendingPathComponent(path), resolvingAgainstBaseURL: false)!
        if !query.isEmpty { components.queryItems = query.map { URLQueryItem(name: $0.0, value: $0.1) } }
        var request = URLRequest(url: components.url!)
        request.httpMethod = method
        request.timeoutInterval = 30
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        if let body {
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
        }
        let data: Data
        let response: URLResponse
        do {
            (data, response) = try await URLSession.shared.data(for: request)
        } catch {
            throw CLIError("cannot reach the API at \(base.absoluteString): \(error.localizedDescription)")
        }
        let status = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard [200, 201, 204].contains(status) else {
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
            var message = object?["error"] as? String ?? "the API answered \(status)"
            if let missing = object?["missing_scopes"] as? [String] { message += ": \(missing.joined(separator: ", "))" }
            if status == 401 { message += " (log in with `simple-scheduler login`, or pass --token)" }
            throw CLIError(message)
        }
        return Response(status: status, body: data)
    }
}

/// Percent-encodes a path segment (job names are safe, run ids too; this keeps odd input from
/// changing the path).
func pathSegment(_ text: String) -> String {
    text.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/?#"))) ?? text
}
