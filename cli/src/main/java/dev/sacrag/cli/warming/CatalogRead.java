package dev.sacrag.cli.warming;

import dev.sacrag.query.catalog.Catalog;

import java.time.Duration;
import java.util.concurrent.TimeoutException;

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
}
