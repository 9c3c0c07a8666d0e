import ArgumentParser
import DroverClient
import DroverCore
import DroverProto
import DroverWire
import Foundation
import SwiftProtobuf

/// `drover deployment schedule …`, in the words of `prefect deployment schedule`.
extension DeploymentCommand {
    struct Schedule: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Manage deployment schedules.",
            discussion: """
                A schedule makes runs of its deployment on its own: every so many seconds (--interval), \
                at the times a cron expression names (--cron), or as an RFC 5545 rule says (--rrule). \
                A schedule is known by its slug (unique within the deployment) or its id.
                """,
            subcommands: [List.self, Create.self, Update.self, Pause.self, Resume.self, Delete.self]
        )
    }
}

extension DeploymentCommand.Schedule {
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "ls", abstract: "View all schedules for a deployment.")

        @Argument(help: "The deployment's name.") var name: String
        @OptionGroup var client: ClientOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let request = Drover_V1_ListDeploymentSchedules.with { $0.deploymentName = name }
            guard case .deploymentSchedules(let list) = try client.connect().call(.listDeploymentSchedules(request)) else {
                throw unexpectedReply
            }
            if output.json {
                Terminal.print(try ProtoJSON.render(list.schedules))
                return
            }
            guard !list.schedules.isEmpty else {
                Terminal.print(
                    "Deployment '\(name)' has no schedules. Add one with `drover deployment schedule create '\(name)' --interval 3600`.")
                return
            }
            var table = Table(
                title: "Deployment Schedules",
                columns: [
                    .init(header: "Slug"), .init(header: "ID"), .init(header: "Schedule"), .init(header: "Active"),
                    .init(header: "Next Run"),
                ])
            for schedule in list.schedules {
                table.append([
                    schedule.slug, schedule.id, ScheduleText.describe(schedule), Formatting.bool(schedule.active),
                    schedule.active ? (schedule.nextRuns.first.map(Formatting.timestamp) ?? "None") : "None",
                ])
            }
            Terminal.print(table.render())
        }
    }

    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a schedule for a deployment.",
            discussion: """
                Give exactly one of --interval, --cron or --rrule. For example:
                  drover deployment schedule create etl --interval 3600
                  drover deployment schedule create etl --cron '0 9 * * 1-5' \\
                      --timezone Europe/Paris --slug weekdays
                """)

        @Argument(help: "The deployment's name.") var name: String
        @OptionGroup var schedule: ScheduleOptions
        @Option(help: "A name for the schedule, unique within the deployment (default: made from it, such as interval-3600).")
        var slug: String?
        @Option(
            name: .customLong("param"),
            help: "A parameter for this schedule's runs over the deployment's, KEY=VALUE (VALUE is JSON or text; repeatable).")
        var parameters: [String] = []
        @Flag(help: "Create the schedule paused: it makes no runs until resumed.") var paused = false
        @OptionGroup var client: ClientOptions

        func validate() throws {
            guard schedule.isGiven else {
                throw ValidationError(
                    "Give the schedule: --interval SECONDS, --cron EXPRESSION or --rrule RULE "
                        + "(see `drover deployment schedule create --help`).")
            }
            _ = try keyValues(parameters, what: "--param")
        }

        func run() throws {
            guard var spec = try schedule.spec() else { throw ValidationError("Give --interval, --cron or --rrule.") }
            spec.slug = slug ?? ""
            spec.paused = paused
            spec.parametersJson = try keyValues(parameters, what: "--param")
            let request = Drover_V1_CreateDeploymentSchedule.with {
                $0.deploymentName = name
                $0.schedule = spec
            }
            guard case .deploymentSchedule(let created) = try client.connect().call(.createDeploymentSchedule(request))
            else { throw unexpectedReply }
            Terminal.print(
                """
                Created deployment schedule '\(created.slug)' for deployment '\(name)'.
                └── ID: \(created.id)
                \(ScheduleText.details(created))
                """)
        }
    }

    struct Update: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change a deployment schedule, keeping its slug.",
            discussion: """
                The schedule becomes the one given (and its parameters the --param given). Its runs \
                due later and not yet tried are made again for the new times; Late and started runs \
                are kept, and a time that already had a run gets no second one. For example:
                  drover deployment schedule update etl weekdays --cron '0 8 * * 1-5' --timezone Europe/Paris
                """)

        @OptionGroup var target: ScheduleTarget
        @OptionGroup var definition: ScheduleOptions
        @Option(
            name: .customLong("param"),
            help: "A parameter for this schedule's runs over the deployment's, KEY=VALUE (VALUE is JSON or text; repeatable).")
        var parameters: [String] = []
        @OptionGroup var client: ClientOptions

        func validate() throws {
            guard definition.isGiven else {
                throw ValidationError("Give the new schedule: --interval SECONDS, --cron EXPRESSION or --rrule RULE.")
            }
            _ = try keyValues(parameters, what: "--param")
        }

        func run() throws {
            guard var spec = try definition.spec() else { throw ValidationError("Give --interval, --cron or --rrule.") }
            spec.parametersJson = try keyValues(parameters, what: "--param")
            let request = Drover_V1_UpdateDeploymentSchedule.with {
                $0.deploymentName = target.name
                $0.schedule = target.schedule
                $0.definition = spec
            }
            guard case .deploymentSchedule(let updated) = try client.connect().call(.updateDeploymentSchedule(request))
            else { throw unexpectedReply }
            Terminal.print(
                """
                Updated schedule '\(updated.slug)' for deployment '\(target.name)'.
                \(ScheduleText.details(updated))
                """)
        }
    }

    struct Pause: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Pause a deployment schedule: it makes no runs until resumed.",
            discussion:
                "Its runs due later and not yet tried are removed; Late and started runs, and runs made by hand, are kept. Resumed, it starts from then: the paused time is not caught up."
        )

        @OptionGroup var target: ScheduleTarget
        @OptionGroup var client: ClientOptions

        func run() throws {
            let updated = try target.setActive(false, client: client)
            Terminal.print("Paused schedule '\(updated.slug)' for deployment '\(target.name)'.")
        }
    }

    struct Resume: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Resume a paused deployment schedule.")

        @OptionGroup var target: ScheduleTarget
        @OptionGroup var client: ClientOptions

        func run() throws {
            let updated = try target.setActive(true, client: client)
            Terminal.print("Resumed schedule '\(updated.slug)' for deployment '\(target.name)'.")
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a deployment schedule.",
            discussion: "Its runs due later and not yet tried are removed; Late, started and finished runs are kept.")

        @OptionGroup var target: ScheduleTarget
        @OptionGroup var client: ClientOptions

        func run() throws {
            let request = Drover_V1_DeleteDeploymentSchedule.with {
                $0.deploymentName = target.name
                $0.schedule = target.schedule
            }
            guard case .deleted = try client.connect().call(.deleteDeploymentSchedule(request)) else {
                throw unexpectedReply
            }
            Terminal.print("Deleted schedule '\(target.schedule)' of deployment '\(target.name)'.")
        }
    }
}

/// The two arguments that name one schedule: its deployment, and its slug or id.
struct ScheduleTarget: ParsableArguments {
    @Argument(help: "The deployment's name.") var name: String
    @Argument(help: "The schedule's slug or id (see `drover deployment schedule ls NAME`).") var schedule: String

    /// Pauses (`active` false) or resumes the schedule; returns it as the server now has it.
    func setActive(_ active: Bool, client: ClientOptions) throws -> Drover_V1_DeploymentSchedule {
        let request = Drover_V1_UpdateDeploymentSchedule.with {
            $0.deploymentName = name
            $0.schedule = schedule
            $0.active = active
        }
        guard case .deploymentSchedule(let updated) = try client.connect().call(.updateDeploymentSchedule(request)) else {
            throw unexpectedReply
        }
        return updated
    }
}
