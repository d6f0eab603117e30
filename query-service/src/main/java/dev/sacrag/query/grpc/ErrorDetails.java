package dev.sacrag.query.grpc;

import com.google.protobuf.Any;
import com.google.protobuf.CodedOutputStream;
import com.google.rpc.ErrorInfo;
import dev.sacrag.query.ask.QueryException;
import dev.sacrag.query.catalog.Refusals;
import dev.sacrag.schemas.DeadLetter;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The google.rpc rich error model on a NOT_FOUND: a {@code google.rpc.Status} in the
 * {@code grpc-status-details-bin} trailer with one {@link ErrorInfo} (domain {@value #DOMAIN}) per
 * thing the question could not find, so that a client tells a document that is not compressed yet
 * (worth waiting for) from one a compressor refused (not until it is published again) without
 * parsing the description, which says the same to a person and stays as it was. A retrieval's
 * INVALID_ARGUMENT (its compressed matches too long for the model) carries those of the other
 * matches too. Clients read it with {@link StatusProto#fromThrowable}; the reasons and keys are
 * here for Java ones.
 */
public final class ErrorDetails {

    public static final String DOMAIN = "sac.query";

    /** No such document in the tenant; metadata {@value #TENANT}, {@value #DOC_ID}. */
    public static final String DOCUMENT_UNKNOWN = "DOCUMENT_UNKNOWN";
    /** Not compressed for the model yet; metadata {@value #DOC_ID}, {@value #VERSION}, {@value #MODEL_ID}. */
    public static final String DOCUMENT_NOT_COMPRESSED = "DOCUMENT_NOT_COMPRESSED";
    /**
     * A compressor refused the live version: not compressed until it is published again; metadata
     * as {@value #DOCUMENT_NOT_COMPRESSED}, and {@value #REFUSED_BY_MODEL} (absent: refused for every
     * model), {@value #REFUSAL_REASON}, {@value #REFUSAL_MESSAGE}, {@value #REMEDY}.
     */
    public static final String DOCUMENT_REFUSED = "DOCUMENT_REFUSED";
    /** Nothing in the tenant matched the question or query; metadata {@value #TENANT}. */
    public static final String NO_MATCH = "NO_MATCH";
    /**
     * Last, where the others did not all fit the {@link #TRAILER_BUDGET}: metadata {@value #COUNT},
     * how many were left out (the last ones; the description names them, unless it was cut too), so
     * that a client counting the details does not take them for all.
     */
    public static final String DETAILS_LEFT_OUT = "DETAILS_LEFT_OUT";

    public static final String TENANT = "tenant";
    public static final String DOC_ID = "doc_id";
    /** The document's live version, in decimal. */
    public static final String VERSION = "version";
    /** The active model, which the document is not compressed for. */
    public static final String MODEL_ID = "model_id";
    public static final String REFUSED_BY_MODEL = "refused_by_model";
    /** The compressor's stable code: TOO_LARGE, ENGINE_OOM, COMPRESSION_FAILED, ... */
    public static final String REFUSAL_REASON = "refusal_reason";
    public static final String REFUSAL_MESSAGE = "refusal_message";
    /** What would get it compressed. */
    public static final String REMEDY = "remedy";
    /** How many details {@value #DETAILS_LEFT_OUT} stands for, in decimal. */
    public static final String COUNT = "count";

    /**
     * Bytes the description and the details may take together as they travel (the description
     * percent-encoded in {@code grpc-message}, the details base64 in their trailer): gRPC's Java and
     * C-core clients refuse trailers over 8 KiB by default and fail the call with INTERNAL in place
     * of this status. Retrieval can skip some sixty documents, each of whose refusal names its id
     * (up to 512 characters), the compressor's words and a remedy.
     */
    static final int TRAILER_BUDGET = 7 * 1024;

    /**
     * Bytes the description may take (percent-encoded). A question whose matches were all refused
     * names each refusal in the description, which alone could pass 8 KiB. The rich status repeats
     * the description beside the details (base64: a third more), so at 2 KiB its two copies take at
     * most some 4.7 KiB of {@link #TRAILER_BUDGET} and leave over 2 KiB for the best matches'
     * details; cut, it still names the best matches too.
     */
    static final int DESCRIPTION_BUDGET = 2 * 1024;

    /** Ends a description cut at {@link #DESCRIPTION_BUDGET}. */
    static final String CUT = " ... (cut at 2 KiB: gRPC clients refuse longer trailers)";

    /**
     * Ends a cut description that is about documents not compressed (a NOT_FOUND's, named documents'
     * among unknown ones, or a retrieval's too long whose other matches are not compressed), whose
     * refusals past the cut {@code sac docs refused} lists; the others (documents too long alone,
     * blobs being rebuilt) name no refusal to look up.
     */
    static final String CUT_REFUSALS = " ... (cut at 2 KiB: gRPC clients refuse longer trailers; 'sac docs refused'"
            + " lists every refusal)";

    /**
     * The description of a failure with {@code details} as sent: whole when it fits
     * {@link #DESCRIPTION_BUDGET}, else its beginning and {@link #CUT}, or {@link #CUT_REFUSALS}
     * where a detail is a document not compressed. By the details, not the reason: a CONTEXT_TOO_LONG
     * names the retrieval's refused matches too, and named documents of which one is unknown are an
     * UNKNOWN_DOCUMENT that may name refusals.
     */
    static String fitted(String description, List<QueryException.Detail> details) {
        if (description == null || percentEncodedLength(description) <= DESCRIPTION_BUDGET) {
            return description;
        }
        String cut = details.stream().anyMatch(d -> d instanceof QueryException.Uncompressed) ? CUT_REFUSALS : CUT;
        long room = DESCRIPTION_BUDGET - percentEncodedLength(cut);
        int end = 0;
        long used = 0;
        while (end < description.length()) {
            int next = description.offsetByCodePoints(end, 1);   // never half a surrogate pair
            used += percentEncodedLength(description.substring(end, next));
            if (used > room) {
                break;
            }
            end = next;
        }
        return description.substring(0, end) + cut;
    }

    /**
     * Whether {@code description}, as a client got it, was cut by {@link #fitted}: it names only the
     * first of the documents its details are about then, so details left out are not named anywhere.
     */
    public static boolean cut(String description) {
        return description != null && (description.endsWith(CUT) || description.endsWith(CUT_REFUSALS));
    }

    /** Field number of {@code details} in {@code google.rpc.Status}. */
    private static final int DETAILS_FIELD = com.google.rpc.Status.DETAILS_FIELD_NUMBER;

    private ErrorDetails() {
    }

    /**
     * The status as an exception carrying one ErrorInfo per detail, in order, as many as fit the
     * {@link #TRAILER_BUDGET} (the description names them all, unless it was cut: {@link #fitted}),
     * then, where some did not, a {@value #DETAILS_LEFT_OUT} saying how many; none: the status alone.
     */
    static StatusRuntimeException exception(Status status, List<QueryException.Detail> details, Metadata trailers) {
        String description = status.getDescription() == null ? "" : status.getDescription();
        com.google.rpc.Status.Builder rich = com.google.rpc.Status.newBuilder().setCode(status.getCode().value())
                .setMessage(description);
        long room = TRAILER_BUDGET - percentEncodedLength(description);
        long size = rich.build().getSerializedSize();
        List<Any> infos = details.stream().map(d -> Any.pack(errorInfo(d))).toList();
        long all = size + infos.stream().mapToLong(ErrorDetails::sizeOf).sum();
        // room kept for the note of what is left out, at its largest count, unless everything fits
        long note = base64Length(all) <= room ? 0 : sizeOf(leftOut(details.size()));
        for (Any info : infos) {
            if (base64Length(size + sizeOf(info) + note) > room) {
                break;
            }
            rich.addDetails(info);
            size += sizeOf(info);
        }
        int left = infos.size() - rich.getDetailsCount();
        if (left > 0 && base64Length(size + note) <= room) {
            rich.addDetails(leftOut(left));
        }
        return rich.getDetailsCount() == 0 ? status.asRuntimeException(trailers)
                : StatusProto.toStatusRuntimeException(rich.build(), trailers);
    }

    private static Any leftOut(int count) {
        return Any.pack(ErrorInfo.newBuilder().setDomain(DOMAIN).setReason(DETAILS_LEFT_OUT)
                .putMetadata(COUNT, Integer.toString(count)).build());
    }

    private static long sizeOf(Any info) {
        return CodedOutputStream.computeMessageSize(DETAILS_FIELD, info);
    }

    static ErrorInfo errorInfo(QueryException.Detail detail) {
        ErrorInfo.Builder info = ErrorInfo.newBuilder().setDomain(DOMAIN);
        if (detail instanceof QueryException.UnknownDocument u) {
            info.setReason(DOCUMENT_UNKNOWN).putMetadata(TENANT, u.tenant()).putMetadata(DOC_ID, u.docId());
        } else if (detail instanceof QueryException.NoMatch n) {
            info.setReason(NO_MATCH).putMetadata(TENANT, n.tenant());
        } else if (detail instanceof QueryException.Uncompressed u) {
            info.setReason(u.refusal().isPresent() ? DOCUMENT_REFUSED : DOCUMENT_NOT_COMPRESSED)
                    .putMetadata(DOC_ID, u.docId()).putMetadata(VERSION, Long.toString(u.version()))
                    .putMetadata(MODEL_ID, u.modelId());
            u.refusal().ifPresent(r -> refusal(info, r));
        } else {
            throw new IllegalArgumentException("no ErrorInfo for " + detail);
        }
        return info.build();
    }

    private static void refusal(ErrorInfo.Builder info, DeadLetter r) {
        r.modelId().ifPresent(m -> info.putMetadata(REFUSED_BY_MODEL, m));
        info.putMetadata(REFUSAL_REASON, r.reason()).putMetadata(REFUSAL_MESSAGE, Refusals.message(r))
                .putMetadata(REMEDY, Refusals.remedy(r));
    }

    /** As gRPC writes {@code grpc-message}: bytes outside printable ASCII, and '%', take three. */
    private static long percentEncodedLength(String description) {
        long n = 0;
        for (byte b : description.getBytes(StandardCharsets.UTF_8)) {
            n += b < ' ' || b >= '~' || b == '%' ? 3 : 1;
        }
        return n;
    }

    /** Unpadded, as gRPC writes binary trailers. */
    private static long base64Length(long bytes) {
        return (bytes * 4 + 2) / 3;
    }
}
