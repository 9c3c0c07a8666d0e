import Foundation
import Testing

@testable import ZeroMQ

@Suite struct PollerTests {
    @Test func pollerReportsReadableOnlyForTheSocketWithAMessage() throws {
        let context = try Context()
        let quietEndpoint = uniqueInproc("quiet")
        let busyEndpoint = uniqueInproc("busy")
        let quiet = try Socket(context: context, type: .pair)
        try quiet.bind(quietEndpoint)
        let quietPeer = try Socket(context: context, type: .pair)
        try quietPeer.connect(quietEndpoint)
        let busy = try Socket(context: context, type: .pair)
        try busy.bind(busyEndpoint)
        let busyPeer = try Socket(context: context, type: .pair)
        try busyPeer.connect(busyEndpoint)

        var poller = Poller()
        let quietIndex = poller.add(quiet)
        let busyIndex = poller.add(busy)
        #expect(quietIndex == 0)
        #expect(busyIndex == 1)

        try busyPeer.send(Message(strings: ["wake"]))
        let events = try poller.poll(timeout: failureGuard)
        #expect(events.count == 2)
        #expect(events[quietIndex].isEmpty)
        #expect(events[busyIndex] == .readable)

        // Level-triggered: still readable until drained.
        #expect(try poller.poll(timeout: .zero)[busyIndex] == .readable)
        #expect(try busy.receive(wait: false)?.strings == ["wake"])

        // Now the other one.
        try quietPeer.send(Message(strings: ["me too"]))
        let after = try poller.poll(timeout: failureGuard)
        #expect(after[quietIndex] == .readable)
        #expect(after[busyIndex].isEmpty)
    }

    @Test func pollTimeoutWithNothingReadyReturnsNoEvents() throws {
        let context = try Context()
        let endpoint = uniqueInproc("idle")
        let socket = try Socket(context: context, type: .pair)
        try socket.bind(endpoint)
        let peer = try Socket(context: context, type: .pair)
        try peer.connect(endpoint)
        let wakeup = try Wakeup()

        var poller = Poller()
        poller.add(socket)
        poller.add(fileDescriptor: wakeup.fileDescriptor)
        #expect(try poller.poll(timeout: .milliseconds(20)) == [[], []])
        #expect(try poller.poll(timeout: .zero) == [[], []])
    }

    @Test func pollerReportsOnlyTheEventsAskedFor() throws {
        let context = try Context()
        let endpoint = uniqueInproc("asked")
        let socket = try Socket(context: context, type: .pair)
        try socket.bind(endpoint)
        let peer = try Socket(context: context, type: .pair)
        try peer.connect(endpoint)
        try peer.send(Message(strings: ["pending"]))

        var poller = Poller()
        let writableOnly = poller.add(socket, events: .writable)
        let both = poller.add(socket, events: [.readable, .writable])
        let idleReadable = poller.add(peer, events: .readable)
        // Wait until the message is there, then look at every item.
        _ = try isReadable(socket, within: failureGuard)
        let events = try poller.poll(timeout: failureGuard)
        #expect(events[writableOnly] == .writable)
        #expect(events[both] == [.readable, .writable])
        #expect(events[idleReadable].isEmpty)
    }

    @Test func wakeupSignalledFromAnotherThreadWakesThePoll() throws {
        let context = try Context()
        let endpoint = uniqueInproc("wakeup")
        let socket = try Socket(context: context, type: .pair)
        try socket.bind(endpoint)
        let wakeup = try Wakeup()

        var poller = Poller()
        let socketIndex = poller.add(socket)
        let wakeupIndex = poller.add(fileDescriptor: wakeup.fileDescriptor)
        #expect(try poller.poll(timeout: .zero)[wakeupIndex].isEmpty)

        let ringer = Thread { wakeup.signal() }
        ringer.start()
        let events = try poller.poll(timeout: failureGuard)
        #expect(events[wakeupIndex] == .readable)
        #expect(events[socketIndex].isEmpty)
        #expect(wakeup.drain() == 1)
        #expect(try poller.poll(timeout: .zero)[wakeupIndex].isEmpty)
    }

    @Test func wakeupCoalescesSignalsUntilDrained() throws {
        let wakeup = try Wakeup()
        #expect(wakeup.drain() == 0)

        wakeup.signal()
        wakeup.signal()
        wakeup.signal()
        var poller = Poller()
        let index = poller.add(fileDescriptor: wakeup.fileDescriptor)
        #expect(try poller.poll(timeout: failureGuard)[index] == .readable)
        #expect(wakeup.drain() == 3)
        // One drain clears them all.
        #expect(try poller.poll(timeout: .zero)[index].isEmpty)
        #expect(wakeup.drain() == 0)

        wakeup.signal()
        #expect(try poller.poll(timeout: failureGuard)[index] == .readable)
        #expect(wakeup.drain() == 1)
    }

    @Test func wakeupsAreIndependent() throws {
        let first = try Wakeup()
        let second = try Wakeup()
        #expect(first.fileDescriptor != second.fileDescriptor)
        var poller = Poller()
        let firstIndex = poller.add(fileDescriptor: first.fileDescriptor)
        let secondIndex = poller.add(fileDescriptor: second.fileDescriptor)
        second.signal()
        let events = try poller.poll(timeout: failureGuard)
        #expect(events[firstIndex].isEmpty)
        #expect(events[secondIndex] == .readable)
        #expect(first.drain() == 0)
        #expect(second.drain() == 1)
    }

    @Test(
        arguments: [
            (Duration.zero, 0),
            (.milliseconds(-5), 0),
            (.nanoseconds(-1), 0),
            (.seconds(-3) + .milliseconds(500), 0),
            (.nanoseconds(1), 1),
            (.microseconds(1), 1),
            (.milliseconds(1), 1),
            (.microseconds(1500), 2),
            (.microseconds(999_999), 1000),
            (.seconds(1), 1000),
            (.seconds(1) + .nanoseconds(1), 1001),
            (.milliseconds(2500), 2500),
            (.seconds(90), 90_000),
            (.seconds(2_147_483), 2_147_483_000),
            (.seconds(2_147_483) + .milliseconds(647), 2_147_483_647),
            (.seconds(2_147_483) + .milliseconds(999), Int(Int32.max)),
            (.seconds(3_000_000), Int(Int32.max)),
            (.seconds(18_446_744_073_709_552), Int(Int32.max)),
            (.seconds(Int64.max), Int(Int32.max)),
        ] as [(Duration, Int)])
    func millisecondsRoundUpAndClamp(duration: Duration, expected: Int) {
        #expect(Poller.milliseconds(duration) == expected)
    }
}
