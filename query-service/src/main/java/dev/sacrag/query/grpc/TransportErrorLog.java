package dev.sacrag.query.grpc;

import dev.sacrag.query.metrics.WarnThrottle;

import java.time.Duration;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * gRPC's Netty transport logs a WARNING with a stack trace (through java.util.logging, to stderr)
 * for every stream it fails itself, most often a request over the inbound message limit: any
 * client could fill the log with them. Those warnings become one line on this service's log at
 * most every {@value #EVERY_SECONDS} s, with how many there were; the calls themselves are
 * counted in {@code sac_query_requests_total} by {@link CallTally}. Other levels pass unchanged.
 */
final class TransportErrorLog {

    static final int EVERY_SECONDS = 30;
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(TransportErrorLog.class);
    private static final WarnThrottle throttle = new WarnThrottle(Duration.ofSeconds(EVERY_SECONDS));
    /**
     * The transport's loggers (shaded Netty): the stream's, for a message it could not read, and
     * the handler's, for a stream error. Held here: java.util.logging keeps loggers weakly, and a
     * logger collected would come back without the filter.
     */
    private static final List<Logger> transport = List.of(
            Logger.getLogger("io.grpc.netty.shaded.io.grpc.netty.NettyServerStream"),
            Logger.getLogger("io.grpc.netty.shaded.io.grpc.netty.NettyServerHandler"));

    private TransportErrorLog() {
    }

    /** Idempotent: every server of the process shares the filter. */
    static synchronized void install() {
        for (Logger l : transport) {
            if (!(l.getFilter() instanceof Throttled)) {
                l.setFilter(new Throttled());
            }
        }
    }

    /**
     * Only the warnings a client causes are throttled: a message the stream could not read (over
     * the size limit, a bad compression) and a stream error, each carrying gRPC's own status or
     * an HTTP/2 stream exception. Anything else (an exception in a handler's callback, which may be
     * ours) passes with its stack trace.
     */
    static boolean causedByAClient(LogRecord r) {
        if (r.getLevel().intValue() != Level.WARNING.intValue() || r.getThrown() == null) {
            return false;
        }
        String message = String.valueOf(r.getMessage());
        Throwable t = r.getThrown();
        return (message.equals("Exception processing message") || message.equals("Stream Error"))
                && (t instanceof io.grpc.StatusRuntimeException || t instanceof io.grpc.StatusException
                        || t instanceof io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2Exception);
    }

    private static final class Throttled implements java.util.logging.Filter {
        @Override
        public boolean isLoggable(LogRecord r) {
            if (!causedByAClient(r)) {
                return true;
            }
            Throwable t = r.getThrown();
            throttle.occurred().ifPresent(n -> log.warn("gRPC's transport failed {} stream(s) before the service read"
                    + " their request since the last warning (the query service's calls among them are counted in"
                    + " sac_query_requests_total), the last: {}: {}", n, t.getClass().getSimpleName(), t.getMessage()));
            return false;
        }
    }
}
