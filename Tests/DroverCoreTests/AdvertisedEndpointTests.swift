import DroverCore
import Testing

@Suite struct AdvertisedEndpointTests {
    @Test(arguments: [
        ("tcp://0.0.0.0:4202", "tcp://drover-server:4201", "tcp://drover-server:4202"),
        ("tcp://*:4202", "tcp://10.0.0.5:4201", "tcp://10.0.0.5:4202"),
        ("tcp://[::]:4203", "tcp://[fd00::5]:4201", "tcp://[fd00::5]:4203"),
        ("tcp://:::4203", "tcp://10.0.0.5:4201", "tcp://10.0.0.5:4203"),
    ])
    func aWildcardHostBecomesTheHostTheControlEndpointWasReachedOn(advertised: String, contacted: String, reachable: String) {
        #expect(AdvertisedEndpoint.reachable(advertised, via: contacted) == reachable)
    }

    @Test(arguments: [
        ("tcp://10.0.0.5:4202", "tcp://drover.example:4201"),  // a real host stays
        ("tcp://0.0.0.0:4202", "tcp://0.0.0.0:4201"),  // nothing better to put in
        ("tcp://0.0.0.0:4202", "ipc:///run/drover/control"),  // not TCP
        ("ipc:///run/drover/dispatch", "tcp://10.0.0.5:4201"),
        ("tcp://0.0.0.0:", "tcp://10.0.0.5:4201"),  // no port
        ("tcp://0.0.0.0:42x", "tcp://10.0.0.5:4201"),
        ("", "tcp://10.0.0.5:4201"),
    ])
    func anythingElseIsLeftAsItIs(advertised: String, contacted: String) {
        #expect(AdvertisedEndpoint.reachable(advertised, via: contacted) == advertised)
    }
}
