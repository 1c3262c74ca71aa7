/** The smaller read-mostly pages: memories per user, schedules, metrics per day, and the config. */
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';

/** Loads one API read for a page; the error shows in place of the data. */
// biome-ignore lint/suspicious/noExplicitAny: pages read the API responses field by field
function useRead(path: string): { data: any; error: string } {
  // biome-ignore lint/suspicious/noExplicitAny: as above
  const [data, setData] = useState<any>(null);
  const [error, setError] = useState('');
  useEffect(() => {
    setError('');
    api('GET', path)
      .then(setData)
      .catch((failure) => setError(failure.message));
  }, [path]);
  return { data, error };
}

export function MemoriesPage() {
  const [userId, setUserId] = useState('');
  const [search, setSearch] = useState('');
  const query = new URLSearchParams({ limit: '100' });
  if (userId) query.set('user_id', userId);
  if (search) query.set('search_content', search);
  const { data, error } = useRead(`/memories?${query}`);
  return (
    <section>
      <h2>Memories</h2>
      <div class="row">
        <input name="user_id" placeholder="User id" value={userId} onChange={(e) => setUserId(e.currentTarget.value)} />
        <input name="search" placeholder="Search" value={search} onChange={(e) => setSearch(e.currentTarget.value)} />
      </div>
      {error && <p class="error">{error}</p>}
      <table>
        <tbody>
          {(data?.memories ?? []).map(
            (memory: { memory_id: string; memory: string; user_id: string; topics?: string[] }) => (
              <tr key={memory.memory_id}>
                <td>{memory.user_id}</td>
                <td>{memory.memory}</td>
                <td>{memory.topics?.join(', ')}</td>
              </tr>
            ),
          )}
        </tbody>
      </table>
      {data?.memories?.length === 0 && <p class="muted">No memories.</p>}
    </section>
  );
}

export function SchedulesPage() {
  const { data, error } = useRead('/schedules?limit=100');
  return (
    <section>
      <h2>Schedules</h2>
      {error && <p class="error">{error}</p>}
      <table>
        <thead>
          <tr>
            <th>Name</th>
            <th>Cron</th>
            <th>Endpoint</th>
            <th>Enabled</th>
            <th>Next run</th>
          </tr>
        </thead>
        <tbody>
          {(data?.schedules ?? []).map(
            (schedule: {
              id: string;
              name: string;
              cron_expr: string;
              method: string;
              endpoint: string;
              enabled: boolean;
              next_run_at: number | null;
            }) => (
              <tr key={schedule.id}>
                <td>{schedule.name}</td>
                <td>{schedule.cron_expr}</td>
                <td>
                  {schedule.method} {schedule.endpoint}
                </td>
                <td>{schedule.enabled ? 'yes' : 'no'}</td>
                <td>{schedule.next_run_at ? new Date(schedule.next_run_at * 1000).toLocaleString() : '—'}</td>
              </tr>
            ),
          )}
        </tbody>
      </table>
    </section>
  );
}

interface Day {
  date: string;
  agent_runs_count: number;
  team_runs_count: number;
  workflow_runs_count: number;
  token_metrics: { total_tokens: number; cost: number };
}

/** A bar chart in plain DOM: a chart library would cost more bytes than the whole console. */
function Bars({ days, value, label }: { days: Day[]; value: (day: Day) => number; label: string }) {
  const top = Math.max(1, ...days.map(value));
  return (
    <figure>
      <figcaption>{label}</figcaption>
      <div class="chart">
        {days.map((day) => (
          <div key={day.date} title={`${day.date}: ${value(day)}`} style={{ height: `${(value(day) / top) * 100}%` }} />
        ))}
      </div>
    </figure>
  );
}

export function MetricsPage() {
  const { data, error } = useRead('/metrics');
  const days: Day[] = data?.metrics ?? [];
  return (
    <section>
      <h2>Metrics</h2>
      {error && <p class="error">{error}</p>}
      {days.length === 0 && !error && <p class="muted">No metrics yet (they are aggregated per day).</p>}
      {days.length > 0 && (
        <>
          <Bars
            days={days}
            label="Runs per day"
            value={(d) => d.agent_runs_count + d.team_runs_count + d.workflow_runs_count}
          />
          <Bars days={days} label="Tokens per day" value={(d) => d.token_metrics.total_tokens} />
          <Bars days={days} label="Cost per day (USD)" value={(d) => d.token_metrics.cost} />
        </>
      )}
    </section>
  );
}

export function ConfigPage() {
  const { data, error } = useRead('/config');
  return (
    <section>
      <h2>Config</h2>
      {error && <p class="error">{error}</p>}
      {data && <pre>{JSON.stringify(data, null, 2)}</pre>}
    </section>
  );
}
