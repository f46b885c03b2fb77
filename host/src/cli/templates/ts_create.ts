// @NAME@: a PromptSculptor create plugin in TypeScript.

import { invalidInput } from './promptsculptor-kit.js';
import type { CreateRequest, CreateResponse } from 'promptsculptor:plugin/creator@@WIT_VERSION@';
import type { PluginManifest } from 'promptsculptor:plugin/types@@WIT_VERSION@';

// Typed as the WIT `creator` interface: a missing or mistyped export fails the build.
export const creator: typeof import('promptsculptor:plugin/creator@@WIT_VERSION@') = {
  manifest(): PluginManifest {
    return {
      name: '@NAME@', version: '0.1.0',
      description: 'Writes a compact prompt from the goal and its constraints.',
      kind: 'create', styles: [],
    };
  },

  create(request: CreateRequest): CreateResponse {
    if (!request.goal.trim()) {
      throw invalidInput('the goal is empty');
    }
    const lines = [`Your task: ${request.goal.trim()}`];
    if (request.context) {
      lines.push(`Context: ${request.context}`);
    }
    lines.push(...request.constraints.map((c) => `- ${c}`));
    lines.push(...request.variables.map((v) => `<${v}>\n{{${v}}}\n</${v}>`));
    if (request.outputFormat) {
      lines.push(`Answer format: ${request.outputFormat}`);
    }
    return {
      prompt: lines.join('\n'), variables: [...request.variables],
      rationale: 'Goal first, then context, constraints, tagged inputs and the answer format.',
    };
  },
};
