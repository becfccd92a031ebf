import Foundation

/// What every daemon does before anything else: read its settings, and on a bad one print a
/// single line naming it and exit non-zero (SPEC §8).
public enum DaemonStartup {
    /// Exit status for unusable settings.
    public static let badConfigurationStatus: Int32 = 2

    public static func load<C>(
        _ program: String, _ envFile: String?, _ loader: (Environment) throws(ConfigurationError) -> C
    ) throws -> C {
        do {
            return try loader(try Environment.load(arguments: envFile.map { [$0] } ?? []))
        } catch {
            FileHandle.standardError.write(Data("\(program): \(error)\n".utf8))
            exit(badConfigurationStatus)
        }
    }
}
