import Foundation
import ParleyCore

/// Where the CLI finds the gateway: checking a URL and choosing between flag,
/// environment, saved session and default.
public enum GatewayAddress {
    /// The gateway of `parley serve` on this machine.
    public static let defaultURL = "http://127.0.0.1:8080"
    /// The environment variable that names the gateway when no flag does.
    public static let environmentVariable = "PARLEY_GATEWAY"

    /// Checks that `raw` is an `http` or `https` URL with a host and no query or fragment,
    /// and returns it without trailing slashes, so equal gateways compare equal.
    public static func normalize(_ raw: String) throws(ParleyError) -> String {
        let trimmed = raw.trimmingCharacters(in: .whitespaces)
        guard let components = URLComponents(string: trimmed),
            let scheme = components.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = components.host, !host.isEmpty,
            components.query == nil, components.fragment == nil,
            components.user == nil, components.password == nil
        else {
            throw ParleyError(.invalidInput, "not a gateway URL: \(raw) (expected something like \(Self.defaultURL))")
        }
        var normalized = trimmed
        while normalized.hasSuffix("/") { normalized.removeLast() }
        return normalized
    }

    /// The gateway to use: the flag, else `PARLEY_GATEWAY` when set and not empty, else
    /// the gateway of the saved session, else `defaultURL`; normalized.
    public static func resolve(
        flag: String?,
        environment: [String: String],
        saved: String?
    ) throws(ParleyError) -> String {
        if let flag { return try Self.normalize(flag) }
        if let fromEnvironment = environment[Self.environmentVariable], !fromEnvironment.isEmpty {
            return try Self.normalize(fromEnvironment)
        }
        if let saved { return try Self.normalize(saved) }
        return Self.defaultURL
    }

    /// Whether two gateway URLs name the same gateway (after normalizing, scheme and host
    /// compared without case).
    public static func same(_ first: String, _ second: String) -> Bool {
        guard let first = try? Self.normalize(first), let second = try? Self.normalize(second),
            let a = URLComponents(string: first), let b = URLComponents(string: second)
        else { return false }
        return a.scheme?.lowercased() == b.scheme?.lowercased() && a.host?.lowercased() == b.host?.lowercased()
            && Self.port(a) == Self.port(b) && a.path == b.path
    }

    private static func port(_ components: URLComponents) -> Int? {
        components.port ?? (components.scheme?.lowercased() == "https" ? 443 : 80)
    }
}
