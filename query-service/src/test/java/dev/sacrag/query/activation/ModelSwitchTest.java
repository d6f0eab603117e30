package dev.sacrag.query.activation;

import dev.sacrag.core.random.ModelShape;
import dev.sacrag.core.random.RandomModelWriter;
import dev.sacrag.core.sac.Fingerprints;
import dev.sacrag.core.sac.SacAdapter;
import dev.sacrag.core.sac.SacSpec;
import dev.sacrag.query.FakeAnswerer;
import dev.sacrag.query.decode.ActiveAnswerer;
import dev.sacrag.query.feed.ControlFeed;
import dev.sacrag.query.feed.FeedRecords;
import dev.sacrag.query.metrics.QueryMetrics;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Model activation against adapters on disk (a tiny random package); the engine itself is faked. */
class ModelSwitchTest {

    @TempDir
    static Path tmp;
    static Path base;
    static Path sac;
    static Path v2;

    @BeforeAll
    static void writePackage() throws Exception {
        base = tmp.resolve("pkg/base");
        RandomModelWriter.write(ModelShape.TINY.config, base, RandomModelWriter.Options.defaults(3));
        sac = tmp.resolve("pkg/adapters/sac");
        v2 = tmp.resolve("pkg/adapters/sac-v2");
        SacAdapter.writeRandom(sac, SacSpec.paperDefaults("sac", List.of(4, 8), 8, Fingerprints.baseModel(base)), ModelShape.TINY.config, 4);
        SacAdapter.writeRandom(v2, SacSpec.paperDefaults("sac", List.of(4, 8), 8, Fingerprints.baseModel(base)), ModelShape.TINY.config, 5);
    }

    static String id(Path adapter, int ratio) throws java.io.IOException {
        return Fingerprints.modelId(Fingerprints.baseModel(base), Fingerprints.adapter(adapter), ratio);
    }

    private final QueryMetrics metrics = QueryMetrics.inMemory();
    private final List<String> switched = new ArrayList<>();
    private final List<AdapterLocator.Match> loaded = new ArrayList<>();

    private ModelSwitch switchFrom(ActiveAnswerer active) {
        return new ModelSwitch(new AdapterLocator(base, sac), match -> {
            loaded.add(match);
            return new ActiveAnswerer.Loaded(new FakeAnswerer(id(match.adapterDir(), match.ratio()), 2, 0), () -> { });
        }, active, switched::add, metrics);
    }

    @Test
    void findsTheAdapterAndRatioOfTheModelIdAmongThePackagesAdapters() throws Exception {
        ActiveAnswerer active = new ActiveAnswerer(new ActiveAnswerer.Loaded(new FakeAnswerer(id(sac, 4), 2, 0), () -> { }));
        ModelSwitch models = switchFrom(active);
        String target = id(v2, 8);

        models.activate(new ModelActivation(target, Optional.empty()));
        assertEquals(target, active.modelId());
        assertEquals(List.of(new AdapterLocator.Match(v2.toAbsolutePath().normalize(), 8)), loaded);
        assertEquals(List.of(target), switched, "the cache is told to move to the new model");
        assertTrue(models.unavailable().isEmpty());
        assertEquals(1.0, metrics.registry().get("sac.query.model.active").tag("model_id", target).gauge().value());
        assertEquals(0.0, metrics.registry().get("sac.query.model.active").tag("model_id", id(sac, 4)).gauge().value());

        models.activate(new ModelActivation(target, Optional.of("sac-v2")));
        assertEquals(1, loaded.size(), "activating the active model again loads nothing");
        assertEquals(1.0, metrics.registry().get("sac.query.model.activations").tag("result", "unchanged").counter().count());
    }

    @Test
    void theControlFeedAppliesABatchsLastActivationAndATombstoneReturnsToTheStartupModel() throws Exception {
        String startup = id(sac, 4);
        ActiveAnswerer active = new ActiveAnswerer(new ActiveAnswerer.Loaded(new FakeAnswerer(startup, 2, 0), () -> { }));
        ControlFeed feed = new ControlFeed(switchFrom(active), startup, metrics);
        feed.handle(new FeedRecords(ModelActivation.DEFAULT_TOPIC)
                .add(ModelActivation.KEY, new ModelActivation(id(v2, 4), Optional.empty()).toJson())
                .add("another-key", new ModelActivation(id(sac, 8), Optional.empty()).toJson())
                .add(ModelActivation.KEY, new ModelActivation(id(v2, 8), Optional.empty()).toJson())
                .add(ModelActivation.KEY, "{not json".getBytes(java.nio.charset.StandardCharsets.UTF_8))
                .batch());
        assertEquals(id(v2, 8), active.modelId(), "the batch's last valid activation under the key");
        assertEquals(1, loaded.size(), "earlier activations of the batch are history: not loaded");
        assertEquals(1.0, metrics.registry().get("sac.query.feed.records").tag("result", "bad").counter().count());

        feed.handle(new FeedRecords(ModelActivation.DEFAULT_TOPIC).add(ModelActivation.KEY, null).batch());
        assertEquals(startup, active.modelId(), "a tombstone returns to the model the replica started with");
    }

    @Test
    void anUnknownModelIdKeepsTheCurrentModelAndReportsTheMismatch() throws Exception {
        String current = id(sac, 4);
        ActiveAnswerer active = new ActiveAnswerer(new ActiveAnswerer.Loaded(new FakeAnswerer(current, 2, 0), () -> { }));
        ModelSwitch models = switchFrom(active);

        models.activate(new ModelActivation("0123456789ab", Optional.of("/elsewhere/adapters/new")));
        assertEquals(current, active.modelId(), "still serving the old model");
        assertEquals(Optional.of("0123456789ab"), models.unavailable());
        assertEquals(1.0, metrics.registry().get("sac.query.model.mismatch").gauge().value());
        assertEquals(1.0, metrics.registry().get("sac.query.model.activations").tag("result", "no-adapter").counter().count());

        models.activate(new ModelActivation(current, Optional.empty()));
        assertEquals(0.0, metrics.registry().get("sac.query.model.mismatch").gauge().value(), "back in line with the topic");
    }

    @Test
    void runningOutOfMemoryWhileLoadingKeepsTheCurrentModelAndReportsTheFailure() throws Exception {
        String current = id(sac, 4);
        ActiveAnswerer active = new ActiveAnswerer(new ActiveAnswerer.Loaded(new FakeAnswerer(current, 2, 0), () -> { }));
        ModelSwitch models = new ModelSwitch(new AdapterLocator(base, sac), match -> {
            throw new OutOfMemoryError("Direct buffer memory");   // a second base model's weights beside the first
        }, active, switched::add, metrics);

        models.activate(new ModelActivation(id(v2, 8), Optional.empty()));   // must not throw: the follower thread calls it
        assertEquals(current, active.modelId(), "still serving the old model");
        assertEquals(Optional.of(id(v2, 8)), models.unavailable());
        assertEquals(1.0, metrics.registry().get("sac.query.model.mismatch").gauge().value());
        assertEquals(1.0, metrics.registry().get("sac.query.model.activations").tag("result", "failed").counter().count());
        assertTrue(switched.isEmpty());
    }

    @Test
    void activationsAreJsonWithAModelIdAndAnOptionalAdapterHint() {
        ModelActivation a = new ModelActivation("3f9a0c1d2e4b", Optional.of("sac-v2"));
        assertEquals(a, ModelActivation.parse(a.toJson()));
        assertEquals(new ModelActivation("3f9a0c1d2e4b", Optional.empty()),
                ModelActivation.parse("{\"modelId\":\"3f9a0c1d2e4b\"}".getBytes()));
        assertThrows(IllegalArgumentException.class, () -> ModelActivation.parse("{\"adapter\":\"x\"}".getBytes()));
        assertThrows(IllegalArgumentException.class, () -> ModelActivation.parse("not json".getBytes()));
        assertThrows(IllegalArgumentException.class, () -> ModelActivation.parse("{\"modelId\":\"a|b\"}".getBytes()));
    }
}
