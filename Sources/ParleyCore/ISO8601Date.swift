import Foundation

/// Stores a `Date` and codes it as an ISO 8601 string with milliseconds, in UTC
/// (`2026-11-28T12:40:28.123Z`), whatever date strategy the coder has.
@propertyWrapper
public struct ISO8601Date: Sendable, Hashable, Codable {
    /// The date.
    public var wrappedValue: Date

    /// Wraps a date.
    public init(wrappedValue: Date) { self.wrappedValue = wrappedValue }

    private static let style = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

    /// The ISO 8601 text of a date.
    public static func format(_ date: Date) -> String { date.formatted(Self.style) }

    /// Parses ISO 8601 text with or without fractional seconds.
    public static func parse(_ text: String) -> Date? {
        (try? Self.style.parse(text)) ?? (try? Date.ISO8601FormatStyle().parse(text))
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let date = Self.parse(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an ISO 8601 date: \(text)"))
        }
        self.wrappedValue = date
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(Self.format(self.wrappedValue))
    }
}
