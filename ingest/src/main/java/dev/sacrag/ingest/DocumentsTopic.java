package dev.sacrag.ingest;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

/**
 * Looks at the documents topic before {@code sac ingest} or {@code sac delete} sends to it. A
 * topic that does not exist is an error named as such: without the check, a broker that does not
 * create topics made every send wait out the timeout and fail as "is the broker reachable?", and
 * one that does created a plain topic with a 1 MiB record limit and reported success. A topic
 * that exists but is not compacted, or takes smaller records than the documents allowed, is a
 * warning: the documents still go, but old versions are never compacted away (deletes do not
 * remove a document from the topic), or a large document is refused.
 */
public final class DocumentsTopic {

    private DocumentsTopic() {
    }

    /**
     * @param largestRecordBytes the largest record a document within the limits makes
     *     ({@link DocumentPublisher.Options#maxRequestBytes()})
     * @return warnings, empty when the topic is as the product expects
     * @throws IllegalStateException when the topic does not exist or no broker answers within {@code timeout}
     */
    public static List<String> check(String bootstrapServers, String topic, long largestRecordBytes, Duration timeout)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();   // one for both calls: --timeout is in all
        int millis = (int) Math.max(1, Math.min(Integer.MAX_VALUE, timeout.toMillis()));
        Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                AdminClientConfig.CLIENT_ID_CONFIG, "sac-ingest-check",
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, Math.min(millis, 30_000),
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, millis));
        try {
            describe(admin, topic, deadline);
            ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
            Config config;
            try {
                config = admin.describeConfigs(List.of(resource)).all().get(left(deadline), TimeUnit.NANOSECONDS)
                        .get(resource);
            } catch (ExecutionException e) {
                if (e.getCause() instanceof org.apache.kafka.common.errors.AuthorizationException) {
                    // a principal that may write but not read configs (DescribeConfigs) published before
                    return List.of("cannot read the configuration of " + topic + " (no DescribeConfigs permission):"
                            + " its compaction and record size are not checked");
                }
                throw e;
            }
            return warnings(topic, config, largestRecordBytes);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof UnknownTopicOrPartitionException) {
                throw new IllegalStateException("the documents topic " + topic + " does not exist on " + bootstrapServers
                        + ": create it (compacted" + (largestRecordBytes > 0 ? ", max.message.bytes at least "
                        + largestRecordBytes : "") + ") or name the one in use with --documents-topic");
            }
            if (e.getCause() instanceof org.apache.kafka.common.errors.TimeoutException) {
                throw noAnswer(bootstrapServers, timeout, e.getCause());
            }
            throw new IllegalStateException("cannot look at the documents topic " + topic + " on " + bootstrapServers
                    + ": " + (e.getCause().getMessage() != null ? e.getCause().getMessage()
                    : e.getCause().getClass().getSimpleName()), e.getCause());
        } catch (TimeoutException e) {
            throw noAnswer(bootstrapServers, timeout, e);
        } finally {
            admin.close(Duration.ZERO);   // nothing of its own to finish: do not wait on a broker that did not answer
        }
    }

    /** How long a topic the broker does not know yet is asked for again: one just created may not have reached it. */
    static final Duration MISSING_TOPIC_GRACE = Duration.ofSeconds(3);

    private static void describe(Admin admin, String topic, long deadline)
            throws ExecutionException, TimeoutException, InterruptedException {
        long graceEnd = System.nanoTime() + MISSING_TOPIC_GRACE.toNanos();
        while (true) {
            try {
                admin.describeTopics(List.of(topic)).allTopicNames().get(left(deadline), TimeUnit.NANOSECONDS);
                return;
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof UnknownTopicOrPartitionException)
                        || System.nanoTime() - graceEnd >= 0 || deadline - System.nanoTime() < 200_000_000L) {
                    throw e;
                }
                Thread.sleep(100);
            }
        }
    }

    private static long left(long deadline) {
        return Math.max(0, deadline - System.nanoTime());
    }

    static List<String> warnings(String topic, Config config, long largestRecordBytes) {
        List<String> warnings = new ArrayList<>();
        ConfigEntry policy = config.get(TopicConfig.CLEANUP_POLICY_CONFIG);
        if (policy == null || !policy.value().contains(TopicConfig.CLEANUP_POLICY_COMPACT)) {
            warnings.add("the documents topic " + topic + " is not compacted (cleanup.policy="
                    + (policy == null ? "delete" : policy.value()) + "): every version of a document stays on it, and a"
                    + " delete does not remove the document from it");
        }
        ConfigEntry max = config.get(TopicConfig.MAX_MESSAGE_BYTES_CONFIG);
        if (max != null && Long.parseLong(max.value()) < largestRecordBytes) {
            warnings.add("the documents topic " + topic + " takes records of at most " + max.value()
                    + " bytes (max.message.bytes): a document near --max-doc-bytes makes one of up to " + largestRecordBytes
                    + " and would be refused; raise it (and the brokers' message.max.bytes) or lower --max-doc-bytes");
        }
        return warnings;
    }

    private static IllegalStateException noAnswer(String bootstrapServers, Duration timeout, Throwable cause) {
        return new IllegalStateException("no broker at " + bootstrapServers + " answered within --timeout "
                + timeout.toSeconds() + "s (is it running, and is that its address?)", cause);
    }
}
