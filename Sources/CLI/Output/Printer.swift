import Foundation

/// Prints results: the API's JSON unchanged with `-o json`, aligned tables otherwise.
struct Printer {
    let format: OutputFormat

    /// With `-o json`, the raw body; otherwise the table `table` builds from the parsed JSON.
    func print(_ response: APIClient.Response, table: (Any) -> String) throws {
        switch format {
        case .json:
            FileHandle.standardOutput.write(response.body)
            if response.body.last != UInt8(ascii: "\n") { FileHandle.standardOutput.write(Data("\n".utf8)) }
        case .table:
            Swift.print(table(try response.json()), terminator: "")
        }
    }

    /// A message for a command whose answer has no body (204).
    func done(_ message: String, json: [String: Any]) throws {
        switch format {
        case .json:
            let data = try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys])
            FileHandle.standardOutput.write(data + Data("\n".utf8))
        case .table:
            Swift.print(message)
        }
    }
}

/// Columns padded to their widest cell; the last column is not padded.
func table(_ header: [String], _ rows: [[String]]) -> String {
    let all = [header] + rows
    let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
    return all.map { row in
        row.enumerated().map { index, cell in
            index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
        }.joined(separator: "  ")
    }.joined(separator: "\n") + "\n"
}

/// `name: value` lines, names aligned.
func fieldList(_ pairs: [(String, String)]) -> String {
    let width = pairs.map(\.0.count).max() ?? 0
    return pairs.map { "\($0.0.padding(toLength: width, withPad: " ", startingAt: 0))  \($0.1)" }.joined(separator: "\n") + "\n"
}

/// Cell text of a JSON value: times in the local zone, null as `-`.
func cell(_ value: Any?, time: Bool = false, duration: Bool = false) -> String {
    switch value {
    case nil, is NSNull: return "-"
    case let text as String: return time ? HumanTime.format(text) : text
    case let flag as Bool: return flag ? "true" : "false"
    case let number as Int: return duration ? HumanTime.duration(number) : String(number)
    default: return "\(value!)"
    }
}
