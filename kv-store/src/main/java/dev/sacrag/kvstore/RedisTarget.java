package dev.sacrag.kvstore;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;

import io.lettuce.core.RedisURI;

/**
 * Where Redis is: one {@code redis://} or {@code rediss://} URL, or several for a Redis Cluster
 * (they are seed nodes; Lettuce discovers the rest of the topology). A single URL may name a
 * cluster node too: the store asks it ({@code INFO cluster}) when it connects.
 * Parsed once at start-up from {@code --redis} / {@code SAC_REDIS_URL}, comma-separated.
 */
public record RedisTarget(List<URI> nodes) {

    public RedisTarget {
        Objects.requireNonNull(nodes, "nodes");
        if (nodes.isEmpty()) {
            throw new IllegalArgumentException("at least one Redis URL is needed");
        }
        nodes = List.copyOf(nodes);
        for (URI node : nodes) {
            if (!"redis".equals(node.getScheme()) && !"rediss".equals(node.getScheme())) {
                throw new IllegalArgumentException("Redis URL " + redacted(node) + " must start with redis:// or rediss://");
            }
            if (node.getHost() == null) {
                throw new IllegalArgumentException("Redis URL " + redacted(node) + " has no host");
            }
        }
    }

    /** "redis://a:6379" or "redis://a:7000,redis://b:7001,redis://c:7002". */
    public static RedisTarget parse(String urls) {
        Objects.requireNonNull(urls, "urls");
        return of(Arrays.stream(urls.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList());
    }

    public static RedisTarget of(List<String> urls) {
        return new RedisTarget(urls.stream().map(RedisTarget::toUri).toList());
    }

    /**
     * Several nodes mean Redis Cluster (Lettuce's cluster client, MOVED/ASK handled there); one
     * node may be a cluster's too, which only connecting finds out ({@link AnchorKvStore#cluster()}).
     */
    public boolean isCluster() {
        return nodes.size() > 1;
    }

    List<RedisURI> redisUris(Duration commandTimeout) {
        return nodes.stream().map(node -> {
            RedisURI uri = RedisURI.create(node);
            uri.setTimeout(commandTimeout);
            return uri;
        }).toList();
    }

    /** The URLs without passwords: safe for logs and exception messages. */
    @Override
    public String toString() {
        return nodes.stream().map(RedisTarget::redacted).collect(Collectors.joining(","));
    }

    private static URI toUri(String url) {
        try {
            return new URI(url);
        } catch (URISyntaxException e) {
            // The input may hold a password: report only where it broke.
            throw new IllegalArgumentException("invalid Redis URL (" + e.getReason() + " at index " + e.getIndex() + ")");
        }
    }

    private static String redacted(URI uri) {
        String port = uri.getPort() < 0 ? "" : ":" + uri.getPort();
        String path = uri.getPath() == null ? "" : uri.getPath();
        return uri.getScheme() + "://" + uri.getHost() + port + path;
    }
}
