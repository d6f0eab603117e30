package dev.sacrag.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code sac} command: every tool of the project behind one entry point. */
@Command(name = "sac",
        mixinStandardHelpOptions = true,
        version = "sac 0.1.0",
        description = "Streaming RAG middleware with Semantic-Anchor Compression (SAC).",
        subcommands = {
                DemoCommand.class,
                CompressorCommand.class,
                GenerateCommand.class,
                CompressCommand.class,
                AnswerCommand.class,
                ModelCommand.class,
                BenchCommand.class,
                DataCommand.class,
                TrainCommand.class,
                EvalCommand.class,
                IngestCommand.class,
                QueryServiceCommand.class,
                AskCommand.class,
                DocsCommand.class,
                DeleteCommand.class,
                WarmCommand.class,
                CommandLine.HelpCommand.class
        },
        footer = {"", "  test       Install what the tests need and run them (handled by the ./sac launcher: mvn -B verify)",
                "", "Run 'sac COMMAND --help' for a command's options."})
public final class Sac implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** The long-running services, whose lifecycle lines (state changes, model switches, topics read) are INFO. */
    private static final java.util.Set<String> SERVICES = java.util.Set.of("compressor", "query-service");
    static final String PROJECT_LOG_LEVEL = "org.slf4j.simpleLogger.log.dev.sacrag";

    public static void main(String[] args) {
        // before any logger exists (SimpleLogger reads its settings once); a -D of the user's wins
        logLevelsFor(args).forEach((logger, level) -> {
            if (System.getProperty(logger) == null) {
                System.setProperty(logger, level);
            }
        });
        if (quietsGrpcLog(args)) {
            quietGrpcClientLog();
        }
        int code = commandLine().execute(args);
        System.exit(code);
    }

    /** Commands that start the services in this process, besides the services themselves. */
    private static final java.util.Set<String> RUN_SERVICES_IN_PROCESS = java.util.Set.of("demo", "bench");

    /**
     * Whether a command is a gRPC client only, whose gRPC warnings its own one-line failure says
     * again: not one that runs a query service in this process, whose server warnings (the
     * transport's throttled summary, a handler's exception) must stay.
     */
    static boolean quietsGrpcLog(String[] args) {
        return args.length == 0 || !SERVICES.contains(args[0]) && !RUN_SERVICES_IN_PROCESS.contains(args[0]);
    }

    /** Held: java.util.logging keeps loggers weakly, and one collected would come back at its default level. */
    private static final java.util.logging.Logger GRPC_LOG = java.util.logging.Logger.getLogger("io.grpc");

    /**
     * gRPC's client logs a WARNING with a stack trace through java.util.logging when a name does not
     * resolve or a connection fails, before the call fails with the same cause: a one-shot command
     * says it in its own one line (the services keep gRPC's log).
     */
    static void quietGrpcClientLog() {
        GRPC_LOG.setLevel(java.util.logging.Level.SEVERE);
    }

    /** Kafka's client logs a WARN at every reconnect attempt, about one a second per client. */
    static final String KAFKA_NETWORK_LOG_LEVEL = "org.slf4j.simpleLogger.log.org.apache.kafka.clients.NetworkClient";

    /**
     * The log levels a command runs with: the services log their lifecycle at INFO and keep
     * Kafka's reconnect warnings (an operator's signal); a one-shot command, which says itself in
     * one line that no broker answered (and names the address), drops them: 30 to 60 lines of
     * "Connection to node -1 could not be established" came before that line.
     */
    static java.util.Map<String, String> logLevelsFor(String[] args) {
        if (args.length > 0 && SERVICES.contains(args[0])) {
            return java.util.Map.of(PROJECT_LOG_LEVEL, "info");
        }
        return java.util.Map.of(KAFKA_NETWORK_LOG_LEVEL, "error");
    }

    static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Sac());
        // -V on a subcommand (its mixinStandardHelpOptions offer it) prints the root's version, not a blank line
        String[] version = cl.getCommandSpec().version();
        java.util.ArrayDeque<CommandLine> todo = new java.util.ArrayDeque<>(cl.getSubcommands().values());
        while (!todo.isEmpty()) {
            CommandLine sub = todo.pop();
            if (sub.getCommandSpec().version().length == 0) {
                sub.getCommandSpec().version(version);
            }
            todo.addAll(sub.getSubcommands().values());
        }
        cl.setExecutionExceptionHandler((ex, line, parse) -> {
            reportFailure(line.getErr(), line.getCommandSpec().qualifiedName(), ex); // "sac train sac: ..."
            return 1;
        });
        cl.setParameterExceptionHandler(Sac::reportUsageError);
        return cl;
    }

    /**
     * A usage error: the message and where to read more, not the whole help (150 lines for warm,
     * under which the one line that matters scrolled away). Exit code 2, picocli's for bad input.
     */
    private static int reportUsageError(CommandLine.ParameterException ex, String[] args) {
        CommandLine line = ex.getCommandLine();
        java.io.PrintWriter err = line.getErr();
        String command = line.getCommandSpec().qualifiedName();
        err.println(command + ": " + ex.getMessage());
        CommandLine.UnmatchedArgumentException.printSuggestions(ex, err);
        err.println("Run '" + command + " --help' for its options.");
        return line.getCommandSpec().exitCodeOnInvalidInput();
    }

    /** How a command that failed says so: its name and the causes in one line, the stack trace with SAC_DEBUG. */
    static void reportFailure(java.io.PrintWriter err, String command, Throwable ex) {
        err.println(command + ": " + describe(ex));
        if (System.getenv("SAC_DEBUG") != null) {
            ex.printStackTrace(err);
        } else if (!answeredByTheServer(ex)) {   // a service's answer is all there is: this process's stack adds nothing
            err.println("(set SAC_DEBUG=1 for the stack trace)");
        }
    }

    /** A gRPC status the service sent (NOT_FOUND, INVALID_ARGUMENT, ...), not one the client made of a local failure. */
    static boolean answeredByTheServer(Throwable t) {
        return t instanceof io.grpc.StatusRuntimeException e && e.getCause() == null
                && e.getStatus().getCode() != io.grpc.Status.Code.UNKNOWN && e.getStatus().getCode() != io.grpc.Status.Code.INTERNAL;
    }

    /** One line naming the failure and its causes, without a stack trace. */
    static String describe(Throwable t) {
        StringBuilder sb = new StringBuilder();
        for (Throwable c = t; c != null; c = c.getCause()) {
            String msg = c.getMessage();
            if (c instanceof java.nio.file.NoSuchFileException nsf) {
                msg = "no such file: " + nsf.getFile() + (nsf.getReason() == null ? "" : " (" + nsf.getReason() + ")");
            } else if (c instanceof java.nio.file.AccessDeniedException denied) {   // its message is the path alone
                msg = "permission denied: " + denied.getFile();
            }
            if (msg != null && !sb.toString().contains(msg)) {
                sb.append(sb.length() == 0 ? "" : ": ").append(msg);
            }
        }
        return sb.length() == 0 ? t.getClass().getSimpleName() : sb.toString();
    }
}
