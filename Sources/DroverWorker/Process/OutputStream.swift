/// Which of the child's output streams a line came from.
///
/// Inside `DroverWorker` this name shadows Foundation's `OutputStream` class; other modules
/// that import both can write `DroverWorker.OutputStream`.
public enum OutputStream: Sendable, Equatable, Hashable {
    /// The child's standard output.
    case stdout
    /// The child's standard error.
    case stderr
}
