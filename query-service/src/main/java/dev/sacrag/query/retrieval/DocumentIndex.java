package dev.sacrag.query.retrieval;

import dev.sacrag.schemas.ContentHash;
import dev.sacrag.schemas.Succession;
import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.CharArraySet;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.en.EnglishAnalyzer;
import org.apache.lucene.analysis.tokenattributes.CharTermAttribute;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.StringField;
import org.apache.lucene.document.TextField;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.Term;
import org.apache.lucene.search.BooleanClause;
import org.apache.lucene.search.BooleanQuery;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.SearcherManager;
import org.apache.lucene.search.TermQuery;
import org.apache.lucene.search.similarities.BM25Similarity;
import org.apache.lucene.store.ByteBuffersDirectory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * BM25 retrieval over the text of every live document, per tenant: in-memory Lucene indexes
 * fed from the documents topic (an update replaces the document, a tombstone deletes it).
 * Thread-safe; changes become searchable at {@link #refresh()}.
 *
 * <p>Each tenant has its own Lucene index, not a tenant filter on a shared one: BM25's term
 * statistics (how many documents hold a term, the average length) would otherwise count every
 * tenant's documents, so one tenant's uploads would change another's ranking, and the scores
 * returned to callers would tell a tenant how often others use a word.
 *
 * <p>Text is analysed with Lucene's English analyzer (lower case, possessives, Porter stemming)
 * but without a stop-word list: BM25's IDF already discounts common words, and a question made
 * only of stop words ("what is it?") should still find something.
 */
public final class DocumentIndex implements AutoCloseable {

    private static final String ID = "id";
    private static final String TEXT = "text";

    private final Analyzer analyzer = new EnglishAnalyzer(CharArraySet.EMPTY_SET);
    private final Map<String, TenantIndex> tenants = new ConcurrentHashMap<>();
    private final Map<String, Live> live = new ConcurrentHashMap<>();
    /**
     * Documents deleted and not published again, with the version they had: the catalog may still
     * point at a compression of the deleted text, and a new incarnation must not be answered from
     * it ({@link IndexedDoc#mayBeCompressionOf}). Bounded, oldest deletion dropped first: only a
     * compressor still behind a tombstone that many deletions old would make one matter again.
     */
    private final Map<String, Long> deleted = new LinkedHashMap<>(16, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Long> eldest) {
            return size() > MAX_DELETIONS_REMEMBERED;
        }
    };

    static final int MAX_DELETIONS_REMEMBERED = 100_000;

    /** A live document and the {@link ContentHash} of its indexed text (what {@link Succession} compares). */
    private record Live(IndexedDoc doc, String hash) {
    }

    /** One tenant's Lucene index. */
    private final class TenantIndex implements AutoCloseable {
        final ByteBuffersDirectory directory = new ByteBuffersDirectory();
        final IndexWriter writer;
        final SearcherManager searchers;

        TenantIndex(String tenant) {
            try {
                writer = new IndexWriter(directory, new IndexWriterConfig(analyzer).setSimilarity(new BM25Similarity()));
                searchers = new SearcherManager(writer, null);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot create the in-memory document index of tenant " + tenant, e);
            }
        }

        @Override
        public void close() throws IOException {
            searchers.close();
            writer.close();
            directory.close();
        }
    }

    /**
     * Adds or replaces a document, by the compressor's rule ({@link Succession}), since retrieval
     * must search the text the answer is decoded from: a newer version replaces it; the same
     * version with the same text restates it (a move to another tenant, a new title); the same
     * version with other text, or an older one, is ignored. Doc ids are global (they key the
     * documents topic), so a document that changes tenant moves.
     *
     * @return whether the index changed
     */
    public synchronized boolean upsert(IndexedDoc doc, String text) {
        Live entry = live.get(doc.docId());
        IndexedDoc known = entry == null ? null : entry.doc();
        String hash = ContentHash.of(text);
        IndexedDoc.Deletion deletion;
        if (known != null) {
            deletion = known.deletion();   // an update of the same incarnation
            Succession succession = Succession.of(doc.version(), hash, known.version(), entry.hash());
            if (!succession.replaces() || succession == Succession.RESTATED && known.equals(doc.after(deletion))) {
                return false;
            }
        } else {
            Long deletedVersion = deleted.remove(doc.docId());
            deletion = deletedVersion == null ? null : new IndexedDoc.Deletion(deletedVersion, doc.version());
        }
        doc = doc.after(deletion);
        Document d = new Document();
        d.add(new StringField(ID, doc.docId(), Field.Store.YES));
        d.add(new TextField(TEXT, doc.title() == null ? text : doc.title() + "\n" + text, Field.Store.NO));
        try {
            if (known != null && !known.tenant().equals(doc.tenant())) {
                remove(known);
            }
            tenants.computeIfAbsent(doc.tenant(), TenantIndex::new).writer.updateDocument(new Term(ID, doc.docId()), d);
        } catch (IOException e) {
            throw new UncheckedIOException("indexing document " + doc.docId() + " v" + doc.version(), e);
        }
        live.put(doc.docId(), new Live(doc, hash));
        return true;
    }

    /** @return whether the document was live */
    public synchronized boolean delete(String docId) {
        Live known = live.remove(docId);
        if (known == null) {
            return false;
        }
        IndexedDoc.Deletion before = known.doc().deletion();   // the greatest version deleted so far counts
        deleted.put(docId, before == null ? known.doc().version() : Math.max(before.deletedVersion(), known.doc().version()));
        try {
            remove(known.doc());
        } catch (IOException e) {
            throw new UncheckedIOException("deleting document " + docId + " from the index", e);
        }
        return true;
    }

    private void remove(IndexedDoc doc) throws IOException {
        TenantIndex t = tenants.get(doc.tenant());
        if (t != null) {
            t.writer.deleteDocuments(new Term(ID, doc.docId()));
        }
    }

    /** Makes every change so far visible to {@link #search}. */
    public void refresh() {
        try {
            for (TenantIndex t : tenants.values()) {
                t.searchers.maybeRefreshBlocking();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("refreshing the document index", e);
        }
    }

    public Optional<IndexedDoc> find(String docId) {
        return Optional.ofNullable(live.get(docId)).map(Live::doc);
    }

    /** The {@link ContentHash} of {@code doc}'s text, while it is the live version of its document. */
    public Optional<String> contentHash(IndexedDoc doc) {
        return Optional.ofNullable(live.get(doc.docId())).filter(l -> l.doc().equals(doc)).map(Live::hash);
    }

    public int size() {
        return live.size();
    }

    /** The tenant's documents that share terms with the question, best BM25 score first. */
    public List<ScoredDoc> search(String tenant, String question, int limit) {
        Set<String> terms = terms(question);
        TenantIndex index = tenants.get(tenant);
        if (terms.isEmpty() || limit < 1 || index == null) {
            return List.of();
        }
        BooleanQuery.Builder anyTerm = new BooleanQuery.Builder();
        terms.stream().limit(IndexSearcher.getMaxClauseCount())
                .forEach(t -> anyTerm.add(new TermQuery(new Term(TEXT, t)), BooleanClause.Occur.SHOULD));
        try {
            IndexSearcher searcher = index.searchers.acquire();
            try {
                List<ScoredDoc> hits = new ArrayList<>();
                for (ScoreDoc hit : searcher.search(anyTerm.build(), limit).scoreDocs) {
                    String id = searcher.storedFields().document(hit.doc, Set.of(ID)).get(ID);
                    Live entry = live.get(id);
                    IndexedDoc doc = entry == null ? null : entry.doc();
                    if (doc != null && doc.tenant().equals(tenant)) { // not deleted or moved since the last refresh
                        hits.add(new ScoredDoc(id, doc.version(), hit.score));
                    }
                }
                return hits;
            } finally {
                index.searchers.release(searcher);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("searching tenant " + tenant + " for '" + question + "'", e);
        }
    }

    private Set<String> terms(String text) {
        Set<String> terms = new LinkedHashSet<>();
        try (TokenStream tokens = analyzer.tokenStream(TEXT, text)) {
            CharTermAttribute term = tokens.addAttribute(CharTermAttribute.class);
            tokens.reset();
            while (tokens.incrementToken()) {
                terms.add(term.toString());
            }
            tokens.end();
        } catch (IOException e) {
            throw new UncheckedIOException("analysing '" + text + "'", e);
        }
        return terms;
    }

    @Override
    public void close() {
        try {
            for (TenantIndex t : tenants.values()) {
                t.close();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("closing the document index", e);
        }
    }
}
