package dev.sacrag.cli;

import dev.sacrag.core.random.ModelShape;
import picocli.CommandLine;

/** Checks of option values picocli cannot express, failing as a usage error that names the flag. */
final class UsageChecks {

    private UsageChecks() {
    }

    /** A count that must be at least 1 ({@code flag} as the user knows it, e.g. "--partitions (SAC_PARTITIONS)"). */
    static void requireAtLeastOne(CommandLine.Model.CommandSpec spec, String flag, long value) {
        requireAtLeast(spec, flag, value, 1);
    }

    /** A count that must be at least {@code min} (0 for "none" allowed). */
    static void requireAtLeast(CommandLine.Model.CommandSpec spec, String flag, long value, long min) {
        if (value < min) {
            throw new CommandLine.ParameterException(spec.commandLine(), flag + " must be >= " + min + ", got " + value);
        }
    }

    /**
     * A list of ratios (or counts) each at least 1, e.g. "--ratios must be at least 1 each, got [0]";
     * and one at least: "--ratios ," splits into none, which a bench would run as an empty table and
     * an evaluation or a training meet only deep inside.
     */
    static void requireEachAtLeastOne(CommandLine.Model.CommandSpec spec, String flag, java.util.List<Integer> values) {
        if (values.isEmpty()) {
            throw new CommandLine.ParameterException(spec.commandLine(), flag + " must name at least one value, got none");
        }
        if (values.stream().anyMatch(v -> v < 1)) {
            throw new CommandLine.ParameterException(spec.commandLine(), flag + " must be at least 1 each, got " + values);
        }
    }

    /** A share or probability: from 0 to 1, NaN refused too. */
    static void requireShare(CommandLine.Model.CommandSpec spec, String flag, double value) {
        if (!(value >= 0 && value <= 1)) {
            throw new CommandLine.ParameterException(spec.commandLine(), flag + " must be in [0, 1], got " + value);
        }
    }

    /**
     * A rate or scale that must be above 0 and finite (a learning rate): 0 trains nothing, a
     * negative one climbs the loss, and NaN or infinity ("1e39" as a float) ruins the weights at the
     * first step.
     */
    static void requirePositive(CommandLine.Model.CommandSpec spec, String flag, float value) {
        if (!(value > 0) || Float.isInfinite(value)) {
            throw new CommandLine.ParameterException(spec.commandLine(), flag + " must be a positive number, got " + value);
        }
    }

    /** The model shape --shape names (random weights of a real model's shape), checked before any is written. */
    static ModelShape shape(CommandLine.Model.CommandSpec spec, String value) {
        try {
            return ModelShape.parse(value);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--shape '" + value + "' is not one of "
                    + ModelShape.names(), e);
        }
    }
}
