#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A blocking TCP client on plain POSIX sockets, to speak the seed's protocol from its
/// tables without Parley's codec or NIO.
final class RawSocket {
    private let descriptor: Int32

    /// Connects to 127.0.0.1:`port`; reads give up after `timeoutMilliseconds`. A
    /// `receiveBuffer` size fixes the kernel's receive buffer (no autotuning).
    init(port: Int, timeoutMilliseconds: Int = 3000, receiveBuffer: Int32? = nil) throws {
        #if canImport(Glibc)
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let descriptor = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard descriptor >= 0 else { throw RawSocketError.failed("socket") }
        self.descriptor = descriptor
        var timeout = timeval(tv_sec: timeoutMilliseconds / 1000, tv_usec: Int((timeoutMilliseconds % 1000) * 1000))
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        if var size = receiveBuffer {
            setsockopt(descriptor, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            close(descriptor)
            throw RawSocketError.failed("connect")
        }
    }

    deinit {
        close(self.descriptor)
    }

    /// Ends the sending side (the peer reads end of file); reading goes on.
    func shutdownWrite() {
        #if canImport(Glibc)
        shutdown(self.descriptor, Int32(SHUT_WR))
        #else
        shutdown(self.descriptor, SHUT_WR)
        #endif
    }

    /// Sends all of `bytes` (in one write call where the kernel takes it).
    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { buffer in
                #if canImport(Glibc)
                Glibc.send(self.descriptor, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL))
                #else
                Darwin.send(self.descriptor, buffer.baseAddress, buffer.count, 0)
                #endif
            }
            guard sent > 0 else { throw RawSocketError.failed("send") }
            offset += sent
        }
    }

    /// Reads exactly `count` bytes; throws `.closed` at end of file, `.timedOut` when none come.
    func receive(_ count: Int) throws -> [UInt8] {
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: max(count, 1))
        while result.count < count {
            let wanted = count - result.count
            let received = chunk.withUnsafeMutableBytes { recv(self.descriptor, $0.baseAddress, wanted, 0) }
            if received == 0 { throw RawSocketError.closed }
            if received < 0 { throw RawSocketError.timedOut }
            result += chunk[..<received]
        }
        return result
    }

    /// Whether the other side closed the connection (end of file) within the read timeout.
    func isClosedByPeer() -> Bool {
        var byte: UInt8 = 0
        while true {
            let received = recv(self.descriptor, &byte, 1, 0)
            if received == 0 { return true }
            if received < 0 { return errno == ECONNRESET }
        }
    }

    /// Sends ListAll and reads the reply as (name, phone) strings, parsing the seed's table by hand.
    func listAll() throws -> [(String, String)] {
        try self.send([3])
        let header = try self.receive(4)
        let count = Int(header[0]) << 24 | Int(header[1]) << 16 | Int(header[2]) << 8 | Int(header[3])
        return try (0..<count).map { _ in
            let entry = try self.receive(276)
            return (Self.text(entry[0..<256]), Self.text(entry[256..<276]))
        }
    }

    static func text(_ field: ArraySlice<UInt8>) -> String {
        String(decoding: field.prefix { $0 != 0 }, as: UTF8.self)
    }
}

enum RawSocketError: Error {
    case failed(String)
    case closed
    case timedOut
}
