import NIOCore

extension ByteBuffer {
    /// Writes `text` padded with NUL bytes to `field`'s width; returns the bytes written.
    ///
    /// ``ContactsText`` is validated for its field when made, so it always fits with a NUL.
    @discardableResult
    public mutating func writeContactsField(_ text: ContactsText, _ field: ContactsField) -> Int {
        precondition(text.bytes.count < field.width, "text validated for a wider field")
        let written = self.writeBytes(text.bytes)
        return written + self.writeRepeatingByte(0, count: field.width - written)
    }

    /// Writes a greeting: the kind byte and the 256-byte name.
    @discardableResult
    public mutating func writeContactsGreeting(_ greeting: ContactsGreeting) -> Int {
        switch greeting {
        case .server(let name):
            return self.writeInteger(ContactsGreeting.Kind.server.rawValue)
                + self.writeContactsField(name, .connectName)
        case .client(let user):
            return self.writeInteger(ContactsGreeting.Kind.client.rawValue)
                + self.writeContactsField(user, .connectName)
        }
    }

    /// Writes a client frame: its type byte and body.
    @discardableResult
    public mutating func writeContactsClientMessage(_ message: ContactsClientMessage) -> Int {
        var written = self.writeInteger(message.kind.rawValue)
        switch message {
        case .update(let contact, let phone):
            written += self.writeContactsField(contact, .contactName)
            written += self.writeContactsField(phone, .phoneNumber)
        case .delete(let contact):
            written += self.writeContactsField(contact, .contactName)
        case .listAll:
            break
        }
        return written
    }

    /// Writes a ListAll reply: ContactLen, then each entry.
    @discardableResult
    public mutating func writeContactsListReply(_ reply: ContactsListReply) -> Int {
        var written = self.writeInteger(UInt32(reply.entries.count))
        for entry in reply.entries {
            written += self.writeContactsField(entry.contact, .contactName)
            written += self.writeContactsField(entry.phone, .phoneNumber)
        }
        return written
    }

    /// Writes a peer frame: its type byte and body.
    @discardableResult
    public mutating func writeContactsPeerMessage(_ message: ContactsPeerMessage) -> Int {
        var written = self.writeInteger(message.kind.rawValue)
        switch message {
        case .update(let clock, let user, let contact, let phone):
            written += self.writeInteger(clock)
            written += self.writeContactsField(user, .userName)
            written += self.writeContactsField(contact, .contactName)
            written += self.writeContactsField(phone, .phoneNumber)
        case .delete(let clock, let user, let contact):
            written += self.writeInteger(clock)
            written += self.writeContactsField(user, .userName)
            written += self.writeContactsField(contact, .contactName)
        case .heartBeat(let health, let clock):
            written += self.writeInteger(health)
            written += self.writeInteger(clock)
        case .updateClock(let clock):
            written += self.writeInteger(clock)
        case .askForUpdate:
            break
        }
        return written
    }

    /// Reads one fixed-width field: consumes its whole width and validates the bytes before
    /// the first NUL. The caller has checked that the width is readable.
    mutating func readContactsField(_ field: ContactsField) throws(ContactsFieldError) -> ContactsText {
        let raw = self.readableBytesView.prefix(field.width)
        precondition(raw.count == field.width, "field read without its bytes")
        self.moveReaderIndex(forwardBy: field.width)
        guard let end = raw.firstIndex(of: 0) else {
            throw .notTerminated(field)
        }
        return try ContactsText(validating: Array(raw[..<end]), field: field)
    }
}

extension ContactsGreeting {
    /// Parses a whole greeting (``length`` bytes).
    static func parse(_ body: inout ByteBuffer) throws(ContactsFrameError) -> ContactsGreeting {
        let byte = body.readInteger(as: UInt8.self)!
        guard let kind = Kind(rawValue: byte) else {
            throw .unknownGreeting(byte)
        }
        let name: ContactsText
        do {
            name = try body.readContactsField(.connectName)
        } catch {
            throw .invalidField(frame: "greeting", error)
        }
        switch kind {
        case .server: return .server(name: name)
        case .client: return .client(user: name)
        }
    }
}

extension ContactsClientMessage {
    /// Parses the body of a client frame of `kind` (exactly ``Kind/bodyLength`` bytes).
    static func parse(_ kind: Kind, body: inout ByteBuffer) throws(ContactsFrameError) -> ContactsClientMessage {
        do {
            switch kind {
            case .update:
                let contact = try body.readContactsField(.contactName)
                return .update(contact: contact, phone: try body.readContactsField(.phoneNumber))
            case .delete:
                return .delete(contact: try body.readContactsField(.contactName))
            case .listAll:
                return .listAll
            }
        } catch {
            throw .invalidField(frame: "client \(kind)", error)
        }
    }
}

extension ContactsPeerMessage {
    /// Parses the body of a peer frame of `kind` (exactly ``Kind/bodyLength`` bytes); a field
    /// error is returned as such, since a peer link skips that frame and goes on.
    static func parse(_ kind: Kind, body: inout ByteBuffer) -> Result<ContactsPeerMessage, ContactsFieldError> {
        do throws(ContactsFieldError) {
            switch kind {
            case .update:
                let clock = body.readInteger(as: UInt32.self)!
                let user = try body.readContactsField(.userName)
                let contact = try body.readContactsField(.contactName)
                let phone = try body.readContactsField(.phoneNumber)
                return .success(.update(clock: clock, user: user, contact: contact, phone: phone))
            case .delete:
                let clock = body.readInteger(as: UInt32.self)!
                let user = try body.readContactsField(.userName)
                return .success(.delete(clock: clock, user: user, contact: try body.readContactsField(.contactName)))
            case .heartBeat:
                let health = body.readInteger(as: UInt8.self)!
                return .success(.heartBeat(health: health, clock: body.readInteger(as: UInt32.self)!))
            case .updateClock:
                return .success(.updateClock(clock: body.readInteger(as: UInt32.self)!))
            case .askForUpdate:
                return .success(.askForUpdate)
            }
        } catch {
            return .failure(error)
        }
    }
}
