package dev.sacrag.cli.warming;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

import java.time.Duration;
import java.util.Map;

/**
 * Kafka clients for the CLI's few control operations (an activation, catalog tombstones, creating
 * the control topic, describing groups), every wait bounded by one timeout, so that a broker that
 * does not answer ends the command after that long instead of the clients' defaults (minutes).
 */
final class BoundedClients {

    private BoundedClients() {
    }

    /** Acks from every replica; the close after a timed-out send does not wait out the defaults (2 minutes). */
    static KafkaProducer<String, byte[]> producer(String bootstrapServers, String clientId, Duration timeout) {
        int ms = millis(timeout);
        return new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ProducerConfig.CLIENT_ID_CONFIG, clientId,
                ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.MAX_BLOCK_MS_CONFIG, ms,
                // (the delivery timeout must cover linger + one request)
                ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, ms / 2,
                ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, ms),
                new StringSerializer(), new ByteArraySerializer());
    }

    static Admin admin(String bootstrapServers, Duration timeout) {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, millis(timeout),
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, millis(timeout)));
    }

    /** The clients take int milliseconds: a --timeout of weeks (25 days and more) is capped, not wrapped negative. */
    static int millis(Duration timeout) {
        return (int) Math.min(Integer.MAX_VALUE, Math.max(1, timeout.toMillis()));
    }

    /**
     * The failure of a command whose broker did not answer: Kafka's own timeout messages name
     * neither the address nor what was asked.
     *
     * @param asked what was asked, e.g. "about topic sac.control within 30 s"
     */
    static IllegalStateException noBroker(String bootstrapServers, String asked, Throwable cause) {
        return new IllegalStateException("no broker at " + bootstrapServers + " answered " + asked
                + " (is it running, and is that its address? --bootstrap-servers)", cause);
    }
}
