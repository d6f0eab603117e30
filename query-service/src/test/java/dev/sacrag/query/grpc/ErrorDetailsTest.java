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
     * Every size of detail from a few bytes to some hundreds, and from 20 to 60 of them, so that some
     * run fills the budget to the byte: the note of what is left out must have kept its room, it comes
     * where details do not, and only there.
     */
    @Test
    void detailsLeftOutAreCountedInTheirOwnDetailWithinTheBudget() throws Exception {
        int leftOutSeen = 0;
        int allSeen = 0;
        for (int idLength = 1; idLength <= 300; idLength++) {
            String description = "the documents matching the question are not compressed";
            List<QueryException.Detail> details = new ArrayList<>();
            for (int i = 0; i < 20 + idLength % 41; i++) {
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
            int shown = (int) infos.stream().filter(i -> i.getReason().equals(ErrorDetails.DOCUMENT_NOT_COMPRESSED)).count();
            assertTrue(IntStream.range(0, shown).allMatch(i -> infos.get(i).getMetadataOrThrow(ErrorDetails.DOC_ID)
                    .startsWith(i + "-")), "the first ones, in order, at ids of " + idLength);
            if (shown < details.size()) {
                assertEquals(shown + 1, infos.size(), "one note, last, at ids of " + idLength);
                ErrorInfo last = infos.get(shown);
                assertEquals(ErrorDetails.DETAILS_LEFT_OUT, last.getReason(), "ids of " + idLength);
                assertEquals(details.size() - shown, Integer.parseInt(last.getMetadataOrThrow(ErrorDetails.COUNT)));
                leftOutSeen++;
            } else {
                assertEquals(details.size(), infos.size(), "all fit: no note, at ids of " + idLength);
                allSeen++;
            }
        }
        assertTrue(leftOutSeen > 100 && allSeen > 20, leftOutSeen + " runs left details out, " + allSeen + " none");
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
