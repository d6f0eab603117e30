package dev.sacrag.cli.warming;

import dev.sacrag.query.catalog.Catalog;
import dev.sacrag.query.catalog.CatalogEntry;

import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;

/**
 * The catalog topic read once to its end, for commands that list it. Through {@link TopicScan},
 * so that no broker at the address and a topic that is not there are told apart, each in one line.
 */
public final class CatalogRead {

    private CatalogRead() {
    }

    /**
     * @throws IllegalStateException when no broker answers at {@code bootstrapServers}, or the topic does not exist
     * @throws TimeoutException when the topic could not be read to its end within {@code timeout}
     */
    public static Catalog of(String bootstrapServers, String topic, Duration timeout) throws TimeoutException {
        try (CatalogWatch watch = CatalogWatch.openWithin(bootstrapServers, topic, timeout)) {
            return watch.catalog();
        }
    }

    /**
     * The model ids the catalog holds entries of, to tell a known model id from a mistyped one;
     * empty when the topic does not exist (a mistyped name, or nothing compressed yet).
     *
     * @throws IllegalStateException when no broker answers at {@code bootstrapServers}
     * @throws TimeoutException when the topic could not be read to its end within {@code timeout}
     */
    public static Optional<Set<String>> modelIds(String bootstrapServers, String topic, Duration timeout)
            throws TimeoutException {
        try {
            return Optional.of(modelIds(of(bootstrapServers, topic, timeout)));
        } catch (TopicScan.NoSuchTopic noTopic) {
            return Optional.empty();
        }
    }

    /** The model ids {@code catalog} holds entries of, sorted. */
    public static Set<String> modelIds(Catalog catalog) {
        return catalog.snapshot().stream().map(CatalogEntry::modelId).collect(Collectors.toCollection(TreeSet::new));
    }
}
