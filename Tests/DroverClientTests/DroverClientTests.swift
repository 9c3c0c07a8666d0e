// DroverClientTests
