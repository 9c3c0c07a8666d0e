/// A table drawn with box characters in the style of Prefect's CLI (Rich's default
/// box), so `ls` output looks the same to users who know Prefect.
struct Table {
    enum Alignment { case left, right }

    struct Column {
        var header: String
        var alignment: Alignment = .left
    }

    var title: String?
    var caption: String?
    var columns: [Column]
    var rows: [[String]] = []

    init(title: String? = nil, caption: String? = nil, columns: [Column]) {
        self.title = title
        self.caption = caption
        self.columns = columns
    }

    mutating func append(_ row: [String]) {
        precondition(row.count == columns.count, "a row needs one cell per column")
        rows.append(row.map(Self.singleLine))
    }

    /// The table as text, ending with a newline.
    func render() -> String {
        let widths = columns.indices.map { index in
            max(columns[index].header.count, rows.map { $0[index].count }.max() ?? 0)
        }
        func line(_ left: String, _ fill: String, _ join: String, _ right: String) -> String {
            left + widths.map { String(repeating: fill, count: $0 + 2) }.joined(separator: join) + right
        }
        func cells(_ values: [String], _ edge: String) -> String {
            let padded = values.enumerated().map { index, value in
                let pad = String(repeating: " ", count: widths[index] - value.count)
                return " " + (columns[index].alignment == .left ? value + pad : pad + value) + " "
            }
            return edge + padded.joined(separator: edge) + edge
        }
        let totalWidth = widths.reduce(0) { $0 + $1 + 3 } + 1
        var out: [String] = []
        if let title { out.append(Self.centered(title, width: totalWidth)) }
        out.append(line("┏", "━", "┳", "┓"))
        out.append(cells(columns.map(\.header), "┃"))
        out.append(line("┡", "━", "╇", "┩"))
        for row in rows { out.append(cells(row, "│")) }
        out.append(line("└", "─", "┴", "┘"))
        if let caption { out.append(Self.centered(caption, width: totalWidth)) }
        return out.joined(separator: "\n") + "\n"
    }

    private static func centered(_ text: String, width: Int) -> String {
        let pad = max(0, (width - text.count) / 2)
        return String(repeating: " ", count: pad) + text
    }

    /// Cells are one line: newlines and tabs would break the grid.
    private static func singleLine(_ text: String) -> String {
        String(text.map { $0.isNewline || $0 == "\t" ? " " : $0 })
    }
}
