/// Every schema migration this build of Parley knows, oldest first.
///
/// Append new migrations at the end with the next version; never edit or remove one that
/// has shipped, since databases record which versions they have applied.
public enum Migrations {
    /// All known migrations, in version order.
    public static let all: [Migration] = [
        Migration(
            version: 1,
            name: "users, sessions and posts",
            sqlite: [
                """
                CREATE TABLE users (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    username TEXT NOT NULL,
                    username_key TEXT NOT NULL UNIQUE,
                    password_hash TEXT NOT NULL,
                    created_at INTEGER NOT NULL
                )
                """,
                """
                CREATE TABLE sessions (
                    token_hash TEXT PRIMARY KEY,
                    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
                    expires_at INTEGER NOT NULL
                )
                """,
                "CREATE INDEX sessions_expires_at ON sessions(expires_at)",
                "CREATE INDEX sessions_user_id ON sessions(user_id)",
                """
                CREATE TABLE posts (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    author TEXT NOT NULL,
                    user_id INTEGER NULL REFERENCES users(id) ON DELETE SET NULL,
                    title TEXT NOT NULL,
                    body TEXT NOT NULL,
                    created_at INTEGER NOT NULL
                )
                """,
                "CREATE INDEX posts_user_id ON posts(user_id)",
            ]
        )
    ]

    /// The highest schema version this build knows.
    public static var latestVersion: Int { Self.all.last?.version ?? 0 }
}
