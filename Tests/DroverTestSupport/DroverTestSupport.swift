// DroverTestSupport
