import Foundation
import HTTPServer
import SchedulerCore

/// List parameters shared by `/api/jobs` and `/api/runs`: `limit` and the opaque `after` cursor,
/// and the `Link: <…>; rel="next"` header of the next page (SPEC §7).
struct Paging {
    static let defaultLimit = 100
    static let maximumLimit = 1000

    var limit = Paging.defaultLimit
    var after: String?

    /// Reads `limit` and `after` from `query`.
    init(_ query: QueryParameters) throws(HTTPError) {
        if let text = query["limit"] {
            guard let value = Int(text), (1...Self.maximumLimit).contains(value) else {
                throw .badRequest("limit must be a whole number from 1 to \(Self.maximumLimit) (got '\(text)')")
            }
            limit = value
        }
        after = query["after"]
    }

    /// The next page's link: this request's path and query with `after` replaced.
    static func link(for request: HTTPRequest, query: QueryParameters, next cursor: String) -> String {
        var items = query.items.filter { $0.name != "after" }
        items.append(("after", cursor))
        let encoded = items.map { "\(percentEncodedQueryValue($0.name))=\(percentEncodedQueryValue($0.value))" }
        return "<\(request.path)?\(encoded.joined(separator: "&"))>; rel=\"next\""
    }

    // MARK: - Cursors: base64url, so clients treat them as opaque

    static func encode(jobCursor name: String) -> String { base64URL(Data(name.utf8)) }

    static func decode(jobCursor text: String) throws(HTTPError) -> String {
        guard let data = Data(base64URL: text), let name = String(data: data, encoding: .utf8) else {
            throw .badRequest("'after' is not a cursor this API gave out; take it from the Link header")
        }
        return name
    }

    static func encode(runCursor cursor: RunCursor) -> String {
        base64URL(Data("\(cursor.createdTime.milliseconds):\(cursor.id.hex)".utf8))
    }

    static func decode(runCursor text: String) throws(HTTPError) -> RunCursor {
        let invalid = HTTPError.badRequest("'after' is not a cursor this API gave out; take it from the Link header")
        guard let data = Data(base64URL: text), let plain = String(data: data, encoding: .utf8) else { throw invalid }
        let parts = plain.split(separator: ":")
        guard parts.count == 2, let millis = Int64(parts[0]), let id = try? RunID(validating: String(parts[1])) else {
            throw invalid
        }
        return RunCursor(createdTime: Timestamp(milliseconds: millis), id: id)
    }
}

/// A request's query, looked up by name (the first value wins).
struct QueryParameters {
    let items: [(name: String, value: String)]

    init(_ request: HTTPRequest) throws(HTTPError) {
        guard let items = request.queryItems else { throw .badRequest("the query string has a malformed %-escape") }
        self.items = items
    }

    subscript(_ name: String) -> String? { items.first { $0.name == name }?.value }

    /// Refuses names outside `known`, so a misspelt filter is an error rather than ignored.
    func requireOnly(_ known: Set<String>) throws(HTTPError) {
        let unknown = Set(items.map(\.name)).subtracting(known).sorted()
        guard unknown.isEmpty else {
            throw .badRequest(
                "unknown query parameter\(unknown.count == 1 ? "" : "s") \(unknown.map { "'\($0)'" }.joined(separator: ", ")); "
                    + "accepted: \(known.sorted().joined(separator: ", "))")
        }
    }
}
