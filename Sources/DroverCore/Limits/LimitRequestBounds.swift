/// How much one request to the limit service may carry: the sizes of the strings a peer
/// names leases by, and how many it names at once.
///
/// The bounds keep every reply that echoes a request (`Renewed.unknown_holders`,
/// `unknown_lease_ids`, the leases `gcl ls` and `inspect` list) far below the 1 MiB frame
/// limit, with room to spare for what Drover itself sends: a coordinator's holder is
/// `flow-run/<uuid>` (45 bytes); `drover concurrency acquire` inside a run adds
/// ` pid <pid> on <host>` (under 150 bytes with a 64-byte host name). Limit names follow
/// `ResourceName`, and one Acquire names at most `LimitBook.Settings.maximumNamesPerAcquire`.
public enum LimitRequestBounds {
    /// The longest holder accepted, in bytes of UTF-8.
    public static let maximumHolderBytes = 512
    /// The longest lease id accepted, in bytes of UTF-8 (a lease id is a 36-character UUID).
    public static let maximumLeaseIDBytes = 64
    /// The most lease ids, and separately the most holders, one Renew or Release may name.
    public static let maximumLeasesPerRequest = 1_000

    /// Checks the holder of an Acquire; empty means none.
    public static func validate(holder: String) throws(DroverError) {
        guard holder.utf8.count <= maximumHolderBytes else {
            throw .invalidArgument(
                "A holder is at most \(maximumHolderBytes) bytes; got \(holder.utf8.count). "
                    + "Name the holder briefly, such as 'pid 42 on host'.")
        }
    }

    /// Checks the lease ids and holders of a Renew or Release.
    /// - Parameter operation: `"Renew"` or `"Release"`, for the message.
    public static func validate(leaseIDs: [String], holders: [String], operation: String) throws(DroverError) {
        guard leaseIDs.count <= maximumLeasesPerRequest, holders.count <= maximumLeasesPerRequest else {
            throw .invalidArgument(
                "A \(operation) names at most \(maximumLeasesPerRequest) lease ids and \(maximumLeasesPerRequest) holders; "
                    + "got \(leaseIDs.count) lease ids and \(holders.count) holders. Send several requests.")
        }
        if let long = leaseIDs.first(where: { $0.utf8.count > maximumLeaseIDBytes }) {
            throw .invalidArgument(
                "A lease id is at most \(maximumLeaseIDBytes) bytes (a UUID); got one of \(long.utf8.count).")
        }
        for holder in holders { try validate(holder: holder) }
    }
}
