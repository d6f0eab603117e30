package dev.sacrag.cli.warming;

import java.time.Duration;

/**
 * The Kafka brokers a command reads and writes, and how long it waits for one of them to answer
 * (a topic's partitions, a topic created, an acknowledgement, a group's offsets): its --timeout,
 * so that with no broker there the command ends after that long, not after the clients' defaults.
 * Reading a whole topic may take longer ({@link TopicScan#readTimeout}).
 */
public record Brokers(String bootstrapServers, Duration timeout) {

    /**
     * For a command whose --timeout bounds a longer run (warm's: every document compressed, 30
     * minutes by default; docs sweep's: reading a topic to its end, 2 minutes): that timeout when
     * shorter than a scan's wait for a topic's partitions ({@link TopicScan#METADATA_TIMEOUT}),
     * else that wait.
     */
    public static Brokers within(String bootstrapServers, Duration runTimeout) {
        Duration answer = TopicScan.METADATA_TIMEOUT;
        return new Brokers(bootstrapServers, runTimeout.compareTo(answer) < 0 ? runTimeout : answer);
    }

    /**
     * The broker's answer to {@code asked}, waited for {@link #timeout}: none in time, whether this
     * wait or the client's own gave up, is {@link #noAnswer}.
     *
     * @throws java.util.concurrent.ExecutionException the broker answered with another failure: the caller's to read
     */
    <T> T await(org.apache.kafka.common.KafkaFuture<T> answer, String asked)
            throws InterruptedException, java.util.concurrent.ExecutionException {
        try {
            return answer.get(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
            throw noAnswer(asked, e);
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof org.apache.kafka.common.errors.TimeoutException) {
                throw noAnswer(asked, e.getCause());
            }
            throw e;
        }
    }

    /** @param asked what was asked, e.g. "when asked to create topic sac.control" */
    IllegalStateException noAnswer(String asked, Throwable cause) {
        return BoundedClients.noBroker(bootstrapServers,
                asked + " within " + dev.sacrag.metrics.Durations.shown(timeout), cause);
    }
}
