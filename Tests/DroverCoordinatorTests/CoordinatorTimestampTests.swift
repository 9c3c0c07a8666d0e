import DroverClient
import DroverCore
import DroverProto
import DroverTestSupport
import Foundation
import SwiftProtobuf
import Testing

@testable import DroverCoordinator

/// Timestamps in control requests are checked where they arrive: one outside
/// 0001-01-01T00:00:00Z ... 9999-12-31T23:59:59.999999999Z is refused with
/// INVALID_ARGUMENT naming its field, and nothing changes. Before, seconds of ±1e13
/// stopped the server, and years 0 or 10000 were stored and broke every list.
@Suite struct CoordinatorTimestampTests {
    /// Timestamps no request may carry: the ones a fuzzer found, the first second outside
    /// the range on each side, the extremes, and nanos out of range.
    static let hostile: [(seconds: Int64, nanos: Int32)] = [
        (10_000_000_000_000, 0), (-10_000_000_000_000, 0), (-62_135_596_801, 0), (253_402_300_800, 0),
        (.max, 0), (.min, 0), (0, -1), (0, 1_000_000_000),
    ]

    private static func stamp(_ value: (seconds: Int64, nanos: Int32)) -> Google_Protobuf_Timestamp {
        Google_Protobuf_Timestamp(seconds: value.seconds, nanos: value.nanos)
    }

    /// Checks that `reply` refuses a bad `field` with INVALID_ARGUMENT and the valid range.
    private static func expectRefusal(
        _ reply: Drover_V1_ControlReply, field: String, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(reply.errorCode == .invalidArgument, "\(reply)", sourceLocation: sourceLocation)
        #expect(reply.error.message.hasPrefix("Invalid \(field): "), "\(reply.error.message)", sourceLocation: sourceLocation)
        #expect(
            reply.error.message.contains("0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z"),
            "\(reply.error.message)", sourceLocation: sourceLocation)
    }

    /// Every flow run, as `flow-run ls -o json` prints them; the JSON must encode.
    private static func listedRunsJSON(_ h: inout CoordinatorHarness) throws -> [Drover_V1_FlowRun] {
        let list = h.ok(.listFlowRuns(.with { $0.limit = 10_000 })).flowRuns
        _ = try list.droverJSON()
        return list.flowRuns
    }

    // MARK: RunDeployment

    @Test func runDeploymentRefusesAnExpectedStartOutsideTheRangeAndMakesNoRun() throws {
        var h = try CoordinatorHarness()
        h.createPool()
        h.createDeployment()
        for value in Self.hostile {
            let reply = h.call(
                .runDeployment(
                    .with {
                        $0.name = "deploy"; $0.expectedStartTime = Self.stamp(value)
                    }))
            Self.expectRefusal(reply, field: "expected_start_time")
        }
        #expect(try Self.listedRunsJSON(&h).isEmpty, "no run was made")
    }

    @Test func runDeploymentTakesTheFirstAndLastValidInstants() throws {
        var h = try CoordinatorHarness()
        h.createPool()
        h.createDeployment()
        for stamp in [
            Google_Protobuf_Timestamp(seconds: -62_135_596_800, nanos: 0),
            Google_Protobuf_Timestamp(seconds: 253_402_300_799, nanos: 999_999_999),
        ] {
            let reply = h.ok(
                .runDeployment(
                    .with {
                        $0.name = "deploy"; $0.expectedStartTime = stamp
                    }))
            #expect(reply.flowRun.expectedStartTime.isValid, "\(reply.flowRun.expectedStartTime)")
        }
        let runs = try Self.listedRunsJSON(&h)
        #expect(runs.count == 2)
        #expect(runs.allSatisfy { $0.expectedStartTime.isValid })
        #expect(Set(runs.map(\.expectedStartTime.seconds)) == [-62_135_596_800, 253_402_300_799])
    }

    // MARK: Schedules

    @Test func createDeploymentRefusesAnIntervalAnchorOutsideTheRangeAndCreatesNothing() throws {
        var h = try CoordinatorHarness()
        h.createPool()
        for value in Self.hostile {
            let spec = Drover_V1_ScheduleSpec.with {
                $0.interval = .with {
                    $0.seconds = 3600; $0.anchorDate = Self.stamp(value)
                }
            }
            Self.expectRefusal(h.call(.createDeployment(.scheduled(spec))), field: "anchor_date")
        }
        #expect(h.call(.getDeployment(.with { $0.name = "deploy" })).errorCode == .notFound)
        #expect(try Self.listedRunsJSON(&h).isEmpty)
    }

    @Test func createDeploymentRefusesAnRRuleDefaultStartOutsideTheRangeAndCreatesNothing() throws {
        var h = try CoordinatorHarness()
        h.createPool()
        for value in Self.hostile {
            let spec = Drover_V1_ScheduleSpec.with {
                $0.rrule = .with {
                    $0.rrule = "FREQ=DAILY"; $0.defaultStart = Self.stamp(value)
                }
            }
            Self.expectRefusal(h.call(.createDeployment(.scheduled(spec))), field: "default_start")
        }
        #expect(h.call(.getDeployment(.with { $0.name = "deploy" })).errorCode == .notFound)
        #expect(try Self.listedRunsJSON(&h).isEmpty)
    }

    @Test func aBadAnchorInASecondScheduleRefusesTheWholeDeployment() throws {
        var h = try CoordinatorHarness()
        h.createPool()
        var create = Drover_V1_CreateDeployment.scheduled(
            .with {
                $0.interval = .with {
                    $0.seconds = 3600; $0.anchorDate = Google_Protobuf_Timestamp(date: TestDates.epoch)
                }
            })
        create.schedules.append(
            .with {
                $0.slug = "far"
                $0.interval = .with {
                    $0.seconds = 60; $0.anchorDate = Google_Protobuf_Timestamp(seconds: -10_000_000_000_000)
                }
            })
        Self.expectRefusal(h.call(.createDeployment(create)), field: "anchor_date")
        #expect(h.call(.getDeployment(.with { $0.name = "deploy" })).errorCode == .notFound)
        #expect(try Self.listedRunsJSON(&h).isEmpty, "the good schedule made no runs either")
    }

    @Test func addingOrChangingAScheduleWithABadAnchorChangesNothing() throws {
        var h = try CoordinatorHarness()
        h.createPool()
        h.createScheduled(interval: 3600)
        let deploymentBefore = h.ok(.getDeployment(.with { $0.name = "deploy" })).deployment
        let runsBefore = try Self.listedRunsJSON(&h)
        #expect(runsBefore.count == 100)

        for value in Self.hostile {
            let bad = Drover_V1_ScheduleSpec.with {
                $0.interval = .with {
                    $0.seconds = 600; $0.anchorDate = Self.stamp(value)
                }
            }
            let added = h.call(
                .createDeploymentSchedule(
                    .with {
                        $0.deploymentName = "deploy"; $0.schedule = bad
                    }))
            Self.expectRefusal(added, field: "anchor_date")
            let changed = h.call(
                .updateDeploymentSchedule(
                    .with {
                        $0.deploymentName = "deploy"
                        $0.schedule = "interval-3600"
                        $0.definition = bad
                    }))
            Self.expectRefusal(changed, field: "anchor_date")
        }
        #expect(h.ok(.getDeployment(.with { $0.name = "deploy" })).deployment == deploymentBefore)
        #expect(try Self.listedRunsJSON(&h) == runsBefore)
    }
}
