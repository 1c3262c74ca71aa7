/** Traces: the newest traces, and one opened as its span tree with timings (`GET /traces/{id}`). */
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';

interface SpanNode {
  id: string;
  name: string;
  type: string;
  duration: string;
  duration_ms: number;
  status: string;
  error: string | null;
  spans: SpanNode[];
}

interface TraceSummary {
  trace_id: string;
  name: string;
  status: string;
  duration: string;
  total_spans: number;
  agent_id: string | null;
  start_time: string;
}

function Span({ node, scale }: { node: SpanNode; scale: number }) {
  return (
    <li>
      <div class="span" data-span-type={node.type}>
        <span class="span-name">{node.name}</span>
        <span class="muted">{node.type}</span>
        <span class="bar" style={{ width: `${Math.max(2, Math.round((node.duration_ms / scale) * 240))}px` }} />
        <span>{node.duration}</span>
        {node.error && <span class="error">{node.error}</span>}
      </div>
      {node.spans.length > 0 && (
        <ul>
          {node.spans.map((child) => (
            <Span key={child.id} node={child} scale={scale} />
          ))}
        </ul>
      )}
    </li>
  );
}

export function TracesPage() {
  const [traces, setTraces] = useState<TraceSummary[]>([]);
  const [tree, setTree] = useState<{ trace_id: string; tree: SpanNode[] } | null>(null);
  const [error, setError] = useState('');
  useEffect(() => {
    api('GET', '/traces?limit=50')
      .then((page) => setTraces(page.traces))
      .catch((failure) => setError(failure.message));
  }, []);
  const open = async (traceId: string) => {
    try {
      const detail = await api('GET', `/traces/${traceId}`);
      setTree({ trace_id: traceId, tree: detail.tree ?? [] });
    } catch (failure) {
      setError((failure as Error).message);
    }
  };
  const scale = Math.max(1, ...(tree?.tree.map((node) => node.duration_ms) ?? [1]));
  return (
    <section>
      <h2>Traces</h2>
      {error && <p class="error">{error}</p>}
      <table class="traces">
        <thead>
          <tr>
            <th>Name</th>
            <th>Status</th>
            <th>Spans</th>
            <th>Duration</th>
            <th>Started</th>
          </tr>
        </thead>
        <tbody>
          {traces.map((trace) => (
            <tr key={trace.trace_id} class="selectable" onClick={() => open(trace.trace_id)}>
              <td>{trace.name}</td>
              <td>{trace.status}</td>
              <td>{trace.total_spans}</td>
              <td>{trace.duration}</td>
              <td>{new Date(trace.start_time).toLocaleString()}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {traces.length === 0 && <p class="muted">No traces yet.</p>}
      {tree && (
        <div class="tree" data-trace-id={tree.trace_id}>
          <h3>Trace {tree.trace_id}</h3>
          <ul>
            {tree.tree.map((node) => (
              <Span key={node.id} node={node} scale={scale} />
            ))}
          </ul>
        </div>
      )}
    </section>
  );
}
