import Foundation
import HTTPServer
import Logging

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The issuer's signing keys: found through its discovery document (OpenID Connect Discovery
/// §4), fetched from its `jwks_uri`, kept for `timeToLive`, and fetched again when a token names
/// a `kid` we do not know — at most once per `refetchInterval`, so forged kids cannot make us
/// hammer the issuer.
actor OIDCKeySource {
    let issuer: String
    private let timeToLive: Duration
    private let refetchInterval: Duration
    private let logger: Logger
    private let now: @Sendable () -> ContinuousClock.Instant
    private var keys = JSONWebKeySet()
    private var fetchedAt: ContinuousClock.Instant?
    private var lastAttempt: ContinuousClock.Instant?
    private var inFlight: Task<JSONWebKeySet, Error>?
    /// The last fetch failed: a kid we do not know may be one the issuer has.
    private var lastFetchFailed = false

    init(
        issuer: String, timeToLive: Duration = .seconds(3600), refetchInterval: Duration = .seconds(10), logger: Logger,
        now: @escaping @Sendable () -> ContinuousClock.Instant = { .now }
    ) {
        self.issuer = issuer
        self.now = now
        self.timeToLive = timeToLive
        self.refetchInterval = refetchInterval
        self.logger = logger
    }

    private static let unreachable = "cannot reach the token issuer to fetch its signing keys; try again shortly"

    /// The key named `kid`.
    func key(for kid: String) async throws(HTTPError) -> PublicKey {
        let now = now()
        let stale = fetchedAt.map { $0.duration(to: now) > timeToLive } ?? true
        if let key = keys.keys[kid], !stale { return key }
        let mayFetch = lastAttempt.map { $0.duration(to: now) >= refetchInterval } ?? true
        if mayFetch || inFlight != nil {
            do {
                try await refresh()
            } catch {
                logger.warning("cannot fetch the issuer's keys", metadata: ["oidc.issuer": "\(issuer)", "error": "\(error)"])
                // Keys we still have keep working while the issuer is unreachable.
                if let key = keys.keys[kid] { return key }
                throw HTTPError.serviceUnavailable(Self.unreachable)
            }
        }
        guard let key = keys.keys[kid] else {
            // Until a fetch succeeds again, an unknown kid is our outage, not the client's bad token.
            if lastFetchFailed {
                throw .serviceUnavailable(Self.unreachable)
            }
            throw .unauthorized("the token's signing key (kid '\(kid)') is not one of the issuer's keys")
        }
        return key
    }

    private func refresh() async throws {
        if let inFlight {
            keys = try await inFlight.value
            return
        }
        lastAttempt = now()
        let task = Task { [issuer] in try await Self.fetch(issuer: issuer) }
        inFlight = task
        defer { inFlight = nil }
        do {
            keys = try await task.value
            lastFetchFailed = false
        } catch {
            lastFetchFailed = true
            throw error
        }
        fetchedAt = now()
        logger.info("fetched the issuer's signing keys", metadata: ["oidc.issuer": "\(issuer)", "keys.count": "\(keys.keys.count)"])
    }

    private static func fetch(issuer: String) async throws -> JSONWebKeySet {
        let base = issuer.hasSuffix("/") ? String(issuer.dropLast()) : issuer
        guard let discoveryURL = URL(string: base + "/.well-known/openid-configuration") else {
            throw PublicKey.Invalid(description: "issuer '\(issuer)' is not a URL")
        }
        let discovery = try await get(discoveryURL)
        guard case .object(let document) = try JSONDecoder().decode(JSONValue.self, from: discovery),
            case .string(let announced)? = document["issuer"], case .string(let jwks)? = document["jwks_uri"],
            let jwksURL = URL(string: jwks)
        else { throw PublicKey.Invalid(description: "the discovery document lacks 'issuer' or 'jwks_uri'") }
        // OpenID Connect Discovery §4.3: the document must name exactly the issuer it was fetched for.
        guard announced == issuer else {
            throw PublicKey.Invalid(description: "the discovery document names issuer '\(announced)', not '\(issuer)'")
        }
        return try JSONWebKeySet(json: try await get(jwksURL))
    }

    private static func get(_ url: URL) async throws -> Data {
        var request = URLRequest(url: url)
        request.timeoutInterval = 5
        let (data, response) = try await URLSession.shared.data(for: request)
        guard let status = (response as? HTTPURLResponse)?.statusCode, status == 200 else {
            throw PublicKey.Invalid(description: "GET \(url) answered \((response as? HTTPURLResponse)?.statusCode ?? 0)")
        }
        return data
    }
}
