#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Synchronization

/// POSIX socket helpers for tests: a TCP listener on 127.0.0.1 with a port chosen by the
/// kernel, and a port known to be closed.
enum TestSockets {
    /// A listening TCP socket on 127.0.0.1, port 0; returns the descriptor and the port.
    static func makeListener(backlog: Int32 = 16) throws -> (descriptor: Int32, port: Int) {
        #if os(Linux)
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let descriptor = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard descriptor >= 0 else { throw SocketError(call: "socket") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(0).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(descriptor, backlog) == 0 else {
            close(descriptor)
            throw SocketError(call: "bind/listen")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        guard named == 0 else {
            close(descriptor)
            throw SocketError(call: "getsockname")
        }
        return (descriptor, Int(UInt16(bigEndian: address.sin_port)))
    }

    /// A port on 127.0.0.1 that nothing listens on (bound, then closed).
    static func closedPort() throws -> Int {
        let (descriptor, port) = try Self.makeListener()
        close(descriptor)
        return port
    }

    struct SocketError: Error {
        var call: String
    }
}

/// A one-thread HTTP/1.1 server that answers each connection with the next canned
/// response and records the requests it read; it stops after the last response.
final class CannedHTTPServer: Sendable {
    /// The port it listens on.
    let port: Int
    /// `http://127.0.0.1:PORT`.
    var url: String { "http://127.0.0.1:\(self.port)" }
    private let requestLog = Mutex<[String]>([])

    /// The raw requests read so far (head and body).
    var requests: [String] { self.requestLog.withLock { $0 } }

    /// Starts serving `responses`, one per connection, in order.
    init(responses: [String]) throws {
        let (descriptor, port) = try TestSockets.makeListener()
        self.port = port
        let thread = Thread { [self] in
            for response in responses {
                let connection = accept(descriptor, nil, nil)
                guard connection >= 0 else { break }
                let request = Self.readRequest(connection)
                self.requestLog.withLock { $0.append(request) }
                let bytes = Array(response.utf8)
                var offset = 0
                while offset < bytes.count {
                    let written = bytes[offset...].withUnsafeBytes { write(connection, $0.baseAddress!, $0.count) }
                    if written <= 0 { break }
                    offset += written
                }
                close(connection)
            }
            close(descriptor)
        }
        thread.start()
    }

    /// A complete response with a JSON body and `Connection: close`.
    static func response(status: String, json: String, extraHeaders: [String] = []) -> String {
        var head = ["HTTP/1.1 \(status)", "Content-Type: application/json", "Content-Length: \(json.utf8.count)", "Connection: close"]
        head += extraHeaders
        return head.joined(separator: "\r\n") + "\r\n\r\n" + json
    }

    /// Reads a request head and as much body as its Content-Length says.
    private static func readRequest(_ connection: Int32) -> String {
        var data = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        var expectedTotal: Int?
        while expectedTotal.map({ data.count < $0 }) ?? true {
            let count = buffer.withUnsafeMutableBytes { read(connection, $0.baseAddress!, $0.count) }
            if count <= 0 { break }
            data += buffer[0..<count]
            if expectedTotal == nil, let text = String(bytes: data, encoding: .utf8), let end = text.range(of: "\r\n\r\n") {
                let head = text[..<end.lowerBound].lowercased()
                let length = head.split(separator: "\r\n")
                    .first { $0.hasPrefix("content-length:") }
                    .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
                expectedTotal = text[..<end.upperBound].utf8.count + length
            }
        }
        return String(decoding: data, as: UTF8.self)
    }
}
