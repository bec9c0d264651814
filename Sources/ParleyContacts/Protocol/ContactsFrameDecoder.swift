import NIOCore

/// Decodes a contacts connection with a ``ContactsFrameReader``, and closes it when it stalls.
///
/// - A frame that has begun (or a greeting that is owed) must progress within the read
///   timeout: each of its parts (type byte, body, ListAll entry) must arrive in time. A
///   connection idle between frames is not stalled.
/// - On a peer link, a peer that sends nothing at all for the silence timeout (three
///   heartbeat intervals) is down.
///
/// Either way the decoder fires ``ContactsFrameError/readTimeout(milliseconds:)`` or
/// ``ContactsFrameError/peerSilent(milliseconds:)`` down the pipeline and closes the channel.
/// Timers run on the channel's event loop, so a stalled connection holds up only itself.
public struct ContactsFrameDecoder<Reader: ContactsFrameReader>: ByteToMessageDecoder {
    /// The reader's frames.
    public typealias InboundOut = Reader.Frame

    private var reader: Reader
    private let readTimeout: TimeAmount?
    private let silenceTimeout: TimeAmount?
    private var stallTimer: Scheduled<Void>?
    /// Whether part of a frame has been consumed into the reader's state.
    private var partial = false
    private var silence: ContactsSilenceWatch?

    /// Creates a decoder.
    ///
    /// - Parameters:
    ///   - reader: The reader, in its initial state.
    ///   - readTimeout: How long a frame may stall; `nil` for none.
    ///   - silenceTimeout: On a peer link, how long the peer may send nothing; `nil` for none.
    public init(_ reader: Reader, readTimeout: Duration? = nil, silenceTimeout: Duration? = nil) {
        self.reader = reader
        self.readTimeout = readTimeout.map { TimeAmount($0) }
        self.silenceTimeout = silenceTimeout.map { TimeAmount($0) }
    }

    /// Starts the timers owed from the start (a greeting, a greeting's answer, peer silence).
    public mutating func decoderAdded(context: ChannelHandlerContext) {
        self.updateTimers(context: context, buffered: 0, progressed: false)
    }

    /// Stops the timers.
    public mutating func decoderRemoved(context: ChannelHandlerContext) {
        self.stallTimer?.cancel()
        self.stallTimer = nil
        self.silence?.stop()
        self.silence = nil
    }

    /// Emits the next frame, if the buffer completes one.
    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        self.silence?.heard()
        let before = buffer.readerIndex
        let frame = try self.reader.next(from: &buffer)
        let progressed = buffer.readerIndex != before
        self.updateTimers(context: context, buffered: buffer.readableBytes, progressed: progressed)
        guard let frame else {
            self.partial = self.partial || (progressed && self.reader.isMidFrame)
            return .needMoreData
        }
        self.partial = false
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }

    /// Emits the remaining frames; at end of input inside a frame throws
    /// ``ContactsFrameError/truncated(bufferedBytes:)``.
    public mutating func decodeLast(
        context: ChannelHandlerContext,
        buffer: inout ByteBuffer,
        seenEOF: Bool
    ) throws -> DecodingState {
        if try self.decode(context: context, buffer: &buffer) == .continue {
            return .continue
        }
        if seenEOF, buffer.readableBytes > 0 || self.partial {
            let dropped = buffer.readableBytes
            buffer.moveReaderIndex(forwardBy: dropped)
            throw ContactsFrameError.truncated(bufferedBytes: dropped)
        }
        return .needMoreData
    }

    /// Arms the stall timer while inside a frame (re-arming it when the frame progressed),
    /// disarms it between frames, and starts the silence watch once the stream is a peer link.
    private mutating func updateTimers(context: ChannelHandlerContext, buffered: Int, progressed: Bool) {
        if self.silence == nil, self.reader.isPeerLink, let silenceTimeout = self.silenceTimeout {
            let watch = ContactsSilenceWatch(timeout: silenceTimeout)
            watch.start(context: context)
            self.silence = watch
        }
        guard let readTimeout = self.readTimeout else {
            return
        }
        let inside = self.reader.isMidFrame || buffered > 0
        if !inside || progressed {
            self.stallTimer?.cancel()
            self.stallTimer = nil
        }
        if inside, self.stallTimer == nil {
            self.stallTimer = context.eventLoop.assumeIsolated().scheduleTask(in: readTimeout) {
                context.fireErrorCaught(ContactsFrameError.readTimeout(milliseconds: readTimeout.nanoseconds / 1_000_000))
                context.close(promise: nil)
            }
        }
    }
}

/// Closes a peer link that sent nothing for its timeout; loop-bound, owned by one decoder.
final class ContactsSilenceWatch {
    private let timeout: TimeAmount
    private var lastHeard = NIODeadline.uptimeNanoseconds(0)
    private var scheduled: Scheduled<Void>?
    private var eventLoop: (any EventLoop)?

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    func start(context: ChannelHandlerContext) {
        self.eventLoop = context.eventLoop
        self.lastHeard = context.eventLoop.now
        self.schedule(context: context, at: self.lastHeard + self.timeout)
    }

    /// Records that bytes arrived; cheap, called for every read.
    func heard() {
        if let eventLoop = self.eventLoop {
            self.lastHeard = eventLoop.now
        }
    }

    func stop() {
        self.scheduled?.cancel()
        self.scheduled = nil
    }

    private func schedule(context: ChannelHandlerContext, at deadline: NIODeadline) {
        self.scheduled = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) {
            let due = self.lastHeard + self.timeout
            if due > context.eventLoop.now {
                self.schedule(context: context, at: due)
            } else {
                self.scheduled = nil
                context.fireErrorCaught(ContactsFrameError.peerSilent(milliseconds: self.timeout.nanoseconds / 1_000_000))
                context.close(promise: nil)
            }
        }
    }
}

/// Decodes the frames a client sends a replica.
public typealias ContactsClientFrameDecoder = ContactsFrameDecoder<ContactsClientFrameReader>
/// Decodes a peer link, both ways.
public typealias ContactsPeerFrameDecoder = ContactsFrameDecoder<ContactsPeerFrameReader>
/// Decodes ListAll replies, on the client side.
public typealias ContactsListReplyDecoder = ContactsFrameDecoder<ContactsListReplyReader>
/// Decodes greetings.
public typealias ContactsGreetingDecoder = ContactsFrameDecoder<ContactsGreetingReader>
/// Decodes a connection a replica accepted: greeting, then client or peer frames.
public typealias ContactsReplicaFrameDecoder = ContactsFrameDecoder<ContactsReplicaFrameReader>
