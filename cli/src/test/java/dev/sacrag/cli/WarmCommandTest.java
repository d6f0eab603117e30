package dev.sacrag.cli;

import dev.sacrag.cli.warming.BlobRebuild;
import dev.sacrag.cli.warming.ModelRollout;
import dev.sacrag.query.v1.WarmMiss;
import dev.sacrag.stack.RedisServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static dev.sacrag.cli.PipelineRig.refused;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertFalse;

/** The warming commands refuse contradictory or incomplete flags before touching Kafka or Redis. */
class WarmCommandTest {

    @TempDir
    Path tmp;

    @Test
    void warmNeedsOneWayOfWarming() {
        refused("give one of --docs, --query, --rebuild or --model", "warm");
        refused("mutually exclusive", "warm", "--rebuild", "--docs", "a");
    }

    @Test
    void modelFlagsBelongToTheirMode() {
        refused("no --model/--model-id/--adapter", "warm", "--docs", "a", "--model-id", "3f9a0c1d2e4b");
        refused("--model-id and --adapter go with --rebuild", "warm", "--model-id", "3f9a0c1d2e4b");
        refused("give --model-id or --model, not both", "warm", "--rebuild", "--model-id", "x", "--model", tmp.toString());
        refused("--verify goes with --rebuild", "warm", "--docs", "a", "--verify");
    }

    /**
     * Nothing listens at 127.0.0.1:1: a broker's answer is waited for --timeout (at most 30 s, as
     * it bounds the whole run), where a topic's lookup took 30 s and the group's offsets a minute.
     */
    @Test
    void rebuildAndRolloutWithNoBrokerFailWithinTheirTimeout() {
        Path pkg = tmp.resolve("pkg");
        assertEquals(0, PipelineRig.sac(List.of("model", "random", "--shape", "tiny", "--out", pkg.toString())).code());
        try (RedisServer redis = RedisServer.launch()) {   // whatever Redis is asked first, it answers
            String[] noBroker = {"--bootstrap-servers", "127.0.0.1:1", "--timeout", "2s", "--redis", redis.url()};
            // no --model-id: the active model, from the control topic
            PipelineRig.failsWithin20s("no broker at 127.0.0.1:1 answered about topic sac.control within 2s",
                    List.of("warm", "--rebuild"), noBroker);
            // a typed one: whether its own compressors' group has committed
            PipelineRig.failsWithin20s("no broker at 127.0.0.1:1 answered when asked for the committed offsets of"
                    + " sac-compressor-m1 within 2s", List.of("warm", "--rebuild", "--model-id", "m1"),
                    noBroker);
            PipelineRig.failsWithin20s("no broker at 127.0.0.1:1 answered about topic sac.documents within 2s",
                    List.of("warm", "--model", pkg.resolve("adapters/sac").toString(),
                            "--model-package", pkg.toString(), "--state-dir", tmp.resolve("state").toString()), noBroker);
        }
    }

    /** The help's summary names every compressor setting --model takes from 'sac compressor' (--max-doc-*: the limits). */
    @Test
    void helpNamesEveryCompressorSettingTheRolloutUses() {
        picocli.CommandLine.Model.CommandSpec warm = new picocli.CommandLine(new WarmCommand()).getCommandSpec();
        String summary = String.join(" ", warm.usageMessage().description());
        for (picocli.CommandLine.Model.OptionSpec o : warm.mixins().get("compression").options()) {
            String name = o.longestName().startsWith("--max-doc-") ? "--max-doc-*" : o.longestName();
            assertTrue(summary.contains(name + ",") || summary.contains(name + ";"), name + " in: " + summary);
        }
    }

    /** 0s bounded the broker's first answer too: "no broker at ... answered within 0s", where one was running. */
    @Test
    void aTimeoutUnderASecondIsAUsageError() {
        PipelineRig.usageError("--timeout must be at least 1s, got 0s", "warm", "--rebuild", "--bootstrap-servers",
                "127.0.0.1:1", "--timeout", "0s");
        PipelineRig.usageError("--timeout must be at least 1s, got 500ms", "warm", "--model", tmp.toString(),
                "--timeout", "500ms");
    }

    /** As sac ask's: the Warm RPC refused them as INVALID_ARGUMENT (exit 1), naming its request's fields. */
    @Test
    void cacheWarmingValuesTheServiceWouldRefuseAreUsageErrors() {
        String[] nobody = {"--target", "127.0.0.1:1"};
        PipelineRig.usageError("--top-k must be >= 0, got -1", "warm", "--query", "loom", "--top-k", "-1", nobody[0], nobody[1]);
        PipelineRig.usageError("--docs must name documents, got an empty or blank id", "warm", "--docs", "a", "",
                nobody[0], nobody[1]);
        PipelineRig.usageError("--query must not be empty or blank", "warm", "--query", " ", nobody[0], nobody[1]);
        PipelineRig.usageError("--tenant 'a/b' is not a tenant name", "warm", "--docs", "a", "--tenant", "a/b",
                nobody[0], nobody[1]);
        // 0 is the request's "the server's default" (query.proto): the call is made, and fails on nobody listening
        PipelineRig.Run zero = PipelineRig.sac(List.of("warm", "--query", "loom", "--top-k", "0", nobody[0], nobody[1]));
        assertEquals(1, zero.code(), zero.err());
        assertFalse(zero.err().contains("--top-k"), zero.err());
    }

    /** A folder that is no adapter is told apart from the adapters beside it, which are listed. */
    @Test
    void rolloutNeedsAnAdapterFolder() throws Exception {
        refused("has no sac.json", "warm", "--model", tmp.toString());

        Path adapters = tmp.resolve("pkg/adapters");
        for (String name : List.of("sac-causal", "sac")) {
            Files.createDirectories(adapters.resolve(name));
            Files.writeString(adapters.resolve(name).resolve("sac.json"), "{}");
        }
        Files.createDirectories(adapters.resolve("notes"));
        PipelineRig.usageError("--model " + adapters.resolve("sac-v2") + " has no sac.json: alone, --model names the new"
                + " adapter folder (the base model comes from --model-package); the adapter folders beside it: "
                + adapters.resolve("sac") + ", " + adapters.resolve("sac-causal") + "\n", "warm", "--model",
                adapters.resolve("sac-v2").toString());
    }

    @Test
    void rolloutRefusesCompressorSettingsOutOfRangeAsAUsageError() {
        Path pkg = tmp.resolve("pkg");
        assertEquals(0, PipelineRig.sac(List.of("model", "random", "--shape", "tiny", "--out", pkg.toString())).code());
        PipelineRig.Run r = PipelineRig.sac(List.of("warm", "--model", pkg.resolve("adapters/sac").toString(),
                "--model-package", pkg.toString(), "--max-poll-records", "500"));
        assertEquals(2, r.code(), "a usage error, before any Kafka or Redis is touched: " + r.out() + r.err());
        assertTrue(r.err().contains("--max-poll-records"), r.err());

        // the blob format is one of the shared compression options: checked as a usage error too
        r = PipelineRig.sac(List.of("warm", "--model", pkg.resolve("adapters/sac").toString(),
                "--model-package", pkg.toString(), "--blob-dtype", "bf16"));
        assertEquals(2, r.code(), r.out() + r.err());
        assertTrue(r.err().contains("--blob-dtype"), r.err());
    }

    /** Without an activation, a rebuild is for the model the compressors run: their SAC_ADAPTER and SAC_RATIO count. */
    @Test
    void theRebuildsDefaultModelIdIsTheCompressorsOwn() throws Exception {
        Path pkg = tmp.resolve("pkg");
        assertEquals(0, PipelineRig.sac(List.of("model", "random", "--shape", "tiny", "--out", pkg.toString())).code());
        Path other = tmp.resolve("other-adapter");
        dev.sacrag.core.sac.SacAdapter.writeRandom(other, dev.sacrag.core.sac.SacSpec.paperDefaults("sac", List.of(4, 8), 8,
                dev.sacrag.core.sac.Fingerprints.baseModel(pkg.resolve("base"))), dev.sacrag.core.random.ModelShape.TINY.config, 99);
        String plain = WarmCommand.compressorsModelId(pkg, null, java.util.Map.of());
        String ofOther = WarmCommand.compressorsModelId(pkg, null, java.util.Map.of("SAC_ADAPTER", other.toString()));
        String ofOther8 = WarmCommand.compressorsModelId(pkg, null, java.util.Map.of("SAC_ADAPTER", other.toString(), "SAC_RATIO", "8"));
        assertEquals(ofOther8, WarmCommand.compressorsModelId(pkg, 8, java.util.Map.of("SAC_ADAPTER", other.toString(), "SAC_RATIO", "4")),
                "--ratio over SAC_RATIO");
        assertEquals(3, java.util.Set.of(plain, ofOther, ofOther8).size(), plain + " " + ofOther + " " + ofOther8);
        IllegalArgumentException bad = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> WarmCommand.compressorsModelId(pkg, null, java.util.Map.of("SAC_RATIO", "eight")));
        assertTrue(bad.getMessage().contains("SAC_RATIO 'eight'"), bad.getMessage());
    }

    @Test
    void activateAndRetireNeedAModelId() {
        refused("is not a model id", "model", "activate", "a|b");
        refused("Missing required parameter", "model", "activate");
        refused("is not a model id", "model", "retire", "a|b");
        refused("Missing required parameter", "model", "retire");
        refused("--redis: ", "model", "retire", "3f9a0c1d2e4b", "--redis", "http://x");
    }

    /** A rebuild that got every record back, but a Redis that lost them again meanwhile, says so; not "within 30m". */
    @Test
    void aRebuildWhoseBlobsWentAgainSaysSoRatherThanTimedOut() {
        var lost = new BlobRebuild.Summary("m1", new BlobRebuild.Counts(912, 912, 912, 825, 0, 0),
                new BlobRebuild.Left(List.of(), List.of(), List.of("demo-01", "demo-02"), false),
                new BlobRebuild.RedisRoom(0, 17_700_000, 0),
                java.time.Duration.ofSeconds(142), false);
        List<String> lines = WarmCommand.rebuildProblems(lost, java.time.Duration.ofMinutes(30), "sac-compressor", java.util.Set.of());
        assertEquals(1, lines.size(), lines.toString());
        assertTrue(lines.get(0).contains("rebuilt, but missing from Redis again") && lines.get(0).contains("demo-01"),
                lines.get(0));
        var timedOut = new BlobRebuild.Summary("m1", new BlobRebuild.Counts(3, 3, 3, 1, 0, 0),
                new BlobRebuild.Left(List.of("a"), List.of(), List.of("b"), false), new BlobRebuild.RedisRoom(0, 0, 0),
                java.time.Duration.ofMinutes(30), false);
        List<String> both = WarmCommand.rebuildProblems(timedOut, java.time.Duration.ofMinutes(30), "sac-compressor", java.util.Set.of());
        assertEquals(2, both.size(), both.toString());
        assertTrue(both.get(1).contains("not restored within 30m: a (is a compressor running model m1"), both.get(1));
        var refused = new BlobRebuild.Summary("m1", new BlobRebuild.Counts(3, 3, 3, 2, 0, 0),
                new BlobRebuild.Left(List.of("a"), List.of(), List.of(), true), new BlobRebuild.RedisRoom(0, 0, 0),
                java.time.Duration.ofSeconds(5), false);
        assertTrue(WarmCommand.rebuildProblems(refused, java.time.Duration.ofMinutes(30), "x", java.util.Set.of()).get(0)
                .startsWith("warm --rebuild: refused by the compressor (a dead letter names them"));
        var unexplained = new BlobRebuild.Summary("m1", new BlobRebuild.Counts(3, 3, 3, 1, 0, 0),
                new BlobRebuild.Left(List.of("a", "b"), List.of("b"), List.of(), true), new BlobRebuild.RedisRoom(0, 0, 0),
                java.time.Duration.ofSeconds(5), false);
        assertEquals(List.of("warm --rebuild: refused by the compressor (a dead letter names them, e.g. over"
                + " --max-doc-tokens: 'sac docs refused' says why): a", "warm --rebuild: the compressor processed their"
                + " requests without rebuilding them, and no dead letter names them (expired under the dead-letter topic's"
                + " retention, or see the compressor's log): b"),
                WarmCommand.rebuildProblems(unexplained, java.time.Duration.ofMinutes(30), "x", java.util.Set.of()));
        // the group runs another model: it skipped the requests, which is not a refusal of the documents
        String skipped = WarmCommand.rebuildProblems(refused, java.time.Duration.ofMinutes(30), "sac-compressor",
                java.util.Set.of("m0")).get(0);
        assertTrue(skipped.startsWith("warm --rebuild: the compressors of application id sac-compressor run model m0, not m1:"
                + " they skipped these requests") && !skipped.contains("refused"), skipped);
        assertTrue(WarmCommand.rebuildProblems(refused, java.time.Duration.ofMinutes(30), "x", java.util.Set.of("m1"))
                .get(0).contains("refused by the compressor"), "the group's own model: refused it is");
        var allBack = new BlobRebuild.Summary("m1", new BlobRebuild.Counts(3, 3, 3, 3, 0, 0), BlobRebuild.Left.NONE,
                new BlobRebuild.RedisRoom(0, 0, 0), java.time.Duration.ofSeconds(5), false);
        assertEquals(List.of(), WarmCommand.rebuildProblems(allBack, java.time.Duration.ofMinutes(30), "x", java.util.Set.of()));

        // a Redis too small for the catalog's blobs evicts some to take the rebuilt ones: running again does not help
        var evicting = new BlobRebuild.Summary("m1", new BlobRebuild.Counts(60, 39, 39, 20, 0, 0),
                new BlobRebuild.Left(List.of(), List.of(), List.of("demo-03"), false),
                new BlobRebuild.RedisRoom(40, 17_700_000, 8 << 20),
                java.time.Duration.ofSeconds(40), false);
        List<String> full = WarmCommand.rebuildProblems(evicting, java.time.Duration.ofMinutes(30), "x", java.util.Set.of());
        assertTrue(full.get(0).startsWith("warm --rebuild: Redis evicted 40 keys while this ran to make room: the blobs do"
                + " not all fit (the catalog's need 17,700,000 bytes, maxmemory is 8,388,608); raise its maxmemory"), full.get(0));
        assertTrue(full.get(1).contains("(evicted): demo-03") && !full.get(1).contains("run warm --rebuild again"), full.get(1));
        var allRestored = new BlobRebuild.Summary("m1", new BlobRebuild.Counts(60, 39, 39, 39, 0, 0),
                BlobRebuild.Left.NONE, new BlobRebuild.RedisRoom(40, 17_700_000, 8 << 20),
                java.time.Duration.ofSeconds(40), false);
        assertEquals(List.of(), WarmCommand.rebuildProblems(allRestored, java.time.Duration.ofMinutes(30), "x", java.util.Set.of()),
                "evictions of other keys (allkeys-lru at work) do not fail a rebuild that restored everything");
    }

    @Test
    void aRolloutThatCompressedNothingIsNotToBeActivated() {
        java.time.Duration t = java.time.Duration.ofSeconds(3);
        var broken = new ModelRollout.Summary("9b30e925b639", "sac-compressor-9b30e925b639", new ModelRollout.Counts(12, 0, 0, 0),
                new ModelRollout.Left(List.of("a", "b"), true, List.of(), List.of()), t);
        assertTrue(WarmCommand.nothingCompressed(broken), "12 live, 0 compressed, all dead-lettered");
        var partly = new ModelRollout.Summary("9b30e925b639", "x", new ModelRollout.Counts(12, 0, 11, 0),
                new ModelRollout.Left(List.of("a"), true, List.of(), List.of()), t);
        assertFalse(WarmCommand.nothingCompressed(partly), "a document too large for the model is not the model's fault");
        var empty = new ModelRollout.Summary("9b30e925b639", "x", new ModelRollout.Counts(0, 0, 0, 0),
                new ModelRollout.Left(List.of(), true, List.of(), List.of()), t);
        assertFalse(WarmCommand.nothingCompressed(empty), "no documents: nothing to compress");
        var allDeleted = new ModelRollout.Summary("9b30e925b639", "x", new ModelRollout.Counts(2, 0, 0, 2),
                new ModelRollout.Left(List.of(), true, List.of(), List.of()), t);
        assertFalse(WarmCommand.nothingCompressed(allDeleted), "both deleted while it ran: nothing left to compress");
        var refusedOrDeleted = new ModelRollout.Summary("9b30e925b639", "x", new ModelRollout.Counts(12, 0, 0, 2),
                new ModelRollout.Left(List.of("a", "b", "c", "d", "e", "f", "g", "h", "i", "j"), true, List.of(), List.of()), t);
        assertTrue(WarmCommand.nothingCompressed(refusedOrDeleted));
        assertTrue(WarmCommand.nothingCompressedLine(refusedOrDeleted).contains("model 9b30e925b639: all 10 went to the"
                + " dead-letter topic"), "the 2 deleted while it ran were not refused: "
                + WarmCommand.nothingCompressedLine(refusedOrDeleted));
    }

    /**
     * A document every version of which a compressor refused is not live, so a count of live ones left it out
     * without a word: a rollout run again said "12/12 live documents compressed" of 13 published, and one of a
     * broken adapter run again, every document refused by its first run, "0/0" and which model to activate.
     */
    @Test
    void theDocumentsRefusedBeforeARunAreCountedApart() {
        java.time.Duration t = java.time.Duration.ofSeconds(3);
        String note = "; 1 more refused for the model by a compressor, not compressed until published again"
                + " ('sac docs refused --model m2')";
        var again = new ModelRollout.Summary("m2", "x", new ModelRollout.Counts(12, 12, 12, 0),
                new ModelRollout.Left(List.of(), false, List.of(), List.of("ledger")), t);
        assertEquals("warm --model: model m2: 12/12 live documents compressed (12 already were) in 3.0 s" + note, again.line());
        assertEquals(java.util.List.of("ledger"), again.notCompressed(), "listed under 'not compressed:' as in the first run");
        assertTrue(again.complete(), "activation's rule is unchanged: the refused document is not live for the model");
        assertFalse(WarmCommand.nothingCompressed(again));
        var refusedNowAndBefore = new ModelRollout.Summary("m2", "x", new ModelRollout.Counts(12, 0, 11, 0),
                new ModelRollout.Left(List.of("memo"), true, List.of(), List.of("ledger", "annex")), t);
        assertEquals(java.util.List.of("annex", "ledger", "memo"), refusedNowAndBefore.notCompressed());
        assertTrue(refusedNowAndBefore.line().endsWith("1 not compressible (see the dead-letter topic) in 3.0 s; 2 more"
                + " refused for the model by a compressor, not compressed until published again ('sac docs refused --model"
                + " m2')"), refusedNowAndBefore.line());

        var brokenAgain = new ModelRollout.Summary("m2", "x", new ModelRollout.Counts(0, 0, 0, 0),
                new ModelRollout.Left(List.of(), false, List.of(), List.of("a", "b")), t);
        assertTrue(WarmCommand.nothingCompressed(brokenAgain), "every document refused for the model by an earlier run");
        assertTrue(WarmCommand.nothingCompressedLine(brokenAgain).contains("model m2: all 2 went to the dead-letter topic"),
                WarmCommand.nothingCompressedLine(brokenAgain));
        var emptyAgain = new ModelRollout.Summary("m2", "x", new ModelRollout.Counts(0, 0, 0, 0),
                new ModelRollout.Left(List.of(), false, List.of(), List.of()), t);
        assertFalse(WarmCommand.nothingCompressed(emptyAgain), "no documents at all: nothing to compress");

        var rebuilt = new BlobRebuild.Summary("m2", new BlobRebuild.Counts(12, 1, 1, 1, 0, 1),
                BlobRebuild.Left.NONE, new BlobRebuild.RedisRoom(0, 0, 0),
                t, false);
        assertEquals("warm --rebuild: model m2: checked 12 live documents, 1 missing, 1 recompress requests, 1 restored"
                + " in 3.0 s" + note, rebuilt.line());
        assertEquals("12/12 live documents are compressed for model m2 (12 catalog entries)" + note,
                new dev.sacrag.cli.warming.Readiness("m2", 12, 12, 0, 12, 1, 0).line());
        assertEquals("11/12 live documents are compressed for model m2 (12 catalog entries; 1 live document(s) in the"
                + " catalog have no blob in Redis)" + note, new dev.sacrag.cli.warming.Readiness("m2", 12, 11, 1, 12, 1, 0).line());
        assertEquals("1/1 live documents are compressed for model m2 (1 catalog entry)",
                new dev.sacrag.cli.warming.Readiness("m2", 1, 1, 0, 1, 0, 0).line(), "one entry, in the singular");
        assertEquals("model m2: 1 catalog entry removed, 1 blob deleted",
                new dev.sacrag.cli.warming.ModelRetirement.Summary("m2", 1, 1).line());
    }

    /** "Not compressible" is said only of what a dead letter refused; the rest is not called complete. */
    @Test
    void aRolloutSaysWhatWasRefusedWhatWasDeletedAndWhatNothingExplains() {
        java.time.Duration t = java.time.Duration.ofSeconds(3);
        var refusedAndDeleted = new ModelRollout.Summary("m2", "x", new ModelRollout.Counts(12, 0, 10, 1),
                new ModelRollout.Left(List.of("long"), true, List.of(), List.of()), t);
        assertTrue(refusedAndDeleted.complete());
        assertEquals("warm --model: model m2: 10/12 live documents compressed (0 already were), 1 not compressible (see the"
                + " dead-letter topic), 1 deleted while this ran in 3.0 s", refusedAndDeleted.line());
        var unexplained = new ModelRollout.Summary("m2", "x", new ModelRollout.Counts(12, 0, 10, 0),
                new ModelRollout.Left(List.of("long", "odd"), true, List.of("odd"), List.of()), t);
        assertFalse(unexplained.complete(), "went past a document without a record or a dead letter");
        assertTrue(unexplained.line().contains(", 1 not compressible (see the dead-letter topic), 1 neither compressed nor"
                + " dead-lettered (see the compressor's log)"), unexplained.line());
        var timedOut = new ModelRollout.Summary("m2", "x", new ModelRollout.Counts(12, 0, 10, 0),
                new ModelRollout.Left(List.of("a", "b"), false, List.of(), List.of()), t);
        assertFalse(timedOut.complete());
        assertTrue(timedOut.line().contains(", 2 not compressed yet in"), "the timeout ended the wait: " + timedOut.line());
        var rebuilt = new BlobRebuild.Summary("m1", new BlobRebuild.Counts(3, 3, 3, 2, 1, 0),
                new BlobRebuild.Left(List.of(), List.of(), List.of(), true), new BlobRebuild.RedisRoom(0, 0, 0),
                t, false);
        assertTrue(rebuilt.line().contains(", 2 restored, 1 deleted while this ran in"), rebuilt.line());
    }

    /** A warm's misses a compressor refused are named with why and the remedy, as sac ask names them. */
    @Test
    void aWarmNamesTheMissesACompressorRefused() {
        var r = dev.sacrag.query.v1.WarmResponse.newBuilder().setLoaded(1).setBytes(2048).addMisses("ledger")
                .addMisses("manifest").addRefused(dev.sacrag.query.v1.RefusedDocument.newBuilder().setDocId("ledger")
                        .setVersion(4).setRefusedByModel("m1").setReason("TOO_LARGE").setMessage("4100 tokens")
                        .setRemedy("split it")).build();
        java.io.StringWriter text = new java.io.StringWriter();
        WarmCommand.printWarmed(r, new java.io.PrintWriter(text));
        assertEquals(String.format("warm: loaded 1 document(s), 2,048 bytes; 0 already warm; 2 miss(es): ledger, manifest%n"
                + "[1 of the misses refused by a compressor: not compressed until published again]%n"
                + "  ledger v4  refused by the compressor of model m1: TOO_LARGE (4100 tokens)%n"
                + "    remedy: split it%n"), text.toString());
    }

    /**
     * Each miss is named with why, a line each: a mistyped id, one to wait for, one being rebuilt, a
     * cache too small; a refused one once, in its refusal's lines; a reason newer than this client by its words.
     */
    @Test
    void aWarmNamesEachMissWithWhy() {
        var r = dev.sacrag.query.v1.WarmResponse.newBuilder().setLoaded(1).setBytes(2048).addMisses("nope")
                .addMisses("ledger").addMisses("evicted").addMisses("later")
                .addRefused(dev.sacrag.query.v1.RefusedDocument.newBuilder().setDocId("ledger").setVersion(4)
                        .setRefusedByModel("m1").setReason("TOO_LARGE").setMessage("4100 tokens").setRemedy("split it"))
                .addMissReasons(miss("nope", WarmMiss.Reason.UNKNOWN_DOCUMENT, "unknown in tenant 'default'"))
                .addMissReasons(miss("ledger", WarmMiss.Reason.REFUSED, "v4 was refused"))
                .addMissReasons(miss("evicted", WarmMiss.Reason.BLOB_MISSING, "v14 of model m1: blob missing from Redis;"
                        + " recompression requested"))
                .addMissReasons(WarmMiss.newBuilder().setDocId("later").setReasonValue(99).setDetail("a newer reason"))
                .build();
        java.io.StringWriter text = new java.io.StringWriter();
        WarmCommand.printWarmed(r, new java.io.PrintWriter(text));
        assertEquals(String.format("warm: loaded 1 document(s), 2,048 bytes; 0 already warm; 4 miss(es): nope, ledger,"
                + " evicted, later%n"
                + "  nope  UNKNOWN_DOCUMENT: unknown in tenant 'default'%n"
                + "  evicted  BLOB_MISSING: v14 of model m1: blob missing from Redis; recompression requested%n"
                + "  later  a newer reason%n"
                + "[1 of the misses refused by a compressor: not compressed until published again]%n"
                + "  ledger v4  refused by the compressor of model m1: TOO_LARGE (4100 tokens)%n"
                + "    remedy: split it%n"), text.toString());
    }

    private static WarmMiss miss(String docId, WarmMiss.Reason reason, String detail) {
        return WarmMiss.newBuilder().setDocId(docId).setReason(reason).setDetail(detail).build();
    }
}
