/**
 * The decision a paused run waits for (CONTRACT §5): confirm or reject a call, fill the fields of a
 * user-input call, or paste the result of an externally executed call. Sends Agno's `tools` list.
 */
import { useState } from 'preact/hooks';

export interface UserInputField {
  name: string;
  field_type: string;
  description?: string;
  value?: unknown;
}

export interface PausedTool {
  tool_call_id: string;
  tool_name: string;
  tool_args?: unknown;
  requires_user_input?: boolean;
  user_input_schema?: UserInputField[];
  external_execution_required?: boolean;
}

/** One entry of the continue body's `tools`. */
export type ToolDecision = Record<string, unknown> & { tool_call_id: string };

function typed(field: UserInputField, text: string): unknown {
  if (field.field_type === 'number' || field.field_type === 'integer') return Number(text);
  if (field.field_type === 'boolean') return text === 'true';
  return text;
}

function initialValues(tools: PausedTool[]): Record<string, string> {
  const values: Record<string, string> = {};
  for (const tool of tools) {
    for (const field of tool.user_input_schema ?? []) {
      if (field.value !== undefined) values[`${tool.tool_call_id}/${field.name}`] = String(field.value);
    }
  }
  return values;
}

export function PausedPanel(props: { tools: PausedTool[]; busy: boolean; onDecide: (tools: ToolDecision[]) => void }) {
  const [values, setValues] = useState(() => initialValues(props.tools));
  const set = (key: string, value: string) => setValues((all) => ({ ...all, [key]: value }));

  const approve = () =>
    props.onDecide(
      props.tools.map((tool) => {
        if (tool.external_execution_required) {
          return { tool_call_id: tool.tool_call_id, result: values[`${tool.tool_call_id}/result`] ?? '' };
        }
        if (tool.requires_user_input) {
          const input: Record<string, unknown> = {};
          for (const field of tool.user_input_schema ?? []) {
            const text = values[`${tool.tool_call_id}/${field.name}`];
            if (text !== undefined) input[field.name] = typed(field, text);
          }
          return { tool_call_id: tool.tool_call_id, user_input: input };
        }
        return { tool_call_id: tool.tool_call_id, confirmed: true };
      }),
    );
  const reject = () =>
    props.onDecide(props.tools.map((tool) => ({ tool_call_id: tool.tool_call_id, confirmed: false })));

  return (
    <div class="paused">
      <p>The run is paused for a decision:</p>
      {props.tools.map((tool) => (
        <div key={tool.tool_call_id} class="tool" data-tool-call-id={tool.tool_call_id}>
          {tool.tool_name}({JSON.stringify(tool.tool_args ?? {})})
          {tool.requires_user_input &&
            (tool.user_input_schema ?? []).map((field) => (
              <label key={field.name} class="row">
                {field.name}
                <input
                  name={`input-${field.name}`}
                  title={field.description}
                  value={values[`${tool.tool_call_id}/${field.name}`] ?? ''}
                  onInput={(event) => set(`${tool.tool_call_id}/${field.name}`, event.currentTarget.value)}
                />
              </label>
            ))}
          {tool.external_execution_required && (
            <textarea
              name="result"
              placeholder="Result of the call, run outside agentos"
              value={values[`${tool.tool_call_id}/result`] ?? ''}
              onInput={(event) => set(`${tool.tool_call_id}/result`, event.currentTarget.value)}
            />
          )}
        </div>
      ))}
      <div class="row">
        <button type="button" class="primary" disabled={props.busy} onClick={approve}>
          {props.tools.some((tool) => tool.requires_user_input || tool.external_execution_required)
            ? 'Submit'
            : 'Approve'}
        </button>
        <button type="button" disabled={props.busy} onClick={reject}>
          Reject
        </button>
      </div>
    </div>
  );
}
