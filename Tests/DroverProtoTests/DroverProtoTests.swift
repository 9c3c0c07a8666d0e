// DroverProtoTests
