import JSONRPC
import NIOCore
import NIOEmbedded
import NIOTestUtils
import Testing

@Suite("JSONValueFrameDecoder")
struct JSONValueFrameDecoderTests {
    @Test("frames survive being split at every byte (ByteToMessageDecoderVerifier)")
    func verifier() throws {
        let values = [
            #"{"method":"Arith.Multiply","params":[{"A":7,"B":8}],"id":0}"#,
            #"[1,[2,[3,[4]]],{"a":[[]]}]"#,
            #"{"s":"{ not a brace } [ nor ] these","t":"quote \" and backslash \\","u":"\\"}"#,
            #"{"end":"\\\\\"}\\"}"#,
            #"{"unicode":"héllo ✓ \u00e9","empty":{},"list":[]}"#,
            "{}",
            "[]",
        ]
        let pairs: [(ByteBuffer, [ByteBuffer])] = values.enumerated().map { index, value in
            // Whitespace and newlines between values, as Go's encoder and hand-typed input produce.
            let padding = ["", "\n", " \r\n\t ", "  "][index % 4]
            return (ByteBuffer(string: padding + value + "\n"), [ByteBuffer(string: value)])
        }
        try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs) {
            JSONValueFrameDecoder()
        }
    }

    @Test("several values in one read, whitespace between them")
    func severalValuesInOneRead() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(JSONValueFrameDecoder()))
        try channel.writeInbound(ByteBuffer(string: "{\"a\":1}{\"b\":\"}\"}\n\n  [3, 4]\r\n{\"c\""))
        #expect(try channel.readInbound(as: ByteBuffer.self) == ByteBuffer(string: #"{"a":1}"#))
        #expect(try channel.readInbound(as: ByteBuffer.self) == ByteBuffer(string: #"{"b":"}"}"#))
        #expect(try channel.readInbound(as: ByteBuffer.self) == ByteBuffer(string: "[3, 4]"))
        #expect(try channel.readInbound(as: ByteBuffer.self) == nil)
        try channel.writeInbound(ByteBuffer(string: ":[]}"))
        #expect(try channel.readInbound(as: ByteBuffer.self) == ByteBuffer(string: #"{"c":[]}"#))
        #expect(try channel.finish().isClean)
    }

    @Test("a byte that cannot start a value is an error")
    func garbage() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(JSONValueFrameDecoder()))
        try channel.writeInbound(ByteBuffer(string: "{\"ok\":true}\n"))
        #expect(try channel.readInbound(as: ByteBuffer.self) == ByteBuffer(string: #"{"ok":true}"#))
        #expect(throws: JSONRPCFrameError.unexpectedByte(UInt8(ascii: "h"))) {
            try channel.writeInbound(ByteBuffer(string: "  hello"))
        }
        _ = try? channel.finish()
    }

    @Test("a top-level scalar is rejected")
    func scalar() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(JSONValueFrameDecoder()))
        #expect(throws: JSONRPCFrameError.unexpectedByte(UInt8(ascii: "4"))) {
            try channel.writeInbound(ByteBuffer(string: "42\n"))
        }
        _ = try? channel.finish()
    }

    @Test("an oversized value fails as soon as the limit is passed, before it ends")
    func oversize() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(JSONValueFrameDecoder(maximumFrameLength: 32)))
        // Exactly at the limit is fine.
        let exact = "{\"s\":\"" + String(repeating: "x", count: 24) + "\"}"
        #expect(exact.utf8.count == 32)
        try channel.writeInbound(ByteBuffer(string: exact))
        #expect(try channel.readInbound(as: ByteBuffer.self) == ByteBuffer(string: exact))
        // 30 bytes of an unfinished value: still waiting.
        try channel.writeInbound(ByteBuffer(string: "{\"s\":\"" + String(repeating: "y", count: 24)))
        #expect(try channel.readInbound(as: ByteBuffer.self) == nil)
        // Three more bytes, the value is still open: too large now.
        #expect(throws: JSONRPCFrameError.frameTooLarge(limit: 32)) {
            try channel.writeInbound(ByteBuffer(string: "yyy"))
        }
        _ = try? channel.finish()
    }

    @Test("half a value left at end of file is reported")
    func truncatedAtEOF() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(JSONValueFrameDecoder()))
        try channel.writeInbound(ByteBuffer(string: "{\"a\":1}\n{\"method\":\"Arith"))
        #expect(try channel.readInbound(as: ByteBuffer.self) == ByteBuffer(string: #"{"a":1}"#))
        #expect(throws: JSONRPCFrameError.truncatedFrame(bufferedBytes: 16)) {
            _ = try channel.finish()
        }
    }

    @Test("only whitespace left at end of file is fine")
    func whitespaceAtEOF() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(JSONValueFrameDecoder()))
        try channel.writeInbound(ByteBuffer(string: "[1]\n \r\n"))
        #expect(try channel.readInbound(as: ByteBuffer.self) == ByteBuffer(string: "[1]"))
        #expect(try channel.finish().isClean)
    }

    @Test("error descriptions are readable")
    func descriptions() {
        #expect(JSONRPCFrameError.frameTooLarge(limit: 1024).description.contains("1024"))
        #expect(JSONRPCFrameError.unexpectedByte(UInt8(ascii: "x")).description.contains("'x'"))
        #expect(JSONRPCFrameError.truncatedFrame(bufferedBytes: 3).description.contains("3 bytes"))
    }
}

@Suite("JSONRPCError")
struct JSONRPCErrorTests {
    @Test("wire messages split into code and message at the first \": \"")
    func parse() {
        #expect(JSONRPCError(wireMessage: "username_taken: that username is already taken")
            == JSONRPCError(code: "username_taken", message: "that username is already taken"))
        #expect(JSONRPCError(wireMessage: "method_not_found: rpc: can't find method A.B")
            == JSONRPCError(code: "method_not_found", message: "rpc: can't find method A.B"))
        #expect(JSONRPCError(wireMessage: "something went wrong")
            == JSONRPCError(code: "unknown", message: "something went wrong"))
        #expect(JSONRPCError(wireMessage: "not a code: whatever")
            == JSONRPCError(code: "unknown", message: "not a code: whatever"))
        #expect(JSONRPCError(wireMessage: ": empty code")
            == JSONRPCError(code: "unknown", message: ": empty code"))
        #expect(JSONRPCError(code: "a", message: "b").wireMessage == "a: b")
    }
}
