package dev.sacrag.core.model;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sacrag.core.model.ModelConfig.Architecture;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loaded weights live in PyTorch's memory, not in JVM direct buffers (capped by -XX:MaxDirectMemorySize). */
class WeightsMemoryTest {

    @TempDir
    Path tmp;

    @Test
    void aLoadedModelHoldsNoJvmDirectMemory() throws Exception {
        ModelConfig c = TestModels.tiny(Architecture.LLAMA);
        Path dir = TestModels.write(c, tmp.resolve("m"), 3);
        long weightBytes = Files.size(dir.resolve(Checkpoint.SINGLE_FILE));
        long before = directBytesAfterGc(Long.MAX_VALUE);   // one collection
        try (Transformer m = Transformer.load(dir)) {
            // the buffers the load filled are garbage now; before the fix the arrays borrowed them for life
            long held = directBytesAfterGc(before + weightBytes / 4) - before;
            assertTrue(held < weightBytes / 4, "the loaded model holds " + held + " bytes of direct memory for "
                    + weightBytes + " bytes of weights");
            assertTrue(m.config().layers() > 0);
        }
    }

    /** Direct memory in use, after collections until it is at most {@code target} (or 5 s passed). */
    private static long directBytesAfterGc(long target) throws InterruptedException {
        BufferPoolMXBean direct = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
                .filter(b -> b.getName().equals("direct")).findFirst().orElseThrow();
        long deadline = System.nanoTime() + 5_000_000_000L;
        long used;
        do {
            System.gc();
            Thread.sleep(50);   // buffers are freed by the Cleaner thread after the collection
            used = direct.getMemoryUsed();
        } while (used > target && System.nanoTime() < deadline);
        return used;
    }
}
