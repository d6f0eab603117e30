package dev.sacrag.compressor;

import dev.sacrag.schemas.CatalogKey;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Checks the compressor's topics before the stream starts, so that a missing topic, a recompress
 * topic partitioned unlike the documents topic, a documents or catalog topic that is not
 * compacted, a dead-letter topic that accepts smaller records than the documents topic, or a
 * store changelog that takes smaller records than the document limits need, fails
 * at start with what to fix — instead of a Streams error state, requests silently served by a
 * task that lacks the document, documents deleted by retention (the documents topic is the
 * source of truth: retrieval, rebuilds and rollouts read it from the start), or a dead letter
 * the broker refuses forever.
 */
final class TopicPreflight {

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(TopicPreflight.class);

    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final Duration MISSING_TOPIC_GRACE = Duration.ofSeconds(3);

    private TopicPreflight() {
    }

    /**
     * @param applicationId the compressor's: its latest-documents changelog, where it exists, must
     *     take records of {@code storedDocumentBytes}
     * @return the dead-letter topic's max.message.bytes
     */
    static long check(String bootstrapServers, CompressorTopics topics, String applicationId, int storedDocumentBytes,
                      Duration sessionTimeout) {
        Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, Math.toIntExact(TIMEOUT.toMillis())));
        try {
            Map<String, Integer> partitions = describe(admin, topics);
            List<String> missing = topics.all().stream().filter(t -> !partitions.containsKey(t)).toList();
            if (!missing.isEmpty()) {
                throw new IllegalStateException("topics " + missing + " do not exist on " + bootstrapServers
                        + ": create them (" + topics.documents() + " and " + topics.catalog() + " compacted, "
                        + topics.recompress() + " with as many partitions as " + topics.documents() + ")");
            }
            int documents = partitions.get(topics.documents());
            int recompress = partitions.get(topics.recompress());
            if (documents != recompress) {
                throw new IllegalStateException(topics.recompress() + " has " + recompress + " partitions but "
                        + topics.documents() + " has " + documents + ": they must match, because a recompress request is"
                        + " served by the task that owns the document's partition");
            }
            Map<String, Config> configs = configs(admin, topics.documents(), topics.catalog(), topics.deadLetter());
            checkCompacted(topics.documents(), configs.get(topics.documents()));
            checkCompacted(topics.catalog(), configs.get(topics.catalog()));
            long deadLetterBytes = checkDeadLettersFit(topics, configs);
            brokerConfig(admin).ifPresent(broker -> checkSessionTimeout(sessionTimeout, broker));
            String changelog = applicationId + "-" + CompressorTopology.DOCUMENTS_STORE + "-changelog";
            Set<String> names = await(admin.listTopics().names(), "listing topics");
            if (names.contains(changelog)) {
                checkChangelogFits(changelog, configs(admin, changelog).get(changelog), storedDocumentBytes);
                createRefusedChangelog(admin, applicationId, names, documents);
            }
            return deadLetterBytes;
        } finally {
            admin.close(Duration.ZERO); // an unreachable broker must not also delay the failure
        }
    }

    /**
     * An application id that ran a build from before the {@value CompressorTopology#REFUSED_STORE}
     * store gets that store's changelog here, as Kafka Streams would create it (compacted, one
     * partition per task: the documents topic's count): under a rolling upgrade the group's leader
     * may still run the old build, whose assignor does not create it, and this build's tasks would
     * then fail on a topic that is not there. A new application id is left to Streams.
     */
    private static void createRefusedChangelog(Admin admin, String applicationId, Set<String> names, int partitions) {
        String refused = applicationId + "-" + CompressorTopology.REFUSED_STORE + "-changelog";
        if (names.contains(refused)) {
            return;
        }
        try {
            await(admin.createTopics(List.of(new NewTopic(refused, Optional.of(partitions), Optional.empty())
                    .configs(Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT)))).all(),
                    "creating " + refused);
            log.info("created {} ({} partitions, compacted) for this build's store of refused versions", refused, partitions);
        } catch (IllegalStateException e) {
            if (!(e.getCause() instanceof org.apache.kafka.common.errors.TopicExistsException)) {
                throw e;
            }
            // another instance of the application id made it first
        }
    }

    /**
     * A model rolled out with {@code sac warm --model} has its compressors' state (what each document's
     * blob is, for updates, deletes and same-text reuse) under {@link CompressorConfig#modelApplicationId}.
     * A compressor of that model under another application id (the default {@code sac-compressor}, say,
     * after a switch) would start without it: updates and deletes would leave the rollout's blobs in
     * Redis for good, and same text would be compressed again. Refused, naming the application id to
     * use, unless this application id's own state holds the model's entries: its compressors have
     * run this model before (a deployment that ran under {@code sac-compressor} all along keeps
     * starting after a {@code sac warm --model} of its own model). Whose state it is, the store
     * changelog's last records say: their keys are {@link CatalogKey}s, which name the model.
     */
    static void requireModelsOwnApplicationId(String bootstrapServers, String applicationId, String modelId) {
        String own = CompressorConfig.modelApplicationId(modelId);
        if (own.equals(applicationId)) {
            return;
        }
        Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, Math.toIntExact(TIMEOUT.toMillis())));
        boolean rolledOut;
        try {
            rolledOut = !await(admin.listConsumerGroupOffsets(own).partitionsToOffsetAndMetadata(),
                    "reading the committed offsets of " + own).isEmpty();
        } finally {
            admin.close(Duration.ZERO);
        }
        if (!rolledOut) {
            return;
        }
        Set<String> models = CompressorState.modelsOf(bootstrapServers, applicationId);
        if (!models.contains(modelId)) {
            throw new IllegalStateException("model " + modelId + " was compressed under application id " + own
                    + " ('sac warm --model'), whose state knows its blobs; run its compressors with "
                    + CompressorConfig.Flags.APPLICATION_ID + " " + own + " (the state of " + applicationId + " holds "
                    + (models.isEmpty() ? "no entries" : "entries of model(s) " + models) + ": under it updates and"
                    + " deletes would leave the rollout's blobs in Redis, and unchanged text would be compressed again)."
                    + " Model " + modelId + " is what this compressor's " + CompressorConfig.Flags.ADAPTER + " and "
                    + CompressorConfig.Flags.RATIO + " make (the adapter's smallest ratio without one): if the rollout was"
                    + " of another ratio or adapter, start it with those instead");
        }
    }

    /** Records read from the end of each changelog partition to tell whose state it is. */
    private static final int TAIL = 20;

    /** The model ids of the last records of a store changelog (none when it does not exist or is empty). */
    static Set<String> modelsAtTheEndOf(String bootstrapServers, String changelog) {
        Set<String> models = new java.util.TreeSet<>();
        Map<String, Object> config = Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
                ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false,
                ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, Math.toIntExact(TIMEOUT.toMillis()),
                ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class,
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
        try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(config)) {
            List<PartitionInfo> infos = c.partitionsFor(changelog, TIMEOUT);
            if (infos == null || infos.isEmpty()) {
                return models;
            }
            List<TopicPartition> partitions = infos.stream().map(i -> new TopicPartition(changelog, i.partition())).toList();
            c.assign(partitions);
            Map<TopicPartition, Long> ends = c.endOffsets(partitions, TIMEOUT);
            Map<TopicPartition, Long> starts = c.beginningOffsets(partitions, TIMEOUT);
            long left = 0;
            for (TopicPartition tp : partitions) {
                long from = Math.max(starts.get(tp), ends.get(tp) - TAIL);
                c.seek(tp, from);
                left += ends.get(tp) - from;
            }
            long deadline = System.nanoTime() + TIMEOUT.toNanos();
            while (left > 0 && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(200))) {
                    left--;
                    if (r.key() != null && r.value() != null) {
                        try {
                            models.add(CatalogKey.parse(r.key()).modelId());
                        } catch (IllegalArgumentException notACatalogKey) {
                            // not this store's record: says nothing
                        }
                    }
                }
                if (c.assignment().stream().allMatch(tp -> c.position(tp) >= ends.get(tp))) {
                    break;
                }
            }
        }
        return models;
    }

    private static Map<String, Config> configs(Admin admin, String... topicNames) {
        List<ConfigResource> resources = java.util.Arrays.stream(topicNames)
                .map(t -> new ConfigResource(ConfigResource.Type.TOPIC, t)).toList();
        Map<ConfigResource, Config> configs = await(admin.describeConfigs(resources).all(),
                "describing the configs of " + String.join(", ", topicNames));
        Map<String, Config> byTopic = new HashMap<>();
        configs.forEach((resource, config) -> byTopic.put(resource.name(), config));
        return byTopic;
    }

    /**
     * One broker's configuration (the group settings are cluster-wide in practice); empty, with an
     * INFO line, where it cannot be read (ACLs, a managed service's refusal, a broker not answering):
     * the session timeout is then not checked here.
     */
    private static java.util.Optional<Config> brokerConfig(Admin admin) {
        try {
            java.util.Collection<org.apache.kafka.common.Node> nodes = admin.describeCluster().nodes()
                    .get(BROKER_CHECK.toMillis(), TimeUnit.MILLISECONDS);
            if (nodes.isEmpty()) {
                return java.util.Optional.empty();
            }
            ConfigResource broker = new ConfigResource(ConfigResource.Type.BROKER, nodes.iterator().next().idString());
            return java.util.Optional.ofNullable(admin.describeConfigs(List.of(broker)).all()
                    .get(BROKER_CHECK.toMillis(), TimeUnit.MILLISECONDS).get(broker));
        } catch (ExecutionException | TimeoutException e) {
            // a check that helps, not one that may stop a start: ACLs, a managed service's refusal,
            // one broker not answering
            log.info("could not read the brokers' group session bounds ({}); {} is not checked against them",
                    e.getCause() == null ? e : e.getCause(), CompressorConfig.Flags.SESSION_TIMEOUT);
            return java.util.Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return java.util.Optional.empty();
        }
    }

    private static final Duration BROKER_CHECK = Duration.ofSeconds(10);

    /**
     * A session outside the brokers' bounds fails every join of the group (InvalidSessionTimeoutException),
     * which would replace the stream thread for ever: refused at start instead, naming both.
     */
    static void checkSessionTimeout(Duration session, Config broker) {
        long min = Long.parseLong(value(broker, "group.min.session.timeout.ms", "6000"));
        long max = Long.parseLong(value(broker, "group.max.session.timeout.ms", "1800000"));
        long ms = session.toMillis();
        if (ms < min || ms > max) {
            throw new IllegalStateException(CompressorConfig.Flags.SESSION_TIMEOUT + " " + dev.sacrag.metrics.Durations.shown(session) + " is outside the brokers'"
                    + " group.min.session.timeout.ms=" + min + " and group.max.session.timeout.ms=" + max + ": the group"
                    + " would refuse every join; choose a value between them");
        }
    }

    /**
     * Compacted, so each document's (each catalog entry's) latest record stays for good. A
     * policy of compact plus delete is accepted only with unlimited retention, in time and in
     * bytes: the delete part removes old segments by either.
     */
    static void checkCompacted(String topic, Config config) {
        List<String> policy = List.of(value(config, TopicConfig.CLEANUP_POLICY_CONFIG, "delete").replaceAll("[\\[\\] ]", "")
                .split(","));
        long retentionMs = Long.parseLong(value(config, TopicConfig.RETENTION_MS_CONFIG, "604800000"));
        long retentionBytes = Long.parseLong(value(config, TopicConfig.RETENTION_BYTES_CONFIG, "-1"));
        boolean deletes = policy.contains(TopicConfig.CLEANUP_POLICY_DELETE);
        if (!policy.contains(TopicConfig.CLEANUP_POLICY_COMPACT) || (deletes && (retentionMs >= 0 || retentionBytes >= 0))) {
            throw new IllegalStateException(topic + " has " + TopicConfig.CLEANUP_POLICY_CONFIG + "=" + String.join(",", policy)
                    + (deletes ? " (" + TopicConfig.RETENTION_MS_CONFIG + "=" + retentionMs + ", "
                    + TopicConfig.RETENTION_BYTES_CONFIG + "=" + retentionBytes + ")" : "")
                    + ": it must be compacted, or its records are deleted by retention"
                    + " and the documents (catalog entries) with them. Fix it with kafka-configs.sh --alter --entity-type"
                    + " topics --entity-name " + topic + " --add-config " + TopicConfig.CLEANUP_POLICY_CONFIG + "="
                    + TopicConfig.CLEANUP_POLICY_COMPACT);
        }
    }

    /** A topic config's value; brokers report every topic config, but a missing one falls back to Kafka's default. */
    private static String value(Config config, String name, String kafkaDefault) {
        org.apache.kafka.clients.admin.ConfigEntry e = config.get(name);
        return e == null || e.value() == null ? kafkaDefault : e.value();
    }

    /**
     * A dead letter carries the original value: if the dead-letter topic accepted smaller records
     * than the documents topic, the broker would refuse it, the transaction would abort and the
     * same record would fail again forever.
     */
    private static long checkDeadLettersFit(CompressorTopics topics, Map<String, Config> configs) {
        long documentBytes = maxMessageBytes(configs.get(topics.documents()));
        long deadLetterBytes = maxMessageBytes(configs.get(topics.deadLetter()));
        if (deadLetterBytes < documentBytes) {
            throw new IllegalStateException(topics.deadLetter() + " accepts records of " + deadLetterBytes + " bytes but "
                    + topics.documents() + " of " + documentBytes + ": raise " + TopicConfig.MAX_MESSAGE_BYTES_CONFIG + " of "
                    + topics.deadLetter() + ", or a large bad document could never be dead-lettered");
        }
        return deadLetterBytes;
    }

    /**
     * Streams sets the latest-documents changelog's max.message.bytes when it creates the topic,
     * from the document limits of that first start, and never changes it: after --max-doc-bytes
     * was raised, the broker refused the store write of every document between the two limits,
     * failing the task at each replay.
     */
    static void checkChangelogFits(String changelog, Config config, int storedDocumentBytes) {
        long bytes = Long.parseLong(value(config, TopicConfig.MAX_MESSAGE_BYTES_CONFIG, "1048588"));
        if (bytes < storedDocumentBytes) {
            throw new IllegalStateException(changelog + " (this compressor's store of the latest documents) takes records"
                    + " of " + bytes + " bytes, and the document limits (" + CompressorConfig.Flags.MAX_DOC_BYTES + ", set"
                    + " higher than when it was created) need " + storedDocumentBytes + ": raise it with kafka-configs.sh"
                    + " --alter --entity-type topics --entity-name " + changelog + " --add-config "
                    + TopicConfig.MAX_MESSAGE_BYTES_CONFIG + "=" + storedDocumentBytes);
        }
    }

    private static long maxMessageBytes(Config config) {
        return Long.parseLong(config.get(TopicConfig.MAX_MESSAGE_BYTES_CONFIG).value());
    }

    private static <T> T await(KafkaFuture<T> future, String what) {
        try {
            // The admin client's own timeout (the same) normally fires first; this only guards a hang.
            return future.get(TIMEOUT.plusSeconds(5).toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof org.apache.kafka.common.errors.TimeoutException) {
                throw unreachable(what, e.getCause());
            }
            throw new IllegalStateException(what + " failed", e.getCause());
        } catch (TimeoutException e) {
            throw unreachable(what, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while " + what, e);
        }
    }

    private static IllegalStateException unreachable(String what, Throwable cause) {
        return new IllegalStateException(what + " took longer than " + TIMEOUT + ": is Kafka reachable ("
                + CompressorConfig.Flags.BOOTSTRAP_SERVERS + ")?", cause);
    }

    /**
     * Partition counts of the topics that exist. Missing ones are asked for again during a short
     * grace period: a broker learns of a topic a moment after the controller created it, so a
     * script that creates the topics and then starts the compressor must not fail on that race.
     */
    private static Map<String, Integer> describe(Admin admin, CompressorTopics topics) {
        long deadline = System.nanoTime() + MISSING_TOPIC_GRACE.toNanos();
        Map<String, Integer> found = new HashMap<>();
        while (true) {
            List<String> wanted = topics.all().stream().filter(t -> !found.containsKey(t)).toList();
            Map<String, KafkaFuture<TopicDescription>> replies = admin.describeTopics(wanted).topicNameValues();
            for (String topic : wanted) {
                try {
                    found.put(topic, await(replies.get(topic), "describing topic " + topic).partitions().size());
                } catch (IllegalStateException e) {
                    if (!(e.getCause() instanceof UnknownTopicOrPartitionException)) {
                        throw e;
                    }
                }
            }
            if (found.size() == topics.all().size() || System.nanoTime() > deadline) {
                return found;
            }
            sleep(Duration.ofMillis(200));
        }
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for topics", e);
        }
    }
}
