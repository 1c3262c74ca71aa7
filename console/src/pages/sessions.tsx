/**
 * Sessions: list (newest first) with a search over names and ids, rename, delete, and each run's
 * events replayed from the events table (`POST /agents/{id}/runs/{run_id}/resume`).
 */
import { useEffect, useState } from 'preact/hooks';
import { api, type RunEvent, stream } from '../api.js';

interface Session {
  session_id: string;
  session_name: string | null;
  session_type: string;
  agent_id?: string;
  team_id?: string;
  workflow_id?: string;
  updated_at: string;
}

interface Run {
  run_id: string;
  agent_id: string;
  status: string;
  content?: string;
  input: { message?: string };
}

function SessionDetail({ session, onChanged }: { session: Session; onChanged: () => void }) {
  const [runs, setRuns] = useState<Run[]>([]);
  const [events, setEvents] = useState<Record<string, RunEvent[]>>({});
  const [name, setName] = useState(session.session_name ?? '');
  const [error, setError] = useState('');
  // The name field starts from the session and is not reset by later effects: an effect runs after the
  // first paint, and resetting there would wipe what was typed in between. A new session remounts (key).
  useEffect(() => {
    api('GET', `/sessions/${session.session_id}/runs?limit=100`)
      .then((page) => setRuns(page.runs ?? page))
      .catch((failure) => setError(failure.message));
  }, [session.session_id]);

  const rename = async (event: Event) => {
    event.preventDefault();
    try {
      await api('POST', `/sessions/${session.session_id}/rename`, { session_name: name });
      onChanged();
    } catch (failure) {
      setError((failure as Error).message);
    }
  };
  const remove = async () => {
    if (!confirm(`Delete session ${session.session_name ?? session.session_id}?`)) return;
    try {
      await api('DELETE', `/sessions/${session.session_id}`);
      onChanged();
    } catch (failure) {
      setError((failure as Error).message);
    }
  };
  const showEvents = async (run: Run) => {
    const collected: RunEvent[] = [];
    try {
      await stream(
        `/agents/${encodeURIComponent(run.agent_id)}/runs/${run.run_id}/resume`,
        { last_event_index: -1 },
        (e) => collected.push(e),
      );
      setEvents((all) => ({ ...all, [run.run_id]: collected }));
    } catch (failure) {
      setError((failure as Error).message);
    }
  };

  return (
    <div class="session-detail">
      <form class="row" onSubmit={rename}>
        <input name="session_name" value={name} onInput={(event) => setName(event.currentTarget.value)} />
        <button type="submit">Rename</button>
        <button type="button" onClick={remove}>
          Delete
        </button>
      </form>
      {error && <p class="error">{error}</p>}
      <table>
        <thead>
          <tr>
            <th>Run</th>
            <th>Status</th>
            <th>Input</th>
            <th>Reply</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {runs.map((run) => (
            <tr key={run.run_id}>
              <td>{run.run_id.slice(0, 8)}</td>
              <td>{run.status}</td>
              <td>{run.input?.message}</td>
              <td>{run.content}</td>
              <td>
                {run.agent_id && (
                  <button type="button" onClick={() => showEvents(run)}>
                    Events
                  </button>
                )}
                {events[run.run_id] && (
                  <div class="events">
                    {events[run.run_id]?.map((e) => (
                      <div key={e.event_index}>
                        #{e.event_index} {e.event}
                        {typeof e.content === 'string' ? ` ${e.content}` : ''}
                      </div>
                    ))}
                  </div>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function SessionsPage() {
  const [sessions, setSessions] = useState<Session[]>([]);
  const [search, setSearch] = useState('');
  const [selected, setSelected] = useState<string | null>(null);
  const [error, setError] = useState('');
  const load = () =>
    api('GET', '/sessions?limit=100')
      .then((page) => setSessions(page.sessions))
      .catch((failure) => setError(failure.message));
  useEffect(() => {
    load();
  }, []);
  const needle = search.trim().toLowerCase();
  const shown = sessions.filter(
    (session) =>
      needle === '' ||
      session.session_id.toLowerCase().includes(needle) ||
      (session.session_name ?? '').toLowerCase().includes(needle),
  );
  const current = sessions.find((session) => session.session_id === selected);
  return (
    <section>
      <h2>Sessions</h2>
      <div class="row">
        <input
          name="search"
          placeholder="Search sessions"
          value={search}
          onInput={(e) => setSearch(e.currentTarget.value)}
        />
        <button type="button" onClick={load}>
          Refresh
        </button>
      </div>
      {error && <p class="error">{error}</p>}
      <table class="sessions">
        <thead>
          <tr>
            <th>Name</th>
            <th>Component</th>
            <th>Updated</th>
          </tr>
        </thead>
        <tbody>
          {shown.map((session) => (
            <tr
              key={session.session_id}
              class="selectable"
              data-session-id={session.session_id}
              onClick={() => setSelected(session.session_id)}
            >
              <td>{session.session_name ?? session.session_id}</td>
              <td>
                {session.session_type} {session.agent_id ?? session.team_id ?? session.workflow_id}
              </td>
              <td>{new Date(session.updated_at).toLocaleString()}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {shown.length === 0 && <p class="muted">No sessions.</p>}
      {current && (
        <SessionDetail
          key={current.session_id}
          session={current}
          onChanged={() => {
            load();
          }}
        />
      )}
    </section>
  );
}
