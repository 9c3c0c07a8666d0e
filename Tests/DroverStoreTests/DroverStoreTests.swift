// DroverStoreTests
