package dev.sacrag.kvstore;

/**
 * CRC16-CCITT in the XMODEM variant (polynomial 0x1021, initial value 0, no reflection, no
 * final XOR): the checksum Redis Cluster uses for key slots (src/crc16.c). Check value:
 * "123456789" → 0x31C3.
 */
final class Crc16 {

    private static final int[] TABLE = new int[256];

    static {
        for (int i = 0; i < 256; i++) {
            int crc = i << 8;
            for (int bit = 0; bit < 8; bit++) {
                crc = (crc & 0x8000) != 0 ? (crc << 1) ^ 0x1021 : crc << 1;
            }
            TABLE[i] = crc & 0xffff;
        }
    }

    private Crc16() {
    }

    /** CRC of bytes[from, to). */
    static int xmodem(byte[] bytes, int from, int to) {
        int crc = 0;
        for (int i = from; i < to; i++) {
            crc = ((crc << 8) ^ TABLE[((crc >>> 8) ^ bytes[i]) & 0xff]) & 0xffff;
        }
        return crc;
    }
}
