/// A failure the API or the network reported: one line on stderr, exit status 1.
struct CLIError: Error, CustomStringConvertible {
    let message: String

    init(_ message: String) { self.message = message }

    var description: String { message }
}
