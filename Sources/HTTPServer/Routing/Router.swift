/// What a route's handler receives besides the request: the path's `{name}` parameters.
public struct RouteParameters: Sendable {
    public var values: [String: String]
    /// The matched route's pattern (`/api/jobs/{name}`), for logs and metrics.
    public var pattern: String = ""

    public init(values: [String: String], pattern: String = "") {
        self.values = values
        self.pattern = pattern
    }

    public subscript(_ name: String) -> String? { values[name] }
}

/// A request handler. Throwing an `HTTPError` answers with its status and JSON body; any other
/// error is logged and answered with a generic 500.
public typealias RouteHandler = @Sendable (HTTPRequest, RequestContext) async throws -> HTTPResponse

/// Collects routes, then builds an immutable, `Sendable` `Responder`.
public struct RouterBuilder {
    private var routes: [Route] = []

    public init() {}

    /// Adds `method` on `pattern`: literal segments and `{name}` segments (`/api/jobs/{name}`).
    /// A caller must hold every scope in `scopes`; with none, the route needs no authentication.
    public mutating func add(
        _ method: String, _ pattern: String, scopes: [String] = [], _ handler: @escaping RouteHandler
    ) {
        routes.append(
            Route(method: method.uppercased(), segments: Route.segments(of: pattern), scopes: scopes, handler: handler))
    }

    public func build() -> Responder { Responder(routes: routes) }
}

struct Route: Sendable {
    enum Segment: Sendable, Equatable {
        case literal(String)
        case parameter(String)
    }

    let method: String
    let segments: [Segment]
    let scopes: [String]
    let handler: RouteHandler

    var pattern: String {
        "/" + segments.map {
            switch $0 {
            case .literal(let text): return text
            case .parameter(let name): return "{\(name)}"
            }
        }.joined(separator: "/")
    }

    static func segments(of pattern: String) -> [Segment] {
        pattern.split(separator: "/").map { part in
            part.hasPrefix("{") && part.hasSuffix("}") ? .parameter(String(part.dropFirst().dropLast())) : .literal(String(part))
        }
    }

    /// The parameters when `path` matches this route's shape.
    func match(_ path: [Substring]) -> [String: String]? {
        guard path.count == segments.count else { return nil }
        var values: [String: String] = [:]
        for (segment, part) in zip(segments, path) {
            switch segment {
            case .literal(let text): guard part == text else { return nil }
            case .parameter(let name):
                guard let decoded = percentDecoded(part), !decoded.isEmpty else { return nil }
                values[name] = decoded
            }
        }
        return values
    }
}

/// The outcome of routing one request.
public enum RouteMatch: Sendable {
    /// A handler for the request's method and path, and the scopes it requires.
    case found(RouteHandler, RouteParameters, scopes: [String])
    /// No route has this path: 404.
    case notFound
    /// The path exists with other methods: 405 with `Allow` listing them.
    case methodNotAllowed(allow: [String])
}

/// An immutable router: safe to share between every connection.
public struct Responder: Sendable {
    let routes: [Route]

    /// Finds the handler for `method` on `target` (its query is ignored). `HEAD` is served by the
    /// `GET` route of the same path.
    public func route(method: String, target: String) -> RouteMatch {
        let pathPart = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        let path = pathPart.split(separator: "/")
        var allowed: Set<String> = []
        for route in routes {
            guard let values = route.match(path) else { continue }
            if route.method == method || (method == "HEAD" && route.method == "GET") {
                return .found(route.handler, RouteParameters(values: values, pattern: route.pattern), scopes: route.scopes)
            }
            allowed.insert(route.method)
            if route.method == "GET" { allowed.insert("HEAD") }
        }
        return allowed.isEmpty ? .notFound : .methodNotAllowed(allow: allowed.sorted())
    }

    /// Every route as `METHOD /pattern/{name}`, for checking documentation against routing.
    public var routeDescriptions: [String] {
        routes.map { $0.method + " " + $0.pattern }
    }
}

/// RFC 3986 percent-decoding of a path segment; `nil` when an escape is malformed.
func percentDecoded(_ text: Substring) -> String? {
    var bytes: [UInt8] = []
    var iterator = text.utf8.makeIterator()
    while let byte = iterator.next() {
        guard byte == UInt8(ascii: "%") else {
            bytes.append(byte)
            continue
        }
        guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
            return nil
        }
        bytes.append(high << 4 | low)
    }
    return String(validating: bytes, as: UTF8.self)
}

private func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case 48...57: return byte - 48
    case 65...70: return byte - 55
    case 97...102: return byte - 87
    default: return nil
    }
}
