#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore
import NIOSSL

extension SMTPError {
    /// Whether `error` comes from TLS (the handshake, certificate checks, the TLS layer).
    static func isTLSError(_ error: any Error) -> Bool {
        error is NIOSSLError || error is BoringSSLError || error is NIOSSLExtraError
    }

    /// A short reason for an underlying error, for an ``SMTPError``'s detail: `connection refused`,
    /// `the server's certificate is not trusted (CERTIFICATE_VERIFY_FAILED)`.
    static func reason(for error: any Error) -> String {
        if let error = error as? IOError {
            return String(cString: strerror(error.errnoCode)).lowercased()
        }
        if let error = error as? NIOSSLExtraError, error == .failedToValidateHostname {
            let detail = "\(error)".split(separator: ":", maxSplits: 1).last.map { $0.trimmingPrefix(" ") } ?? ""
            return "the server's certificate is for another host (\(detail))"
        }
        let text = "\(error)"
        if text.contains("CERTIFICATE_VERIFY_FAILED") {
            return "the server's certificate is not trusted (CERTIFICATE_VERIFY_FAILED)"
        }
        if let error = error as? NIOSSLError, case .uncleanShutdown = error {
            return "the server closed the TLS connection without a TLS close"
        }
        return text
    }
}
