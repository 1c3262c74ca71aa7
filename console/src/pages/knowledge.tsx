/**
 * Knowledge: the configured bases, a file upload with progress that polls ingestion until it
 * completes, and a search box (`POST /knowledge/search`).
 */
import { useEffect, useState } from 'preact/hooks';
import { api, storedKey } from '../api.js';

interface Base {
  id: string;
  name: string;
  document_count: number;
}

interface Hit {
  id: string;
  content: string;
  name: string | null;
  score: number;
  match_type: string;
}

/** XMLHttpRequest, not fetch: only it reports upload progress. */
function upload(path: string, form: FormData, onProgress: (percent: number) => void): Promise<{ id: string }> {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open('POST', path);
    const key = storedKey();
    if (key) request.setRequestHeader('authorization', `Bearer ${key}`);
    request.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(Math.round((event.loaded / event.total) * 100));
    };
    request.onload = () => {
      const body = JSON.parse(request.responseText || '{}');
      if (request.status >= 200 && request.status < 300) resolve(body);
      else reject(new Error(typeof body.detail === 'string' ? body.detail : `upload failed (${request.status})`));
    };
    request.onerror = () => reject(new Error('upload failed'));
    request.send(form);
  });
}

export function KnowledgePage() {
  const [bases, setBases] = useState<Base[]>([]);
  const [baseId, setBaseId] = useState('');
  const [progress, setProgress] = useState<number | null>(null);
  const [ingestion, setIngestion] = useState('');
  const [query, setQuery] = useState('');
  const [hits, setHits] = useState<Hit[] | null>(null);
  const [error, setError] = useState('');
  const load = () =>
    api('GET', '/knowledge')
      .then((page) => {
        setBases(page.knowledge_instances);
        setBaseId((current) => current || page.knowledge_instances[0]?.id || '');
      })
      .catch((failure) => setError(failure.message));
  useEffect(() => {
    load();
  }, []);

  const send = async (event: Event) => {
    event.preventDefault();
    const input = (event.currentTarget as HTMLFormElement).elements.namedItem('file') as HTMLInputElement;
    const file = input.files?.[0];
    if (!file || !baseId) return;
    setError('');
    const form = new FormData();
    form.append('file', file, file.name);
    try {
      const content = await upload(`/knowledge/content?knowledge_id=${encodeURIComponent(baseId)}`, form, setProgress);
      setIngestion('processing');
      // Ingestion runs off the request: poll its status until it settles.
      for (;;) {
        const state = await api('GET', `/knowledge/content/${content.id}/status`);
        setIngestion(state.status_message ? `${state.status}: ${state.status_message}` : state.status);
        if (state.status !== 'processing') break;
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
      await load();
    } catch (failure) {
      setError((failure as Error).message);
    }
  };
  const search = async (event: Event) => {
    event.preventDefault();
    try {
      const result = await api('POST', '/knowledge/search', { query, ...(baseId ? { knowledge_id: baseId } : {}) });
      setHits(result.data);
    } catch (failure) {
      setError((failure as Error).message);
    }
  };

  return (
    <section>
      <h2>Knowledge</h2>
      {error && <p class="error">{error}</p>}
      <div class="row">
        <select name="knowledge_id" value={baseId} onChange={(event) => setBaseId(event.currentTarget.value)}>
          {bases.map((base) => (
            <option key={base.id} value={base.id}>
              {base.name} ({base.document_count})
            </option>
          ))}
        </select>
      </div>
      {bases.length === 0 && <p class="muted">No knowledge base is configured.</p>}
      <form class="row" onSubmit={send}>
        <input type="file" name="file" />
        <button type="submit" class="primary">
          Upload
        </button>
        {progress !== null && <progress max={100} value={progress} />}
        {ingestion && <span class="ingestion">{ingestion}</span>}
      </form>
      <form class="row" onSubmit={search}>
        <input
          name="query"
          placeholder="Search knowledge"
          value={query}
          onInput={(e) => setQuery(e.currentTarget.value)}
        />
        <button type="submit">Search</button>
      </form>
      {hits && (
        <table class="hits">
          <tbody>
            {hits.map((hit) => (
              <tr key={hit.id}>
                <td>{hit.name}</td>
                <td>{hit.content}</td>
                <td>
                  {hit.match_type} {hit.score.toFixed(3)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {hits?.length === 0 && <p class="muted">No match.</p>}
    </section>
  );
}
