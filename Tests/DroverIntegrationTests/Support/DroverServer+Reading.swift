import Testing

extension DroverServer {
    /// `work-pool inspect NAME -o json`, parsed; the command must succeed.
    func pool(_ name: String, sourceLocation: SourceLocation = #_sourceLocation) async throws -> [String: Any] {
        try JSON.object(try await output("work-pool", "inspect", name, "-o", "json", sourceLocation: sourceLocation))
    }

    /// `work-queue inspect NAME --pool POOL -o json`, parsed; the command must succeed.
    func queue(_ name: String, pool: String, sourceLocation: SourceLocation = #_sourceLocation) async throws
        -> [String: Any]
    {
        try JSON.object(
            try await output("work-queue", "inspect", name, "--pool", pool, "-o", "json", sourceLocation: sourceLocation))
    }

    /// `work-queue ls [--pool POOL] -o json`, parsed; the command must succeed.
    func queues(pool: String?, sourceLocation: SourceLocation = #_sourceLocation) async throws -> [[String: Any]] {
        let arguments = ["work-queue", "ls"] + (pool.map { ["--pool", $0] } ?? []) + ["-o", "json"]
        let result = try await drover(arguments, sourceLocation: sourceLocation)
        try #require(result.status == 0, "\(result)", sourceLocation: sourceLocation)
        return try JSON.array(result.stdout)
    }

    /// The row of pool `name` in the `work-pool ls` table.
    func poolTableRow(_ name: String, sourceLocation: SourceLocation = #_sourceLocation) async throws -> String {
        let table = try await output("work-pool", "ls", sourceLocation: sourceLocation)
        return try #require(
            table.split(separator: "\n").map(String.init).first { TableRow.cells($0).first?.hasPrefix(name) == true },
            "no row for \(name) in\n\(table)", sourceLocation: sourceLocation)
    }
}

/// Reading rows of the CLI's box-drawn tables.
enum TableRow {
    /// The cells of a table row, trimmed: `│ a │ b │` gives `["a", "b"]`; not a row gives `[]`.
    static func cells(_ row: String) -> [String] {
        row.split(separator: "│", omittingEmptySubsequences: false)
            .dropFirst().dropLast()
            .map { $0.trimmingCharacters(in: .whitespaces) }
    }
}
