package dev.sacrag.cli;

import dev.sacrag.query.QueryServiceApp;
import dev.sacrag.query.QueryServiceConfig;
import dev.sacrag.query.QuerySetting;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code sac query-service}: runs the gRPC query service until interrupted. Its options are
 * built from {@link QuerySetting}, the list the service's configuration parser reads, so
 * help text, flags and environment variables cannot drift apart.
 */
@Command(name = "query-service", mixinStandardHelpOptions = true, modelTransformer = QueryServiceCommand.Settings.class,
        description = {"Run the gRPC query service (sac.query.v1.QueryService: Ask, Warm; health and reflection).",
                "Every option can also be set with its environment variable; a flag wins."})
final class QueryServiceCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandSpec spec;

    /** Adds one string option per setting; QueryServiceConfig.parse types and checks them. */
    static final class Settings implements CommandLine.IModelTransformer {
        @Override
        public CommandSpec transform(CommandSpec spec) {
            for (QuerySetting s : QuerySetting.values()) {
                String source = " [env " + s.env() + (s.defaultValue().isEmpty() ? "]" : ", default " + s.defaultValue() + "]");
                spec.addOption(OptionSpec.builder(s.flag()).paramLabel(s.label()).type(String.class)
                        .description(s.description() + source).build());
            }
            return spec;
        }
    }

    @Override
    public Integer call() throws Exception {
        Map<String, String> flags = new HashMap<>();
        ParseResult parsed = spec.commandLine().getParseResult();
        for (QuerySetting s : QuerySetting.values()) {
            OptionSpec option = spec.findOption(s.flag());
            if (parsed.hasMatchedOption(option)) {
                flags.put(s.flag(), option.getValue());
            }
        }
        QueryServiceConfig config;
        try {
            config = QueryServiceConfig.parse(flags, System.getenv());
        } catch (dev.sacrag.query.ConfigException e) {   // a flag or variable out of range: a usage error (exit 2)
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage(), e);
        }
        QueryServiceApp app = QueryServiceApp.start(config);
        Runtime.getRuntime().addShutdownHook(new Thread(app::close, "sac-query-service-shutdown"));
        System.out.printf("query-service: model %s, gRPC on %s:%d, metrics %s; reading topics %s and %s from %s ...%n",
                app.modelId(), config.listen().host(), app.port(),
                app.metricsPort().isPresent() ? "on :" + app.metricsPort().getAsInt() + "/metrics" : "off",
                config.topics().documents(), config.topics().catalog(), config.topics().bootstrapServers());
        while (!app.awaitReady(Duration.ofSeconds(30)) && !app.broken()) {
            System.out.println("query-service: still reading the topics (health NOT_SERVING) ...");
        }
        if (!app.broken()) {
            System.out.println("query-service: serving (health SERVING)");
        }
        app.awaitTermination();   // ends at SIGTERM, or with --exit-when-broken once broken
        return app.broken() ? 1 : 0;
    }
}
