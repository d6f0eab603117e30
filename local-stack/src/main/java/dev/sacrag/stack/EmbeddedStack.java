package dev.sacrag.stack;

/** {@link LocalStack.Kind#EMBEDDED}: an in-process broker and a redis-server child process. */
final class EmbeddedStack implements LocalStack {

    private final EmbeddedKafka kafka;
    private final RedisServer redis;

    private EmbeddedStack(EmbeddedKafka kafka, RedisServer redis) {
        this.kafka = kafka;
        this.redis = redis;
    }

    static EmbeddedStack start(RedisServer.Options redisOptions) {
        // Redis first: it fails fast (not installed) before the slower broker start.
        RedisServer redis = RedisServer.launch(redisOptions);
        try {
            return new EmbeddedStack(EmbeddedKafka.start(), redis);
        } catch (RuntimeException e) {
            redis.close();
            throw e;
        }
    }

    @Override
    public Kind kind() {
        return Kind.EMBEDDED;
    }

    @Override
    public String bootstrapServers() {
        return kafka.bootstrapServers();
    }

    @Override
    public String redisUrl() {
        return redis.url();
    }

    @Override
    public void stopRedis() {
        redis.stop();
    }

    @Override
    public void startRedis() {
        redis.start();
    }

    @Override
    public void flushRedis() {
        redis.flushAll();
    }

    @Override
    public void ownerClosesOnExit(java.time.Duration maxWait) {
        kafka.ownerClosesOnExit(maxWait);
        redis.ownerClosesOnExit(maxWait);
    }

    @Override
    public void close() {
        try {
            kafka.close();
        } finally {
            redis.close();
        }
    }
}
