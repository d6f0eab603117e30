package dev.sacrag.kvstore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import dev.sacrag.core.kv.AnchorKvCodec;
import dev.sacrag.stack.RedisServer;

class RedisKeysTest {

    private static RedisServer redis;

    @BeforeAll
    static void startRedis() {
        // Redis 7.0 answers CLUSTER KEYSLOT only with cluster support on; a lone node with no
        // slots assigned is enough for that.
        redis = RedisServer.launch(RedisServer.Options.defaults().withClusterEnabled());
    }

    @AfterAll
    static void stopRedis() {
        redis.close();
    }

    static Stream<BlobKey> trickyKeys() {
        return Stream.of(
                BlobKey.of("acme", "3f9a0c1d2e4b", "handbook.md", 1718000000000L),
                BlobKey.of("t", "m", "docs/a:b:c.txt", 0),
                BlobKey.of("t", "m", "{already-braced}", 7),
                BlobKey.of("t", "m", "}{", 7),
                BlobKey.of("t", "m", "100%", 1),
                BlobKey.of("t", "m", "%7B", 1),
                BlobKey.of("t", "m", "glob*?[x]\\y", 1),
                BlobKey.of("tenant:with:colons", "model{1}", "Zürich – 東京 🚀", Long.MAX_VALUE),
                BlobKey.of("t", "m", "https://example.org/a?b=c#d", 42),
                BlobKey.of("t", "m", " spaces and\ttabs\n", 3),
                new BlobKey("t", 0, "m", "old-format", 5));
    }

    @ParameterizedTest
    @MethodSource("trickyKeys")
    void everyKeyParsesBackToItsParts(BlobKey key) {
        String redisKey = key.redisKey();
        assertEquals(key, RedisKeys.parse(redisKey));
        assertEquals(redisKey, RedisKeys.build(RedisKeys.parse(redisKey)));
    }

    @ParameterizedTest
    @MethodSource("trickyKeys")
    void theOnlyBracesAreTheHashTagAroundTheDocId(BlobKey key) {
        String redisKey = key.redisKey();
        assertEquals(1, redisKey.chars().filter(c -> c == '{').count(), redisKey);
        assertEquals(1, redisKey.chars().filter(c -> c == '}').count(), redisKey);
        assertTrue(redisKey.contains(":{" + RedisKeys.escape(key.docId()) + "}:"), redisKey);
    }

    @ParameterizedTest
    @MethodSource("trickyKeys")
    void hashSlotIsCrc16OfTheDocIdTagAndMatchesRedis(BlobKey key) {
        String redisKey = key.redisKey();
        byte[] tag = RedisKeys.escape(key.docId()).getBytes(StandardCharsets.UTF_8);
        int expected = Crc16.xmodem(tag, 0, tag.length) % RedisKeys.CLUSTER_SLOTS;
        assertEquals(expected, RedisKeys.hashSlot(redisKey));
        // The real server is the reference implementation.
        assertEquals((long) expected, redis.call("CLUSTER", "KEYSLOT", redisKey));
    }

    @Test
    void allVersionsAndModelsOfADocumentShareOneSlot() {
        int slot = RedisKeys.hashSlot(RedisKeys.blobKey("acme", "model-a", "doc-1", 1));
        assertEquals(slot, RedisKeys.hashSlot(RedisKeys.blobKey("acme", "model-b", "doc-1", 99)));
        assertEquals(slot, RedisKeys.hashSlot(new BlobKey("acme", 9, "model-a", "doc-1", 2).redisKey()));
    }

    @Test
    void crc16MatchesTheXmodemCheckValueAndRedisForKeysWithoutTags() {
        byte[] check = "123456789".getBytes(StandardCharsets.US_ASCII);
        assertEquals(0x31C3, Crc16.xmodem(check, 0, check.length));
        for (String key : new String[] {"123456789", "foo", "{}bar", "a{}{b}", "x{y", "été"}) {
            assertEquals((long) RedisKeys.hashSlot(key), redis.call("CLUSTER", "KEYSLOT", key), key);
        }
    }

    @Test
    void blobKeyUsesTheCodecFormatVersion() {
        String key = RedisKeys.blobKey("acme", "3f9a", "handbook.md", 1718000000000L);
        assertEquals("sac:acme:kv:v" + AnchorKvCodec.FORMAT_VERSION + ":3f9a:{handbook.md}:1718000000000", key);
    }

    @Test
    void specialCharactersArePercentEncodedAndNothingElse() {
        assertEquals("a%3Ab%7Bc%7Dd%25e%2A%3F%5B%5D%5C", RedisKeys.escape("a:b{c}d%e*?[]\\"));
        assertEquals("Zürich/東京 ok", RedisKeys.escape("Zürich/東京 ok"));
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "",
        "sac:t:kv:v1:m:{d}",                  // missing version
        "sac:t:kv:v1:m:{d}:1:extra",
        "xyz:t:kv:v1:m:{d}:1",
        "sac:t:blob:v1:m:{d}:1",
        "sac:t:kv:1:m:{d}:1",                 // format without v
        "sac:t:kv:v1:m:d:1",                  // no hash tag
        "sac:t:kv:v1:m:{}:1",                 // empty doc id
        "sac::kv:v1:m:{d}:1",                 // empty tenant
        "sac:t:kv:v1:m:{d}:-1",
        "sac:t:kv:v1:m:{d}:01",               // leading zero: not canonical
        "sac:t:kv:v01:m:{d}:1",
        "sac:t:kv:v1:m:{d%7b}:1",             // lower-case hex: not canonical
        "sac:t:kv:v1:m:{d%41}:1",             // escapes a plain 'A'
        "sac:t:kv:v1:m:{d%7}:1",              // truncated escape
        "sac:t:kv:v1:m:{d%zz}:1",
        "sac:t:kv:v1:m:{d{x}:1",              // raw brace inside the tag
        "sac:t:kv:v1:m:{d}:99999999999999999999"})
    void rejectsAnythingButACanonicalBlobKey(String key) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RedisKeys.parse(key));
        assertTrue(e.getMessage().startsWith("'" + key + "' is not an anchor-KV blob key"), e.getMessage());
    }

    @Test
    void refusesEmptyIdsAndNegativeVersions() {
        assertThrows(IllegalArgumentException.class, () -> BlobKey.of("", "m", "d", 1));
        assertThrows(IllegalArgumentException.class, () -> BlobKey.of("t", "", "d", 1));
        IllegalArgumentException emptyDoc = assertThrows(IllegalArgumentException.class, () -> BlobKey.of("t", "m", "", 1));
        assertEquals("docId must not be empty", emptyDoc.getMessage());
        assertThrows(IllegalArgumentException.class, () -> BlobKey.of("t", "m", "d", -1));
        assertThrows(NullPointerException.class, () -> BlobKey.of("t", "m", null, 1));
    }

    @Test
    void blobPatternNamesOneTenantEscapedOrEvery() {
        assertEquals("sac:acme:kv:v*:*:{*}:*", RedisKeys.blobPattern(java.util.Optional.of("acme")));
        assertEquals("sac:a%2Ab:kv:v*:*:{*}:*", RedisKeys.blobPattern(java.util.Optional.of("a*b")));
        assertEquals("sac:*:kv:v*:*:{*}:*", RedisKeys.blobPattern(java.util.Optional.empty()));
        assertThrows(IllegalArgumentException.class, () -> RedisKeys.blobPattern(java.util.Optional.of("")));
    }

    @Test
    void modelPatternEscapesGlobCharactersSoOnlyItsOwnWildcardsRemain() {
        assertEquals("sac:*:kv:v*:3f9a0c1d2e4b:{*}:*", RedisKeys.modelPattern("3f9a0c1d2e4b"));
        assertEquals("sac:*:kv:v*:m%2A%3A:{*}:*", RedisKeys.modelPattern("m*:"));
        assertThrows(IllegalArgumentException.class, () -> RedisKeys.modelPattern(""));
    }

    @Test
    void docPatternEscapesGlobCharactersSoOnlyItsOwnWildcardsRemain() {
        assertEquals("sac:acme:kv:v*:*:{a%2A%3F%5Bb%5D}:*", RedisKeys.docPattern("acme", "a*?[b]"));
        assertFalse(RedisKeys.docPattern("t%", "d").contains("t%:"), "the % of a tenant is escaped too");
    }
}
