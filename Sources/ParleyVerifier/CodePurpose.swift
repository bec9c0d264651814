/// What a verification code is for. A code issued for one purpose is never accepted for another.
public enum CodePurpose: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Proving an email address before an account is created with it.
    case register
    /// Proving access to an account's email address before its password is changed.
    case reset

    /// `register` or `reset`, as in the store's keys.
    public var description: String { self.rawValue }
}
