import NIOCore

/// Turns a message into the bytes sent after DATA (RFC 5321 section 4.5.2).
///
/// Every line ends with CRLF (a bare CR or LF becomes CRLF), a line starting with `.` gets a second
/// `.` (dot-stuffing; the server removes it), and the content ends with the `CRLF . CRLF` terminator,
/// so no line of the message can end it early.
enum SMTPDataEncoder {
    /// The message's bytes, normalised, dot-stuffed and terminated.
    static func encode(_ message: some Sequence<UInt8>) -> ByteBuffer {
        let cr = UInt8(ascii: "\r")
        let lf = UInt8(ascii: "\n")
        let dot = UInt8(ascii: ".")
        var output = ByteBuffer()
        output.reserveCapacity(message.underestimatedCount + 64)
        var atLineStart = true
        var afterCR = false
        for byte in message {
            switch byte {
            case cr:
                output.writeBytes([cr, lf])
                atLineStart = true
                afterCR = true
            case lf:
                if !afterCR {
                    output.writeBytes([cr, lf])
                }
                atLineStart = true
                afterCR = false
            default:
                if atLineStart, byte == dot {
                    output.writeInteger(dot)
                }
                output.writeInteger(byte)
                atLineStart = false
                afterCR = false
            }
        }
        if !atLineStart {
            output.writeBytes([cr, lf])
        }
        output.writeString(".\r\n")
        return output
    }
}
