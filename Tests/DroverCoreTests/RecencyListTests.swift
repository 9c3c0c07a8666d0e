import DroverTestSupport
import Testing

@testable import DroverCore

/// The dispatcher's list of worker slots by last touch: `oldest` is always the slot
/// touched longest ago among those still in.
@Suite struct RecencyListTests {
    /// The slots of `list`, oldest first, read by taking the oldest out until none is left.
    func order(of list: RecencyList) -> [Int] {
        var list = list
        var slots: [Int] = []
        while let oldest = list.oldest {
            slots.append(oldest)
            list.remove(oldest)
            if slots.count > 10_000 { break }  // a cycle in the links: fail rather than hang
        }
        return slots
    }

    func list(touching slots: [Int]) -> RecencyList {
        var list = RecencyList()
        for slot in slots { list.touch(slot) }
        return list
    }

    @Test func anEmptyListHasNoOldest() {
        let list = RecencyList()
        #expect(list.oldest == nil)
        #expect(order(of: list).isEmpty)
    }

    @Test func touchingKeepsSlotsOldestFirst() {
        let list = list(touching: [0, 1, 2])
        #expect(list.oldest == 0)
        #expect(order(of: list) == [0, 1, 2])
    }

    @Test func touchingAgainMakesASlotTheNewest() {
        var list = list(touching: [0, 1, 2])
        list.touch(0)
        #expect(list.oldest == 1)
        #expect(order(of: list) == [1, 2, 0])
        list.touch(2)
        #expect(order(of: list) == [1, 0, 2])
    }

    @Test func touchingTheNewestChangesNothing() {
        var list = list(touching: [0, 1])
        list.touch(1)
        #expect(list.oldest == 0)
        #expect(order(of: list) == [0, 1])
        var single = self.list(touching: [3])
        single.touch(3)
        #expect(single.oldest == 3)
        #expect(order(of: single) == [3])
    }

    @Test func removingTheOldestMakesTheNextOneOldest() {
        var list = list(touching: [0, 1, 2])
        list.remove(0)
        #expect(list.oldest == 1)
        #expect(order(of: list) == [1, 2])
    }

    @Test func removingAMiddleSlotKeepsTheOthersInOrder() {
        var list = list(touching: [0, 1, 2])
        list.remove(1)
        #expect(list.oldest == 0)
        #expect(order(of: list) == [0, 2])
    }

    @Test func removingTheNewestLetsTheNextTouchFollowTheOneBefore() {
        var list = list(touching: [0, 1, 2])
        list.remove(2)
        #expect(order(of: list) == [0, 1])
        list.touch(3)
        #expect(order(of: list) == [0, 1, 3])
        list.touch(0)
        #expect(order(of: list) == [1, 3, 0])
    }

    @Test func removingTheOnlySlotEmptiesTheList() {
        var list = list(touching: [4])
        list.remove(4)
        #expect(list.oldest == nil)
        list.touch(4)
        #expect(list.oldest == 4)
        #expect(order(of: list) == [4])
    }

    @Test func removingASlotThatIsNotInChangesNothing() {
        var list = list(touching: [0, 2])
        list.remove(1)  // within the storage, never touched
        list.remove(99)  // beyond the storage
        #expect(order(of: list) == [0, 2])
        list.remove(0)
        list.remove(0)  // already out
        #expect(list.oldest == 2)
        #expect(order(of: list) == [2])
        var empty = RecencyList()
        empty.remove(0)
        #expect(empty.oldest == nil)
    }

    @Test func slotsNeedNotBeTouchedInOrder() {
        var list = list(touching: [5, 0, 1, 2, 3, 4])
        #expect(list.oldest == 5)
        #expect(order(of: list) == [5, 0, 1, 2, 3, 4])
        list.remove(5)
        list.touch(9)
        list.touch(7)
        #expect(order(of: list) == [0, 1, 2, 3, 4, 9, 7])
    }

    /// Random touches and removals against an array kept in touch order.
    @Test(arguments: 1...20 as ClosedRange<UInt64>)
    func agreesWithAnArrayInTouchOrder(seed: UInt64) {
        var random = SeededGenerator(state: seed)
        var list = RecencyList()
        var model: [Int] = []
        var failures: [String] = []
        for operation in 0..<2_000 {
            let slot = Int(random.next() % 50)
            if random.next() % 100 < 60 {
                list.touch(slot)
                model.removeAll { $0 == slot }
                model.append(slot)
            } else {
                list.remove(slot)
                model.removeAll { $0 == slot }
            }
            if list.oldest != model.first {
                failures.append("op \(operation): oldest \(String(describing: list.oldest)), model \(String(describing: model.first))")
            }
            if operation % 100 == 99, order(of: list) != model {
                failures.append("op \(operation): order \(order(of: list)), model \(model)")
            }
            if failures.count > 10 { break }
        }
        #expect(failures.isEmpty, "seed \(seed): \(failures)")
    }
}
