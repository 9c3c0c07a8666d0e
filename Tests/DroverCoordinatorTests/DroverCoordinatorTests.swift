// DroverCoordinatorTests
