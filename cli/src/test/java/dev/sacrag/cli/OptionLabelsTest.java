package dev.sacrag.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Every value an option of a {@code sac} command takes is named in --help as the others are (N,
 * DIR, FILE, DURATION, ...), never by picocli's default, the field's name in angle brackets
 * ({@code --time-budget=<budget>}), which says nothing of what to give and changes with a rename.
 */
class OptionLabelsTest {

    @Test
    void everyOptionThatTakesAValueHasALabel() {
        List<String> unlabelled = new ArrayList<>();
        Deque<CommandLine> todo = new ArrayDeque<>(List.of(Sac.commandLine()));
        while (!todo.isEmpty()) {
            CommandLine command = todo.pop();
            CommandSpec spec = command.getCommandSpec();
            for (CommandLine.Model.OptionSpec option : spec.options()) {
                if (option.arity().max() > 0 && option.paramLabel().startsWith("<")) {
                    unlabelled.add(spec.qualifiedName() + " " + option.longestName() + "=" + option.paramLabel());
                }
            }
            for (CommandLine.Model.PositionalParamSpec parameter : spec.positionalParameters()) {
                if (parameter.paramLabel().startsWith("<")) {
                    unlabelled.add(spec.qualifiedName() + " " + parameter.paramLabel());
                }
            }
            todo.addAll(command.getSubcommands().values());
        }
        assertEquals(List.of(), unlabelled, unlabelled.size() + " option(s) without a paramLabel");
    }
}
