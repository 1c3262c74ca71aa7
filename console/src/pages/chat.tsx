/**
 * Chat with an agent, team or workflow: the run streams over SSE and the reply grows as RunContent
 * events arrive; tool calls show with their results; a paused run offers Approve / Reject, which
 * continues it through `POST /agents/{id}/runs/{run_id}/continue`.
 */
import { useEffect, useState } from 'preact/hooks';
import { api, type RunEvent, stream } from '../api.js';
import { PausedPanel, type PausedTool, type ToolDecision } from './paused.js';

type Kind = 'agents' | 'teams' | 'workflows';

interface ToolView {
  tool_call_id: string;
  tool_name: string;
  tool_args?: unknown;
  result?: string;
  tool_call_error?: boolean;
}

interface Turn {
  role: 'user' | 'assistant';
  text: string;
  tools: ToolView[];
  paused?: PausedTool[];
  runId?: string;
  status?: string;
  error?: string;
}

/** Workflow lifecycle events read as the run events they correspond to. */
const WORKFLOW_NAMES: Record<string, string> = {
  WorkflowStarted: 'RunStarted',
  WorkflowPaused: 'RunPaused',
  WorkflowContinued: 'RunContinued',
  WorkflowCancelled: 'RunCancelled',
  WorkflowError: 'RunError',
  WorkflowCompleted: 'RunCompleted',
};

/**
 * The name an event counts as in the turn. Team streams carry the leader's events as `Team…` and the
 * members' as plain run events: the members' tool calls show, their text and lifecycle do not (the leader
 * answers). Workflow streams carry each step agent's run events between the workflow's own.
 */
function normalised(name: string, kind: Kind): string | undefined {
  if (kind === 'agents') return name;
  if (name.startsWith('ToolCall')) return name;
  if (kind === 'teams') return name.startsWith('Team') ? name.slice(4) : undefined;
  if (name in WORKFLOW_NAMES) return WORKFLOW_NAMES[name];
  return name === 'RunContent' ? name : undefined;
}

/** Folds one event into the assistant turn it belongs to. */
function apply(turn: Turn, event: RunEvent, kind: Kind): Turn {
  const tool = event.tool as ToolView | undefined;
  const name = normalised(event.event, kind);
  switch (name) {
    case 'RunStarted':
      return { ...turn, runId: event.run_id, status: 'running' };
    case 'RunContent':
      // Member and step content of teams and workflows carries the same event name.
      return typeof event.content === 'string' ? { ...turn, text: turn.text + event.content } : turn;
    case 'ToolCallStarted':
    case 'ToolCallCompleted':
    case 'ToolCallError':
      // A call confirmed after a pause is announced again when the run continues: one entry per call id.
      if (!tool) return turn;
      return {
        ...turn,
        tools: turn.tools.some((known) => known.tool_call_id === tool.tool_call_id)
          ? turn.tools.map((known) => (known.tool_call_id === tool.tool_call_id ? { ...known, ...tool } : known))
          : [...turn.tools, tool],
      };
    case 'RunPaused':
      return { ...turn, status: 'paused', paused: (event.tools as PausedTool[] | undefined) ?? [] };
    case 'RunContinued':
      return { ...turn, status: 'running', paused: undefined };
    case 'RunError':
      return { ...turn, status: 'error', error: String(event.content ?? 'Run failed') };
    case 'RunCancelled':
      return { ...turn, status: 'cancelled' };
    case 'RunCompleted': {
      if (turn.status === 'paused' || turn.status === 'error') return turn;
      // A workflow whose steps streamed nothing still reports its output at the end.
      const text = turn.text === '' && typeof event.content === 'string' ? event.content : turn.text;
      return { ...turn, text, status: 'completed' };
    }
    default:
      return turn;
  }
}

export function ChatPage() {
  const [kind, setKind] = useState<Kind>('agents');
  const [components, setComponents] = useState<{ id: string; name?: string }[]>([]);
  const [componentId, setComponentId] = useState('');
  const [sessionId, setSessionId] = useState<string | undefined>();
  const [turns, setTurns] = useState<Turn[]>([]);
  const [message, setMessage] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');

  useEffect(() => {
    api('GET', `/${kind}?limit=100`)
      .then((page) => {
        const list = (page[kind] ?? []) as { id: string; name?: string }[];
        setComponents(list);
        setComponentId(list[0]?.id ?? '');
      })
      .catch((failure) => setError(failure.message));
  }, [kind]);

  // Streams into the last turn; `setTurns` with a function so concurrent events never lose a delta.
  const follow = async (path: string, body: Record<string, unknown>) => {
    setBusy(true);
    setError('');
    try {
      await stream(path, body, (event) => {
        if (event.session_id) setSessionId(event.session_id);
        setTurns((all) => [...all.slice(0, -1), apply(all[all.length - 1] as Turn, event, kind)]);
      });
    } catch (failure) {
      setError((failure as Error).message);
    } finally {
      setBusy(false);
    }
  };

  const send = async (event: Event) => {
    event.preventDefault();
    if (!message.trim() || !componentId) return;
    const text = message;
    setMessage('');
    setTurns((all) => [...all, { role: 'user', text, tools: [] }, { role: 'assistant', text: '', tools: [] }]);
    await follow(`/${kind}/${encodeURIComponent(componentId)}/runs`, {
      message: text,
      ...(sessionId ? { session_id: sessionId } : {}),
    });
  };

  const decide = async (turn: Turn, tools: ToolDecision[]) => {
    if (!turn.runId) return;
    await follow(`/${kind}/${encodeURIComponent(componentId)}/runs/${turn.runId}/continue`, {
      tools,
      ...(sessionId ? { session_id: sessionId } : {}),
    });
  };

  return (
    <section>
      <h2>Chat</h2>
      <div class="row">
        <select
          name="kind"
          value={kind}
          onChange={(event) => {
            setKind(event.currentTarget.value as Kind);
            setTurns([]);
            setSessionId(undefined);
          }}
        >
          <option value="agents">Agents</option>
          <option value="teams">Teams</option>
          <option value="workflows">Workflows</option>
        </select>
        <select
          name="component"
          value={componentId}
          onChange={(event) => {
            setComponentId(event.currentTarget.value);
            setTurns([]);
            setSessionId(undefined);
          }}
        >
          {components.map((component) => (
            <option key={component.id} value={component.id}>
              {component.name ?? component.id}
            </option>
          ))}
        </select>
        <button
          type="button"
          onClick={() => {
            setTurns([]);
            setSessionId(undefined);
          }}
        >
          New session
        </button>
        {sessionId && <span class="muted session-id">session {sessionId}</span>}
      </div>
      <div class="messages">
        {turns.map((turn, index) => (
          <div key={index} class={`message ${turn.role}`} data-status={turn.status}>
            {turn.tools.map((tool) => (
              <div key={tool.tool_call_id} class="tool">
                tool {tool.tool_name}({JSON.stringify(tool.tool_args ?? {})})
                {tool.result !== undefined && <div class="tool-result">→ {tool.result}</div>}
              </div>
            ))}
            <div class="text">{turn.text}</div>
            {turn.paused && turn.status === 'paused' && (
              <PausedPanel tools={turn.paused} busy={busy} onDecide={(tools) => decide(turn, tools)} />
            )}
            {turn.error && <p class="error">{turn.error}</p>}
            {turn.role === 'assistant' && turn.status && <small class="muted status">{turn.status}</small>}
          </div>
        ))}
      </div>
      <form class="row" onSubmit={send}>
        <input
          name="message"
          placeholder="Message"
          value={message}
          style={{ flex: 1 }}
          onInput={(event) => setMessage(event.currentTarget.value)}
        />
        <button type="submit" class="primary" disabled={busy || !componentId}>
          Send
        </button>
      </form>
      {error && <p class="error">{error}</p>}
    </section>
  );
}
