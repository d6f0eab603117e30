package dev.sacrag.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The --redis option that compressor, warm and model retire share. */
class RedisOptionTest {

    @Command(name = "probe")
    static final class Probe {
        @Mixin
        RedisOption redis;
    }

    private static RedisOption parsed(String... args) {
        Probe probe = new Probe();
        new CommandLine(probe).parseArgs(args);
        return probe.redis;
    }

    @Test
    void oneUrlIsOneNodeAndSeveralAreClusterSeeds() {
        assertEquals(1, parsed("--redis", "redis://a:7000").target().nodes().size());
        assertEquals(List.of("redis://a:7000", "redis://b:7001"),
                parsed("--redis", "redis://a:7000,redis://b:7001").target().nodes().stream().map(Object::toString).toList());
    }

    /** Every command that touches the blobs itself takes --redis (and SAC_REDIS_URL) through the mixin. */
    @Test
    void theCommandsThatReadOrWriteBlobsTakeIt() {
        CommandLine sac = Sac.commandLine();
        for (CommandLine c : List.of(sac.getSubcommands().get("compressor"), sac.getSubcommands().get("warm"),
                sac.getSubcommands().get("model").getSubcommands().get("retire"))) {
            CommandLine.Model.OptionSpec o = c.getCommandSpec().findOption("--redis");
            assertTrue(o != null && String.join(" ", o.description()).contains("SAC_REDIS_URL"), c.getCommandName() + " takes --redis");
        }
    }

    @Test
    void aMalformedUrlIsAUsageErrorNamingTheOption() {
        RedisOption bad = parsed("--redis", "http://x");
        CommandLine.ParameterException e = assertThrows(CommandLine.ParameterException.class, bad::target);
        assertTrue(e.getMessage().startsWith("--redis: "), e.getMessage());
    }
}
