/**
 * The tools a model may ask to invoke, each with a zod schema for its input. Nothing outside this registry
 * is ever run: a model's tool request for an unknown tool, or with input that fails the schema, is refused
 * (model providers treat it as a failed call, so the fallback answers). No tool is registered today; the
 * registry exists so the first one arrives with validation instead of a bare `switch` on the model's words.
 */
import type { z } from 'zod';

export interface ModelTool<S extends z.ZodTypeAny = z.ZodTypeAny> {
  /** What the model calls it: 1-64 characters of letters, digits, _ and -. */
  readonly name: string;
  readonly description: string;
  readonly inputSchema: S;
}

export type ToolRequestVerdict =
  | { readonly allowed: true; readonly tool: ModelTool; readonly input: unknown }
  | { readonly allowed: false; readonly reason: string };

const TOOL_NAME = /^[A-Za-z0-9_-]{1,64}$/;

export class ToolAllowlist {
  private readonly tools = new Map<string, ModelTool>();

  constructor(tools: readonly ModelTool[] = []) {
    for (const tool of tools) this.register(tool);
  }

  register(tool: ModelTool): this {
    if (!TOOL_NAME.test(tool.name)) {
      throw new Error(`tool name must be 1-64 letters, digits, _ or -, got ${JSON.stringify(tool.name)}`);
    }
    if (this.tools.has(tool.name)) throw new Error(`tool ${tool.name} is already registered`);
    this.tools.set(tool.name, tool);
    return this;
  }

  get names(): string[] {
    return [...this.tools.keys()];
  }

  /** Whether a model's request to run `name` with `input` may go ahead, with the parsed input if so. */
  check(name: unknown, input: unknown): ToolRequestVerdict {
    const tool = typeof name === 'string' ? this.tools.get(name) : undefined;
    if (!tool) {
      const shown = typeof name === 'string' ? JSON.stringify(name.slice(0, 64)) : typeof name;
      return { allowed: false, reason: `tool ${shown} is not on the allowlist` };
    }
    const parsed = tool.inputSchema.safeParse(input);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return {
        allowed: false,
        reason: `input for tool ${tool.name} is invalid: ${issue?.path.join('.') || 'input'}: ${issue?.message ?? 'invalid'}`,
      };
    }
    return { allowed: true, tool, input: parsed.data };
  }
}

/** The model-invocable tools of SupportMax: none yet. */
export const MODEL_TOOLS = new ToolAllowlist();
