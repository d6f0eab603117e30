package dev.sacrag.stack;

import java.time.Duration;
import java.util.Collection;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;

/** Creates topics on any broker of the local stack (embedded or container) through the Admin API. */
final class Topics {

    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private Topics() {
    }

    static void create(String bootstrapServers, Collection<TopicSpec> specs) {
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers))) {
            long deadline = System.nanoTime() + TIMEOUT.toNanos();
            admin.createTopics(specs.stream().map(TopicSpec::toNewTopic).toList())
                    .all().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            awaitKnown(admin, specs.stream().map(TopicSpec::name).toList(), deadline);
        } catch (ExecutionException e) {
            throw new IllegalStateException("creating topics " + names(specs) + " on " + bootstrapServers + " failed", e.getCause());
        } catch (TimeoutException e) {
            throw new IllegalStateException("creating topics " + names(specs) + " on " + bootstrapServers
                    + " took longer than " + TIMEOUT, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while creating topics " + names(specs), e);
        }
    }

    /**
     * Until the broker's metadata has the topics: the controller answers a creation before the
     * broker learns of it, and a describe right after (a caller reading a topic's config, the
     * compressor's start-up check) could get UnknownTopicOrPartition for a moment.
     */
    private static void awaitKnown(Admin admin, java.util.List<String> names, long deadline)
            throws ExecutionException, InterruptedException, TimeoutException {
        while (true) {
            try {
                admin.describeTopics(names).allTopicNames().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                return;
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof org.apache.kafka.common.errors.UnknownTopicOrPartitionException)
                        || System.nanoTime() - deadline > 0) {
                    throw e;
                }
                Thread.sleep(50);
            }
        }
    }

    private static String names(Collection<TopicSpec> specs) {
        return specs.stream().map(TopicSpec::name).toList().toString();
    }
}
