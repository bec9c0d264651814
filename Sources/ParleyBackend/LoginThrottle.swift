import Foundation
import ParleyCore
import Synchronization

/// Limits failed logins: per account and per client address, a fixed window that opens at the
/// first failure. While a key has used up its failures, every login for it is refused, right
/// password or not, with the time left, so a password cannot be guessed faster than the limit.
///
/// Kept in memory: the leader backend is the only one serving logins. At most `capacity` keys are
/// remembered; when full, expired windows are dropped first, then the oldest.
final class LoginThrottle: Sendable {
    struct Rule: Sendable {
        /// Failures allowed in one window.
        var failures: Int
        /// How long a window lasts from its first failure.
        var window: TimeInterval
    }

    /// 10 failures per account in 15 minutes.
    static let accountRule = Rule(failures: 10, window: 15 * 60)
    /// 50 failures per client address in 15 minutes.
    static let clientRule = Rule(failures: 50, window: 15 * 60)

    private struct Entry {
        var count: Int
        var opened: Date
    }

    private let accountRule: Rule
    private let clientRule: Rule
    private let capacity: Int
    private let entries = Mutex<[String: Entry]>([:])

    init(account: Rule = LoginThrottle.accountRule, client: Rule = LoginThrottle.clientRule, capacity: Int = 100_000) {
        self.accountRule = account
        self.clientRule = client
        self.capacity = capacity
    }

    /// Starts a login attempt: throws `rate_limited` with "try again in N s" when the account or
    /// the client address has no failures left, else counts the attempt as a failure right away,
    /// under one lock, so that guesses sent all at once are counted before any is checked.
    /// ``succeeded(account:client:)`` takes the count back.
    func attempt(account: String?, client: String?, now: Date) throws(ParleyError) {
        let refusal = self.entries.withLock { entries -> ParleyError? in
            if let account, let wait = Self.wait(entries, key: "a:" + account, rule: self.accountRule, now: now) {
                return ParleyError(.rateLimited, "Too many failed logins for this account; try again in \(wait) s.")
            }
            if let client, let wait = Self.wait(entries, key: "c:" + client, rule: self.clientRule, now: now) {
                return ParleyError(.rateLimited, "Too many failed logins from your network address; try again in \(wait) s.")
            }
            if let account { Self.count("a:" + account, rule: self.accountRule, now: now, in: &entries) }
            if let client { Self.count("c:" + client, rule: self.clientRule, now: now, in: &entries) }
            if entries.count > self.capacity {
                Self.prune(&entries, now: now, keep: self.capacity, longest: max(self.accountRule.window, self.clientRule.window))
            }
            return nil
        }
        if let refusal { throw refusal }
    }

    /// A login succeeded: forgets the account's failures and takes back the client's count of this attempt.
    func succeeded(account: String, client: String?) {
        self.entries.withLock { entries in
            entries["a:" + account] = nil
            if let client, let count = entries["c:" + client]?.count { entries["c:" + client]?.count = max(0, count - 1) }
        }
    }

    /// Forgets the failures of these account keys (after a password reset).
    func clear(accounts: [String]) {
        self.entries.withLock { entries in
            for account in accounts { entries["a:" + account] = nil }
        }
    }

    /// Whole seconds until `key` may try again, or `nil` when it may now.
    private static func wait(_ entries: [String: Entry], key: String, rule: Rule, now: Date) -> Int? {
        guard let entry = entries[key] else { return nil }
        let end = entry.opened.addingTimeInterval(rule.window)
        guard end > now, entry.count >= rule.failures else { return nil }
        return max(1, Int(end.timeIntervalSince(now).rounded(.up)))
    }

    private static func count(_ key: String, rule: Rule, now: Date, in entries: inout [String: Entry]) {
        if let entry = entries[key], entry.opened.addingTimeInterval(rule.window) > now {
            entries[key]?.count += 1
        } else {
            entries[key] = Entry(count: 1, opened: now)
        }
    }

    private static func prune(_ entries: inout [String: Entry], now: Date, keep: Int, longest: TimeInterval) {
        entries = entries.filter { $0.value.opened.addingTimeInterval(longest) > now }
        if entries.count > keep {
            let oldest = entries.sorted { $0.value.opened < $1.value.opened }.prefix(entries.count - keep).map(\.key)
            for key in oldest { entries[key] = nil }
        }
    }
}
