import DroverCore
import DroverTestSupport
import Testing

@Suite struct RunNameTests {
    private func names(count: Int, seed: UInt64) -> [String] {
        var random = SeededGenerator(state: seed)
        return (0..<count).map { _ in RunName.make(using: &random) }
    }

    @Test func namesAreAnAdjectiveAndAnAnimal() {
        for name in names(count: 1_000, seed: 1) + (0..<1_000).map({ _ in RunName.make() }) {
            #expect(name.wholeMatch(of: /[a-z]+-[a-z]+/) != nil, "\(name)")
            let words = name.split(separator: "-").map(String.init)
            #expect(RunName.adjectives.contains(words[0]), "\(name)")
            #expect(RunName.animals.contains(words[1]), "\(name)")
        }
    }

    @Test func wordListsAreLongSortedSingleLowercaseWords() {
        for list in [RunName.adjectives, RunName.animals] {
            #expect(list.count >= 200)
            #expect(list == list.sorted())
            #expect(Set(list).count == list.count, "a word repeats")
            for word in list {
                #expect(word.wholeMatch(of: /[a-z]+/) != nil, "\(word)")
            }
        }
        #expect(RunName.adjectives.count * RunName.animals.count >= 40_000)
    }

    @Test func theSameSeedGivesTheSameNames() {
        #expect(names(count: 50, seed: 42) == names(count: 50, seed: 42))
        #expect(names(count: 50, seed: 42) != names(count: 50, seed: 43))
    }

    @Test func everyWordIsUsed() {
        let many = names(count: 30_000, seed: 7)
        #expect(Set(many.map { String($0.split(separator: "-")[0]) }) == Set(RunName.adjectives))
        #expect(Set(many.map { String($0.split(separator: "-")[1]) }) == Set(RunName.animals))
    }

    @Test func namesAreValidResourceNames() throws {
        for name in names(count: 1_000, seed: 3) {
            try ResourceName.validate(name, kind: "flow run")
        }
        let longest =
            RunName.adjectives.max { $0.count < $1.count }! + "-"
            + RunName.animals.max { $0.count < $1.count }!
        try ResourceName.validate(longest, kind: "flow run")
    }

    @Test func namesRarelyRepeat() {
        // About 80,000 names; 1,000 draws repeat about 6 times on average.
        #expect(Set(names(count: 1_000, seed: 11)).count >= 980)
        #expect(Set((0..<100).map { _ in RunName.make() }).count >= 90)
    }
}
