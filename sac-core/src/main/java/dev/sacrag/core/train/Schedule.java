package dev.sacrag.core.train;

/** Linear warm-up, then either constant (the paper's SAC recipe) or cosine decay to 10%. */
record Schedule(float peak, int warmup, long total, boolean cosine) {

    float at(long step) {
        if (step < warmup) {
            return peak * (step + 1) / warmup;
        }
        if (!cosine) {
            return peak;
        }
        double progress = Math.min(1.0, (step - warmup) / (double) Math.max(1, total - warmup));
        return (float) (peak * (0.1 + 0.9 * 0.5 * (1 + StrictMath.cos(Math.PI * progress))));
    }
}
