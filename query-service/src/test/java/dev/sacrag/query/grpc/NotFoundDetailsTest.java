package dev.sacrag.query.grpc;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.ErrorInfo;
import dev.sacrag.query.EngineRig;
import dev.sacrag.query.FakeAnswerer;
import dev.sacrag.query.ask.AskLimits;
import dev.sacrag.query.v1.AskRequest;
import dev.sacrag.query.v1.QueryServiceGrpc;
import dev.sacrag.query.v1.WarmRequest;
import dev.sacrag.schemas.ContentHash;
import dev.sacrag.schemas.DeadLetter;
import dev.sacrag.schemas.DocumentCodec;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.StatusProto;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A NOT_FOUND says in google.rpc ErrorInfo details what its description says to a person, so a
 * client tells a document worth waiting for (not compressed yet) from one that is not (refused)
 * without parsing the description, which stays as it was.
 */
class NotFoundDetailsTest {

    private static final AskLimits LIMITS = new AskLimits("default", 2, 4, 200, 8, 16, Duration.ofSeconds(30));
    private static final String LEDGER = "The ledger of the northern harbour lists every ship.";
    private static final String TOO_LARGE_REMEDY = "split it into smaller documents and publish those (raising the compressor's"
            + " --max-doc-tokens helps only while it is below the model's positions)";

    private final FakeAnswerer answerer = new FakeAnswerer(EngineRig.MODEL, 2, 0);
    private final EngineRig rig = new EngineRig(answerer, 1 << 20);
    private final List<Server> servers = new ArrayList<>();
    private final List<ManagedChannel> channels = new ArrayList<>();

    @AfterEach
    void stop() throws InterruptedException {
        for (ManagedChannel c : channels) {
            c.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        for (Server s : servers) {
            s.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        rig.close();
    }

    private QueryServiceGrpc.QueryServiceBlockingStub inProcess() throws IOException {
        String name = InProcessServerBuilder.generateName();
        servers.add(InProcessServerBuilder.forName(name).addService(new QueryGrpcService(rig.engine, LIMITS, rig.metrics))
                .build().start());
        channels.add(InProcessChannelBuilder.forName(name).build());
        return QueryServiceGrpc.newBlockingStub(channels.get(0)).withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    /** A client's own transport over a socket: it holds trailers to gRPC's default 8 KiB, as clients do. */
    private QueryServiceGrpc.QueryServiceBlockingStub overSocket() throws IOException {
        Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .addService(new QueryGrpcService(rig.engine, LIMITS, rig.metrics)).build().start();
        servers.add(server);
        channels.add(NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build());
        return QueryServiceGrpc.newBlockingStub(channels.get(0)).withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    private static DeadLetter tooLarge(String docId, long version, Optional<String> model) {
        return new DeadLetter(docId, version, ContentHash.of(LEDGER), model, "TOO_LARGE", "TOO_LARGE: document " + docId
                + " v" + version + " has 4100 tokens, limit 2048 (--max-doc-tokens)");
    }

    @Test
    void aNamedRefusedDocumentIsDocumentRefusedWithTheRefusalAndTheRemedy() throws IOException {
        var stub = inProcess();
        rig.addUncompressed("default", "ledger", 4, LEDGER);
        rig.refusals.add(tooLarge("ledger", 4, Optional.of(EngineRig.MODEL)));

        StatusRuntimeException e = notFound("document 'ledger' v4 was refused by the compressor of model "
                + EngineRig.MODEL + ": TOO_LARGE", () -> drain(stub, ask("ships?").addDocIds("ledger")));
        assertEquals(List.of(info(ErrorDetails.DOCUMENT_REFUSED, Map.of("doc_id", "ledger", "version", "4",
                "model_id", EngineRig.MODEL, "refused_by_model", EngineRig.MODEL, "refusal_reason", "TOO_LARGE",
                "refusal_message", "document ledger v4 has 4100 tokens, limit 2048 (--max-doc-tokens)",
                "remedy", TOO_LARGE_REMEDY))), infos(e));
    }

    @Test
    void aDocumentNotCompressedYetIsToldApartFromOneRefusedForEveryModel() throws IOException {
        var stub = inProcess();
        rig.addUncompressed("default", "pending", 13, "Grace Hopper wrote the first compiler.");
        rig.addUncompressed("default", "ledger", 4, LEDGER);
        rig.refusals.add(tooLarge("ledger", 4, Optional.empty()));

        StatusRuntimeException pending = notFound("document 'pending' v13 is not compressed for model "
                + EngineRig.MODEL + " yet", () -> drain(stub, ask("q").addDocIds("pending")));
        assertEquals(List.of(info(ErrorDetails.DOCUMENT_NOT_COMPRESSED, Map.of("doc_id", "pending", "version", "13",
                "model_id", EngineRig.MODEL))), infos(pending));

        ErrorInfo ledger = infos(notFound("refused by the compressors", () -> drain(stub, ask("q").addDocIds("ledger"))))
                .get(0);
        assertEquals(ErrorDetails.DOCUMENT_REFUSED, ledger.getReason());
        assertTrue(!ledger.containsMetadata("refused_by_model"), "refused for every model: " + ledger);
        assertEquals(EngineRig.MODEL, ledger.getMetadataOrThrow("model_id"));
    }

    @Test
    void unknownDocumentsAndQuestionsThatMatchNothingSaySo() throws IOException {
        var stub = inProcess();
        rig.addCompressed("default", "ada", 11, "Ada Lovelace wrote the first program.");
        rig.addCompressed("other", "secret", 15, "Another tenant's document about engines.");

        assertEquals(List.of(info(ErrorDetails.DOCUMENT_UNKNOWN, Map.of("tenant", "default", "doc_id", "secret"))),
                infos(notFound("document 'secret' is unknown in tenant 'default'",
                        () -> drain(stub, ask("q").addDocIds("ada").addDocIds("secret")))));
        assertEquals(List.of(info(ErrorDetails.NO_MATCH, Map.of("tenant", "default"))),
                infos(notFound("no document of tenant 'default' matches the question", () -> drain(stub, ask("zebra quokka")))));
        assertEquals(List.of(info(ErrorDetails.NO_MATCH, Map.of("tenant", "default"))),
                infos(notFound("matches the query", () -> stub.warm(WarmRequest.newBuilder().setQuery("zebra quokka").build()))));
    }

    @Test
    void retrievalOfOnlyUncompressedMatchesDetailsEachBestMatchFirst() throws IOException {
        var stub = inProcess();
        rig.addUncompressed("default", "ledger", 4, LEDGER);
        rig.addUncompressed("default", "manifest", 2, "The manifest lists cargo.");
        rig.refusals.add(tooLarge("ledger", 4, Optional.of(EngineRig.MODEL)));

        StatusRuntimeException e = notFound("the documents matching the question are not compressed: [manifest] not yet;"
                + " 'ledger' v4 refused", () -> drain(stub, ask("ledger harbour ship cargo")));
        List<ErrorInfo> infos = infos(e);
        assertEquals(List.of("ledger", "manifest"), infos.stream().map(i -> i.getMetadataOrThrow("doc_id")).toList(),
                "as retrieval ranked them: " + infos);
        assertEquals(List.of(ErrorDetails.DOCUMENT_REFUSED, ErrorDetails.DOCUMENT_NOT_COMPRESSED),
                infos.stream().map(ErrorInfo::getReason).toList());
    }

    /**
     * Ten refused matches, each with its remedy, would take some 9 KiB of trailers with the
     * description: a client refuses trailers over 8 KiB and would get INTERNAL, not this NOT_FOUND.
     * The details that fit come, best match first; the description names every one.
     */
    @Test
    void detailsThatWouldOverflowTheTrailersAreLeftOutNotTheStatus() throws IOException {
        var stub = overSocket();
        for (int i = 0; i < 10; i++) {
            String id = "harbour-ledger-volume-" + i;
            rig.addUncompressed("default", id, 1, LEDGER + " Volume " + i + ".");
            rig.refusals.add(new DeadLetter(id, 1, ContentHash.of(LEDGER + " Volume " + i + "."), Optional.empty(),
                    "TOO_LARGE", "document " + id + " v1 has 4100 tokens, limit 2048 (--max-doc-tokens)"));
        }
        StatusRuntimeException e = notFound("v1 refused by the compressors: TOO_LARGE", () -> drain(stub, ask("ledger ships")));
        String description = e.getStatus().getDescription();
        int named = description.split("' v1 refused by").length - 1;
        List<ErrorInfo> infos = infos(e);
        assertEquals(10, named, description);
        assertTrue(infos.size() > 1 && infos.size() - 1 < named, infos.size() + " details of " + named);
        assertEquals(ErrorDetails.DOCUMENT_REFUSED, infos.get(0).getReason());
        ErrorInfo last = infos.get(infos.size() - 1);
        assertEquals(ErrorDetails.DETAILS_LEFT_OUT, last.getReason(), "a client can tell the details are not all");
        assertEquals(named - (infos.size() - 1), Integer.parseInt(last.getMetadataOrThrow(ErrorDetails.COUNT)),
                "the refusals left out");
        assertTrue(infos.subList(0, infos.size() - 1).stream().allMatch(i -> i.getReason().equals(ErrorDetails.DOCUMENT_REFUSED)));
        assertTrue(description.contains("the documents matching the question are not compressed: '"
                + infos.get(0).getMetadataOrThrow("doc_id") + "' v1"), "the first detail is the best match: " + description);
    }

    /** Twenty refusals with long ids and messages make a description past 8 KiB alone: cut, the status still arrives. */
    @Test
    void aDescriptionPastTheTrailerLimitIsCutNotTurnedIntoInternal() throws IOException {
        var stub = overSocket();
        String words = "x".repeat(250);
        for (int i = 0; i < 20; i++) {   // retrieval looks at 20 matches for top_k 4
            String id = "harbour-ledger-volume-" + "of-the-archive-".repeat(12) + i;
            rig.addUncompressed("default", id, 1, LEDGER + " Volume " + i + ".");
            rig.refusals.add(new DeadLetter(id, 1, ContentHash.of(LEDGER + " Volume " + i + "."), Optional.empty(),
                    "TOO_LARGE", "document " + id + " v1 has 4100 tokens, limit 2048 " + words));
        }
        StatusRuntimeException e = notFound("v1 refused by the compressors: TOO_LARGE",
                () -> drain(stub, ask("ledger ships").setTopK(4)));
        String description = e.getStatus().getDescription();
        assertTrue(description.endsWith(ErrorDetails.CUT_REFUSALS) && description.length() <= ErrorDetails.DESCRIPTION_BUDGET,
                description.length() + " characters: " + description);
        assertFalse(infos(e).isEmpty(), "the details still have room");
    }

    /**
     * Named documents with the longest ids make a description past 2 KiB that is about their
     * length, not a refusal: cut, it does not send the caller to the refusals.
     */
    @Test
    void aCutDescriptionPointsAtTheRefusalsOnlyWhereItNamesThem() throws IOException {
        var stub = overSocket();
        AskRequest.Builder tooLong = ask("ships?");
        for (int i = 0; i < LIMITS.maxTopK(); i++) {
            String id = (i + "-harbour-ledger-").repeat(40).substring(0, DocumentCodec.MAX_DOC_ID_CHARS);
            rig.addCompressed("default", id, 1, LEDGER.repeat(80));   // some 1,000 tokens each: 4 pass the positions
            tooLong.addDocIds(id);
        }
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> drain(stub, tooLong));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), String.valueOf(e.getStatus()));
        String description = e.getStatus().getDescription();
        assertTrue(description.startsWith("documents [0-harbour-ledger-") && description.endsWith(ErrorDetails.CUT),
                description);
        assertTrue(ErrorDetails.cut(description), "as a client reads it");
        assertFalse(description.contains("sac docs refused"), "no refusal is named: " + description);
    }

    /**
     * A retrieval whose compressed match is too long for the model names the other matches' refusals
     * too (an INVALID_ARGUMENT): cut, it points at them as a NOT_FOUND's does, where the plain cut had
     * dropped the description's own pointer to 'sac docs refused'.
     */
    @Test
    void aTooLongRetrievalNamingRefusalsIsCutPointingAtThem() throws IOException {
        var stub = overSocket();
        String words = "x".repeat(250);
        for (int i = 0; i < 8; i++) {
            String id = "harbour-ledger-volume-" + "of-the-archive-".repeat(12) + i;
            rig.addUncompressed("default", id, 1, LEDGER + " Volume " + i + ".");
            rig.refusals.add(new DeadLetter(id, 1, ContentHash.of(LEDGER + " Volume " + i + "."), Optional.empty(),
                    "TOO_LARGE", "document " + id + " v1 has 4100 tokens, limit 2048 " + words));
        }
        var atlas = rig.addCompressed("default", "atlas", 1, "The atlas of ledger ships: " + LEDGER);
        answerer.maxComposed = atlas.tokenCount() - 1;

        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> drain(stub, ask("ledger ships").setTopK(4)));
        assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), String.valueOf(e.getStatus()));
        String description = e.getStatus().getDescription();
        assertTrue(description.startsWith("the documents matching the question are too long for the model; the other"
                + " matches are not compressed: 'harbour-ledger-volume-"), description);
        assertTrue(description.endsWith(ErrorDetails.CUT_REFUSALS), description);
        assertTrue(ErrorDetails.cut(description), "as a client reads it");
        assertEquals(ErrorDetails.DOCUMENT_REFUSED, infos(e).get(0).getReason());
    }

    private static AskRequest.Builder ask(String question) {
        return AskRequest.newBuilder().setQuestion(question);
    }

    private static void drain(QueryServiceGrpc.QueryServiceBlockingStub stub, AskRequest.Builder request) {
        stub.ask(request.build()).forEachRemaining(r -> { });
    }

    private static StatusRuntimeException notFound(String descriptionPart, Executable call) {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call);
        assertEquals(Status.Code.NOT_FOUND, e.getStatus().getCode(), String.valueOf(e.getStatus()));
        String description = String.valueOf(e.getStatus().getDescription());
        assertTrue(description.contains(descriptionPart), "description '" + description + "' lacks '" + descriptionPart + "'");
        return e;
    }

    private static ErrorInfo info(String reason, Map<String, String> metadata) {
        return ErrorInfo.newBuilder().setDomain("sac.query").setReason(reason).putAllMetadata(metadata).build();
    }

    /** The ErrorInfo details as a client reads them; the rich status says what the plain one says. */
    private static List<ErrorInfo> infos(StatusRuntimeException e) {
        com.google.rpc.Status rich = StatusProto.fromThrowable(e);
        assertTrue(rich != null, "no status details on " + e.getStatus());
        assertEquals(e.getStatus().getCode().value(), rich.getCode());
        assertEquals(e.getStatus().getDescription(), rich.getMessage());
        List<ErrorInfo> infos = new ArrayList<>();
        for (Any any : rich.getDetailsList()) {
            try {
                infos.add(any.unpack(ErrorInfo.class));
            } catch (InvalidProtocolBufferException bad) {
                throw new AssertionError("a detail that is not an ErrorInfo: " + any.getTypeUrl(), bad);
            }
        }
        return infos;
    }
}
