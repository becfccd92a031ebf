import Foundation
import Logging
import Synchronization

/// One JSON object per line on standard error (`SIMPLE_SCHEDULER_LOG_FORMAT=json`), for log
/// collectors: `time`, `level`, `label`, `message`, then the metadata keys.
public struct JSONLogHandler: LogHandler {
    private let label: String
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    private static let output = Mutex<Void>(())

    public init(label: String) { self.label = label }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields: [String: String] = ["time": RFC3339.format(.now), "level": event.level.rawValue, "label": label,
            "message": "\(event.message)"]
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) {
            fields[key] = "\(value)"
        }
        var line: [UInt8] = [UInt8(ascii: "{")]
        for (index, key) in (["time", "level", "label", "message"] + fields.keys.filter {
            !["time", "level", "label", "message"].contains($0)
        }.sorted()).enumerated() {
            if index > 0 { line.append(UInt8(ascii: ",")) }
            JSONText.appendString(key, to: &line)
            line.append(UInt8(ascii: ":"))
            JSONText.appendString(fields[key] ?? "", to: &line)
        }
        line.append(contentsOf: "}\n".utf8)
        Self.output.withLock { _ in FileHandle.standardError.write(Data(line)) }
    }
}

extension LoggingSettings {
    /// Bootstraps swift-log once per process (only `main` calls this).
    public func bootstrap() {
        let level = self.level.logLevel
        let format = self.format
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler =
                format == .json ? JSONLogHandler(label: label) : StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}
