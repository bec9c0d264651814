/// Makes the 6-digit codes; injected so that tests can choose them.
public struct CodeGenerator: Sendable {
    private let make: @Sendable () -> String

    /// A generator that returns what `make` returns; each result must be exactly 6 ASCII digits.
    public init(_ make: @escaping @Sendable () -> String) {
        self.make = make
    }

    /// Uniform codes `000000`…`999999` from the operating system's CSPRNG
    /// (`SystemRandomNumberGenerator`; `random(in:)` has no modulo bias).
    public static var system: CodeGenerator {
        CodeGenerator {
            var generator = SystemRandomNumberGenerator()
            return Self.format(UInt32.random(in: 0..<1_000_000, using: &generator))
        }
    }

    /// A new code.
    public func makeCode() -> String {
        self.make()
    }

    /// `value` as 6 digits with leading zeros.
    static func format(_ value: UInt32) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, 6 - digits.count)) + digits
    }

    /// Whether `code` is exactly 6 ASCII digits.
    static func isWellFormed(_ code: String) -> Bool {
        code.utf8.count == 6 && code.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
    }
}
