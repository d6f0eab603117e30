package dev.sacrag.cli;

import dev.sacrag.compressor.CompressorConfig;
import dev.sacrag.kvstore.RedisTarget;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code --redis}: where the anchor-KV blobs live, for every command that reads or writes them itself. */
final class RedisOption {

    @Spec(Spec.Target.MIXEE)
    CommandSpec mixee;

    @Option(names = CompressorConfig.Flags.REDIS, paramLabel = "URL[,...]", defaultValue = "${env:SAC_REDIS_URL:-redis://localhost:6379}",
            description = "Redis holding the blobs: redis:// or rediss://; several URLs = Redis Cluster seeds (one URL of"
                    + " a cluster node works too) [env SAC_REDIS_URL, default ${DEFAULT-VALUE}].")
    String redis;

    /** The parsed URL(s); a malformed one is a usage error naming the option. */
    RedisTarget target() {
        try {
            return RedisTarget.parse(redis);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(mixee.commandLine(), CompressorConfig.Flags.REDIS + ": " + e.getMessage(), e);
        }
    }
}
