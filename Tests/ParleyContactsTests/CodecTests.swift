import NIOCore
import NIOEmbedded
import NIOTestUtils
import Testing
@testable import ParleyContacts

@Suite("Contacts codec, byte by byte")
struct CodecTests {
    private func encoded(_ write: (inout ByteBuffer) -> Int) -> [UInt8] {
        var buffer = ByteBuffer()
        let count = write(&buffer)
        #expect(count == buffer.readableBytes)
        return Array(buffer.readableBytesView)
    }

    @Test("Peer Update from the seed's table: Clock 11, Beloin, Juan, 85999999999")
    func peerUpdateVector() throws {
        let message = ContactsPeerMessage.update(
            clock: 11, user: .name("Beloin"), contact: .name("Juan"), phone: .phone("85999999999")
        )
        let expected: [UInt8] = [0x01, 0x00, 0x00, 0x00, 0x0B]
            + Array("Beloin".utf8) + [UInt8](repeating: 0, count: 250)
            + Array("Juan".utf8) + [UInt8](repeating: 0, count: 252)
            + Array("85999999999".utf8) + [UInt8](repeating: 0, count: 9)
        #expect(expected.count == 537)
        #expect(self.encoded { $0.writeContactsPeerMessage(message) } == expected)
        var reader = ContactsPeerFrameReader()
        var buffer = ByteBuffer(bytes: expected)
        #expect(try reader.next(from: &buffer) == .message(message))
        #expect(buffer.readableBytes == 0)
    }

    @Test("Peer Delete, HeartBeat, UpdateClock and AskForUpdate vectors")
    func otherPeerVectors() throws {
        #expect(
            self.encoded { $0.writeContactsPeerMessage(.delete(clock: 11, user: .name("Beloin"), contact: .name("Juan"))) }
                == SeedBytes.peerDelete(11, "Beloin", "Juan")
        )
        #expect(self.encoded { $0.writeContactsPeerMessage(.heartBeat(health: 1, clock: 11)) } == [3, 1, 0, 0, 0, 11])
        #expect(self.encoded { $0.writeContactsPeerMessage(.updateClock(clock: 0x0102_0304)) } == [4, 1, 2, 3, 4])
        #expect(self.encoded { $0.writeContactsPeerMessage(.askForUpdate) } == [5])
    }

    @Test("Client frames and greetings from the seed's tables")
    func clientVectors() {
        #expect(self.encoded { $0.writeContactsGreeting(.client(user: .name("Beloin"))) } == SeedBytes.clientGreeting("Beloin"))
        #expect(
            self.encoded { $0.writeContactsGreeting(.server(name: .name("contact-server-2"))) }
                == SeedBytes.serverGreeting("contact-server-2")
        )
        #expect(
            self.encoded { $0.writeContactsClientMessage(.update(contact: .name("Juan"), phone: .phone("85999999999"))) }
                == SeedBytes.clientUpdate("Juan", "85999999999")
        )
        #expect(self.encoded { $0.writeContactsClientMessage(.delete(contact: .name("Juan"))) } == SeedBytes.clientDelete("Juan"))
        #expect(self.encoded { $0.writeContactsClientMessage(.listAll) } == [3])
    }

    @Test("ListAll reply: ContactLen then name and phone per contact")
    func listReplyVector() throws {
        let reply = ContactsListReply(entries: [
            ContactsListEntry(contact: .name("Ana"), phone: .phone("+55 (85) 1234-5678")),
            ContactsListEntry(contact: .name("Juan"), phone: .phone("85999999999")),
        ])
        let expected = SeedBytes.clock(2) + SeedBytes.name("Ana") + SeedBytes.phone("+55 (85) 1234-5678")
            + SeedBytes.name("Juan") + SeedBytes.phone("85999999999")
        #expect(self.encoded { $0.writeContactsListReply(reply) } == expected)
        var reader = ContactsListReplyReader()
        var buffer = ByteBuffer(bytes: expected)
        #expect(try reader.next(from: &buffer) == reply)
        var empty = ByteBuffer(bytes: [0, 0, 0, 0])
        #expect(try reader.next(from: &empty) == ContactsListReply(entries: []))
    }

    @Test("Multi-byte UTF-8 up to 255 bytes fits; one byte more is refused, never cut")
    func utf8Limits() throws {
        let chinese = String(repeating: "中", count: 85)  // 3 bytes each: 255
        #expect(chinese.utf8.count == 255)
        let emoji = "abc" + String(repeating: "😀", count: 63)  // 3 + 252 = 255
        #expect(emoji.utf8.count == 255)
        for text in [chinese, emoji] {
            let name = try ContactsText(text, field: .contactName)
            let bytes = self.encoded { $0.writeContactsClientMessage(.delete(contact: name)) }
            #expect(bytes == [2] + Array(text.utf8) + [0])
            var reader = ContactsClientFrameReader()
            var buffer = ByteBuffer(bytes: bytes)
            #expect(try reader.next(from: &buffer) == .delete(contact: name))
        }
        #expect(throws: ContactsFieldError.tooLong(.contactName, byteCount: 258)) {
            try ContactsText(chinese + "中", field: .contactName)
        }
        #expect(throws: ContactsFieldError.tooLong(.contactName, byteCount: 256)) {
            try ContactsText(emoji + "a", field: .contactName)
        }
        #expect(throws: ContactsFieldError.tooLong(.contactName, byteCount: 259)) {
            try ContactsText(emoji + "😀", field: .contactName)
        }
        let error = ContactsFieldError.tooLong(.contactName, byteCount: 258)
        #expect(error.description.contains("at most 255 bytes"))
        #expect(throws: ContactsFieldError.tooLong(.phoneNumber, byteCount: 20)) {
            try ContactsText(String(repeating: "9", count: 20), field: .phoneNumber)
        }
        _ = try ContactsText(String(repeating: "9", count: 19), field: .phoneNumber)
    }

    @Test("Field rules: phone characters, empty names, NUL, invalid UTF-8, no NUL on the wire")
    func fieldRules() throws {
        for good in ["85999999999", "+55 (85) 9999-9999", "1"] {
            _ = try ContactsText(good, field: .phoneNumber)
        }
        for bad in ["85a", "+", "++1", "1+", "()", "１２"] {
            #expect(throws: ContactsFieldError.invalidPhoneNumber) { try ContactsText(bad, field: .phoneNumber) }
        }
        #expect(throws: ContactsFieldError.empty(.contactName)) { try ContactsText("", field: .contactName) }
        #expect(throws: ContactsFieldError.containsNUL(.userName)) { try ContactsText("a\u{0}b", field: .userName) }

        // A 4-byte emoji cut after 3 bytes, as the seed's writer does at the field's end.
        var cut = ByteBuffer(bytes: [2] + [0xF0, 0x9F, 0x98] + [UInt8](repeating: 0, count: 253))
        var reader = ContactsClientFrameReader()
        #expect(throws: ContactsFrameError.invalidField(frame: "client delete", .invalidUTF8(.contactName))) {
            try reader.next(from: &cut)
        }
        var full = ByteBuffer(bytes: [2] + [UInt8](repeating: UInt8(ascii: "a"), count: 256))
        reader = ContactsClientFrameReader()
        #expect(throws: ContactsFrameError.invalidField(frame: "client delete", .notTerminated(.contactName))) {
            try reader.next(from: &full)
        }
        var unknown = ByteBuffer(bytes: [9])
        reader = ContactsClientFrameReader()
        #expect(throws: ContactsFrameError.unknownType(9)) { try reader.next(from: &unknown) }
        // Bytes after the first NUL are not part of the text.
        var trailing = ByteBuffer(bytes: [2] + Array("Juan".utf8) + [0] + [UInt8](repeating: 0x41, count: 251))
        reader = ContactsClientFrameReader()
        #expect(try reader.next(from: &trailing) == .delete(contact: .name("Juan")))
    }

    @Test("A peer Update with an invalid field is consumed whole and reported as skipped")
    func peerSkipsInvalidField() throws {
        let bad = [1] + SeedBytes.clock(3) + SeedBytes.name("Beloin") + [0xFF] + [UInt8](repeating: 0, count: 255)
            + SeedBytes.phone("1")
        let noNUL = [1] + SeedBytes.clock(3) + SeedBytes.name("Beloin") + SeedBytes.name("Juan")
            + [UInt8](repeating: UInt8(ascii: "9"), count: 20)
        var buffer = ByteBuffer(bytes: bad + noNUL + SeedBytes.peerDelete(4, "Beloin", "Juan"))
        var reader = ContactsPeerFrameReader()
        #expect(try reader.next(from: &buffer) == .skipped(.update, .invalidUTF8(.contactName)))
        #expect(try reader.next(from: &buffer) == .skipped(.update, .notTerminated(.phoneNumber)))
        #expect(try reader.next(from: &buffer) == .message(.delete(clock: 4, user: .name("Beloin"), contact: .name("Juan"))))
    }

    @Test("Decoders accept any split (ByteToMessageDecoderVerifier)")
    func verifierSplits() throws {
        let update = ContactsClientMessage.update(contact: .name("Juan"), phone: .phone("85999999999"))
        try ByteToMessageDecoderVerifier.verifyDecoder(
            inputOutputPairs: [
                (ByteBuffer(bytes: SeedBytes.clientUpdate("Juan", "85999999999")), [update]),
                (ByteBuffer(bytes: SeedBytes.clientDelete("中文名字")), [.delete(contact: .name("中文名字"))]),
                (ByteBuffer(bytes: SeedBytes.listAll + SeedBytes.listAll), [.listAll, .listAll]),
            ],
            decoderFactory: { ContactsClientFrameDecoder(ContactsClientFrameReader()) }
        )
        try ByteToMessageDecoderVerifier.verifyDecoder(
            inputOutputPairs: [
                (
                    ByteBuffer(bytes: SeedBytes.peerUpdate(11, "Beloin", "Juan", "85999999999")),
                    [.message(.update(clock: 11, user: .name("Beloin"), contact: .name("Juan"), phone: .phone("85999999999")))]
                ),
                (ByteBuffer(bytes: SeedBytes.peerDelete(12, "Beloin", "😀")), [.message(.delete(clock: 12, user: .name("Beloin"), contact: .name("😀")))]),
                (ByteBuffer(bytes: [3, 1, 0, 0, 0, 11, 4, 0, 0, 0, 12, 5]), [
                    .message(.heartBeat(health: 1, clock: 11)), .message(.updateClock(clock: 12)), .message(.askForUpdate),
                ]),
                (ByteBuffer(bytes: SeedBytes.peerDelete(12, "", "x")), [.skipped(.delete, .empty(.userName))]),
            ],
            decoderFactory: { ContactsPeerFrameDecoder(ContactsPeerFrameReader()) }
        )
        try ByteToMessageDecoderVerifier.verifyDecoder(
            inputOutputPairs: [
                (ByteBuffer(bytes: [0, 0, 0, 0]), [ContactsListReply(entries: [])]),
                (
                    ByteBuffer(bytes: SeedBytes.clock(1) + SeedBytes.name("Juan") + SeedBytes.phone("85999999999")),
                    [ContactsListReply(entries: [ContactsListEntry(contact: .name("Juan"), phone: .phone("85999999999"))])]
                ),
            ],
            decoderFactory: { ContactsListReplyDecoder(ContactsListReplyReader()) }
        )
        try ByteToMessageDecoderVerifier.verifyDecoder(
            inputOutputPairs: [
                (ByteBuffer(bytes: SeedBytes.clientGreeting("Beloin")), [.client(user: .name("Beloin"))]),
                (ByteBuffer(bytes: SeedBytes.serverGreeting("contact-server-1")), [.server(name: .name("contact-server-1"))]),
            ],
            decoderFactory: { ContactsGreetingDecoder(ContactsGreetingReader()) }
        )
    }

    @Test("A replica's decoder reads the greeting then its kind's frames, split anywhere")
    func replicaDecoderEverySplit() throws {
        let stream = SeedBytes.clientGreeting("Beloin") + SeedBytes.clientUpdate("Juan", "85999999999") + SeedBytes.listAll
        let expected: [ContactsReplicaInbound] = [
            .greeting(.client(user: .name("Beloin"))),
            .client(.update(contact: .name("Juan"), phone: .phone("85999999999"))),
            .client(.listAll),
        ]
        for split in 0...stream.count {
            let channel = EmbeddedChannel(handler: ByteToMessageHandler(ContactsReplicaFrameDecoder(ContactsReplicaFrameReader())))
            try channel.writeInbound(ByteBuffer(bytes: stream[..<split]))
            try channel.writeInbound(ByteBuffer(bytes: stream[split...]))
            var outputs: [ContactsReplicaInbound] = []
            while let output = try channel.readInbound(as: ContactsReplicaInbound.self) {
                outputs.append(output)
            }
            #expect(outputs == expected, "split at \(split)")
            #expect(try channel.finish().isClean)
        }
        let peerStream = SeedBytes.serverGreeting("B") + SeedBytes.peerUpdate(1, "u", "c", "1") + [5]
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(ContactsReplicaFrameDecoder(ContactsReplicaFrameReader())))
        for byte in peerStream {
            try channel.writeInbound(ByteBuffer(bytes: [byte]))
        }
        #expect(try channel.readInbound(as: ContactsReplicaInbound.self) == .greeting(.server(name: .name("B"))))
        #expect(
            try channel.readInbound(as: ContactsReplicaInbound.self)
                == .peer(.message(.update(clock: 1, user: .name("u"), contact: .name("c"), phone: .phone("1"))))
        )
        #expect(try channel.readInbound(as: ContactsReplicaInbound.self) == .peer(.message(.askForUpdate)))
        _ = try channel.finish()
    }

    @Test("A frame stalled past the read timeout closes the channel; an idle one does not")
    func stallTimeout() throws {
        let channel = EmbeddedChannel(
            handler: ByteToMessageHandler(ContactsReplicaFrameDecoder(ContactsReplicaFrameReader(), readTimeout: .seconds(1)))
        )
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        // The greeting is owed from the start.
        try channel.writeInbound(ByteBuffer(bytes: SeedBytes.clientGreeting("Beloin")))
        #expect(try channel.readInbound(as: ContactsReplicaInbound.self) == .greeting(.client(user: .name("Beloin"))))
        // Idle between frames: not a stall.
        channel.embeddedEventLoop.advanceTime(by: .seconds(5))
        #expect(channel.isActive)
        // Half a frame, then nothing.
        try channel.writeInbound(ByteBuffer(bytes: Array(SeedBytes.clientUpdate("Juan", "1").prefix(100))))
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(900))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(200))
        #expect(!channel.isActive)
        #expect(throws: ContactsFrameError.readTimeout(milliseconds: 1000)) { try channel.throwIfErrorCaught() }
    }

    @Test("A silent peer is down after the silence timeout; any byte resets it")
    func peerSilence() throws {
        let channel = EmbeddedChannel(
            handler: ByteToMessageHandler(
                ContactsPeerFrameDecoder(ContactsPeerFrameReader(), readTimeout: .seconds(10), silenceTimeout: .seconds(3))
            )
        )
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        try channel.writeInbound(ByteBuffer(bytes: [3, 1, 0, 0, 0, 1]))
        channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1100))
        #expect(!channel.isActive)
        #expect(throws: ContactsFrameError.peerSilent(milliseconds: 3000)) { try channel.throwIfErrorCaught() }
    }
}
