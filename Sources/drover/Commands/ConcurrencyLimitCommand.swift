import ArgumentParser
import DroverClient
import DroverCore
import DroverProto
import DroverWire
import Foundation
import SwiftProtobuf

/// `drover concurrency-limit …`, in the words of `prefect concurrency-limit`: limits on
/// how many flow runs with a tag run at once. A tag's limit is the limit named `tag:TAG`.
struct ConcurrencyLimitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "concurrency-limit",
        abstract: "Manage task-level concurrency limits.",
        discussion: """
            A limit on a tag caps how many flow runs carrying that tag run at once, across every \
            pool and worker. It is the global concurrency limit named tag:TAG.
            """,
        subcommands: [Create.self, Inspect.self, List.self, Delete.self, Reset.self]
    )
}

extension ConcurrencyLimitCommand {
    struct Create: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a concurrency limit against a tag.",
            discussion: "On a tag that already has one, sets its limit to CONCURRENCY-LIMIT.")

        @Argument(help: "The tag to limit.") var tag: String
        @Argument(help: "Most flow runs with the tag at once (0 holds them all).") var concurrencyLimit: String
        @Flag(help: "Every flow run takes a slot, whatever its tags: a server-wide cap.") var allRuns = false
        @OptionGroup var limits: LimitOptions

        func validate() throws { _ = try parseLimit(concurrencyLimit, of: "tag '\(tag)'") }

        func run() throws {
            let slots = try parseLimit(concurrencyLimit, of: "tag '\(tag)'")
            let name = Limit.name(ofTag: tag)
            let connection = try limits.connect()
            var result: Drover_V1_LimitReply.OneOf_Result
            do throws(DroverError) {
                result = try connection.call(
                    .createLimit(
                        .with {
                            $0.name = name
                            $0.limit = slots
                            $0.appliesToAllRuns = allRuns
                        }))
            } catch {
                guard error.code == .alreadyExists else { throw error }
                // As Prefect's: creating on a tag that has a limit sets it.
                result = try connection.call(
                    .updateLimit(
                        .with {
                            $0.name = name
                            $0.limit = slots
                            if allRuns { $0.appliesToAllRuns = true }
                        }))
            }
            guard case .limit(let limit) = result else { throw unexpectedReply }
            Terminal.print(
                """

                Created concurrency limit with properties:
                    tag - '\(tag)'
                    concurrency_limit - \(limit.limit)

                Delete the concurrency limit:
                    drover concurrency-limit delete '\(tag)'

                Inspect the concurrency limit:
                    drover concurrency-limit inspect '\(tag)'
                """)
        }
    }

    struct Inspect: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "View details about a concurrency limit.",
            discussion: "Active Task Run IDs lists the flow runs holding a slot; other holders show as they are.")

        @Argument(help: "The tag of the limit.") var tag: String
        @OptionGroup var limits: LimitOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            let limit = try tagLimit(tag, connection: limits.connect())
            if output.json {
                Terminal.print(try ProtoJSON.render(limit))
                return
            }
            let now = Date()
            var definition = Table(columns: [
                .init(header: "Tag"), .init(header: "Concurrency Limit"), .init(header: "Created"), .init(header: "Updated"),
            ])
            definition.append([
                tag, "\(limit.limit)", "'\(LimitText.ago(limit.created, now: now))'",
                "'\(LimitText.ago(limit.updated, now: now))'",
            ])
            var holders = Table(columns: [.init(header: "Active Task Run IDs")])
            for lease in limit.leases { holders.append([LimitText.holder(lease)]) }
            Terminal.print(
                LimitText.panel(
                    centered: "Concurrency Limit ID: \(limit.id)",
                    body: LimitText.lines(definition.render()) + LimitText.lines(holders.render())))
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "ls", abstract: "View all concurrency limits.")

        @OptionGroup var limits: LimitOptions
        @OptionGroup var output: OutputOptions

        func run() throws {
            guard case .limits(let list) = try limits.connect().call(.listLimits(.init())) else { throw unexpectedReply }
            let tagged = list.limits.filter { Limit.tag(ofName: $0.name) != nil }
            if output.json {
                Terminal.print(try ProtoJSON.render(tagged))
                return
            }
            guard !tagged.isEmpty else {
                Terminal.print("No concurrency limits found.")
                return
            }
            var table = Table(
                title: "Concurrency Limits", caption: "inspect a concurrency limit to show active task run IDs",
                columns: [
                    .init(header: "Tag"), .init(header: "ID", alignment: .right), .init(header: "Concurrency Limit"),
                    .init(header: "Active Task Runs"),
                ])
            for limit in tagged {
                table.append([Limit.tag(ofName: limit.name) ?? limit.name, limit.id, "\(limit.limit)", "\(limit.leases.count)"])
            }
            Terminal.print(table.render())
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete the concurrency limit set on the specified tag.",
            discussion: "Runs holding its slots keep running; runs waiting for it go ahead.")

        @Argument(help: "The tag of the limit.") var tag: String
        @OptionGroup var limits: LimitOptions

        func run() throws {
            let connection = try limits.connect()
            let request = Drover_V1_LimitRequest.OneOf_Operation.deleteLimit(.with { $0.name = Limit.name(ofTag: tag) })
            guard case .deleted = try connection.call(request, ifMissing: missingTag(tag)) else { throw unexpectedReply }
            Terminal.print("Deleted concurrency limit set on the tag: \(tag)")
        }
    }

    struct Reset: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Resets the concurrency limit slots set on the specified tag.",
            discussion: "Every slot is free again: the runs holding them no longer count against the limit.")

        @Argument(help: "The tag of the limit.") var tag: String
        @OptionGroup var limits: LimitOptions

        func run() throws {
            let connection = try limits.connect()
            let request = Drover_V1_LimitRequest.OneOf_Operation.resetLimit(.with { $0.name = Limit.name(ofTag: tag) })
            guard case .limit = try connection.call(request, ifMissing: missingTag(tag)) else { throw unexpectedReply }
            Terminal.print("Reset concurrency limit set on the tag: \(tag)")
        }
    }
}

/// The limit of `tag`, or Prefect's words when there is none.
private func tagLimit(_ tag: String, connection: LimitClient) throws -> Drover_V1_Limit {
    let request = Drover_V1_LimitRequest.OneOf_Operation.getLimit(.with { $0.name = Limit.name(ofTag: tag) })
    guard case .limit(let limit) = try connection.call(request, ifMissing: missingTag(tag)) else { throw unexpectedReply }
    return limit
}

/// Prefect's words for a tag without a limit.
private func missingTag(_ tag: String) -> String { "No concurrency limit found for the tag: \(tag)" }
