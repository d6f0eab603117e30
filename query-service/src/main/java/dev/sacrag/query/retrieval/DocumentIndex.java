package dev.sacrag.query.retrieval;

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
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * BM25 retrieval over the text of every live document, per tenant: an in-memory Lucene index
 * fed from the documents topic (an update replaces the document, a tombstone deletes it).
 * Thread-safe; changes become searchable at {@link #refresh()}.
 *
 * <p>Text is analysed with Lucene's English analyzer (lower case, possessives, Porter stemming)
 * but without a stop-word list: BM25's IDF already discounts common words, and a question made
 * only of stop words ("what is it?") should still find something.
 */
public final class DocumentIndex implements AutoCloseable {

    private static final String ID = "id";
    private static final String TENANT = "tenant";
    private static final String TEXT = "text";

    private final Analyzer analyzer = new EnglishAnalyzer(CharArraySet.EMPTY_SET);
    private final ByteBuffersDirectory directory = new ByteBuffersDirectory();
    private final IndexWriter writer;
    private final SearcherManager searchers;
    private final Map<String, IndexedDoc> live = new ConcurrentHashMap<>();

    public DocumentIndex() {
        try {
            writer = new IndexWriter(directory, new IndexWriterConfig(analyzer).setSimilarity(new BM25Similarity()));
            searchers = new SearcherManager(writer, null);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the in-memory document index", e);
        }
    }

    /**
     * Adds or replaces a document. Doc ids are global (they key the documents topic), so a
     * document that changes tenant moves. A version older than the indexed one is ignored.
     *
     * @return whether the index changed
     */
    public synchronized boolean upsert(IndexedDoc doc, String text) {
        IndexedDoc known = live.get(doc.docId());
        if (known != null && known.version() > doc.version()) {
            return false;
        }
        Document d = new Document();
        d.add(new StringField(ID, doc.docId(), Field.Store.YES));
        d.add(new StringField(TENANT, doc.tenant(), Field.Store.NO));
        d.add(new TextField(TEXT, doc.title() == null ? text : doc.title() + "\n" + text, Field.Store.NO));
        try {
            writer.updateDocument(new Term(ID, doc.docId()), d);
        } catch (IOException e) {
            throw new UncheckedIOException("indexing document " + doc.docId() + " v" + doc.version(), e);
        }
        live.put(doc.docId(), doc);
        return true;
    }

    /** @return whether the document was live */
    public synchronized boolean delete(String docId) {
        try {
            writer.deleteDocuments(new Term(ID, docId));
        } catch (IOException e) {
            throw new UncheckedIOException("deleting document " + docId + " from the index", e);
        }
        return live.remove(docId) != null;
    }

    /** Makes every change so far visible to {@link #search}. */
    public void refresh() {
        try {
            searchers.maybeRefreshBlocking();
        } catch (IOException e) {
            throw new UncheckedIOException("refreshing the document index", e);
        }
    }

    public Optional<IndexedDoc> find(String docId) {
        return Optional.ofNullable(live.get(docId));
    }

    public int size() {
        return live.size();
    }

    /** The tenant's documents that share terms with the question, best BM25 score first. */
    public List<ScoredDoc> search(String tenant, String question, int limit) {
        Set<String> terms = terms(question);
        if (terms.isEmpty() || limit < 1) {
            return List.of();
        }
        BooleanQuery.Builder anyTerm = new BooleanQuery.Builder();
        terms.stream().limit(IndexSearcher.getMaxClauseCount() - 1L)
                .forEach(t -> anyTerm.add(new TermQuery(new Term(TEXT, t)), BooleanClause.Occur.SHOULD));
        BooleanQuery query = new BooleanQuery.Builder()
                .add(new TermQuery(new Term(TENANT, tenant)), BooleanClause.Occur.FILTER)
                .add(anyTerm.build(), BooleanClause.Occur.MUST)
                .build();
        try {
            IndexSearcher searcher = searchers.acquire();
            try {
                List<ScoredDoc> hits = new ArrayList<>();
                for (ScoreDoc hit : searcher.search(query, limit).scoreDocs) {
                    String id = searcher.storedFields().document(hit.doc, Set.of(ID)).get(ID);
                    IndexedDoc doc = live.get(id);
                    if (doc != null && doc.tenant().equals(tenant)) { // not deleted or moved since the last refresh
                        hits.add(new ScoredDoc(id, doc.version(), hit.score));
                    }
                }
                return hits;
            } finally {
                searchers.release(searcher);
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
            searchers.close();
            writer.close();
            directory.close();
        } catch (IOException e) {
            throw new UncheckedIOException("closing the document index", e);
        }
    }
}
