import DroverCore
import DroverProto
import Foundation
import SwiftProtobuf

// Carrying out the dispatcher's decisions, and the ends of runs.
extension Coordinator {
    /// Carries out dispatch actions. A store failure here is fatal for the server: it
    /// cannot promise anything it cannot persist.
    mutating func perform(_ actions: [DispatchAction]) throws(DroverError) {
        var pending = actions[...]
        while let action = pending.popFirst() {
            switch action {
            case .dispatch(let runID, let worker):
                pending.append(contentsOf: try dispatch(runID, to: worker))
            case .workerLost(let worker, let runs):
                // A worker that said Hello again lost only the runs it no longer reports:
                // its new session stays.
                if !dispatcher.isConnected(worker), var session = sessions.removeValue(forKey: worker) {
                    session.online = false
                    rememberDeparted(session)
                    logWorker(
                        "worker lost", level: .warning,
                        ["worker.name": "\(session.name)", "pool.name": "\(session.poolName)"])
                }
                pending.append(contentsOf: try recover(runs, reason: "its worker stopped responding"))
            case .orphaned(let runs):
                pending.append(contentsOf: try recover(runs, reason: "no worker reported it after the server restarted"))
            }
        }
    }

    /// The dispatcher chose `worker` for a run: send it now, or first ask for the slots of
    /// its limits, keeping the worker's credit for it until they are granted.
    private mutating func dispatch(_ runID: UUID, to worker: String) throws(DroverError) -> [DispatchAction] {
        guard let run = activeRuns[runID], sessions[worker] != nil else { return removeFromDispatch(runID) }
        if let deployment = deployment(id: run.deploymentID) {
            // A run tried before (a retry, or one its worker lost) waits rather than be cancelled.
            let strategy = run.attempt > 0 ? .enqueue : deployment.collisionStrategy
            switch concurrency.admit(
                runID, of: deployment.id, due: run.expectedStart, limit: deployment.concurrencyLimit, strategy: strategy)
            {
            case .admit: break
            case .wait: return try waitForDeploymentSlot(run, of: deployment)
            case .cancel(let inFlight):
                var cancelled = run
                try cancelled.transition(
                    to: .cancelled, at: clock(), message: Self.collisionMessage(deployment, inFlight: inFlight))
                return try finishReturningActions(cancelled)
            }
        }
        if !slots.holding.contains(runID) && slots.needsSlots(tags: run.tags) {
            slots.request(runID, tags: run.tags, worker: worker, leaseTTL: settings.runLeaseTTL)
            return []
        }
        return try send(runID, to: worker)
    }

    /// Takes a run out of dispatch, giving its worker's credit back, until a run of its
    /// deployment ends; it shows as AwaitingConcurrencySlot meanwhile.
    private mutating func waitForDeploymentSlot(_ run: FlowRun, of deployment: Deployment) throws(DroverError) -> [DispatchAction] {
        if run.state.name != Self.awaitingSlotName {
            var waiting = run
            try waiting.transition(
                to: .scheduled, name: Self.awaitingSlotName, at: clock(),
                message: "Waiting for one of the \(deployment.concurrencyLimit ?? 0) slots of deployment '\(deployment.name)'.")
            try store.commit([.updateRun(waiting)])
            activeRuns[run.id] = waiting
        }
        slots.release(run.id)
        return dispatcher.removeRun(run.id)
    }

    /// Sends a run: PENDING with the next attempt, persisted, then pushed.
    mutating func send(_ runID: UUID, to worker: String) throws(DroverError) -> [DispatchAction] {
        guard var run = activeRuns[runID], run.state.type == .scheduled, let session = sessions[worker] else {
            return removeFromDispatch(runID)
        }
        let now = clock()
        let configuration: Google_Protobuf_Struct
        do {
            configuration = try jobConfiguration(of: run)
        } catch {
            try run.transition(to: .pending, at: now)
            try run.transition(to: .crashed, at: now, message: "Could not render the job configuration: \(error.message)")
            try finish(run)
            return []
        }
        run.attempt += 1
        run.workerID = worker
        run.workerName = session.name
        try run.transition(to: .pending, at: now, message: "Sent to worker '\(session.name)'.")
        try store.commit([.updateRun(run)])
        activeRuns[runID] = run
        send(
            .run(
                .with {
                    $0.run = wire(run)
                    // A worker needs the run, not how it got here: the history stays home.
                    $0.run.stateHistory = []
                    $0.attempt = run.attempt
                    $0.jobConfiguration = configuration
                }), to: worker)
        return []
    }

    /// The pool's job template rendered for `run`. Runs without job variables of their
    /// own share their deployment's, rendered once until the catalog or the deployment changes.
    private mutating func jobConfiguration(of run: FlowRun) throws(DroverError) -> Google_Protobuf_Struct {
        if run.jobVariables.isEmpty, let cached = renderedConfigurations[run.deploymentID] { return cached }
        let pool = try catalog.pool(named: catalog.poolName(id: run.poolID) ?? "")
        let deployment = deployment(id: run.deploymentID)
        let rendered = Google_Protobuf_Struct(
            .object(
                try JobConfiguration.render(
                    template: pool.baseJobTemplate, deploymentVariables: deployment?.jobVariables ?? [:],
                    runVariables: run.jobVariables
                ).values))
        if run.jobVariables.isEmpty, deployment != nil { renderedConfigurations[run.deploymentID] = rendered }
        return rendered
    }

    /// Runs whose worker is gone: never started → SCHEDULED again; started → SCHEDULED
    /// (AwaitingRetry) with retries left and `retryCrashed`, else CRASHED; being cancelled →
    /// CANCELLED.
    private mutating func recover(_ runIDs: [UUID], reason: String) throws(DroverError) -> [DispatchAction] {
        var actions: [DispatchAction] = []
        let now = clock()
        for id in runIDs {
            guard var run = activeRuns[id] else {
                actions += removeFromDispatch(id)
                continue
            }
            switch run.state.type {
            case .pending:
                try run.transition(to: .scheduled, at: now, message: "Back in line: \(reason) before starting it.")
                try store.commit([.updateRun(run)])
                activeRuns[id] = run
                actions += removeFromDispatch(id)
                actions += dispatcher.addRun(id, pool: run.poolID, queue: run.queueID, expectedStart: run.expectedStart, now: now)
            case .cancelling:
                try run.transition(to: .cancelled, at: now, message: "Cancelled: \(reason).")
                actions += try finishReturningActions(run)
            case .running:
                // Its worker may have run part of it: retried at once, as the next attempt (the
                // old one is fenced), when it has retries left and its deployment allows it.
                let retry = deployment(id: run.deploymentID)?.retryCrashed ?? true
                if retry && run.failures < Int(run.retries) {
                    run.expectedStart = now
                    try run.transition(
                        to: .scheduled, name: "AwaitingRetry", at: now,
                        message: "Crashed: \(reason). Retry \(run.failures + 1) of \(run.retries) at once.")
                    try store.commit([.updateRun(run)])
                    activeRuns[id] = run
                    logger.warning(
                        "retrying a run whose worker was lost",
                        metadata: ["run.id": "\(run.id)", "run.attempt": "\(run.attempt)"])
                    actions += removeFromDispatch(id)
                    actions += dispatcher.addRun(id, pool: run.poolID, queue: run.queueID, expectedStart: now, now: now)
                } else {
                    try run.transition(to: .crashed, at: now, message: "Crashed: \(reason).")
                    actions += try finishReturningActions(run)
                }
            case .scheduled:
                // Kept for its worker while waiting for slots: back in line, without them.
                actions += removeFromDispatch(id)
                actions += dispatcher.addRun(id, pool: run.poolID, queue: run.queueID, expectedStart: run.expectedStart, now: now)
            case .completed, .failed, .crashed, .cancelled:
                actions += removeFromDispatch(id)
            }
        }
        return actions
    }

    /// Persists a run that reached the end of an attempt and frees its slots; a FAILED
    /// run with retries left goes back to SCHEDULED (AwaitingRetry) after its delay.
    mutating func finish(_ run: FlowRun) throws(DroverError) {
        try perform(try finishReturningActions(run))
    }

    private mutating func finishReturningActions(_ finished: FlowRun) throws(DroverError) -> [DispatchAction] {
        var run = finished
        let now = clock()
        if run.state.type == .failed && run.hasRetriesLeft {
            run.expectedStart = now.addingTimeInterval(Double(run.retryDelaySeconds))
            try run.transition(
                to: .scheduled, name: "AwaitingRetry", at: now,
                message: "Retry \(run.failures) of \(run.retries) in \(run.retryDelaySeconds) s.")
            try store.commit([.updateRun(run)])
            activeRuns[run.id] = run
            var actions = removeFromDispatch(run.id)
            actions += dispatcher.addRun(run.id, pool: run.poolID, queue: run.queueID, expectedStart: run.expectedStart, now: now)
            return actions
        }
        try store.commit([.updateRun(run)])
        activeRuns[run.id] = run.state.type.isTerminal ? nil : run
        logger.info(
            "flow run finished",
            metadata: ["run.id": "\(run.id)", "run.state": "\(run.state.type.rawValue)", "run.attempt": "\(run.attempt)"])
        return removeFromDispatch(run.id)
    }

    mutating func send(_ kind: Drover_V1_CoordinatorMessage.OneOf_Kind, to worker: String) {
        let session = sessions[worker]?.session ?? 0
        outbox.append(
            (
                worker,
                .with {
                    $0.session = session; $0.kind = kind
                }
            ))
    }
}
