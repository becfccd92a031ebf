import Foundation
import Logging

/// Which database the daemons share and how to reach it.
public struct DatabaseSettings: Hashable, Sendable, CustomStringConvertible {
    public enum Kind: String, CaseIterable, Sendable {
        case sqlite
        case mongodb
    }

    public var kind: Kind
    /// A `mongodb://` URI, or an SQLite file path.
    public var connectionString: String
    /// The MongoDB database name.
    public var databaseName: String

    static func read(_ reader: inout SettingsReader) -> DatabaseSettings {
        let kind = reader.choice("SIMPLE_SCHEDULER_DB_TYPE", default: Kind.sqlite)
        let fallback = kind == .sqlite ? "simple-scheduler.db" : "mongodb://localhost:27017"
        let connection = reader.string("SIMPLE_SCHEDULER_DB_CONNECTION_STRING", default: fallback)!
        if kind == .mongodb, !(connection.hasPrefix("mongodb://") || connection.hasPrefix("mongodb+srv://")) {
            reader.report(
                "SIMPLE_SCHEDULER_DB_CONNECTION_STRING must be a mongodb:// URI when SIMPLE_SCHEDULER_DB_TYPE is mongodb")
        }
        if kind == .sqlite, connection.contains("://") {
            reader.report(
                "SIMPLE_SCHEDULER_DB_CONNECTION_STRING must be a file path when SIMPLE_SCHEDULER_DB_TYPE is sqlite (got a URI)"
            )
        }
        let name = reader.string("SIMPLE_SCHEDULER_DB_NAME", default: "simpleScheduler")!
        return DatabaseSettings(kind: kind, connectionString: connection, databaseName: name)
    }

    public var description: String {
        "\(kind.rawValue) \(Redaction.url(connectionString))" + (kind == .mongodb ? " db=\(databaseName)" : "")
    }
}

/// The message broker.
public struct MessageBusSettings: Hashable, Sendable, CustomStringConvertible {
    public enum Kind: String, CaseIterable, Sendable {
        case rabbitmq
    }

    public var kind: Kind
    /// An `amqp://` or `amqps://` URL.
    public var connectionString: String

    static func read(_ reader: inout SettingsReader) -> MessageBusSettings {
        let kind = reader.choice("SIMPLE_SCHEDULER_MESSAGEBUS_TYPE", default: Kind.rabbitmq)
        let url = reader.string(
            "SIMPLE_SCHEDULER_MESSAGEBUS_CONNECTION_STRING", default: "amqp://guest:guest@localhost:5672/")!
        if !(url.hasPrefix("amqp://") || url.hasPrefix("amqps://")) {
            reader.report("SIMPLE_SCHEDULER_MESSAGEBUS_CONNECTION_STRING must be an amqp:// or amqps:// URL")
        }
        return MessageBusSettings(kind: kind, connectionString: url)
    }

    public var description: String { "\(kind.rawValue) \(Redaction.url(connectionString))" }
}

/// Log level and line format.
public struct LoggingSettings: Hashable, Sendable {
    public enum Format: String, CaseIterable, Sendable {
        case text
        case json
    }

    public enum Level: String, CaseIterable, Sendable {
        case trace, debug, info, notice, warning, error, critical

        public var logLevel: Logger.Level { Logger.Level(rawValue: rawValue)! }
    }

    public var level: Level
    public var format: Format

    public init(level: Level, format: Format) {
        self.level = level
        self.format = format
    }

    /// `SIMPLE_SCHEDULER_LOG_LEVEL` and `SIMPLE_SCHEDULER_LOG_FORMAT` from `environment`, with the
    /// defaults for anything missing or unreadable (for tools that have no configuration of their own).
    public static func lenient(_ environment: [String: String]) -> LoggingSettings {
        LoggingSettings(
            level: environment["SIMPLE_SCHEDULER_LOG_LEVEL"].flatMap { Level(rawValue: $0.lowercased()) } ?? .info,
            format: environment["SIMPLE_SCHEDULER_LOG_FORMAT"].flatMap { Format(rawValue: $0.lowercased()) } ?? .text)
    }

    static func read(_ reader: inout SettingsReader) -> LoggingSettings {
        LoggingSettings(
            level: reader.choice("SIMPLE_SCHEDULER_LOG_LEVEL", default: Level.info),
            format: reader.choice("SIMPLE_SCHEDULER_LOG_FORMAT", default: Format.text))
    }
}

/// Hides secrets in settings shown in logs.
public enum Redaction {
    /// `scheme://user:secret@host/...` → `scheme://user:***@host/...`.
    public static func url(_ text: String) -> String {
        guard let scheme = text.range(of: "://"), let at = text[scheme.upperBound...].lastIndex(of: "@") else {
            return text
        }
        let credentials = text[scheme.upperBound..<at]
        guard let colon = credentials.firstIndex(of: ":") else { return text }
        return text[..<text.index(after: colon)] + "***" + text[at...]
    }
}

extension DatabaseSettings {
    /// Opens the configured adapter (not yet prepared: see `openPrepared`), timed per
    /// operation, with its outages reported once.
    public func open(logger: Logger) throws -> any Database {
        let outage = OutageLog("database", logger: logger)
        switch kind {
        case .sqlite: return MeasuredDatabase(SQLiteDatabase(path: connectionString, logger: logger), outage: outage)
        case .mongodb:
            return MeasuredDatabase(
                try MongoDatabase(connectionString: connectionString, databaseName: databaseName, logger: logger),
                outage: outage)
        }
    }
}

extension DatabaseSettings {
    /// Opens and prepares the configured database. A MongoDB server that cannot be reached yet
    /// is waited for (a daemon started before its database, or during an outage, comes up when
    /// the database does); a SQLite file that cannot be opened is a setting to fix, so that
    /// error is thrown at once, as is cancellation.
    public func openPrepared(logger: Logger) async throws -> any Database {
        let database = try open(logger: logger)
        var delay = 0.2
        while true {
            do {
                try await database.prepare()
                return database
            } catch let error as DatabaseError where error.isUnavailable && kind == .mongodb {
                logger.debug("database not reachable yet", metadata: ["error": "\(error)"])
                try await Task.sleep(for: .seconds(delay * Double.random(in: 0.5...1)))
                delay = min(delay * 2, 5)
            }
        }
    }
}

extension MessageBusSettings {
    /// Starts the configured bus; it connects in the background.
    public func open(logger: Logger) throws -> any MessageBus {
        switch kind {
        case .rabbitmq: return try RabbitMQBus(connectionString: connectionString, logger: logger)
        }
    }
}
