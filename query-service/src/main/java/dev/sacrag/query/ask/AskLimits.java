package dev.sacrag.query.ask;

import java.time.Duration;
import java.util.Objects;

/**
 * The defaults and limits every request is held to (from the service configuration).
 *
 * @param defaultTenant tenant of a request that names none
 * @param defaultTopK documents retrieved when a request says 0
 * @param maxTopK the most documents one request may retrieve or name
 * @param maxQuestionChars longest question, in characters (Unicode code points: most emoji are one, a flag or a joined emoji several)
 * @param defaultMaxNewTokens answer length when a request says 0
 * @param maxNewTokensCap larger requested answer lengths are lowered to this
 * @param defaultDeadline applied to calls that arrive without a deadline
 */
public record AskLimits(String defaultTenant, int defaultTopK, int maxTopK, int maxQuestionChars,
                        int defaultMaxNewTokens, int maxNewTokensCap, Duration defaultDeadline) {

    public AskLimits {
        Objects.requireNonNull(defaultTenant, "defaultTenant");
        Objects.requireNonNull(defaultDeadline, "defaultDeadline");
        if (defaultTopK < 1 || maxTopK < defaultTopK) {
            throw new IllegalArgumentException("need 1 <= default top-k <= max top-k, got " + defaultTopK + ", " + maxTopK);
        }
        if (maxQuestionChars < 1) {
            throw new IllegalArgumentException("max question chars must be >= 1, got " + maxQuestionChars);
        }
        if (defaultMaxNewTokens < 1 || maxNewTokensCap < defaultMaxNewTokens) {
            throw new IllegalArgumentException("need 1 <= default max new tokens <= cap, got "
                    + defaultMaxNewTokens + ", " + maxNewTokensCap);
        }
        if (defaultDeadline.isNegative() || defaultDeadline.isZero()) {
            throw new IllegalArgumentException("default deadline must be positive, got " + defaultDeadline);
        }
    }
}
