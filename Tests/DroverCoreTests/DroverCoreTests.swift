// DroverCoreTests
