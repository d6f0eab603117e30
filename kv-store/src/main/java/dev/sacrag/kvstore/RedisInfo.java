package dev.sacrag.kvstore;

import java.util.Optional;

/** Reading the {@code name:value} lines of an {@code INFO} or {@code CLUSTER INFO} reply. */
final class RedisInfo {

    private RedisInfo() {
    }

    /** The value of field {@code name}; empty when the reply has none, or an empty one. */
    static Optional<String> field(String info, String name) {
        String prefix = name + ":";
        return info.lines().map(String::trim).filter(l -> l.startsWith(prefix))
                .map(l -> l.substring(prefix.length())).filter(v -> !v.isEmpty()).findFirst();
    }
}
