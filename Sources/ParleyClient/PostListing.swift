import Foundation
import ParleyCore

/// Posts as text for a terminal: author, local time, title and body, with every
/// character that could drive the terminal (escape sequences, bidi overrides) made visible
/// instead of obeyed.
public enum PostListing {
    /// The page as text, newest first, followed by how to get the next page when there is one:
    /// the command, with `options` (those of the command that listed this page, such as
    /// `--limit 5`, to keep).
    public static func render(_ page: PostPage, timeZone: TimeZone = .current, options: [String] = []) -> String {
        guard !page.posts.isEmpty else {
            return page.next == nil ? "No posts yet.\n" : "No posts on this page.\n"
        }
        var text = page.posts.map { Self.render($0, timeZone: timeZone) }.joined(separator: "\n")
        if let next = page.next {
            text += "\nMore: " + (["parley", "board", "list"] + options + ["--before", "\(next)"]).joined(separator: " ") + "\n"
        }
        return text
    }

    /// One post: a header line `#ID  AUTHOR  TIME`, the title, then the body indented.
    public static func render(_ post: Post, timeZone: TimeZone = .current) -> String {
        let header = "#\(post.id)  \(Self.sanitize(post.author, keepNewlines: false))  \(Self.localTime(post.createdAt, timeZone: timeZone))"
        let title = Self.sanitize(post.title, keepNewlines: false)
        let body = Self.sanitize(post.body, keepNewlines: true)
            .split(separator: "\n", omittingEmptySubsequences: false)
            .map { "    " + $0 }
            .joined(separator: "\n")
        return "\(header)\n  \(title)\n\(body)\n"
    }

    /// `2026-11-28 13:40` in `timeZone`.
    public static func localTime(_ date: Date, timeZone: TimeZone = .current) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = timeZone
        formatter.dateFormat = "yyyy-MM-dd HH:mm"
        return formatter.string(from: date)
    }

    /// Replaces control characters (other than tab, and newline when `keepNewlines`) and
    /// bidirectional-override characters with U+FFFD, so user text cannot move the cursor,
    /// change colours or reorder what is shown.
    public static func sanitize(_ text: String, keepNewlines: Bool) -> String {
        var result = String.UnicodeScalarView()
        let normalized = text.replacingOccurrences(of: "\r\n", with: "\n")
        for scalar in normalized.unicodeScalars {
            if scalar == "\t" || (keepNewlines && scalar == "\n") {
                result.append(scalar)
            } else if scalar.properties.generalCategory == .control || Self.isBidiControl(scalar)
                || scalar == "\u{2028}" || scalar == "\u{2029}"
            {
                result.append("\u{FFFD}")
            } else {
                result.append(scalar)
            }
        }
        return String(result)
    }

    private static func isBidiControl(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x200E, 0x200F, 0x061C, 0x202A...0x202E, 0x2066...0x2069: true
        default: false
        }
    }
}
