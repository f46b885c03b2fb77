// @NAME@: a PromptSculptor grade plugin in JavaScript.
//
// Config of a `grader` assertion: {"max_words": 50}. The score is 1 up to
// max_words words and falls in proportion beyond; it passes at 1.

import { invalidInput } from './promptsculptor-kit.js';

export const grader = {
  manifest() {
    return {
      name: '@NAME@', version: '0.1.0',
      description: 'Passes outputs of at most config.max_words words (default 50).',
    };
  },

  grade(request) {
    let config;
    try {
      config = JSON.parse(request.config) ?? {};
    } catch {
      throw invalidInput('config is not valid JSON');
    }
    const maxWords = typeof config === 'object' && !Array.isArray(config) ? (config.max_words ?? 50) : undefined;
    if (!Number.isInteger(maxWords) || maxWords <= 0) {
      throw invalidInput('config.max_words must be a positive integer');
    }
    const words = request.output.split(/\s+/).filter((w) => w.length > 0).length;
    const score = words <= maxWords ? 1 : maxWords / words;
    return { pass: score >= 1, score, reason: `${words} words; at most ${maxWords} pass` };
  },
};
