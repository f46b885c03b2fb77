// @NAME@: a PromptSculptor grade plugin in TypeScript.
//
// Config of a `grader` assertion: {"max_words": 50}. The score is 1 up to
// max_words words and falls in proportion beyond; it passes at 1.

import { invalidInput } from './promptsculptor-kit.js';
import type { GradeManifest, GradeRequest, GradeResult } from 'promptsculptor:plugin/grader@@WIT_VERSION@';

// Typed as the WIT `grader` interface: a missing or mistyped export fails the build.
export const grader: typeof import('promptsculptor:plugin/grader@@WIT_VERSION@') = {
  manifest(): GradeManifest {
    return {
      name: '@NAME@', version: '0.1.0',
      description: 'Passes outputs of at most config.max_words words (default 50).',
    };
  },

  grade(request: GradeRequest): GradeResult {
    let config: unknown;
    try {
      config = JSON.parse(request.config) ?? {};
    } catch {
      throw invalidInput('config is not valid JSON');
    }
    const maxWords = typeof config === 'object' && config !== null && !Array.isArray(config)
      ? ((config as { max_words?: unknown }).max_words ?? 50)
      : undefined;
    if (typeof maxWords !== 'number' || !Number.isInteger(maxWords) || maxWords <= 0) {
      throw invalidInput('config.max_words must be a positive integer');
    }
    const words = request.output.split(/\s+/).filter((w) => w.length > 0).length;
    const score = words <= maxWords ? 1 : maxWords / words;
    return { pass: score >= 1, score, reason: `${words} words; at most ${maxWords} pass` };
  },
};
