/**
 * Approvals inbox: every pending human decision. Approving or rejecting resolves the approval, then
 * continues an agent run with empty `tools` so the resolution applies (CONTRACT §5).
 */
import { useEffect, useState } from 'preact/hooks';
import { api } from '../api.js';

interface Approval {
  id: string;
  run_id: string;
  session_id: string;
  status: string;
  pause_type: string;
  tool_name: string;
  tool_args: Record<string, unknown>;
  agent_id: string | null;
  source_name: string | null;
  created_at: string;
}

export function ApprovalsPage() {
  const [approvals, setApprovals] = useState<Approval[]>([]);
  const [status, setStatus] = useState('pending');
  const [error, setError] = useState('');
  const load = () =>
    api('GET', `/approvals?limit=100${status ? `&status=${status}` : ''}`)
      .then((page) => setApprovals(page.approvals))
      .catch((failure) => setError(failure.message));
  useEffect(() => {
    load();
  }, [status]);
  const decide = async (approval: Approval, decision: 'approved' | 'rejected') => {
    setError('');
    try {
      await api('POST', `/approvals/${approval.id}/resolve`, { status: decision });
      if (approval.agent_id && approval.pause_type === 'confirmation') {
        await api('POST', `/agents/${encodeURIComponent(approval.agent_id)}/runs/${approval.run_id}/continue`, {
          tools: [],
          session_id: approval.session_id,
        });
      }
    } catch (failure) {
      setError((failure as Error).message);
    }
    await load();
  };
  return (
    <section>
      <h2>Approvals</h2>
      <div class="row">
        <select name="status" value={status} onChange={(event) => setStatus(event.currentTarget.value)}>
          <option value="pending">Pending</option>
          <option value="approved">Approved</option>
          <option value="rejected">Rejected</option>
          <option value="">All</option>
        </select>
        <button type="button" onClick={load}>
          Refresh
        </button>
      </div>
      {error && <p class="error">{error}</p>}
      <table class="approvals">
        <thead>
          <tr>
            <th>Tool</th>
            <th>Source</th>
            <th>Kind</th>
            <th>Status</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {approvals.map((approval) => (
            <tr key={approval.id} data-approval-id={approval.id}>
              <td>
                {approval.tool_name}({JSON.stringify(approval.tool_args)})
              </td>
              <td>{approval.source_name ?? approval.agent_id}</td>
              <td>{approval.pause_type}</td>
              <td>{approval.status}</td>
              <td>
                {approval.status === 'pending' && (
                  <div class="row">
                    <button type="button" class="primary" onClick={() => decide(approval, 'approved')}>
                      Approve
                    </button>
                    <button type="button" onClick={() => decide(approval, 'rejected')}>
                      Reject
                    </button>
                  </div>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {approvals.length === 0 && <p class="muted">Nothing waiting.</p>}
    </section>
  );
}
