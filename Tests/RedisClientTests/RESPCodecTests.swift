import NIOCore
import NIOEmbedded
import NIOTestUtils
import Testing

@testable import RedisClient

@Suite("RESP codec")
struct RESPCodecTests {
    // MARK: - Encoder

    private func encoded(_ command: RESPCommand) -> String {
        var buffer = ByteBuffer()
        RESPCommandEncoder.encode(command, into: &buffer)
        return String(buffer: buffer)
    }

    @Test func encodesCommandsAsArraysOfBulkStrings() {
        #expect(self.encoded(RESPCommand(["SET", "key", "value"])) == "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n")
        #expect(self.encoded(RESPCommand("PING")) == "*1\r\n$4\r\nPING\r\n")
        #expect(self.encoded(RESPCommand("SET", "k", "")) == "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n")
        // Lengths count UTF-8 bytes, not characters.
        #expect(self.encoded(RESPCommand("SET", "clé", "日本")) == "*3\r\n$3\r\nSET\r\n$4\r\nclé\r\n$6\r\n日本\r\n")
        #expect(self.encoded(RESPCommand([String]())) == "*0\r\n")
    }

    @Test func encodesBinaryArgumentsVerbatim() {
        let value = ByteBuffer(bytes: [0x00, 0x0D, 0x0A, 0xFF, 0x24])
        var buffer = ByteBuffer()
        RESPCommandEncoder.encode(RESPCommand([ByteBuffer(string: "SET"), ByteBuffer(string: "k"), value]), into: &buffer)
        let expected: [UInt8] = Array("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\n".utf8) + [0x00, 0x0D, 0x0A, 0xFF, 0x24] + [0x0D, 0x0A]
        #expect(Array(buffer.readableBytesView) == expected)
    }

    @Test func encoderWorksInAPipeline() throws {
        let channel = EmbeddedChannel(handler: MessageToByteHandler(RESPCommandEncoder()))
        try channel.writeOutbound(RESPCommand("GET", "a"))
        try channel.writeOutbound(RESPCommand("INCR", "b"))
        let first = try #require(try channel.readOutbound(as: ByteBuffer.self))
        let second = try #require(try channel.readOutbound(as: ByteBuffer.self))
        #expect(String(buffer: first) == "*2\r\n$3\r\nGET\r\n$1\r\na\r\n")
        #expect(String(buffer: second) == "*2\r\n$4\r\nINCR\r\n$1\r\nb\r\n")
        #expect(try channel.finish().isClean)
    }

    @Test func commandNameHidesArguments() {
        #expect(RESPCommand(["auth", "user", "secret"]).name == "AUTH")
        #expect(RESPCommand([String]()).name == "(empty command)")
    }

    // MARK: - Decoder, every type, split in every way

    private static func bulk(_ text: String) -> RESPValue { .bulkString(ByteBuffer(string: text)) }

    @Test func decodesRESP2Types() throws {
        let pairs: [(String, [RESPValue])] = [
            ("+OK\r\n", [.simpleString("OK")]),
            ("+\r\n", [.simpleString("")]),
            ("-ERR unknown command 'FOO'\r\n", [.error("ERR unknown command 'FOO'")]),
            ("-WRONGPASS invalid username-password pair\r\n", [.error("WRONGPASS invalid username-password pair")]),
            (":0\r\n", [.integer(0)]),
            (":-42\r\n", [.integer(-42)]),
            (":9223372036854775807\r\n", [.integer(.max)]),
            ("$5\r\nhello\r\n", [Self.bulk("hello")]),
            ("$0\r\n\r\n", [Self.bulk("")]),
            ("$4\r\na\r\nb\r\n", [Self.bulk("a\r\nb")]),
            ("$-1\r\n", [.bulkString(nil)]),
            ("*-1\r\n", [.array(nil)]),
            ("*0\r\n", [.array([])]),
            ("*3\r\n:1\r\n$3\r\nfoo\r\n+bar\r\n", [.array([.integer(1), Self.bulk("foo"), .simpleString("bar")])]),
            ("*2\r\n$-1\r\n*-1\r\n", [.array([.bulkString(nil), .array(nil)])]),
            (
                "*2\r\n*3\r\n:1\r\n:2\r\n:3\r\n*2\r\n+a\r\n*1\r\n*0\r\n",
                [.array([.array([.integer(1), .integer(2), .integer(3)]), .array([.simpleString("a"), .array([.array([])])])])]
            ),
            ("+a\r\n:1\r\n$1\r\nb\r\n", [.simpleString("a"), .integer(1), Self.bulk("b")]),
        ]
        try ByteToMessageDecoderVerifier.verifyDecoder(stringInputOutputPairs: pairs) { RESPReplyDecoder() }
    }

    @Test func decodesRESP3Types() throws {
        let pairs: [(String, [RESPValue])] = [
            ("_\r\n", [.null]),
            ("#t\r\n", [.boolean(true)]),
            ("#f\r\n", [.boolean(false)]),
            (",1.5\r\n", [.double(1.5)]),
            (",-0.25e2\r\n", [.double(-25)]),
            (",10\r\n", [.double(10)]),
            (",inf\r\n", [.double(.infinity)]),
            (",-inf\r\n", [.double(-.infinity)]),
            ("(3492890328409238509324850943850943825024385\r\n", [.bigNumber("3492890328409238509324850943850943825024385")]),
            ("(-12\r\n", [.bigNumber("-12")]),
            ("=15\r\ntxt:Some string\r\n", [.verbatimString(format: "txt", text: ByteBuffer(string: "Some string"))]),
            ("!21\r\nSYNTAX invalid syntax\r\n", [.error("SYNTAX invalid syntax")]),
            (
                "%2\r\n+first\r\n:1\r\n$6\r\nsecond\r\n*2\r\n_\r\n#t\r\n",
                [.map([
                    .init(key: .simpleString("first"), value: .integer(1)),
                    .init(key: Self.bulk("second"), value: .array([.null, .boolean(true)])),
                ])]
            ),
            ("%0\r\n", [.map([])]),
            ("~3\r\n+a\r\n+b\r\n:3\r\n", [.set([.simpleString("a"), .simpleString("b"), .integer(3)])]),
            (">3\r\n$10\r\ninvalidate\r\n*1\r\n$3\r\nkey\r\n_\r\n", [.push([Self.bulk("invalidate"), .array([Self.bulk("key")]), .null])]),
            // Attributes are read and dropped, at top level and inside aggregates.
            ("|1\r\n+ttl\r\n:3600\r\n:42\r\n", [.integer(42)]),
            ("*2\r\n|1\r\n+a\r\n+b\r\n:1\r\n:2\r\n", [.array([.integer(1), .integer(2)])]),
            ("|0\r\n+x\r\n", [.simpleString("x")]),
        ]
        try ByteToMessageDecoderVerifier.verifyDecoder(stringInputOutputPairs: pairs) { RESPReplyDecoder() }
    }

    @Test func decodesNaN() throws {
        var decoder = RESPReplyDecoder()
        var buffer = ByteBuffer(string: ",nan\r\n")
        guard case .double(let value) = try decoder.next(from: &buffer) else {
            Issue.record("not a double")
            return
        }
        #expect(value.isNaN)
    }

    @Test func decodesANestedReplyFedOneByteAtATime() throws {
        let wire = "*3\r\n%1\r\n+k\r\n*2\r\n$3\r\nabc\r\n_\r\n$-1\r\n~1\r\n,2.5\r\n+next\r\n"
        var decoder = RESPReplyDecoder()
        var buffer = ByteBuffer()
        var values: [RESPValue] = []
        for byte in wire.utf8 {
            buffer.writeInteger(byte)
            while let value = try decoder.next(from: &buffer) {
                values.append(value)
            }
        }
        #expect(buffer.readableBytes == 0)
        #expect(values == [
            .array([.map([.init(key: .simpleString("k"), value: .array([Self.bulk("abc"), .null]))]), .bulkString(nil), .set([.double(2.5)])]),
            .simpleString("next"),
        ])
    }

    // MARK: - Decoder errors and limits

    private func decodeError(_ wire: String, limits: RESPReplyDecoder.Limits = .init()) -> (any Error)? {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(RESPReplyDecoder(limits: limits)))
        defer { _ = try? channel.finish() }
        do {
            try channel.writeInbound(ByteBuffer(string: wire))
            return nil
        } catch {
            return error
        }
    }

    @Test func garbageTypeByteFailsAtOnce() {
        #expect(self.decodeError("?") as? RESPDecodingError == .unknownType(UInt8(ascii: "?")))
        #expect(self.decodeError("HTTP/1.1 400") as? RESPDecodingError == .unknownType(UInt8(ascii: "H")))
        #expect(self.decodeError("+OK\r\n\r\n") as? RESPDecodingError == .unknownType(0x0D))
    }

    @Test func oversizeBulkFailsBeforeItsBody() {
        let limits = RESPReplyDecoder.Limits(maximumBulkLength: 1000)
        // Only the header has arrived: the decoder refuses without waiting for a megabyte.
        #expect(self.decodeError("$1000000\r\nabc", limits: limits) as? RESPDecodingError == .bulkTooLarge(length: 1_000_000, limit: 1000))
        #expect(self.decodeError("=2000\r\n", limits: limits) as? RESPDecodingError == .bulkTooLarge(length: 2000, limit: 1000))
        #expect(self.decodeError("$1000\r\n", limits: limits) == nil)
    }

    @Test func aggregateAndNestingLimits() {
        let limits = RESPReplyDecoder.Limits(maximumAggregateLength: 10, maximumNestingDepth: 3)
        #expect(self.decodeError("*11\r\n", limits: limits) as? RESPDecodingError == .aggregateTooLarge(count: 11, limit: 10))
        #expect(self.decodeError("%11\r\n", limits: limits) as? RESPDecodingError == .aggregateTooLarge(count: 11, limit: 10))
        #expect(self.decodeError("*1\r\n*1\r\n*1\r\n:1\r\n", limits: limits) == nil)
        #expect(self.decodeError("*1\r\n*1\r\n*1\r\n*1\r\n", limits: limits) as? RESPDecodingError == .nestingTooDeep(limit: 3))
    }

    @Test func lineWithoutEndFailsAtTheLimit() {
        let limits = RESPReplyDecoder.Limits(maximumLineLength: 16)
        #expect(self.decodeError("+" + String(repeating: "a", count: 16), limits: limits) == nil)
        #expect(self.decodeError("+" + String(repeating: "a", count: 17), limits: limits) as? RESPDecodingError == .lineTooLong(limit: 16))
        #expect(self.decodeError("-" + String(repeating: "e", count: 40) + "\r\n", limits: limits) as? RESPDecodingError == .lineTooLong(limit: 16))
    }

    @Test func malformedValuesFail() {
        #expect(self.decodeError(":12a\r\n") as? RESPDecodingError == .invalidValue(type: ":", text: "12a"))
        #expect(self.decodeError(":99999999999999999999\r\n") as? RESPDecodingError == .invalidValue(type: ":", text: "99999999999999999999"))
        #expect(self.decodeError("#x\r\n") as? RESPDecodingError == .invalidValue(type: "#", text: "x"))
        #expect(self.decodeError(",one\r\n") as? RESPDecodingError == .invalidValue(type: ",", text: "one"))
        #expect(self.decodeError("(12x\r\n") as? RESPDecodingError == .invalidValue(type: "(", text: "12x"))
        #expect(self.decodeError("_x\r\n") as? RESPDecodingError == .invalidValue(type: "_", text: "x"))
        #expect(self.decodeError("=3\r\ntxt\r\n") as? RESPDecodingError == .invalidValue(type: "=", text: "txt"))
        #expect(self.decodeError("$-2\r\n") as? RESPDecodingError == .invalidLength("-2"))
        #expect(self.decodeError("$abc\r\n") as? RESPDecodingError == .invalidLength("abc"))
        #expect(self.decodeError("~-1\r\n") as? RESPDecodingError == .invalidLength("-1"))
        #expect(self.decodeError("$3\r\nabcX\r\n") as? RESPDecodingError == .missingCRLF)
        #expect(self.decodeError("+OK\rX") as? RESPDecodingError == .missingCRLF)
    }

    @Test func endOfStreamInsideAReplyIsReported() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(RESPReplyDecoder()))
        try channel.writeInbound(ByteBuffer(string: "*2\r\n:1\r\n"))
        #expect(try channel.readInbound(as: RESPValue.self) == nil)
        channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        #expect(throws: RESPDecodingError.self) { try channel.throwIfErrorCaught() }
        _ = try? channel.finish()
    }

    @Test func errorsDescribeThemselves() {
        #expect(RESPDecodingError.bulkTooLarge(length: 5, limit: 4).description.contains("larger than the limit of 4"))
        #expect(RESPDecodingError.unknownType(UInt8(ascii: "?")).description == "unknown RESP type byte '?' (0x3f)")
    }
}
