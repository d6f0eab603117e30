package dev.sacrag.cli;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

/** Which failures of a channel that is not READY are said as 'nothing answers there', and which keep gRPC's words. */
class RpcOptionsTest {

    private static StatusRuntimeException explained(Throwable cause) throws InterruptedException {
        RpcOptions.Always rpc = new RpcOptions.Always();
        rpc.target = "127.0.0.1:1";
        rpc.deadline = Duration.ofSeconds(1);
        ManagedChannel idle = ManagedChannelBuilder.forTarget(rpc.target).usePlaintext().build();   // never asked to connect
        try {
            return rpc.explained(Status.UNAVAILABLE.withDescription("io exception").withCause(cause).asRuntimeException(), idle);
        } finally {
            idle.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void aConnectionRefusedIsNothingAnsweringThere() throws Exception {
        StatusRuntimeException e = explained(new java.net.ConnectException("Connection refused"));
        assertEquals("no query service answers at 127.0.0.1:1 (is it running, and is that its address? --target, env"
                + " SAC_QUERY_TARGET)", e.getStatus().getDescription());
    }

    /** The service went away while it answered: its connection was made, so gRPC's words and cause stay. */
    @Test
    void aConnectionResetMidCallKeepsGrpcsWords() throws Exception {
        StatusRuntimeException e = explained(new java.io.IOException("Connection reset by peer"));
        assertEquals("io exception", e.getStatus().getDescription());
    }
}
