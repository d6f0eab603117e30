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
            admin.createTopics(specs.stream().map(TopicSpec::toNewTopic).toList())
                    .all().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
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

    private static String names(Collection<TopicSpec> specs) {
        return specs.stream().map(TopicSpec::name).toList().toString();
    }
}
