package dev.sacrag.query.v1;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor.MethodType;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class QueryProtoTest {

    @Test
    void askRequestRoundTripsThroughBytes() throws Exception {
        AskRequest request = AskRequest.newBuilder()
                .setQuestion("Who wrote it?").setTenant("acme").addDocIds("a").addDocIds("b")
                .setTopK(3).setMaxNewTokens(32).build();

        AskRequest parsed = AskRequest.parseFrom(request.toByteArray());

        assertEquals(request, parsed);
        assertEquals(List.of("a", "b"), parsed.getDocIdsList());
    }

    @Test
    void askResponseCarriesEitherATokenOrTheResult() throws Exception {
        AskResponse token = AskResponse.newBuilder().setToken(Token.newBuilder().setText(" Aus").setTokenId(901)).build();
        AskResponse result = AskResponse.newBuilder().setResult(AskResult.newBuilder()
                .setAnswer("Austen").setModelId("m1")
                .addDocuments(UsedDocument.newBuilder().setDocId("a").setVersion(5).setScore(1.5)
                        .setAnchorCount(64).setBytes(1 << 20))
                .setTimings(Timings.newBuilder().setRetrieveMs(1).setFetchMs(2).setDecodeMs(30)
                        .setTtftMs(12.5).setTotalMs(33))).build();

        assertEquals(AskResponse.EventCase.TOKEN, AskResponse.parseFrom(token.toByteArray()).getEventCase());
        AskResponse parsed = AskResponse.parseFrom(result.toByteArray());
        assertEquals(AskResponse.EventCase.RESULT, parsed.getEventCase());
        assertEquals(12.5, parsed.getResult().getTimings().getTtftMs());
        assertEquals(1 << 20, parsed.getResult().getDocuments(0).getBytes());
    }

    @Test
    void warmQueryIsOptionalAndDistinguishesUnsetFromEmpty() throws Exception {
        WarmRequest byIds = WarmRequest.newBuilder().setTenant("t").addDocIds("a").build();
        WarmRequest byQuery = WarmRequest.newBuilder().setQuery("").setTopK(4).build();

        assertFalse(WarmRequest.parseFrom(byIds.toByteArray()).hasQuery());
        assertTrue(WarmRequest.parseFrom(byQuery.toByteArray()).hasQuery());
    }

    @Test
    void serviceDeclaresStreamingAskAndUnaryWarmInPackageSacQueryV1() {
        assertEquals("sac.query.v1.QueryService", QueryServiceGrpc.SERVICE_NAME);
        assertEquals(MethodType.SERVER_STREAMING, QueryServiceGrpc.getAskMethod().getType());
        assertEquals(MethodType.UNARY, QueryServiceGrpc.getWarmMethod().getType());
        assertEquals("sac.query.v1.QueryService/Ask", QueryServiceGrpc.getAskMethod().getFullMethodName());
    }

    /** The stubs come from codegen 1.83.1 and run on the 1.85.1 runtime (verified-stack.md). */
    @Test
    void generatedStubsCallAnInProcessServer() throws Exception {
        String name = InProcessServerBuilder.generateName();
        Server server = InProcessServerBuilder.forName(name).directExecutor().addService(new EchoService()).build().start();
        ManagedChannel channel = InProcessChannelBuilder.forName(name).directExecutor().build();
        try {
            QueryServiceGrpc.QueryServiceBlockingStub stub = QueryServiceGrpc.newBlockingStub(channel)
                    .withDeadlineAfter(10, TimeUnit.SECONDS);
            List<AskResponse> responses = new ArrayList<>();
            Iterator<AskResponse> stream = stub.ask(AskRequest.newBuilder().setQuestion("q").build());
            stream.forEachRemaining(responses::add);
            WarmResponse warm = stub.warm(WarmRequest.newBuilder().addDocIds("a").addDocIds("b").build());

            assertEquals(3, responses.size());
            assertEquals("q!", responses.get(2).getResult().getAnswer());
            assertEquals(2, warm.getLoaded());
        } finally {
            channel.shutdownNow();
            server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    private static final class EchoService extends QueryServiceGrpc.QueryServiceImplBase {
        @Override
        public void ask(AskRequest request, StreamObserver<AskResponse> responses) {
            responses.onNext(AskResponse.newBuilder().setToken(Token.newBuilder().setText(request.getQuestion())).build());
            responses.onNext(AskResponse.newBuilder().setToken(Token.newBuilder().setText("!")).build());
            responses.onNext(AskResponse.newBuilder().setResult(AskResult.newBuilder().setAnswer(request.getQuestion() + "!")).build());
            responses.onCompleted();
        }

        @Override
        public void warm(WarmRequest request, StreamObserver<WarmResponse> response) {
            response.onNext(WarmResponse.newBuilder().setLoaded(request.getDocIdsCount()).build());
            response.onCompleted();
        }
    }
}
