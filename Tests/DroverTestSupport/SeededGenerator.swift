import DroverCore

/// A seeded random number generator for tests (SplitMix64), so a test's random sequence can
/// be predicted, and a failing one replayed from its seed.
public typealias SeededGenerator = SplitMix64
