# The compressor and the query service as one image: `docker compose up` builds it (see
# docker-compose.yml). The JVM flags and allocator settings are the launcher's (./sac), see
# shared docs verified-stack.md. libtorch ships for linux/amd64 only (pytorch-native-cpu
# classifier linux-x86_64), so the image is amd64.

# --- build: the same Maven build as ./sac, plus every runtime jar of the cli in one folder ---
FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /src
COPY . .
# dependency:copy-dependencies runs after package in the same reactor, so the project's own
# modules are copied as the jars just built.
RUN mvn -B -DskipTests package dependency:copy-dependencies -DincludeScope=runtime \
    && mkdir -p /app/lib \
    && cp cli/target/sac-cli-*.jar cli/target/dependency/*.jar /app/lib/

# --- run ---
FROM eclipse-temurin:17-jre
RUN useradd --system --uid 10001 --home-dir /app sac \
    && mkdir -p /app/djl-cache /var/lib/sac \
    && chown -R sac /app /var/lib/sac
WORKDIR /app
COPY --from=build /app/lib/ /app/lib/
COPY --chown=sac models/ /app/models/
USER sac

# Huge pages and a large malloc top pad make libtorch 2-4x faster; must be set before the JVM starts.
# MKL_CBWR as the launcher sets it: the same float results from run to run.
ENV GLIBC_TUNABLES="glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=17179869184:glibc.malloc.top_pad=268435456" \
    DJL_CACHE_DIR=/app/djl-cache \
    MKL_CBWR=AUTO,STRICT \
    SAC_JVM_FLAGS="-XX:+UseTransparentHugePages --enable-native-access=ALL-UNNAMED -Xss4m -Dai.djl.offline=true -Dsac.home=/app -Dorg.apache.avro.SERIALIZABLE_PACKAGES=dev.sacrag.schemas.avro" \
    SAC_THREADS=2 \
    SAC_MODEL=/app/models/sac-demo \
    SAC_COMPRESSOR_STATE_DIR=/var/lib/sac/compressor-state

# Extract libtorch from its jar now (~430 MB, offline) instead of at every container start:
# generate one token with a throw-away random model.
RUN java $SAC_JVM_FLAGS -cp '/app/lib/*' dev.sacrag.cli.Sac model random --shape tiny --out /tmp/warmup \
    && java $SAC_JVM_FLAGS -cp '/app/lib/*' dev.sacrag.cli.Sac generate --model /tmp/warmup --max-new-tokens 1 warm-up \
    && rm -rf /tmp/warmup

# gRPC (query service), Prometheus endpoints (query service, compressor)
EXPOSE 50051 9464 9401
ENTRYPOINT ["sh", "-c", "exec java $SAC_JVM_FLAGS -Dai.djl.pytorch.num_threads=$SAC_THREADS $SAC_JAVA_OPTS -cp '/app/lib/*' dev.sacrag.cli.Sac \"$@\"", "sac"]
CMD ["--help"]
