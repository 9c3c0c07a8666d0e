// DroverIntegrationTests
