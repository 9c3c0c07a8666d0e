import DroverProto
import Foundation
import SwiftProtobuf

/// Scripts made of valid messages of every kind, the corpus the fuzzer starts from: from
/// these it reaches the handling behind each decoder in a few mutations, not after millions.
enum Seeds {
    static func all() -> [(name: String, script: FuzzScript)] {
        [
            ("worker-reports", FuzzScript(steps: workerReports)),
            ("worker-session", FuzzScript(steps: workerSession)),
            ("control", FuzzScript(steps: controls)),
            ("limits", FuzzScript(steps: limitRequests)),
            ("worker-lost", FuzzScript(steps: workerLost)),
            ("server-to-worker", FuzzScript(steps: serverToWorker)),
            ("unnamed-peers", FuzzScript(steps: unnamedPeers)),
        ]
    }

    static let run0 = ServerUnderFuzz.placeholder(run: 0)
    static let run1 = ServerUnderFuzz.placeholder(run: 1)

    /// w1 runs the first run through to the end, with logs; the second then gets its turn.
    static var workerReports: [FuzzScript.Step] {
        [
            report(
                1,
                .runStarted(
                    .with {
                        $0.runID = run0; $0.attempt = 1; $0.pid = 7; $0.started = .init(seconds: 1_800_000_001)
                    })),
            report(
                2,
                .logBatch(
                    .with {
                        $0.runID = run0
                        $0.attempt = 1
                        $0.lines = (1...3).map { n in
                            .with {
                                $0.line = UInt64(n); $0.text = "line \(n)"; $0.stream = "stdout";
                                $0.timestamp = .init(seconds: 1_800_000_002)
                            }
                        }
                    })),
            report(
                3,
                .runFinished(
                    .with {
                        $0.runID = run0
                        $0.attempt = 1
                        $0.outcome = .runFailed
                        $0.exitCode = 3
                        $0.finished = .init(seconds: 1_800_000_003)
                    })),
            report(
                4,
                .runStarted(
                    .with {
                        $0.runID = run1; $0.attempt = 1; $0.pid = 8
                    })),
            report(
                5,
                .runFinished(
                    .with {
                        $0.runID = run1; $0.attempt = 1; $0.outcome = .runCompleted
                    })),
        ]
    }

    /// Hello, a repeat of it, heartbeats, credit and Bye, from w1 and a second worker.
    static var workerSession: [FuzzScript.Step] {
        [
            step(.worker, workerEnvelope { $0.hello = hello(id: 1, active: [run0]) }),
            step(.anyWorker, [1] + workerEnvelope { $0.hello = hello(id: 5, active: []) }),
            step(.workerInSession, workerEnvelope { $0.heartbeat = .init() }),
            step(.workerInSession, workerEnvelope { $0.accepting = .with { $0.accepting = false } }),
            step(.workerInSession, workerEnvelope { $0.accepting = .with { $0.accepting = true } }),
            step(
                .worker,
                workerEnvelope {
                    $0.session = 42; $0.heartbeat = .init()
                }),
            step(.workerInSession, workerEnvelope { $0.bye = .with { $0.reason = "draining" } }),
        ]
    }

    /// A request of each kind a CLI sends.
    static var controls: [FuzzScript.Step] {
        let operations: [Drover_V1_ControlRequest.OneOf_Operation] = [
            .getServerInfo(.init()),
            .listWorkPools(.init()),
            .createWorkPool(
                .with {
                    $0.name = "p2"; $0.type = "process"; $0.concurrencyLimit = 1
                }),
            .updateWorkPool(
                .with {
                    $0.name = "pool"; $0.paused = true
                }),
            .updateWorkPool(
                .with {
                    $0.name = "pool"; $0.paused = false
                }),
            .previewWorkPool(
                .with {
                    $0.name = "pool"; $0.hours = 2
                }),
            .createWorkQueue(
                .with {
                    $0.name = "q2"; $0.workPoolName = "pool"; $0.priority = 2; $0.concurrencyLimit = 1
                }),
            .listWorkQueues(.with { $0.workPoolName = "pool" }),
            .createDeployment(
                .with {
                    $0.name = "d2"
                    $0.workPoolName = "pool"
                    $0.command = "true"
                    $0.schedules = [
                        .with {
                            $0.cron = .with {
                                $0.cron = "*/5 * * * *"; $0.timezone = "Europe/Berlin"
                            }
                        }
                    ]
                }),
            .listDeployments(.init()),
            .runDeployment(
                .with {
                    $0.name = "deploy"; $0.expectedStartTime = .init(seconds: 1_800_000_100)
                }),
            .getFlowRun(.with { $0.id = run0 }),
            .listFlowRuns(
                .with {
                    $0.limit = 10; $0.stateTypes = [.running, .scheduled]
                }),
            .readFlowRunLogs(
                .with {
                    $0.id = run0; $0.limit = 5
                }),
            .cancelFlowRun(.with { $0.id = run1 }),
            .cancelFlowRun(.with { $0.id = run0 }),
            .listWorkers(.with { $0.workPoolName = "pool" }),
            .deleteWorkPool(.with { $0.name = "p2" }),
            .createKey(
                .with {
                    $0.name = "k"; $0.role = .worker; $0.pools = ["pool"]
                }),
            .listKeys(.init()),
        ]
        return operations.map { operation in
            step(
                .control,
                envelope {
                    $0.controlRequest = .with {
                        $0.requestID = 9; $0.operation = operation
                    }
                })
        }
    }

    /// A request of each kind a limit client sends.
    static var limitRequests: [FuzzScript.Step] {
        let operations: [Drover_V1_LimitRequest.OneOf_Operation] = [
            .createLimit(
                .with {
                    $0.name = "api"; $0.limit = 2; $0.slotDecayPerSecond = 0.5
                }),
            .acquire(
                .with {
                    $0.limits = ["api", "tag:db"]; $0.slots = 1; $0.holder = "h"; $0.leaseTtlMs = 1_000; $0.wait = true
                }),
            .renew(.with { $0.holders = ["h"] }),
            .listLimits(.init()),
            .updateLimit(
                .with {
                    $0.name = "tag:db"; $0.limit = 0
                }),
            .release(.with { $0.holders = ["h"] }),
            .deleteLimit(.with { $0.name = "api" }),
        ]
        return operations.map { operation in
            step(
                .limits,
                envelope {
                    $0.limitRequest = .with {
                        $0.requestID = 3; $0.operation = operation
                    }
                })
        }
    }

    /// w1 starts its run and goes silent: it is lost, the run is retried, and it comes back.
    static var workerLost: [FuzzScript.Step] {
        [
            report(
                1,
                .runStarted(
                    .with {
                        $0.runID = run0; $0.attempt = 1
                    })),
            step(.clock, [30]), step(.clock, [30]), step(.clock, [200]),
            step(.worker, workerEnvelope { $0.hello = hello(id: 2, active: [run0]) }),
            report(
                1,
                .runFinished(
                    .with {
                        $0.runID = run0; $0.attempt = 1; $0.outcome = .runCrashed
                    })),
        ]
    }

    /// A server welcomes the worker, assigns more runs than its limit, cancels, stops, and
    /// forgets it.
    static var serverToWorker: [FuzzScript.Step] {
        let runs = (1...3).map { n in "10000000-0000-4000-8000-00000000000\(n)" }
        return [
            step(
                .toWorkerInSession,
                coordinatorEnvelope {
                    $0.welcome = .with {
                        $0.session = 77; $0.name = "w1"; $0.heartbeatIntervalMs = 2_000
                    }
                })
        ]
            + runs.map { id in
                step(
                    .toWorkerInSession,
                    coordinatorEnvelope {
                        $0.run = .with {
                            $0.run = .with { $0.id = id }; $0.attempt = 1
                        }
                    })
            } + [
                step(
                    .toWorkerInSession,
                    coordinatorEnvelope {
                        $0.acknowledged = 2;
                        $0.cancel = .with {
                            $0.runID = runs[0]; $0.attempt = 1; $0.gracePeriodMs = 10
                        }
                    }),
                step(
                    .toWorkerInSession,
                    coordinatorEnvelope {
                        $0.stop = .with {
                            $0.runID = runs[1]; $0.attempt = 1
                        }
                    }),
                step(.clock, [1]),
                step(.toWorkerInSession, coordinatorEnvelope { $0.heartbeatAck = .init() }),
                step(
                    .toWorker,
                    coordinatorEnvelope {
                        $0.reject = .with {
                            $0.helloAgain = true; $0.rejectedSession = 77
                        }
                    }),
                step(
                    .toWorkerInSession,
                    coordinatorEnvelope {
                        $0.welcome = .with {
                            $0.session = 78; $0.staleRunIds = [runs[2]]
                        }
                    }),
                step(.clock, [10]),
            ]
    }

    /// Peers that did not set a routing id, or set one that is not UTF-8.
    static var unnamedPeers: [FuzzScript.Step] {
        [2, 3, 4, 5].map { id in step(.anyWorker, [UInt8(id)] + workerEnvelope { $0.hello = hello(id: 3, active: []) }) }
    }

    // MARK: Building blocks

    static func step(_ target: FuzzScript.Target, _ payload: [UInt8]) -> FuzzScript.Step {
        FuzzScript.Step(target: target, payload: payload)
    }

    static func report(_ seq: UInt64, _ kind: Drover_V1_WorkerMessage.OneOf_Kind) -> FuzzScript.Step {
        step(
            .workerInSession,
            workerEnvelope {
                $0.seq = seq; $0.kind = kind
            })
    }

    static func hello(id: UInt64, active: [String]) -> Drover_V1_Hello {
        .with {
            $0.workerID = "w1"
            $0.workPoolName = "pool"
            $0.name = "w1"
            $0.limit = 2
            $0.helloID = id
            $0.type = "process"
            $0.workQueueNames = ["default", "high"]
            $0.activeRuns = active.map { run in
                .with {
                    $0.runID = run; $0.attempt = 1; $0.started = true
                }
            }
        }
    }

    static func envelope(_ fill: (inout Drover_V1_Envelope) -> Void) -> [UInt8] {
        var envelope = Drover_V1_Envelope.with { $0.protocolVersion = droverProtocolVersion }
        fill(&envelope)
        return (try? envelope.serializedBytes()) ?? []
    }

    static func workerEnvelope(_ fill: (inout Drover_V1_WorkerMessage) -> Void) -> [UInt8] {
        envelope { $0.workerMessage = .with(fill) }
    }

    static func coordinatorEnvelope(_ fill: (inout Drover_V1_CoordinatorMessage) -> Void) -> [UInt8] {
        envelope { $0.coordinatorMessage = .with(fill) }
    }
}
