package dev.sacrag.stack;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.List;

import org.apache.kafka.common.utils.AppInfoParser;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.kafka.KafkaContainer;
import org.testcontainers.utility.DockerImageName;

/**
 * {@link LocalStack.Kind#CONTAINERS}: Kafka and Redis in Docker through Testcontainers, for
 * machines that have Docker and want the official images. Configured like the embedded stack
 * (6 default partitions, no topic auto-creation, no Redis persistence) so the same tests hold.
 */
final class ContainerStack implements LocalStack {

    static final String NO_DOCKER = "-Dsac.stack=containers needs a running Docker daemon, but Testcontainers"
            + " found none (%s). Start Docker, or use the default embedded stack (-Dsac.stack=embedded:"
            + " an in-process Kafka broker and a redis-server process, no Docker needed).";
    /** Same Kafka version as the client jars on the class path, so both stacks run one broker version. */
    static final String KAFKA_IMAGE = "apache/kafka:" + AppInfoParser.getVersion();
    static final String REDIS_IMAGE = "redis:7";
    private static final int REDIS_PORT = 6379;
    private static final Duration REDIS_START_TIMEOUT = Duration.ofSeconds(30);

    private final KafkaContainer kafka;
    private final GenericContainer<?> redis;
    private final int redisHostPort;

    private ContainerStack(KafkaContainer kafka, GenericContainer<?> redis, int redisHostPort) {
        this.kafka = kafka;
        this.redis = redis;
        this.redisHostPort = redisHostPort;
    }

    static ContainerStack start(RedisServer.Options redisOptions) {
        requireDocker();
        if (redisOptions.clusterEnabled()) {
            throw new IllegalArgumentException("the containers stack runs a single Redis; use LocalRedisCluster for cluster tests");
        }
        KafkaContainer kafka = new KafkaContainer(DockerImageName.parse(KAFKA_IMAGE))
                .withEnv("KAFKA_NUM_PARTITIONS", "6")
                .withEnv("KAFKA_AUTO_CREATE_TOPICS_ENABLE", "false")
                // as EmbeddedKafka: timed-out transactions aborted within a second, no join delay
                .withEnv("KAFKA_TRANSACTION_ABORT_TIMED_OUT_TRANSACTION_CLEANUP_INTERVAL_MS", "1000")
                .withEnv("KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS", "0");
        // A fixed host port (chosen free here) rather than Docker's random one: a stopped and
        // restarted container must come back at the same address, like an outage in production.
        int hostPort = FreePort.pick();
        GenericContainer<?> redis = new GenericContainer<>(DockerImageName.parse(REDIS_IMAGE))
                .withExposedPorts(REDIS_PORT)
                .withCommand(redisCommand(redisOptions));
        redis.setPortBindings(List.of(hostPort + ":" + REDIS_PORT));
        try {
            kafka.start();
            redis.start();
            return new ContainerStack(kafka, redis, hostPort);
        } catch (RuntimeException e) {
            redis.stop();
            kafka.stop();
            throw e;
        }
    }

    private static void requireDocker() {
        try {
            DockerClientFactory.instance().client();
        } catch (RuntimeException e) {
            throw new IllegalStateException(String.format(NO_DOCKER, e.getMessage()), e);
        }
    }

    private static String[] redisCommand(RedisServer.Options options) {
        return new String[] {"redis-server", "--save", "", "--appendonly", "no",
            "--maxmemory", Long.toString(options.maxMemoryBytes()),
            "--maxmemory-policy", options.evictionPolicy().redisName()};
    }

    @Override
    public Kind kind() {
        return Kind.CONTAINERS;
    }

    @Override
    public String bootstrapServers() {
        return kafka.getBootstrapServers();
    }

    @Override
    public String redisUrl() {
        return "redis://" + redis.getHost() + ":" + redisHostPort;
    }

    @Override
    public void stopRedis() {
        redis.getDockerClient().stopContainerCmd(redis.getContainerId()).exec();
    }

    @Override
    public void startRedis() {
        redis.getDockerClient().startContainerCmd(redis.getContainerId()).exec();
        long deadline = System.nanoTime() + REDIS_START_TIMEOUT.toNanos();
        while (!answersPing()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("Redis container did not answer PING within " + REDIS_START_TIMEOUT);
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while restarting the Redis container", e);
            }
        }
    }

    private boolean answersPing() {
        try (RespConnection c = new RespConnection(redis.getHost(), redisHostPort, Duration.ofSeconds(1))) {
            return "PONG".equals(c.call("PING"));
        } catch (IOException | UncheckedIOException | RespConnection.RedisErrorReply notYet) {
            return false; // container still starting
        }
    }

    @Override
    public void flushRedis() {
        try (RespConnection c = new RespConnection(redis.getHost(), redisHostPort, Duration.ofSeconds(5))) {
            c.call("FLUSHALL");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot reach the Redis container at " + redisUrl(), e);
        }
    }

    @Override
    public void close() {
        try {
            kafka.stop();
        } finally {
            redis.stop();
        }
    }
}
