import ParleyCore

/// The errors of `ChatRepository`, the same words on every engine.
enum ChatErrors {
    /// A friend request to oneself.
    static let selfRequest = ParleyError(.selfRequest, "You cannot send a friend request to yourself.")
    /// No account with that id.
    static let noSuchUser = ParleyError(.notFound, "There is no such user.")
    /// A friend request to a friend.
    static let alreadyFriends = ParleyError(.alreadyFriends, "You are already friends.")
    /// A request between the two is pending; `byCaller` when the caller sent it.
    static func alreadyRequested(byCaller: Bool) -> ParleyError {
        byCaller
            ? ParleyError(.alreadyRequested, "You have already asked them.")
            : ParleyError(.alreadyRequested, "They have already asked you: accept their request.")
    }
    /// No pending request with that id involves the caller.
    static let noSuchRequest = ParleyError(.notFound, "There is no such friend request.")
    /// The caller tried to accept or decline a request they sent.
    static let ownRequest = ParleyError(.forbidden, "Only the person you asked can answer your request.")
    /// After an accept or a decline of request `from` → `to` (now in `status`) changed nothing:
    /// returns when `userID` is its target and it is `answer` already (a retry), else throws
    /// ``ownRequest`` for its sender while it is pending, ``noSuchRequest`` otherwise.
    static func checkAnswered(by userID: Int64, as answer: FriendRequestStatus, from: Int64, to: Int64, status: String) throws {
        if to == userID, status == answer.rawValue { return }
        if from == userID, status == FriendRequestStatus.pending.rawValue { throw Self.ownRequest }
        throw Self.noSuchRequest
    }
    /// A text to someone who is not a friend.
    static let notFriends = ParleyError(.notFriends, "You can only send texts to your friends.")
    /// The conversation does not exist, or the user is not in it.
    static let noSuchConversation = ParleyError(.notFound, "There is no such conversation.")
}
