import DroverCore
import Foundation
import Testing

/// The worker's side of the session protocol, step by step, with a hand-moved clock.
@Suite struct WorkerSessionTests {
    let start = ContinuousClock.now
    let run = RunAttempt(UUID(uuidString: "01A251BA-C0FD-7536-8DEE-950512662E2B")!, attempt: 1)
    let other = RunAttempt(UUID(uuidString: "01A251BA-C1B7-71B0-8C18-F73C6BC6409B")!, attempt: 1)

    func session(limit: UInt32? = 1) -> WorkerSession {
        WorkerSession(settings: WorkerSession.Settings(limit: limit), now: start, seed: 7)
    }

    /// The Hellos in `actions`, by id.
    func hellos(_ actions: [WorkerSession.Action]) -> [UInt64] {
        actions.compactMap { action in
            guard case .send(let message) = action, case .hello(let id, _) = message.kind else { return nil }
            return id
        }
    }

    func reports(_ actions: [WorkerSession.Action]) -> [(session: UInt64, seq: UInt64, report: WorkerReport)] {
        actions.compactMap { action in
            guard case .send(let message) = action, case .report(let seq, let report) = message.kind else { return nil }
            return (message.session, seq, report)
        }
    }

    func welcome(_ hello: UInt64, session: UInt64, stale: [UUID] = []) -> WorkerSession.Incoming {
        .welcome(.init(helloID: hello, session: session, name: "w1", heartbeatInterval: .seconds(2), staleRuns: stale))
    }

    /// A session welcomed into session 10 with `run` running.
    func running(limit: UInt32? = 1) -> WorkerSession {
        var worker = session(limit: limit)
        _ = worker.tick(now: start)
        _ = worker.received(welcome(1, session: 10), session: 10, acknowledged: 0, now: start)
        #expect(worker.received(.assignment(run), session: 10, acknowledged: 0, now: start) == [.start(run)])
        _ = worker.processStarted(run, pid: 42, at: Date())
        return worker
    }

    @Test func oneHelloIsInFlightAndOnlyItsWelcomeCounts() {
        var worker = session()
        #expect(hellos(worker.tick(now: start)) == [1])
        // Nothing more is said while the Hello waits, however often the loop wakes.
        #expect(hellos(worker.tick(now: start + .seconds(1))).isEmpty)
        // A Welcome for another Hello (a late answer to an earlier one) changes nothing.
        #expect(worker.received(welcome(7, session: 70), session: 70, acknowledged: 0, now: start + .seconds(1)).isEmpty)
        #expect(worker.session == nil)
        #expect(
            worker.received(welcome(1, session: 10), session: 10, acknowledged: 0, now: start + .seconds(1))
                == [.welcomed(name: "w1", again: false)])
        #expect(worker.session == 10)
        // The same Welcome again (the server answered a repeated Hello) is ignored.
        #expect(worker.received(welcome(1, session: 10), session: 10, acknowledged: 0, now: start + .seconds(1)).isEmpty)
    }

    @Test func sayHelloAgainActsOnlyForTheCurrentSessionAndBacksOff() {
        var worker = running()
        let now = start + .seconds(1)
        // Rejects of older sessions (stale messages the new server refused) are ignored.
        #expect(worker.received(.helloAgain(rejectedSession: 9), session: 0, acknowledged: 0, now: now).isEmpty)
        #expect(worker.session == 10)
        _ = worker.received(.helloAgain(rejectedSession: 10), session: 0, acknowledged: 0, now: now)
        guard case .waiting(let until) = worker.phase else {
            Issue.record("not waiting to say Hello: \(worker.phase)")
            return
        }
        #expect(until > now && until <= now + .milliseconds(100), "the first retry waits 50–100 ms")
        #expect(hellos(worker.tick(now: until)) == [2])
        // A second reject of the same session, while the Hello is out, does not add one.
        #expect(worker.received(.helloAgain(rejectedSession: 10), session: 0, acknowledged: 0, now: until).isEmpty)
        #expect(hellos(worker.tick(now: until + .seconds(1))).isEmpty)
    }

    @Test func theHelloClaimsHeldRunsAndEndsNotYetAcknowledged() {
        var worker = running(limit: 2)
        _ = worker.received(.assignment(other), session: 10, acknowledged: 0, now: start)
        _ = worker.processStarted(other, pid: 43, at: Date())
        _ = worker.processEnded(other, .exited(code: 0), at: Date())
        _ = worker.received(.helloAgain(rejectedSession: 10), session: 0, acknowledged: 0, now: start)
        let actions = worker.tick(now: start + .seconds(1))
        guard case .send(let message)? = actions.first, case .hello(_, let active) = message.kind else {
            Issue.record("no Hello: \(actions)")
            return
        }
        #expect(Set(active.map(\.run)) == [run, other])
        #expect(active.allSatisfy { $0.started })
    }

    @Test func reportsAreNumberedResentAfterEveryWelcomeAndForgottenOnceAcknowledged() {
        var worker = running()
        let end = worker.processEnded(run, .exited(code: 0), at: Date())
        let sent = reports(end)
        #expect(sent.map(\.seq) == [2, 3], "its lines, then its end (1 was its start): \(sent)")
        #expect(sent.allSatisfy { $0.session == 10 })
        if case .finished(let finished)? = sent.last?.report {
            #expect(finished.outcome == .completed && finished.exitCode == 0)
        } else {
            Issue.record("the last report is not the end: \(sent)")
        }
        // The server acknowledges the first two, then restarts: the third goes again, in the new session.
        _ = worker.received(.heartbeatAck, session: 10, acknowledged: 2, now: start)
        #expect(worker.unacknowledgedCount == 1)
        _ = worker.received(.helloAgain(rejectedSession: 10), session: 0, acknowledged: 0, now: start)
        _ = worker.tick(now: start + .seconds(1))
        let again = reports(worker.received(welcome(2, session: 20), session: 20, acknowledged: 0, now: start + .seconds(1)))
        #expect(again.map(\.seq) == [3] && again.allSatisfy { $0.session == 20 })
        _ = worker.received(.heartbeatAck, session: 20, acknowledged: 3, now: start + .seconds(1))
        #expect(worker.unacknowledgedCount == 0)
    }

    @Test func aReportTheSocketCouldNotTakeGoesAgainFromItOn() {
        var worker = running()
        let started = reports(worker.processStarted(run, pid: 1, at: Date()))
        #expect(started.isEmpty, "started once already")
        let end = worker.processEnded(run, .exited(code: 3), at: Date())
        guard
            case .send(let failed)? = end.first(where: {
                if case .send(let message) = $0, case .report(2, _) = message.kind { return true }
                return false
            })
        else {
            Issue.record("no report 2: \(end)")
            return
        }
        worker.sendFailed(failed, now: start)
        #expect(reports(worker.tick(now: start + .milliseconds(50))).isEmpty, "it waits a little")
        #expect(reports(worker.tick(now: start + .milliseconds(100))).map(\.seq) == [2, 3])
    }

    @Test func aRunBeyondTheLimitWaitsForAStoppedRunsProcessToEnd() {
        var worker = running()
        // The server moved past `run` (its worker was given up): it is stopped, not reported...
        #expect(worker.received(.stop(run), session: 10, acknowledged: 0, now: start) == [.terminate(run, grace: nil)])
        // ...and the run sent instead waits until that process has ended.
        #expect(worker.received(.assignment(other), session: 10, acknowledged: 0, now: start).isEmpty)
        #expect(worker.processCount == 1)
        let ended = worker.processEnded(run, .signaled(signal: 15), at: Date())
        #expect(ended == [.start(other)], "\(ended)")
        #expect(reports(ended).isEmpty)
    }

    @Test func messagesOfAnotherSessionAreIgnored() {
        var worker = running()
        #expect(worker.received(.assignment(other), session: 9, acknowledged: 0, now: start).isEmpty)
        #expect(worker.received(.stop(run), session: 9, acknowledged: 0, now: start).isEmpty)
        #expect(worker.runs[run]?.phase == .running)
    }

    @Test func aWelcomeStopsTheRunsTheServerNoLongerAssigns() {
        var worker = running()
        _ = worker.received(.helloAgain(rejectedSession: 10), session: 0, acknowledged: 0, now: start)
        _ = worker.tick(now: start + .seconds(1))
        let actions = worker.received(welcome(2, session: 20, stale: [run.runID]), session: 20, acknowledged: 0, now: start + .seconds(1))
        #expect(actions.contains(.terminate(run, grace: nil)))
        #expect(worker.runs[run]?.phase == .stopping)
        #expect(reports(worker.processEnded(run, .signaled(signal: 15), at: Date())).isEmpty)
    }

    @Test func aCancelledQueuedRunIsReportedWithoutStarting() {
        var worker = running()
        _ = worker.received(.assignment(other), session: 10, acknowledged: 0, now: start)
        let actions = worker.received(.cancel(other, grace: .seconds(1)), session: 10, acknowledged: 0, now: start)
        #expect(actions.first == .discard(other))
        guard case .finished(let end)? = reports(actions).last?.report else {
            Issue.record("no end reported: \(actions)")
            return
        }
        #expect(end.run == other && end.outcome == .cancelled)
    }

    @Test func drainingLeavesAfterTheLastAcknowledgementOrAfterItsTimeout() {
        var worker = running()
        let drain = worker.drain(now: start)
        #expect(drain.contains(.send(.init(session: 10, kind: .accepting(false)))))
        let end = worker.processEnded(run, .exited(code: 0), at: Date())
        #expect(!end.contains { if case .leave = $0 { return true } else { return false } }, "not before the acknowledgement")
        let acknowledged = worker.received(.heartbeatAck, session: 10, acknowledged: 99, now: start)
        #expect(
            worker.tick(now: start) == [.send(.init(session: 10, kind: .bye(reason: "drained"))), .leave(unconfirmed: 0)], "\(acknowledged)"
        )

        var unheard = running()
        _ = unheard.drain(now: start)
        _ = unheard.processEnded(run, .exited(code: 0), at: Date())
        _ = unheard.tick(now: start)
        #expect(!unheard.tick(now: start + .seconds(5)).contains(.leave(unconfirmed: 3)))
        #expect(unheard.tick(now: start + .seconds(10)).last == .leave(unconfirmed: 3))
    }

    @Test func pastTheBoundTheOldestLogLinesGoButNeverARunsEnd() {
        var settings = WorkerSession.Settings(limit: 1)
        settings.maxUnacknowledgedLines = 10
        settings.batchLines = 4
        var worker = WorkerSession(settings: settings, now: start, seed: 1)
        _ = worker.tick(now: start)
        _ = worker.received(welcome(1, session: 10), session: 10, acknowledged: 0, now: start)
        _ = worker.received(.assignment(run), session: 10, acknowledged: 0, now: start)
        _ = worker.processStarted(run, pid: 1, at: Date())
        var dropped = 0
        for line in 1...20 {
            for action in worker.log(run, .stdout, "line \(line)", at: Date()) {
                if case .droppedLines(let count) = action { dropped += count }
            }
        }
        #expect(dropped == 12)
        let end = reports(worker.processEnded(run, .exited(code: 0), at: Date()))
        guard case .finished? = end.last?.report else {
            Issue.record("the end was not reported: \(end)")
            return
        }
    }

    @Test func withoutAnAnswerTheFirstHelloGivesUpAndARefusalEndsIt() {
        var silent = session()
        _ = silent.tick(now: start)
        let later = silent.tick(now: start + .seconds(5))
        #expect(later == [.reconnect], "the Hello timed out: a fresh socket")
        #expect(silent.tick(now: start + .seconds(11)).first.map { if case .giveUp = $0 { true } else { false } } == true)

        var refused = session()
        _ = refused.tick(now: start)
        let error = DroverError(.notFound, "Work pool 'x' does not exist.")
        #expect(refused.received(.refused(helloID: 1, error), session: 0, acknowledged: 0, now: start) == [.giveUp(error)])
    }

    @Test func aReconnectedSocketHeartbeatsAtOnceWhenWelcomedAndOnlyThen() {
        var worker = session()
        _ = worker.tick(now: start)
        // Greeting: the Hello is on its way; nothing more to say.
        #expect(worker.connected(now: start + .milliseconds(10)).isEmpty)
        _ = worker.received(welcome(1, session: 10), session: 10, acknowledged: 0, now: start)
        _ = worker.tick(now: start)
        // Its next beat is 2 s away; a reconnection brings it forward to now.
        let now = start + .milliseconds(300)
        #expect(worker.tick(now: now).isEmpty)
        #expect(worker.connected(now: now) == [.send(.init(session: 10, kind: .heartbeat))])
        #expect(worker.tick(now: now + .milliseconds(1)).isEmpty)
        // A new server answers it with "say Hello again", and the Hello goes after the back-off.
        _ = worker.received(.helloAgain(rejectedSession: 10), session: 0, acknowledged: 0, now: now + .milliseconds(1))
        #expect(worker.session == nil)
        #expect(worker.connected(now: now + .milliseconds(2)).isEmpty)
    }

    @Test func aSilentServerIsLeftForAFreshSocket() {
        var worker = running()
        #expect(worker.tick(now: start + .seconds(6)).contains(.send(.init(session: 10, kind: .heartbeat))))
        let lost = worker.tick(now: start + .milliseconds(6_001))
        #expect(lost.prefix(2) == [.lostServer, .reconnect])
    }
}

@Suite struct ReconnectBackoffTests {
    @Test func retriesGrowExponentiallyWithJitterUpToTheCapAndResetAfterAStableSession() {
        var backoff = ReconnectBackoff(base: .milliseconds(100), cap: .seconds(5), stableAfter: .seconds(10))
        let lowest = (0..<8).map { _ in backoff.nextDelay(afterSessionOf: nil, random: 0) }
        #expect(lowest == [50, 100, 200, 400, 800, 1600, 2500, 2500].map { .milliseconds($0) })
        #expect(backoff.nextDelay(afterSessionOf: .seconds(1), random: 1) == .seconds(5), "a short session does not reset it")
        #expect(backoff.nextDelay(afterSessionOf: .seconds(10), random: 1) == .milliseconds(100), "a stable one does")
    }
}

@Suite struct SessionLedgerTests {
    @Test func aRepeatedHelloIsRecognisedAndReportsCountOnceFromTheirSession() {
        var ledger = SessionLedger(session: 77, helloID: 3)
        #expect(ledger.isRepeat(ofHello: 3))
        #expect(!ledger.isRepeat(ofHello: 4) && !ledger.isRepeat(ofHello: 0))
        #expect(ledger.admit(report: 1, session: 0) == .foreignSession)
        #expect(ledger.admit(report: 1, session: 76) == .foreignSession)
        #expect(ledger.admit(report: 5, session: 77) == .apply)
        #expect(ledger.admit(report: 5, session: 77) == .duplicate)
        #expect(ledger.admit(report: 4, session: 77) == .duplicate)
        #expect(ledger.admit(report: 6, session: 77) == .apply)
        #expect(ledger.applied == 6)
    }
}
