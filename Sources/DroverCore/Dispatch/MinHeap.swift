import Foundation

/// UUIDs as dictionary keys in the dispatcher.
typealias UUIDKey = UUID

/// A binary min-heap: the smallest element first, O(log n) insert and removal.
struct MinHeap<Element: Comparable>: Sendable where Element: Sendable {
    private var items: [Element] = []

    var isEmpty: Bool { items.isEmpty }
    var count: Int { items.count }
    var first: Element? { items.first }

    mutating func insert(_ element: Element) {
        items.append(element)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[child] < items[parent] else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    @discardableResult
    mutating func removeFirst() -> Element? {
        guard !items.isEmpty else { return nil }
        items.swapAt(0, items.count - 1)
        let smallest = items.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var candidate = parent
            if left < items.count && items[left] < items[candidate] { candidate = left }
            if right < items.count && items[right] < items[candidate] { candidate = right }
            guard candidate != parent else { break }
            items.swapAt(parent, candidate)
            parent = candidate
        }
        return smallest
    }
}

/// A run's place in line: earlier expected start first, then earlier arrival.
struct RunTicket: Comparable, Sendable {
    let due: Date
    let sequence: UInt64
    let runID: UUIDKey

    static func < (lhs: RunTicket, rhs: RunTicket) -> Bool {
        (lhs.due, lhs.sequence) < (rhs.due, rhs.sequence)
    }

    static func == (lhs: RunTicket, rhs: RunTicket) -> Bool {
        lhs.sequence == rhs.sequence && lhs.runID == rhs.runID
    }
}
