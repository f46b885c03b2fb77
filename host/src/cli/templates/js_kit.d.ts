// Types of promptsculptor-kit.js, over the bindings `jco guest-types`
// generates from wit/ into types/ (plugin build does it before type-checking).

import type { ChatRequest } from 'promptsculptor:plugin/llm@@WIT_VERSION@';
import type { LlmError, StyleDefinition } from 'promptsculptor:plugin/types@@WIT_VERSION@';

/** The error cases of a plugin operation, as the WIT `plugin-error` variant. */
export type PluginErrorPayload =
  | { tag: 'invalid-input'; val: string }
  | { tag: 'llm'; val: LlmError }
  | { tag: 'unusable-llm-output'; val: string }
  | { tag: 'internal'; val: string };

/** A plugin error: the component returns `payload` as the operation's error. */
export class PluginError extends Error {
  constructor(tag: PluginErrorPayload['tag'], val: PluginErrorPayload['val']);
  payload: PluginErrorPayload;
}

/** The request cannot be served as asked (HTTP 422). */
export function invalidInput(message: string): PluginError;

/** Anything else the plugin cannot recover from (HTTP 500). */
export function internal(message: string): PluginError;

/** Thrown by a chat() check: what is wrong with a reply, and the repair
 * instruction the model gets once. */
export class Rejected extends Error {
  constructor(problem: string, repair: string);
  problem: string;
  repair: string;
}

/** A style for the manifest; examples are [before, after] pairs. */
export function style(
  name: string,
  description: string,
  instructions: string,
  examples?: Array<[string, string]>,
): StyleDefinition;

/** Distinct placeholder literals of text, as written, in order. */
export function placeholders(text: string): string[];

/** text, with every placeholder of original that it lost listed at the end. */
export function keepPlaceholders(original: string, text: string): string;

/** What chat() sends: one user turn, the optional system prompt and settings,
 * and the check of the reply. */
export interface ChatOptions<T> {
  system?: string;
  user: string;
  /** Returns the result or throws Rejected. */
  check?: (reply: string) => T;
  jsonSchema?: ChatRequest['jsonSchema'];
  temperature?: ChatRequest['temperature'];
  maxTokens?: ChatRequest['maxTokens'];
}

/** The LLM round trip: one call, the check, exactly one repair turn. */
export function chat(options: ChatOptions<string> & { check?: undefined }): string;
export function chat<T>(options: ChatOptions<T> & { check: (reply: string) => T }): T;

/** text with every placeholder replaced by an opaque token, and a function
 * that puts them back. */
export function protect(text: string): [string, (masked: string) => string];

/** The sentences of text, line by line. */
export function sentences(text: string): string[];
