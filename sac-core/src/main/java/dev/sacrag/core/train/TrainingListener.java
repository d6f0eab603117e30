package dev.sacrag.core.train;

/** Progress of a training run, for a progress bar or a log. */
public interface TrainingListener {

    /** One optimiser step finished. */
    record Step(String stage, long step, long totalSteps, double loss, double tokensPerSecond,
                double elapsedSeconds, double etaSeconds, double lr) { }

    void onStep(Step step);

    default void onMessage(String message) {
    }

    /** Held-out samples were scored after {@code step} steps (see {@link Validator}). */
    default void onValidation(long step, Validator.Score score) {
        onMessage(String.format(java.util.Locale.ROOT, "validation at step %d: answer loss %.3f, exact answers %.1f%% of %d",
                step, score.loss(), 100 * score.exact(), score.n()));
    }
}
