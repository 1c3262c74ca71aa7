// Types of agent-spec.mjs (plain JS, so the peer servers run on bare node) for run.ts.
export declare const AGENT_ID: string;
export declare const INSTRUCTIONS: string;
export declare const MODEL_ID: string;
export declare const REPLY_TEXT: string;
export declare const TOOL_NAME: string;
export declare const TOOL_DESCRIPTION: string;
export declare const PROMPT: string;
export declare function argument(name: string, fallback?: string): string | undefined;
