package dev.sacrag.core.gguf;

/**
 * How the 2-D weight matrices are stored in an exported GGUF file. Norms, biases and RoPE
 * frequency factors are always F32, as llama.cpp's own converter keeps them.
 */
public enum GgufType {
    F32(0, 4, 0),
    F16(1, 2, 1);

    /** The ggml tensor type id written in each tensor info. */
    final int ggmlType;
    final int bytes;
    /** The {@code general.file_type} value (llama_ftype: ALL_F32 = 0, MOSTLY_F16 = 1). */
    final int fileType;

    GgufType(int ggmlType, int bytes, int fileType) {
        this.ggmlType = ggmlType;
        this.bytes = bytes;
        this.fileType = fileType;
    }
}
