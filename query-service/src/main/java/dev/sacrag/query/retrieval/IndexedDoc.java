package dev.sacrag.query.retrieval;

/**
 * What the index knows about a live document (the documents topic is the source of truth).
 *
 * @param title may be null
 * @param deletion set when this replica saw the document deleted before this incarnation of it
 *        was published: the catalog may still hold a compression of the deleted text until the
 *        compressor reaches the tombstone; null otherwise
 */
public record IndexedDoc(String docId, String tenant, long version, String title, Deletion deletion) {

    /**
     * A deletion before the document's current incarnation.
     *
     * @param deletedVersion the version that was live when the tombstone came
     * @param firstVersionAfter the first version published after it
     */
    public record Deletion(long deletedVersion, long firstVersionAfter) {
    }

    public IndexedDoc(String docId, String tenant, long version, String title) {
        this(docId, tenant, version, title, null);
    }

    IndexedDoc after(Deletion d) {
        return new IndexedDoc(docId, tenant, version, title, d);
    }

    /**
     * Whether a compression of {@code compressedVersion} may be of this incarnation's text rather
     * than of a deleted one: always, unless a deletion came before it. Then it must be newer than
     * the deleted version (versions default to the publish time, so they are), or, where the
     * producer numbered the new incarnation from lower again, lie within the versions it has had.
     * With the default versions a compression of the deleted text is always refused, even while
     * the compressor is behind the tombstone. A producer that numbers the new incarnation through
     * the deleted version again (deleted v5, new v3 then v6) makes v5 look like one of the new
     * incarnation's until the compressor reaches the tombstone: versions are all there is to tell.
     */
    public boolean mayBeCompressionOf(long compressedVersion) {
        return deletion == null || compressedVersion > deletion.deletedVersion()
                || compressedVersion >= deletion.firstVersionAfter() && compressedVersion <= version;
    }
}
