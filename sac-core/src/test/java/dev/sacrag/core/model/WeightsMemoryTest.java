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
        long whileLoaded;
        try (Transformer m = Transformer.load(dir)) {
            assertTrue(m.config().layers() > 0);
            // the buffers the load filled are garbage now; before the fix the arrays borrowed them for life
            whileLoaded = settledDirectBytes();
        }
        long afterClose = settledDirectBytes();
        long held = whileLoaded - afterClose;   // what the model itself kept, whatever other tests left behind
        assertTrue(held < weightBytes / 4, "the loaded model held " + held + " bytes of direct memory for "
                + weightBytes + " bytes of weights");
    }

    /** Direct memory in use once collections stop freeing any (two equal readings, or 5 s). */
    private static long settledDirectBytes() throws InterruptedException {
        BufferPoolMXBean direct = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
                .filter(b -> b.getName().equals("direct")).findFirst().orElseThrow();
        long deadline = System.nanoTime() + 5_000_000_000L;
        long last = Long.MIN_VALUE;
        long used = direct.getMemoryUsed();
        while (used != last && System.nanoTime() < deadline) {
            last = used;
            System.gc();
            Thread.sleep(100);   // buffers are freed by the Cleaner thread after the collection
            used = direct.getMemoryUsed();
        }
        return used;
    }
}
