// @NAME@: a PromptSculptor create plugin in JavaScript.

import { invalidInput } from './promptsculptor-kit.js';

export const creator = {
  manifest() {
    return {
      name: '@NAME@', version: '0.1.0',
      description: 'Writes a compact prompt from the goal and its constraints.',
      kind: 'create', styles: [],
    };
  },

  create(request) {
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
