import DroverCore
import DroverProto
import DroverWire
import Foundation

extension Coordinator {
    /// The reply to a control request; failures become error replies, never thrown.
    public mutating func handle(_ request: Drover_V1_ControlRequest) -> Drover_V1_ControlReply {
        do {
            var reply = try answer(request)
            reply.requestID = request.requestID
            try Self.checkSize(of: reply, for: request)
            return reply
        } catch {
            if error.code == .internal {
                logger.error("control request failed", metadata: ["error": "\(error.message)"])
            }
            return .failure(requestID: request.requestID, code: .init(error.code), message: error.message)
        }
    }

    /// A reply that lists things could outgrow the 1 MiB a message may carry, and the client
    /// would drop it and wait in vain: it is refused instead, saying how to ask for less.
    /// Replies about one thing are small by the bounds on their fields, and are not measured.
    static func checkSize(of reply: Drover_V1_ControlReply, for request: Drover_V1_ControlRequest) throws(DroverError) {
        switch request.operation {
        case .listWorkers, .listFlowRuns, .listDeployments, .listWorkPools, .listWorkQueues, .previewWorkPool,
            .listDeploymentSchedules, .readFlowRunLogs:
            let size = (try? reply.serializedBytes() as [UInt8])?.count ?? 0
            guard Int64(size) > droverMaxFrameBytes - 1024 else { return }
            throw .failedPrecondition(
                "The answer would be \(size / 1024) KiB, over the 1 MiB one message may carry. Ask for less: "
                    + "a smaller --limit, or one --pool.")
        default:
            return
        }
    }

    private mutating func answer(_ request: Drover_V1_ControlRequest) throws(DroverError) -> Drover_V1_ControlReply {
        switch request.operation {
        case .getServerInfo:
            return .with { $0.serverInfo = serverInfo }
        case .createWorkPool(let create):
            let value = try createPool(create)
            return .with { $0.workPool = value }
        case .getWorkPool(let get):
            let value = wire(try catalog.pool(named: get.name))
            return .with { $0.workPool = value }
        case .listWorkPools: return .with { $0.workPools.workPools = catalog.pools.map(wire) }
        case .updateWorkPool(let update):
            let value = try updatePool(update)
            return .with { $0.workPool = value }
        case .deleteWorkPool(let delete):
            let value = try deletePool(delete)
            return .with { $0.deleted = value }
        case .previewWorkPool(let preview):
            let value = try previewPool(preview)
            return .with { $0.flowRuns.flowRuns = value }
        case .createWorkQueue(let create):
            let value = try createQueue(create)
            return .with { $0.workQueue = value }
        case .getWorkQueue(let get):
            let value = wire(try catalog.queue(named: get.name, inPool: get.workPoolName), poolName: get.workPoolName)
            return .with { $0.workQueue = value }
        case .listWorkQueues(let list):
            let value = try listQueues(list)
            return .with { $0.workQueues.workQueues = value }
        case .updateWorkQueue(let update):
            let value = try updateQueue(update)
            return .with { $0.workQueue = value }
        case .deleteWorkQueue(let delete):
            let value = try deleteQueue(delete)
            return .with { $0.deleted = value }
        case .listWorkers(let list):
            let value = try listWorkers(list)
            return .with { $0.workers.workers = value }
        case .createDeployment(let create):
            let value = try createDeployment(create)
            return .with { $0.deployment = value }
        case .getDeployment(let get):
            let value = wire(try deployment(named: get.name))
            return .with { $0.deployment = value }
        case .listDeployments(let list):
            let value = try listDeployments(list)
            return .with { $0.deployments.deployments = value }
        case .updateDeployment(let update):
            let value = try updateDeployment(update)
            return .with { $0.deployment = value }
        case .deleteDeployment(let delete):
            let value = try deleteDeployment(delete)
            return .with { $0.deleted = value }
        case .runDeployment(let run):
            let value = try runDeployment(run)
            return .with { $0.flowRun = value }
        case .createDeploymentSchedule(let create):
            let value = try createSchedule(create)
            return .with { $0.deploymentSchedule = value }
        case .listDeploymentSchedules(let list):
            let value = try listSchedules(list)
            return .with { $0.deploymentSchedules.schedules = value }
        case .updateDeploymentSchedule(let update):
            let value = try updateSchedule(update)
            return .with { $0.deploymentSchedule = value }
        case .deleteDeploymentSchedule(let delete):
            let value = try deleteSchedule(delete)
            return .with { $0.deleted = value }
        case .listFlowRuns(let list):
            let value = try listFlowRuns(list)
            return .with { $0.flowRuns.flowRuns = value }
        case .getFlowRun(let get):
            let value = wire(try flowRun(id: get.id))
            return .with { $0.flowRun = value }
        case .cancelFlowRun(let cancel):
            let value = try cancelFlowRun(cancel)
            return .with { $0.flowRun = value }
        case .deleteFlowRun(let delete):
            let value = try deleteFlowRun(delete)
            return .with { $0.deleted = value }
        case .readFlowRunLogs(let read):
            let value = try readLogs(read)
            return .with { $0.logs = value }
        case .createKey, .listKeys, .revokeKey, .rotateKey:
            throw DroverError(.internal, "Key requests are answered by KeyAdministration, not the coordinator.")
        case nil:
            throw .invalidArgument(
                "The server (Drover \(DroverVersion.current)) does not know the requested operation. "
                    + "Is the client newer than the server?")
        }
    }
}
