package dev.sacrag.cli;

import dev.sacrag.compressor.CompressorTopics;
import dev.sacrag.query.catalog.Catalog;
import dev.sacrag.query.catalog.CatalogEntry;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.time.Duration;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;

/** {@code sac docs}: what is compressed, from the catalog topic. */
@Command(name = "docs", mixinStandardHelpOptions = true, description = "Inspect compressed documents, and those the compressors refused.",
        subcommands = {DocsCommand.ListDocs.class, DocsCommand.Refused.class, DocsCommand.Sweep.class})
final class DocsCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** Ids as the usage errors and notes list them: sorted as given, "none" for none. */
    static String named(java.util.Collection<String> ids) {
        return ids.isEmpty() ? "none" : String.join(", ", ids);
    }

    @Command(name = "list", mixinStandardHelpOptions = true,
            description = "List every compressed document version per model, as the catalog topic holds them.")
    static final class ListDocs implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss'Z'")
                .withZone(ZoneOffset.UTC);

        @picocli.CommandLine.Mixin
        KafkaOption kafka;

        @Option(names = "--catalog-topic", paramLabel = "TOPIC", defaultValue = "${env:SAC_CATALOG_TOPIC:-" + CompressorTopics.CATALOG + "}",
                description = "Catalog topic [env SAC_CATALOG_TOPIC, default ${DEFAULT-VALUE}].")
        String topic;

        @Option(names = "--tenant", paramLabel = "TENANT",
                description = "Only this tenant's documents (a note on stderr where no catalog"
                + " entry names it).")
        String tenant;

        @Option(names = "--model", paramLabel = "ID", description = "Only this model id's entries. An id that no catalog"
                + " entry names is a usage error (exit 2) listing the ids it names.")
        String model;

        @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "30s", converter = Durations.class,
                description = "Give up reading the topic after this long (default ${DEFAULT-VALUE}).")
        Duration timeout;

        @Override
        public Integer call() throws Exception {
            Durations.requireTimeout(spec, timeout);
            Catalog catalog = dev.sacrag.cli.warming.CatalogRead.of(kafka.bootstrapServers, topic, timeout);
            List<CatalogEntry> entries = listed(catalog);
            java.io.PrintWriter out = spec.commandLine().getOut();
            String row = "%-40s %-12s %15s %-12s %8s %12s  %s%n";
            out.printf(Locale.ROOT, row, "DOC", "TENANT", "VERSION", "MODEL", "ANCHORS", "BYTES", "COMPRESSED AT");
            long bytes = 0;
            for (CatalogEntry e : entries) {
                out.printf(Locale.ROOT, row, e.docId(), e.tenant(), e.docVersion(), e.modelId(), e.anchorCount(),
                        String.format(Locale.ROOT, "%,d", e.bytes()), TIME.format(e.compressedAt()));
                bytes += e.bytes();
            }
            out.printf(Locale.ROOT, "%d compressed document version(s), %,d bytes of anchor KV as the catalog records them"
                    + " (this reads the catalog only; `sac warm --rebuild` finds blobs missing from Redis)%n",
                    entries.size(), bytes);
            out.flush();
            unknownTenant(catalog).ifPresent(spec.commandLine().getErr()::println);
            return 0;
        }

        /**
         * A note where no catalog entry names --tenant: a mistyped tenant lists nothing, as a tenant whose
         * documents are not compressed yet does, which only the documents topic could tell apart.
         */
        Optional<String> unknownTenant(Catalog catalog) {
            if (tenant == null || catalog.snapshot().stream().anyMatch(e -> e.tenant().equals(tenant))) {
                return Optional.empty();
            }
            java.util.Set<String> known = catalog.snapshot().stream().map(CatalogEntry::tenant)
                    .collect(java.util.stream.Collectors.toCollection(java.util.TreeSet::new));
            return Optional.of("sac docs list: note: no catalog entry in " + topic + " names tenant '" + tenant + "' (mistyped,"
                    + " or none of its documents compressed yet); the tenants it names: " + named(known));
        }

        /**
         * The entries of --model and --tenant, in the order listed. A --model that no entry names is a
         * usage error (exit 2): a mistyped id listed "0 compressed document version(s)", which reads as
         * "that model has compressed nothing yet".
         */
        List<CatalogEntry> listed(Catalog catalog) {
            List<CatalogEntry> ofModel = catalog.entries(Optional.ofNullable(model));
            if (model != null && ofModel.isEmpty()) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--model " + model + ": no catalog entry in "
                        + topic + " names this model id (mistyped?); the model ids it names: "
                        + named(dev.sacrag.cli.warming.CatalogRead.modelIds(catalog)));
            }
            return ofModel.stream()
                    .filter(e -> tenant == null || tenant.equals(e.tenant()))
                    .sorted(Comparator.comparing(CatalogEntry::tenant).thenComparing(CatalogEntry::docId)
                            .thenComparing(CatalogEntry::modelId))
                    .toList();
        }
    }

    @Command(name = "refused", mixinStandardHelpOptions = true,
            description = {"List the documents the compressors refused, from the dead-letter topic: the latest refusal"
                    + " of each document per model, with its reason (TOO_LARGE: over the model's --max-doc-tokens;"
                    + " MALFORMED, EMPTY_TEXT: bad for every model; COMPRESSION_FAILED, ENGINE_OOM; PROCESSING_FAILED:"
                    + " the compressor failed on it again and again) and message."
                    + " Refusals that no longer stand are left out unless --all: of documents deleted since (a tombstone in"
                    + " the documents topic), or published again since at a higher version (which a compressor took, or"
                    + " refused anew: then that refusal is listed).",
                    "An ingest that exits 0 has published its documents; whether a compressor takes them is decided"
                    + " later, and a refused one stays 'not compressed' for its model. Fix it and publish it again."})
    static final class Refused implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss'Z'")
                .withZone(ZoneOffset.UTC);
        /** Longest message shown; the topic keeps the whole. */
        static final int MESSAGE_CHARS = 200;
        /** Before the message of a refusal of a document deleted since (--all). */
        static final String DELETED_MARK = "(deleted since) ";
        /** Before the message of a refusal of a version published over since (--all), with the version now. */
        static final String AGAIN_MARK = "(published again since: v%d) ";

        @picocli.CommandLine.Mixin
        KafkaOption kafka;

        @Option(names = "--dead-letter-topic", paramLabel = "TOPIC",
                defaultValue = "${env:SAC_DEAD_LETTER_TOPIC:-" + CompressorTopics.DEAD_LETTER + "}",
                description = "Dead-letter topic [env SAC_DEAD_LETTER_TOPIC, default ${DEFAULT-VALUE}].")
        String topic;

        @Option(names = "--documents-topic", paramLabel = "TOPIC",
                defaultValue = "${env:SAC_DOCUMENTS_TOPIC:-" + CompressorTopics.DOCUMENTS + "}",
                description = "Documents topic, which says the documents deleted since [env SAC_DOCUMENTS_TOPIC,"
                        + " default ${DEFAULT-VALUE}].")
        String documentsTopic;

        @Option(names = "--model", paramLabel = "ID", description = "Only the refusals that stand for this model: its own"
                + " and those of documents bad for every model. An id that no dead letter and no catalog entry names is"
                + " a usage error (exit 2) listing the ids they name.")
        String model;

        @Option(names = "--catalog-topic", paramLabel = "TOPIC", defaultValue = "${env:SAC_CATALOG_TOPIC:-"
                + CompressorTopics.CATALOG + "}", description = "Catalog topic, read with --model when no dead letter"
                + " names the model, to tell a model compressing without refusals from a mistyped id [env"
                + " SAC_CATALOG_TOPIC, default ${DEFAULT-VALUE}].")
        String catalogTopic;

        @Option(names = "--all", description = "Also list the refusals of documents deleted or published again since,"
                + " marked so.")
        boolean all;

        @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "30s", converter = Durations.class,
                description = "Give up reading each topic after this long (default ${DEFAULT-VALUE}).")
        Duration timeout;

        @Override
        public Integer call() throws Exception {
            Durations.requireTimeout(spec, timeout);
            Optional<List<dev.sacrag.cli.warming.DeadLetterList.Refusal>> read = dev.sacrag.cli.warming.DeadLetterList
                    .read(kafka.bootstrapServers, topic, documentsTopic, timeout);
            if (read.isEmpty()) {
                spec.commandLine().getOut().printf(Locale.ROOT, "0 refusal(s): the dead-letter topic %s does not exist (no"
                        + " compressor has refused anything yet, or name the one in use with --dead-letter-topic)%n", topic);
                spec.commandLine().getOut().flush();
                return 0;
            }
            if (model != null) {
                requireKnownModel(read.get());
            }
            List<dev.sacrag.cli.warming.DeadLetterList.Refusal> refusals = read.get().stream()
                    .filter(r -> model == null || r.standsFor(model))
                    .toList();
            long deleted = refusals.stream().filter(dev.sacrag.cli.warming.DeadLetterList.Refusal::deletedSince).count();
            long again = refusals.stream().filter(r -> r.publishedAgain().isPresent()).count();
            List<dev.sacrag.cli.warming.DeadLetterList.Refusal> listed = all ? refusals
                    : refusals.stream().filter(r -> !r.past()).toList();
            java.io.PrintWriter out = spec.commandLine().getOut();
            String row = "%-40s %-12s %-18s %-20s  %s%n";
            out.printf(Locale.ROOT, row, "DOC", "MODEL", "REASON", "DEAD-LETTERED AT", "MESSAGE");
            for (var r : listed) {
                String message = r.message().length() <= MESSAGE_CHARS ? r.message()
                        : r.message().substring(0, MESSAGE_CHARS) + "...";
                // key and message come from the topic, the message quoting the bad input: escaped
                out.printf(Locale.ROOT, row, dev.sacrag.ingest.Printable.of(r.docId()), r.modelId().orElse("any"),
                        dev.sacrag.ingest.Printable.of(r.reason()), TIME.format(r.at()),
                        (r.deletedSince() ? DELETED_MARK : "")
                                + (r.publishedAgain().isPresent() ? String.format(Locale.ROOT, AGAIN_MARK,
                                        r.publishedAgain().getAsLong()) : "")
                                + dev.sacrag.ingest.Printable.of(message));
            }
            out.printf(Locale.ROOT, "%d refusal(s) in %s (the latest per document and model)%s%s%n", listed.size(), topic,
                    footer(deleted, "of documents deleted since", DELETED_MARK),
                    footer(again, "of versions published again since", "(published again since)"));
            out.flush();
            return 0;
        }

        /**
         * A usage error (exit 2) when neither a dead letter nor the catalog names {@code --model}: a
         * mistyped id would list only the refusals that stand for every model, and read as "this model
         * refused nothing else". The catalog is read only when no dead letter names the model.
         */
        private void requireKnownModel(List<dev.sacrag.cli.warming.DeadLetterList.Refusal> refusals)
                throws java.util.concurrent.TimeoutException {
            java.util.Set<String> refusing = refusals.stream().flatMap(r -> r.modelId().stream())
                    .collect(java.util.stream.Collectors.toCollection(java.util.TreeSet::new));
            if (refusing.contains(model)) {
                return;
            }
            Optional<java.util.Set<String>> compressed = dev.sacrag.cli.warming.CatalogRead.modelIds(
                    kafka.bootstrapServers, catalogTopic, timeout);
            if (compressed.isEmpty() || !compressed.get().contains(model)) {
                throw new CommandLine.ParameterException(spec.commandLine(),
                        unknownModel(model, refusing, topic, compressed, catalogTopic));
            }
        }

        /**
         * E.g. "--model ffffffffffff: no dead letter in sac.documents.dlq and no catalog entry in
         * sac.anchor-caches names this model id (mistyped?); the model ids they name: abc123def456".
         *
         * @param compressed the catalog's model ids; empty when the catalog topic does not exist
         */
        static String unknownModel(String model, java.util.Set<String> refusing, String deadLetterTopic,
                                   Optional<java.util.Set<String>> compressed, String catalogTopic) {
            java.util.Set<String> known = new java.util.TreeSet<>(refusing);
            compressed.ifPresent(known::addAll);
            return "--model " + model + ": no dead letter in " + deadLetterTopic + " and no catalog entry in " + catalogTopic
                    + " names this model id (mistyped?); the model ids they name: "
                    + named(known)
                    + (compressed.isPresent() ? "" : " (the catalog topic " + catalogTopic + " does not exist: name the"
                            + " one in use with --catalog-topic)");
        }

        /** E.g. "; 2 refusal(s) of documents deleted since are not listed (--all lists them)". */
        private String footer(long count, String what, String mark) {
            return count == 0 ? "" : all ? "; " + count + " of them " + what + ", marked " + mark.strip()
                    : "; " + count + " refusal(s) " + what + " are not listed (--all lists them)";
        }
    }

    @Command(name = "sweep", mixinStandardHelpOptions = true, sortOptions = false,
            description = {"Let the blobs in Redis that no catalog entry will name again expire: a version older "
                    + "than the one the catalog names for its document and model, or a blob of a document that has no "
                    + "catalog entry and no record in the documents topic since its last tombstone. Such blobs are "
                    + "left by a compressor instance fenced off mid-write, or an attempt that aborted; they serve no "
                    + "reader, only take memory. Prints each blob it sweeps, then a summary line.",
                    "Left alone: the blobs the catalog names, versions newer than the catalog's (a transaction may "
                    + "not have committed yet), blobs of a live document not in the catalog yet or published again "
                    + "after a delete, and blobs of a model the catalog has no entry of or of a tenant neither topic "
                    + "names (another deployment sharing the Redis). Every verdict is made on the topics read after "
                    + "the blob was scanned, so it may run while compressors run, and again.",
                    "A note on stderr counts the catalog entries of live documents whose blob the scan did not find"
                    + " (Redis restarted without persistence, was flushed, or evicted them), per model, with the"
                    + " 'sac warm --rebuild --model-id ID' that compresses them again.",
                    "Exit status 1, changing nothing, when most catalog entries name documents the documents topic "
                    + "does not hold (not the topic the compressors read?).",
                    "It reads the documents and catalog topics: --recompress-topic, --control-topic and"
                    + " --dead-letter-topic are taken, as by every command that takes the topic flags, and not read."})
    static final class Sweep implements Callable<Integer> {
        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Option(names = "--tenant", paramLabel = "TENANT",
                description = "Only this tenant's blobs (default: every tenant's).")
        String tenant;

        @Option(names = "--grace", paramLabel = "DURATION", defaultValue = "10m", converter = Durations.class,
                description = "A swept blob expires after this long, not at once, so a reader that resolved it before "
                        + "the sweep still finds it; an earlier expiry stays (default ${DEFAULT-VALUE}).")
        Duration grace;

        @Option(names = "--dry-run", description = "List the blobs that would be swept, and why; change nothing.")
        boolean dryRun;

        @Option(names = "--timeout", paramLabel = "DURATION", defaultValue = "2m", converter = Durations.class,
                description = "Give up reading a topic to its end after this long (default ${DEFAULT-VALUE}); a broker"
                        + " that does not answer is waited for this long, at most 30s.")
        Duration timeout;

        @CommandLine.Mixin
        RedisOption redis;

        @CommandLine.Mixin
        TopicOptions.NotWaiting topics;

        @Override
        public Integer call() throws Exception {
            Durations.requireTimeout(spec, timeout);
            if (grace.toMillis() < 1) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--grace must be at least 1ms, got " + Durations.shown(grace));
            }
            java.io.PrintWriter out = spec.commandLine().getOut();
            dev.sacrag.kvstore.RedisTarget target = redis.target();
            // a broker's answer is waited for --timeout, or 30 s when that is longer (it bounds reading a topic)
            dev.sacrag.cli.warming.BlobSweep.Settings s = new dev.sacrag.cli.warming.BlobSweep.Settings(
                    dev.sacrag.cli.warming.Brokers.within(topics.bootstrapServers(), timeout), topics.documents,
                    topics.catalog, Optional.ofNullable(tenant), grace, dryRun);
            dev.sacrag.cli.warming.BlobSweep.Summary summary;
            try (dev.sacrag.kvstore.AnchorKvStore blobs = dev.sacrag.kvstore.AnchorKvStore.connect(
                    dev.sacrag.kvstore.KvStoreConfig.of(target))) {
                summary = dev.sacrag.cli.warming.BlobSweep.run(s, blobs, timeout, (key, verdict) ->
                        out.println(verdict.name().toLowerCase(Locale.ROOT).replace('_', ' ') + "  " + key));
            } catch (dev.sacrag.cli.warming.BlobSweep.Refused e) {
                spec.commandLine().getErr().println("docs sweep: refused: " + e.getMessage());
                return 1;
            }
            out.println(summary.line());
            out.flush();
            summary.missingNote().ifPresent(spec.commandLine().getErr()::println);
            return 0;
        }
    }
}
