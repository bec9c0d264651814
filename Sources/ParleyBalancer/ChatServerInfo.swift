import ParleyCore

/// A chat server as it registers with the balancer: its unique name and where clients and other
/// chat servers reach it. Valid by construction.
public struct ChatServerInfo: Sendable, Hashable, CustomStringConvertible {
    /// The limits of the fields.
    public enum Limits {
        /// A name has 1 to 64 characters of `[A-Za-z0-9._-]`.
        public static let nameLength = 1...64
        /// A host name or address has at most 253 bytes (the longest DNS name).
        public static let hostLength = 1...253
    }

    /// The unique name, such as `chat-1`.
    public let name: String
    /// The host name or IP address clients connect to.
    public let host: String
    /// The port of the framed TCP protocol.
    public let tcpPort: Int
    /// The WebSocket port (path `/chat`).
    public let websocketPort: Int
    /// The gRPC port for delivery between chat servers.
    public let grpcPort: Int

    /// Checks and creates a chat server's description.
    ///
    /// - Throws: `ParleyError(.invalidInput, …)` when the name is empty, too long or has other
    ///   characters than `[A-Za-z0-9._-]`; when the host is empty, too long, has spaces, control
    ///   characters or `/`, or is a wildcard address (`0.0.0.0`, `::`) that clients cannot connect
    ///   to; when a port is not in 1…65535.
    public init(name: String, host: String, tcpPort: Int, websocketPort: Int, grpcPort: Int) throws(ParleyError) {
        try Self.checkName(name)
        // An IPv6 address may come in brackets, as in a URL.
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        guard Limits.hostLength.contains(bare.utf8.count),
            bare.unicodeScalars.allSatisfy({
                $0.isASCII && $0.value > 0x20 && $0.value < 0x7F && !["/", "[", "]", "@", "?", "#"].contains($0)
            })
        else {
            throw ParleyError(.invalidInput, "A chat server's host is a host name or an IP address.")
        }
        guard !["0.0.0.0", "::", "0:0:0:0:0:0:0:0"].contains(bare) else {
            throw ParleyError(
                .invalidInput, "A chat server's host must be an address clients can connect to, not \(host)."
            )
        }
        for (port, what) in [(tcpPort, "TCP"), (websocketPort, "WebSocket"), (grpcPort, "gRPC")] {
            guard (1...65535).contains(port) else {
                throw ParleyError(.invalidInput, "A chat server's \(what) port is a number from 1 to 65535.")
            }
        }
        self.name = name
        self.host = bare
        self.tcpPort = tcpPort
        self.websocketPort = websocketPort
        self.grpcPort = grpcPort
    }

    /// Refuses a name that no chat server can have.
    static func checkName(_ name: String) throws(ParleyError) {
        let allowed = name.unicodeScalars.allSatisfy { scalar in
            (scalar >= "a" && scalar <= "z") || (scalar >= "A" && scalar <= "Z") || (scalar >= "0" && scalar <= "9")
                || scalar == "." || scalar == "_" || scalar == "-"
        }
        guard Limits.nameLength.contains(name.utf8.count), allowed else {
            throw ParleyError(.invalidInput, "A chat server's name has 1 to 64 characters of A-Z, a-z, 0-9, '.', '_' and '-'.")
        }
    }

    /// The host as it goes in a URL: an IPv6 address in brackets.
    public var urlHost: String {
        self.host.contains(":") ? "[\(self.host)]" : self.host
    }

    /// The WebSocket URL clients connect to, such as `ws://127.0.0.1:60080/chat`.
    public var websocketURL: String {
        "ws://\(self.urlHost):\(self.websocketPort)/chat"
    }

    /// `name (host: tcp, ws, grpc)`, for logs.
    public var description: String {
        "\(self.name) (\(self.urlHost): tcp \(self.tcpPort), ws \(self.websocketPort), grpc \(self.grpcPort))"
    }
}
