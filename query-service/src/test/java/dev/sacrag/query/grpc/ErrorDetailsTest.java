package dev.sacrag.query.grpc;

import com.google.rpc.ErrorInfo;
import dev.sacrag.query.ask.QueryException;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which details a NOT_FOUND carries within the trailer budget, and what it says of those it leaves out. */
class ErrorDetailsTest {

    /**
     * Every size of detail from a few bytes to some hundreds, so that some run fills the budget to the
     * byte: the note of what is left out must have kept its room, and it always comes where details do not.
     */
    @Test
    void detailsLeftOutAreCountedInTheirOwnDetailWithinTheBudget() throws Exception {
        int leftOutSeen = 0;
        for (int idLength = 1; idLength <= 300; idLength++) {
            String description = "the documents matching the question are not compressed";
            List<QueryException.Detail> details = new ArrayList<>();
            for (int i = 0; i < 60; i++) {
                details.add(new QueryException.Uncompressed(i + "-" + "d".repeat(idLength), 1, "0a1b2c3d4e5f", Optional.empty()));
            }
            StatusRuntimeException e = ErrorDetails.exception(Status.NOT_FOUND.withDescription(description), details,
                    new Metadata());
            com.google.rpc.Status rich = StatusProto.fromThrowable(e);
            long sent = Base64.getEncoder().withoutPadding().encodeToString(rich.toByteArray()).length()
                    + description.getBytes(StandardCharsets.UTF_8).length;
            assertTrue(sent <= ErrorDetails.TRAILER_BUDGET, sent + " bytes of trailers at ids of " + idLength);
            List<ErrorInfo> infos = new ArrayList<>();
            for (var any : rich.getDetailsList()) {
                infos.add(any.unpack(ErrorInfo.class));
            }
            ErrorInfo last = infos.get(infos.size() - 1);
            if (infos.size() - 1 < details.size()) {
                assertEquals(ErrorDetails.DETAILS_LEFT_OUT, last.getReason(), "ids of " + idLength);
                int shown = infos.size() - 1;
                assertEquals(details.size() - shown, Integer.parseInt(last.getMetadataOrThrow(ErrorDetails.COUNT)));
                assertTrue(IntStream.range(0, shown).allMatch(i -> infos.get(i).getReason()
                        .equals(ErrorDetails.DOCUMENT_NOT_COMPRESSED)), "the first ones, in order");
                leftOutSeen++;
            } else {
                assertEquals(ErrorDetails.DOCUMENT_NOT_COMPRESSED, last.getReason(), "all fit: no note");
            }
        }
        assertTrue(leftOutSeen > 200, leftOutSeen + " runs left details out");
    }

    @Test
    void detailsThatAllFitComeWithoutANote() throws Exception {
        StatusRuntimeException e = ErrorDetails.exception(Status.NOT_FOUND.withDescription("not compressed"),
                List.of(new QueryException.Uncompressed("a", 1, "0a1b2c3d4e5f", Optional.empty())), new Metadata());
        com.google.rpc.Status rich = StatusProto.fromThrowable(e);
        assertEquals(1, rich.getDetailsCount());
        assertEquals(ErrorDetails.DOCUMENT_NOT_COMPRESSED, rich.getDetails(0).unpack(ErrorInfo.class).getReason());
    }
}
