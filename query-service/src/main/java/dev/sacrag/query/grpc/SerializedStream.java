package dev.sacrag.query.grpc;

import io.grpc.stub.StreamObserver;

/**
 * A response stream written from two threads: tokens come from the inference worker, the end
 * (result, or an error such as DEADLINE_EXCEEDED noticed while waiting) from the RPC thread.
 * StreamObserver is not thread-safe, so calls are serialized here, and nothing is sent after
 * the stream was ended.
 */
final class SerializedStream<T> implements StreamObserver<T> {

    private final StreamObserver<T> delegate;
    private boolean ended;

    SerializedStream(StreamObserver<T> delegate) {
        this.delegate = delegate;
    }

    @Override
    public synchronized void onNext(T value) {
        if (!ended) {
            delegate.onNext(value);
        }
    }

    @Override
    public synchronized void onError(Throwable t) {
        if (!ended) {
            ended = true;
            delegate.onError(t);
        }
    }

    @Override
    public synchronized void onCompleted() {
        if (!ended) {
            ended = true;
            delegate.onCompleted();
        }
    }
}
