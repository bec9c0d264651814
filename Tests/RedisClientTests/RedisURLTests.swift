import RedisClient
import Testing

@Suite struct RedisURLTests {
    @Test func readsEveryPart() throws {
        let full = try RedisClient.Configuration(url: "redis://app:p%40ss%3Aword@cache.internal:6380/3")
        #expect(full.host == "cache.internal" && full.port == 6380 && full.database == 3)
        #expect(full.username == "app" && full.password == "p@ss:word")
        let passwordOnly = try RedisClient.Configuration(url: "redis://:secret@127.0.0.1")
        #expect(passwordOnly.username == nil && passwordOnly.password == "secret" && passwordOnly.port == 6379 && passwordOnly.database == 0)
    }

    @Test func refusesWhatItCannotUseWithoutShowingThePassword() {
        for bad in ["rediss://:secret@host", "http://host", "redis://:secret@host/x", "redis:///0", "no url"] {
            let error = #expect(throws: RedisURLError.self) { try RedisClient.Configuration(url: bad) }
            #expect(error?.description.contains("secret") == false)
        }
    }
}
