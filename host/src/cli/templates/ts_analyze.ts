// @NAME@: a PromptSculptor analyze plugin in TypeScript.

import { count } from 'promptsculptor:plugin/tokenizer@@WIT_VERSION@';
import type { AnalyzeRequest, AnalyzeResponse, Issue } from 'promptsculptor:plugin/analyzer@@WIT_VERSION@';
import type { PluginManifest } from 'promptsculptor:plugin/types@@WIT_VERSION@';

const VARIABLE = /\{\{\s*([A-Za-z_][\w.-]*)\s*\}\}/g;

// Typed as the WIT `analyzer` interface: a missing or mistyped export fails the build.
export const analyzer: typeof import('promptsculptor:plugin/analyzer@@WIT_VERSION@') = {
  manifest(): PluginManifest {
    return {
      name: '@NAME@', version: '0.1.0', description: 'Flags prompts too short to be specific.',
      kind: 'analyze', styles: [],
    };
  },

  analyze(request: AnalyzeRequest): AnalyzeResponse {
    const words = request.prompt.split(/\s+/).filter((w) => w.length > 0).length;
    const chars = [...request.prompt].length;
    const tokens = count(request.prompt, request.tokenizer);
    const issues: Issue[] = [];
    if (words < 8) {
      issues.push({
        code: 'too-short', severity: 'warning', message: `The prompt has only ${words} words.`,
        suggestion: 'Say who the answer is for and what shape it should take.',
      });
    }
    const s = issues.length === 0 ? 80 : 40;
    return {
      scores: { overall: s, clarity: s, specificity: s, structure: s, context: s, outputFormat: s },
      issues,
      suggestions: issues.flatMap((i) => (i.suggestion === undefined ? [] : [i.suggestion])),
      stats: {
        chars, words, tokens: tokens ?? Math.floor(chars / 4), tokenizer: request.tokenizer,
        variables: [...new Set([...request.prompt.matchAll(VARIABLE)].map((m) => m[1] ?? ''))],
      },
    };
  },
};
