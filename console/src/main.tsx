/**
 * The agentos web console (issue 13): a hash-routed single page over the public API. Each page is a
 * plain Preact component; the shell owns sign-in and navigation.
 */
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, forgetKey, storedKey, storeKey } from './api.js';
import { ApprovalsPage } from './pages/approvals.js';
import { ChatPage } from './pages/chat.js';
import { KnowledgePage } from './pages/knowledge.js';
import { ConfigPage, MemoriesPage, MetricsPage, SchedulesPage } from './pages/more.js';
import { SessionsPage } from './pages/sessions.js';
import { TracesPage } from './pages/traces.js';
import './style.css';

const PAGES = {
  chat: { title: 'Chat', Page: ChatPage },
  sessions: { title: 'Sessions', Page: SessionsPage },
  approvals: { title: 'Approvals', Page: ApprovalsPage },
  traces: { title: 'Traces', Page: TracesPage },
  knowledge: { title: 'Knowledge', Page: KnowledgePage },
  memories: { title: 'Memories', Page: MemoriesPage },
  schedules: { title: 'Schedules', Page: SchedulesPage },
  metrics: { title: 'Metrics', Page: MetricsPage },
  config: { title: 'Config', Page: ConfigPage },
} as const;
type PageName = keyof typeof PAGES;

function currentPage(): PageName {
  const name = location.hash.replace(/^#\/?/, '').split('/')[0] ?? '';
  return name in PAGES ? (name as PageName) : 'chat';
}

/** A one-time sign-in link (`#key=…`) puts the key in sessionStorage and leaves the address bar. */
function takeKeyFromLink(): void {
  const match = /^#key=(.+)$/.exec(location.hash);
  if (!match?.[1]) return;
  storeKey(decodeURIComponent(match[1]));
  history.replaceState(null, '', `${location.pathname}#/chat`);
}

function SignIn({ onSignedIn }: { onSignedIn: () => void }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState('');
  const [mode, setMode] = useState('');
  useEffect(() => {
    api('GET', '/info')
      .then((info) => {
        setMode(info.auth_mode);
        // Dev mode (no credentials configured, loopback only): there is no key to ask for.
        if (info.auth_mode === 'none') {
          storeKey('');
          onSignedIn();
        }
      })
      .catch(() => setMode(''));
  }, []);
  const submit = async (event: Event) => {
    event.preventDefault();
    storeKey(key.trim());
    try {
      // Any authenticated read proves the key; /agents lists what the key may see.
      await api('GET', '/agents');
      onSignedIn();
    } catch (failure) {
      forgetKey();
      setError((failure as Error).message);
    }
  };
  return (
    <form class="signin" onSubmit={submit}>
      <h1>agentos console</h1>
      <p class="muted">{mode === 'none' ? 'Dev mode: no credentials needed.' : 'Sign in with an API key.'}</p>
      <input
        name="api_key"
        type="password"
        placeholder="API key"
        value={key}
        onInput={(event) => setKey(event.currentTarget.value)}
        autoComplete="off"
      />
      <button type="submit">Sign in</button>
      {error && <p class="error">{error}</p>}
    </form>
  );
}

function Shell() {
  takeKeyFromLink();
  const [signedIn, setSignedIn] = useState(storedKey() !== null);
  const [page, setPage] = useState<PageName>(currentPage());
  useEffect(() => {
    const onHash = () => setPage(currentPage());
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);
  if (!signedIn) return <SignIn onSignedIn={() => setSignedIn(true)} />;
  const { Page } = PAGES[page];
  return (
    <div class="shell">
      <nav>
        <strong>agentos</strong>
        {(Object.keys(PAGES) as PageName[]).map((name) => (
          <a key={name} href={`#/${name}`} class={name === page ? 'active' : ''}>
            {PAGES[name].title}
          </a>
        ))}
        <button
          type="button"
          class="link"
          onClick={() => {
            forgetKey();
            setSignedIn(false);
          }}
        >
          Sign out
        </button>
      </nav>
      <main data-page={page}>
        <Page />
      </main>
    </div>
  );
}

render(<Shell />, document.getElementById('app') as HTMLElement);
