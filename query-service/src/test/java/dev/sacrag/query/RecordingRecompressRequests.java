package dev.sacrag.query;

import dev.sacrag.query.recompress.RecompressRequests;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** Remembers every recompress request instead of publishing it. */
public final class RecordingRecompressRequests implements RecompressRequests {

    public record Request(String tenant, String docId, String modelId, String reason) {
    }

    public final List<Request> requests = new CopyOnWriteArrayList<>();

    @Override
    public void request(String tenant, String docId, String modelId, String reason) {
        requests.add(new Request(tenant, docId, modelId, reason));
    }
}
