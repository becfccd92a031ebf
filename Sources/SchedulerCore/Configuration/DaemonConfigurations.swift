/// The `scheduler` daemon's settings (SPEC §8).
public struct SchedulerConfiguration: Sendable {
    public var database: DatabaseSettings
    public var messageBus: MessageBusSettings
    /// Jobs this instance may hold at once; `nil` = no limit.
    public var maxJobs: Int?
    public var cacheRefreshInterval: Int
    public var cleanupInterval: Int
    public var heartbeatInterval: Int
    public var heartbeatTimeout: Int
    public var metricsAddress: ListenAddress?
    public var logging: LoggingSettings

    public static func load(_ environment: Environment) throws(ConfigurationError) -> SchedulerConfiguration {
        var reader = SettingsReader(environment)
        let maxJobs = reader.integer("SIMPLE_SCHEDULER_MAX_JOBS", default: 0, in: 0...10_000_000)
        let configuration = SchedulerConfiguration(
            database: .read(&reader), messageBus: .read(&reader), maxJobs: maxJobs == 0 ? nil : maxJobs,
            cacheRefreshInterval: reader.milliseconds(
                "SIMPLE_SCHEDULER_CACHE_REFRESH_INTERVAL", default: 300_000, minimum: 1),
            cleanupInterval: reader.milliseconds("SIMPLE_SCHEDULER_CLEANUP_INTERVAL", default: 60_000, minimum: 1),
            heartbeatInterval: reader.milliseconds("SIMPLE_SCHEDULER_HEARTBEAT_INTERVAL", default: 1000, minimum: 1),
            heartbeatTimeout: reader.milliseconds("SIMPLE_SCHEDULER_HEARTBEAT_TIMEOUT", default: 30_000, minimum: 1),
            metricsAddress: reader.listenAddress("SIMPLE_SCHEDULER_METRICS_URL", default: nil),
            logging: .read(&reader))
        if configuration.heartbeatTimeout <= configuration.heartbeatInterval {
            reader.report(
                "SIMPLE_SCHEDULER_HEARTBEAT_TIMEOUT (\(configuration.heartbeatTimeout)) must be longer than SIMPLE_SCHEDULER_HEARTBEAT_INTERVAL (\(configuration.heartbeatInterval))"
            )
        }
        try reader.finish()
        return configuration
    }
}

/// The `custodian` daemon's settings (SPEC §8).
public struct CustodianConfiguration: Sendable {
    public var database: DatabaseSettings
    public var cleanupInterval: Int
    public var heartbeatTimeout: Int
    /// Final runs older than this are deleted; `nil` = keep them.
    public var runRetention: Int?
    public var metricsAddress: ListenAddress?
    public var logging: LoggingSettings

    public static func load(_ environment: Environment) throws(ConfigurationError) -> CustodianConfiguration {
        var reader = SettingsReader(environment)
        let retention = reader.milliseconds("SIMPLE_SCHEDULER_RUN_RETENTION", default: 0)
        let configuration = CustodianConfiguration(
            database: .read(&reader),
            cleanupInterval: reader.milliseconds("SIMPLE_SCHEDULER_CLEANUP_INTERVAL", default: 60_000, minimum: 1),
            heartbeatTimeout: reader.milliseconds("SIMPLE_SCHEDULER_HEARTBEAT_TIMEOUT", default: 30_000, minimum: 1),
            runRetention: retention == 0 ? nil : retention,
            metricsAddress: reader.listenAddress("SIMPLE_SCHEDULER_METRICS_URL", default: nil),
            logging: .read(&reader))
        try reader.finish()
        return configuration
    }
}

/// The `api` daemon's settings (SPEC §8).
public struct APIConfiguration: Sendable {
    public var database: DatabaseSettings
    public var messageBus: MessageBusSettings
    public var maxConnections: Int
    public var listenAddress: ListenAddress
    public var oidcIssuer: String?
    public var oidcAudience: String?
    public var apiKeysFile: String?
    public var logging: LoggingSettings

    public static func load(_ environment: Environment) throws(ConfigurationError) -> APIConfiguration {
        var reader = SettingsReader(environment)
        let configuration = APIConfiguration(
            database: .read(&reader), messageBus: .read(&reader),
            maxConnections: reader.integer("SIMPLE_SCHEDULER_MAX_CONNECTIONS", default: 1024, in: 1...1_000_000),
            listenAddress: reader.listenAddress("SIMPLE_SCHEDULER_API_URL", default: ":8080")
                ?? ListenAddress(host: nil, port: 8080),
            oidcIssuer: reader.string("SIMPLE_SCHEDULER_OIDC_ISSUER"),
            oidcAudience: reader.string("SIMPLE_SCHEDULER_OIDC_AUDIENCE"),
            apiKeysFile: reader.string("SIMPLE_SCHEDULER_API_KEYS_FILE"),
            logging: .read(&reader))
        if let issuer = configuration.oidcIssuer, !(issuer.hasPrefix("https://") || issuer.hasPrefix("http://")) {
            reader.report("SIMPLE_SCHEDULER_OIDC_ISSUER must be an http(s) URL (got '\(issuer)')")
        }
        if configuration.oidcIssuer == nil, configuration.apiKeysFile == nil {
            reader.report(
                "set SIMPLE_SCHEDULER_OIDC_ISSUER or SIMPLE_SCHEDULER_API_KEYS_FILE: the API refuses to run without authentication"
            )
        }
        try reader.finish()
        return configuration
    }
}
