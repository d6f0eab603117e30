package dev.sacrag.query.activation;

import dev.sacrag.query.decode.ActiveAnswerer;
import dev.sacrag.query.metrics.QueryMetrics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Applies model activations from the control topic: finds the adapter that yields the named
 * model id, loads it, and swaps it in between requests ({@link ActiveAnswerer#swap}); then
 * {@code onSwitched} drops the old model's warm cache entries and preloads the new one's.
 * When no adapter here matches (or loading fails) the replica keeps serving the model it has,
 * logs an error and reports the mismatch: metric {@code sac_query_model_mismatch} = 1 and
 * {@code sac_query_model_activations_total{result="no-adapter"|"failed"}}.
 */
public final class ModelSwitch {

    private static final Logger log = LoggerFactory.getLogger(ModelSwitch.class);

    /** Loads the engine of a located adapter at its ratio. */
    @FunctionalInterface
    public interface Loader {
        ActiveAnswerer.Loaded load(AdapterLocator.Match match) throws IOException;
    }

    private final AdapterLocator locator;
    private final Loader loader;
    private final ActiveAnswerer active;
    private final Consumer<String> onSwitched;
    private final QueryMetrics metrics;
    private volatile Optional<String> unavailable = Optional.empty();

    public ModelSwitch(AdapterLocator locator, Loader loader, ActiveAnswerer active, Consumer<String> onSwitched,
                       QueryMetrics metrics) {
        this.locator = locator;
        this.loader = loader;
        this.active = active;
        this.onSwitched = onSwitched;
        this.metrics = metrics;
        metrics.gauge("sac.query.model.mismatch",
                "1 while the control topic names a model this replica cannot load (it keeps serving the previous one)",
                this, s -> s.unavailable().isPresent() ? 1 : 0);
        metrics.activeModel(active.modelId(), active::modelId);
    }

    /** The model the control topic asks for when this replica could not switch to it. */
    public Optional<String> unavailable() {
        return unavailable;
    }

    /** Called on the control topic's follower thread; loading a model takes seconds, questions go on meanwhile. */
    public synchronized void activate(ModelActivation activation) {
        String wanted = activation.modelId();
        if (wanted.equals(active.modelId())) {
            unavailable = Optional.empty();
            metrics.modelActivation("unchanged");
            return;
        }
        Optional<AdapterLocator.Match> match;
        try {
            match = locator.find(wanted, activation.adapter());
        } catch (IOException | RuntimeException e) {
            fail(wanted, "failed", "looking for its adapter failed: " + e.getMessage(), e);
            return;
        }
        if (match.isEmpty()) {
            fail(wanted, "no-adapter", "no adapter here gives that model id (base " + locator.baseDir() + ", hint "
                    + activation.adapter().orElse("none") + "); copy the adapter into the model package's adapters/ folder", null);
            return;
        }
        ActiveAnswerer.Loaded loaded;
        try {
            loaded = loader.load(match.get());
        } catch (IOException | RuntimeException | OutOfMemoryError | LinkageError e) {
            // OutOfMemoryError: a second base model's weights beside the serving one can exhaust direct
            // memory; LinkageError: a native library that does not load. Either way the serving model
            // stays, and the failure is reported like any other (metrics, the mismatch gauge).
            fail(wanted, "failed", "loading adapter " + match.get().adapterDir() + " failed: " + e.getMessage(), e);
            return;
        }
        String previous = active.modelId();
        if (!active.swap(loaded)) {
            return;   // the service closed while the model loaded: nothing to switch, nothing to preload
        }
        unavailable = Optional.empty();
        metrics.modelActivation("switched");
        metrics.activeModel(wanted, active::modelId);
        log.info("switched from model {} to {} (adapter {}, ratio {})", previous, wanted, match.get().adapterDir(),
                match.get().ratio());
        onSwitched.accept(wanted);
    }

    private void fail(String wanted, String result, String why, Throwable cause) {
        unavailable = Optional.of(wanted);
        metrics.modelActivation(result);
        log.error("cannot activate model {}: {}; still serving model {}", wanted, why, active.modelId(), cause);
    }
}
