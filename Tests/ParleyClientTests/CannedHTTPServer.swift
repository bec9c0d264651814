#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Synchronization

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
