import Testing

@testable import DroverCoordinator

/// Which worker a closed connection loses, through reconnections and reused descriptors.
@Suite struct ConnectionTableTests {
    @Test func aClosedConnectionLosesTheWorkerThatSpokeFromIt() {
        var table = ConnectionTable()
        table.accepted(7)
        #expect(table.spoke("w1", on: 7) == .open)
        #expect(table.connection(of: "w1") == 7)
        #expect(table.disconnected(7) == "w1")
        #expect(table.connection(of: "w1") == nil)
        #expect(table.count == 0)
    }

    @Test func aConnectionNoWorkerSpokeFromLosesNobody() {
        var table = ConnectionTable()
        table.accepted(7)
        #expect(table.disconnected(7) == nil)
        #expect(table.disconnected(8) == nil, "one accepted before the server started")
    }

    @Test func aWorkerThatMovedToANewConnectionIsNotLostWhenTheOldOneCloses() {
        var table = ConnectionTable()
        table.accepted(7)
        _ = table.spoke("w1", on: 7)
        table.accepted(8)
        #expect(table.spoke("w1", on: 8) == .open)
        #expect(table.disconnected(7) == nil)
        #expect(table.connection(of: "w1") == 8)
        #expect(table.disconnected(8) == "w1")
    }

    @Test func aReusedDescriptorBelongsToItsNewConnection() {
        var table = ConnectionTable()
        table.accepted(7)
        _ = table.spoke("w1", on: 7)
        #expect(table.disconnected(7) == "w1")
        // The kernel gives 7 to the next connection, here another worker's.
        table.accepted(7)
        #expect(table.spoke("w2", on: 7) == .open)
        #expect(table.disconnected(7) == "w2")
    }

    @Test func aWorkerThatReconnectsOnTheSameDescriptorIsLostOnlyByTheOldConnectionsClose() {
        var table = ConnectionTable()
        table.accepted(7)
        _ = table.spoke("w1", on: 7)
        // Its old connection closes (it is lost, and will say Hello again)...
        #expect(table.disconnected(7) == "w1")
        // ...and its new one, on the same number, is its current one.
        table.accepted(7)
        #expect(table.spoke("w1", on: 7) == .open)
        #expect(table.connection(of: "w1") == 7)
    }

    @Test func aMessageFromAConnectionThatHasClosedSaysItsWorkerIsGone() {
        var table = ConnectionTable()
        table.accepted(7)
        // It said Hello and died before the loop read the Hello.
        #expect(table.disconnected(7) == nil)
        #expect(table.spoke("w1", on: 7) == .alreadyClosed)
        #expect(table.connection(of: "w1") == nil)
        #expect(table.count == 0)
    }

    @Test func aLateMessageFromAnOldConnectionDoesNotUndoANewerOne() {
        var table = ConnectionTable()
        table.accepted(7)
        _ = table.spoke("w1", on: 7)
        table.accepted(8)
        _ = table.spoke("w1", on: 8)
        #expect(table.disconnected(7) == nil)
        #expect(table.spoke("w1", on: 7) == .open, "the newer, open connection stands")
        #expect(table.connection(of: "w1") == 8)
        #expect(table.disconnected(8) == "w1")
    }

    @Test func aWorkerForgottenIsLostByNoClose() {
        var table = ConnectionTable()
        table.accepted(7)
        _ = table.spoke("w1", on: 7)
        table.forget("w1")
        #expect(table.disconnected(7) == nil)
    }

    @Test func anAcceptWithoutTheOldConnectionsCloseDropsWhatTheOldOneCarried() {
        var table = ConnectionTable()
        table.accepted(7)
        _ = table.spoke("w1", on: 7)
        table.accepted(7)
        #expect(table.connection(of: "w1") == nil)
        #expect(table.disconnected(7) == nil)
    }

    @Test func onceAWorkersConnectionClosesTheSilentOnesAreClosedOnce() {
        var table = ConnectionTable()
        table.accepted(7)
        _ = table.spoke("w1", on: 7)
        // w1's next socket connects before its old one closes; someone else waits too.
        table.accepted(8)
        table.accepted(9)
        #expect(table.silentConnectionsToClose().isEmpty, "nothing closed yet")
        #expect(table.disconnected(7) == "w1")
        #expect(table.silentConnectionsToClose() == [8, 9])
        #expect(table.silentConnectionsToClose().isEmpty, "each once")
        #expect(table.disconnected(8) == nil)
        #expect(table.disconnected(9) == nil)
    }

    @Test func aConnectionThatSpokeIsNotSilentAndOnlyAWorkersCloseSweeps() {
        var table = ConnectionTable()
        table.accepted(7)
        table.accepted(8)
        _ = table.spoke("w2", on: 8)
        #expect(table.disconnected(9) == nil)
        #expect(table.silentConnectionsToClose().isEmpty, "a stranger's close sweeps nothing")
        #expect(table.disconnected(8) == "w2")
        #expect(table.silentConnectionsToClose() == [7])
    }

    @Test func entriesAreBoundedByOpenConnections() {
        var table = ConnectionTable()
        for fd in Int32(10)..<20 {
            table.accepted(fd)
            _ = table.spoke("peer-\(fd)", on: fd)
        }
        table.accepted(20)
        #expect(table.count == 11)
        for fd in Int32(10)...20 { _ = table.disconnected(fd) }
        #expect(table.count == 0)
    }
}
