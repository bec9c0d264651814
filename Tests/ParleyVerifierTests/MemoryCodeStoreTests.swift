import Testing

@testable import ParleyVerifier

@Suite("MemoryCodeStore")
struct MemoryCodeStoreTests {
    @Test("claim holds a key for its duration and says how long")
    func claim() async {
        let clock = ManualClock()
        let store = MemoryCodeStore(clock: clock.clock)
        #expect(await store.claim("k", token: "a", for: .seconds(60)) == .claimed)
        clock.advance(by: .seconds(15))
        #expect(await store.claim("k", token: "b", for: .seconds(60)) == .held(remaining: .seconds(45)))
        await store.delete("k", ifValue: "b")  // someone else's token: nothing happens
        #expect(await store.claim("k", token: "b", for: .seconds(60)) == .held(remaining: .seconds(45)))
        await store.delete("k", ifValue: "a")
        #expect(await store.claim("k", token: "b", for: .seconds(60)) == .claimed)
        clock.advance(by: .seconds(60))
        #expect(await store.claim("k", token: "c", for: .seconds(60)) == .claimed)
    }

    @Test("count is a fixed window that refused counts do not extend")
    func count() async {
        let clock = ManualClock()
        let store = MemoryCodeStore(clock: clock.clock)
        #expect(await store.count("n", limit: 2, window: .seconds(100)) == .counted(1))
        clock.advance(by: .seconds(10))
        #expect(await store.count("n", limit: 2, window: .seconds(100)) == .counted(2))
        #expect(await store.count("n", limit: 2, window: .seconds(100)) == .limited(remaining: .seconds(90)))
        await store.uncount("n")
        #expect(await store.count("n", limit: 2, window: .seconds(100)) == .counted(2))
        clock.advance(by: .seconds(90))
        #expect(await store.count("n", limit: 2, window: .seconds(100)) == .counted(1))
        await store.uncount("missing")
        #expect(await store.count("zero", limit: 0, window: .seconds(5)) == .limited(remaining: .seconds(5)))
    }

    @Test("consumeCode: right once, wrong tries counted, burned at the last, expiry exact")
    func consume() async {
        let clock = ManualClock()
        let store = MemoryCodeStore(clock: clock.clock)
        await store.putCode("c", code: "123456", for: .seconds(180))
        #expect(await store.consumeCode("c", code: "654321", maxTries: 3) == .wrong(triesLeft: 2))
        #expect(await store.consumeCode("c", code: "123456", maxTries: 3) == .accepted)
        #expect(await store.consumeCode("c", code: "123456", maxTries: 3) == .missing)

        await store.putCode("c", code: "123456", for: .seconds(180))
        #expect(await store.consumeCode("c", code: "000000", maxTries: 2) == .wrong(triesLeft: 1))
        #expect(await store.consumeCode("c", code: "000000", maxTries: 2) == .burned)
        #expect(await store.consumeCode("c", code: "123456", maxTries: 2) == .missing)

        await store.putCode("c", code: "123456", for: .seconds(180))
        await store.delete("c", ifValue: "999999")
        clock.advance(by: .seconds(180))
        #expect(await store.consumeCode("c", code: "123456", maxTries: 2) == .missing)
    }

    @Test("putCode replaces the code and its tries")
    func replace() async {
        let store = MemoryCodeStore()
        await store.putCode("c", code: "111111", for: .seconds(180))
        #expect(await store.consumeCode("c", code: "000000", maxTries: 2) == .wrong(triesLeft: 1))
        await store.putCode("c", code: "222222", for: .seconds(180))
        #expect(await store.consumeCode("c", code: "111111", maxTries: 2) == .wrong(triesLeft: 1))
        #expect(await store.consumeCode("c", code: "222222", maxTries: 2) == .accepted)
    }

    @Test("Expired values are swept")
    func sweep() async {
        let clock = ManualClock()
        let store = MemoryCodeStore(clock: clock.clock)
        for index in 0..<1000 {
            await store.putCode("old\(index)", code: "123456", for: .seconds(10))
        }
        clock.advance(by: .seconds(10))
        for index in 0..<100 {
            await store.putCode("new\(index)", code: "123456", for: .seconds(10))
        }
        // The sweep at the 1024th write removed the 1000 expired codes.
        #expect(await store.storedCount == 100)
    }

    @Test("Constant-time comparison")
    func constantTime() {
        #expect(ConstantTime.equals("123456", "123456"))
        #expect(!ConstantTime.equals("123456", "123457"))
        #expect(!ConstantTime.equals("123456", "12345"))
        #expect(!ConstantTime.equals("", "0"))
        #expect(ConstantTime.equals("", ""))
    }

    @Test("The system generator makes 6 digits, not all alike")
    func generator() {
        let codes = (0..<200).map { _ in CodeGenerator.system.makeCode() }
        #expect(codes.allSatisfy(CodeGenerator.isWellFormed))
        #expect(Set(codes).count > 150)
        #expect(CodeGenerator.format(42) == "000042")
    }
}
