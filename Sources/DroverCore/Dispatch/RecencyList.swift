/// Slots in the order they were last touched, oldest first: touching, adding and removing
/// a slot cost O(1), so the dispatcher finds its most silent worker without a scan.
struct RecencyList: Sendable {
    private var previous: [Int] = []
    private var next: [Int] = []
    private var member: [Bool] = []
    /// The slot touched longest ago.
    private(set) var oldest: Int?
    private var newest: Int?

    /// Adds `slot` as the newest, or makes it the newest if it is already in.
    mutating func touch(_ slot: Int) {
        if slot >= member.count {
            let grow = slot + 1 - member.count
            previous += Array(repeating: -1, count: grow)
            next += Array(repeating: -1, count: grow)
            member += Array(repeating: false, count: grow)
        }
        if member[slot] {
            guard newest != slot else { return }
            unlink(slot)
        }
        member[slot] = true
        previous[slot] = newest ?? -1
        next[slot] = -1
        if let newest { next[newest] = slot } else { oldest = slot }
        newest = slot
    }

    /// Takes `slot` out; nothing happens if it is not in.
    mutating func remove(_ slot: Int) {
        guard slot < member.count, member[slot] else { return }
        unlink(slot)
        member[slot] = false
    }

    private mutating func unlink(_ slot: Int) {
        let before = previous[slot]
        let after = next[slot]
        if before >= 0 { next[before] = after } else { oldest = after >= 0 ? after : nil }
        if after >= 0 { previous[after] = before } else { newest = before >= 0 ? before : nil }
    }
}
