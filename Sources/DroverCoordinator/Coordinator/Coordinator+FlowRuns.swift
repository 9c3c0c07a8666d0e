import DroverCore
import DroverProto
import DroverWire
import Foundation
import SwiftProtobuf

// Reading, cancelling and deleting flow runs.
extension Coordinator {
    /// The most runs one `flow-run ls` returns, and the most log lines one read returns.
    static let defaultListLimit = 20
    static let maximumListLimit = 10_000

    func flowRun(id text: String) throws(DroverError) -> FlowRun {
        guard let id = UUID(uuidString: text) else {
            throw .invalidArgument("'\(ResourceName.printable(text))' is not a flow run id (a UUID).")
        }
        if let run = activeRuns[id] { return run }
        guard let run = try store.flowRun(id: id) else {
            throw .notFound("Flow run '\(text)' not found.")
        }
        return run
    }

    func listFlowRuns(_ list: Drover_V1_ListFlowRuns) throws(DroverError) -> [Drover_V1_FlowRun] {
        var filter = FlowRunFilter(
            limit: list.limit == 0 ? Self.defaultListLimit : min(Int(list.limit), Self.maximumListLimit))
        if !list.workPoolName.isEmpty { filter.poolID = try catalog.pool(named: list.workPoolName).id }
        if !list.deploymentName.isEmpty {
            guard let deployment = deployments[list.deploymentName] else {
                throw .notFound("Deployment '\(ResourceName.printable(list.deploymentName))' not found.")
            }
            filter.deploymentID = deployment.id
        }
        for state in list.stateTypes {
            guard let type = StateType(wire: state) else { throw .invalidArgument("Unknown state type in the request.") }
            filter.states.insert(type)
        }
        return try store.flowRuns(matching: filter).map { activeRuns[$0.id] ?? $0 }.map(wire)
    }

    /// Cancels a run: a SCHEDULED one at once; a PENDING or RUNNING one goes CANCELLING
    /// and its worker is told to stop it.
    mutating func cancelFlowRun(_ cancel: Drover_V1_CancelFlowRun) throws(DroverError) -> Drover_V1_FlowRun {
        var run = try flowRun(id: cancel.id)
        let now = clock()
        switch run.state.type {
        case .scheduled:
            try run.transition(to: .cancelled, at: now, message: "Cancelled by request before it started.")
            try finish(run)
        case .pending, .running:
            try run.transition(to: .cancelling, at: now, message: "Cancellation requested.")
            try store.commit([.updateRun(run)])
            activeRuns[run.id] = run
            sendCancel(run)
        case .cancelling:
            sendCancel(run)
        case .completed, .failed, .crashed, .cancelled:
            throw .failedPrecondition("Flow run '\(run.name)' is already \(run.state.type.rawValue); nothing to cancel.")
        }
        logger.info("cancelling flow run", metadata: ["run.id": "\(run.id)", "run.state": "\(run.state.type.rawValue)"])
        return wire(activeRuns[run.id] ?? run)
    }

    private mutating func sendCancel(_ run: FlowRun) {
        guard let worker = run.workerID, sessions[worker] != nil else { return }
        send(
            .cancel(
                .with {
                    $0.runID = run.id.uuidString.lowercased()
                    $0.attempt = run.attempt
                    $0.gracePeriodMs = UInt32(settings.cancelGracePeriod * 1000)
                }), to: worker)
    }

    mutating func deleteFlowRun(_ delete: Drover_V1_DeleteFlowRun) throws(DroverError) -> Drover_V1_Deleted {
        let run = try flowRun(id: delete.id)
        guard run.state.type.isTerminal || run.state.type == .scheduled else {
            throw .failedPrecondition(
                "Flow run '\(run.name)' is \(run.state.type.rawValue); cancel it with `drover flow-run cancel` first.")
        }
        try store.commit([.deleteRun(id: run.id)])
        if activeRuns.removeValue(forKey: run.id) != nil {
            try perform(removeFromDispatch(run.id))
        }
        logger.info("deleted flow run", metadata: ["run.id": "\(run.id)"])
        return .with {
            $0.id = run.id.uuidString.lowercased(); $0.name = run.name
        }
    }

    func readLogs(_ read: Drover_V1_ReadFlowRunLogs) throws(DroverError) -> Drover_V1_LogList {
        let run = try flowRun(id: read.id)
        let limit = read.limit == 0 ? 1000 : min(Int(read.limit), Self.maximumListLimit)
        let stored = try store.logs(of: run.id, after: read.afterSequence, limit: limit)
        // A page stays well under the 1 MiB a message may carry, however long the lines.
        var bytes = 0
        let lines = stored.prefix { line in
            bytes += line.text.utf8.count + 64
            return bytes <= Self.logPageBytes
        }
        return .with {
            $0.flowRun = wire(run)
            $0.more = lines.count < stored.count || stored.count == limit
            $0.lines = lines.map { line in
                .with {
                    $0.sequence = line.sequence
                    $0.timestamp = Google_Protobuf_Timestamp(microsecondsOf: line.timestamp)
                    $0.stream = line.stream.rawValue
                    $0.text = line.text
                    $0.attempt = line.attempt
                }
            }
        }
    }

    /// The most text one page of logs carries.
    static let logPageBytes = 512 * 1024

    // MARK: Wire forms

    func wire(_ run: FlowRun) -> Drover_V1_FlowRun {
        let deploymentName = deployment(id: run.deploymentID)?.name ?? ""
        let poolName = catalog.poolName(id: run.poolID) ?? ""
        let queueName = self.queueName(id: run.queueID, inPool: poolName)
        return Drover_V1_FlowRun(
            run, deploymentName: deploymentName, poolName: poolName, queueName: queueName,
            stateName: run.displayStateName(now: clock(), lateAfter: settings.lateAfter))
    }

    /// The name of queue `id` of pool `poolName`, or "" when either is gone.
    private func queueName(id: UUID, inPool poolName: String) -> String {
        (try? catalog.queues(inPool: poolName))?.first { $0.id == id }?.name ?? ""
    }

    func wire(_ deployment: Deployment) -> Drover_V1_Deployment {
        let poolName = catalog.poolName(id: deployment.poolID) ?? ""
        let queueName = self.queueName(id: deployment.queueID, inPool: poolName)
        var wired = Drover_V1_Deployment(deployment, poolName: poolName, queueName: queueName)
        wired.schedules = deployment.schedules.map { wire($0, of: deployment) }
        return wired
    }
}
