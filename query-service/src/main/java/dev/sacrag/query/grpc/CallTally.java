package dev.sacrag.query.grpc;

import dev.sacrag.query.metrics.QueryMetrics;
import dev.sacrag.query.v1.QueryServiceGrpc;
import io.grpc.Context;
import io.grpc.Metadata;
import io.grpc.ServerStreamTracer;
import io.grpc.Status;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Counts each call of the query service once in {@code sac_query_requests_total}, whoever ends
 * it. The service counts the calls it handles, with the status the caller got; but gRPC ends some
 * before (or without) the service seeing them: a request larger than the inbound message limit
 * (RESOURCE_EXHAUSTED), a client that cancels or whose deadline passes before the request is
 * read. A stream tracer counts those when their stream closes, with the transport's status.
 *
 * <p>One flag per call decides who counts: the service claims it when its handler starts, the
 * tracer when the stream closes; the first claim wins. A handler that starts after its stream
 * closed (a cancel racing the request) is therefore not counted twice.
 */
final class CallTally {

    private static final Context.Key<AtomicBoolean> CLAIM = Context.key("sac-call-counted");
    /**
     * The service's methods by full name, to their short name. Only these are counted: the
     * method name comes from the client, and a tag per name made up would grow the registry
     * (and every scrape) without bound; an unknown method is UNIMPLEMENTED and not counted.
     */
    private static final java.util.Map<String, String> METHODS = QueryServiceGrpc.getServiceDescriptor().getMethods()
            .stream().collect(java.util.stream.Collectors.toUnmodifiableMap(
                    io.grpc.MethodDescriptor::getFullMethodName, io.grpc.MethodDescriptor::getBareMethodName));

    /** The RPCs counted, by their short names (Ask, Warm). */
    static java.util.List<String> rpcs() {
        return METHODS.values().stream().sorted().toList();
    }

    /** One call as the service counts it: once, by the first {@link #count}; a handler that ends without one is UNKNOWN. */
    static final class Call {
        private final String rpc;
        private final QueryMetrics metrics;
        private final AtomicBoolean counted;

        private Call(String rpc, boolean ours, QueryMetrics metrics) {
            this.rpc = rpc;
            this.metrics = metrics;
            this.counted = new AtomicBoolean(!ours);
        }

        void count(Status.Code code) {
            if (counted.compareAndSet(false, true)) {
                metrics.request(rpc, code.name());
            }
        }

        /**
         * For the handler's finally: a call it claimed but did not count (an Error, or an
         * exception its catches do not take, escaped it) is counted as gRPC reports it, UNKNOWN.
         */
        void countIfNot() {
            count(Status.Code.UNKNOWN);
        }
    }

    private CallTally() {
    }

    /** The service's claim on the call running now (true outside a traced call: tests calling the service directly). */
    static Call claim(String rpc, QueryMetrics metrics) {
        AtomicBoolean flag = CLAIM.get();
        return new Call(rpc, flag == null || flag.compareAndSet(false, true), metrics);
    }

    /** The tracer counting the query service's calls that the service never claimed. */
    static ServerStreamTracer.Factory tracer(QueryMetrics metrics) {
        return new ServerStreamTracer.Factory() {
            @Override
            public ServerStreamTracer newServerStreamTracer(String fullMethodName, Metadata headers) {
                String rpc = METHODS.get(fullMethodName);
                return rpc == null ? NOT_OURS : new ServerStreamTracer() {
                    private final AtomicBoolean claim = new AtomicBoolean();

                    @Override
                    public Context filterContext(Context context) {
                        return context.withValue(CLAIM, claim);
                    }

                    @Override
                    public void streamClosed(Status status) {
                        if (claim.compareAndSet(false, true)) {
                            metrics.request(rpc, status.getCode().name());
                        }
                    }
                };
            }
        };
    }

    /** Health and reflection calls, and methods the service does not have, are not counted. */
    private static final ServerStreamTracer NOT_OURS = new ServerStreamTracer() {
    };
}
