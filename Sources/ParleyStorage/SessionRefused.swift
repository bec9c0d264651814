import ParleyCore

/// Why a session was not opened: the account is gone, or its password was reset after it was checked.
enum SessionRefused {
    static let error = ParleyError(.invalidCredentials, "The password of this account was just changed; log in again.")
}
