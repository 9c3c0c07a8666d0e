import Logging

/// A logger that writes nothing, so test output shows only test results.
let quietLogger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
