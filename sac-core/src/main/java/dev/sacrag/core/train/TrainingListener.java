package dev.sacrag.core.train;

/** Progress of a training run, for a progress bar or a log. */
public interface TrainingListener {

    /** One optimiser step finished. */
    record Step(String stage, long step, long totalSteps, double loss, double tokensPerSecond,
                double elapsedSeconds, double etaSeconds, double lr) { }

    void onStep(Step step);

    default void onMessage(String message) {
    }
}
