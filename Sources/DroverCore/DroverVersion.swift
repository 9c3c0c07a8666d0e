/// Drover's release version, reported by `drover --version` and the server.
public enum DroverVersion {
    public static let current = "0.1.0"
}
