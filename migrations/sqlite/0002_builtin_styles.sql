-- Builtin remix styles (source 'builtin'). The default remix plugin serves
-- them: with use_llm it follows `instructions` and `examples`; without an LLM
-- it runs its rule-based transform of the same name. Examples keep every
-- {{variable}} intact, since a remix must never lose one.
INSERT INTO styles (name, description, source, instructions, examples) VALUES
(
    'structured-xml',
    'Splits the prompt into its parts and wraps each in XML tags (role, context, input, instructions, constraints, output format).',
    'builtin',
    'Identify the parts of the prompt: the role or persona, background context, the task itself, the input data (including every template variable), any examples, the constraints, and the required output format. Put each part in its own clearly named XML tag, such as <context>, <input>, <instructions>, <constraints> and <output_format>; a persona may stay as a plain opening sentence. Place long input data before the instructions and the question at the end, and give each distinct input its own tag (for example <document>{{document}}</document>) so the model can refer to it by name. Turn rules buried in prose into one bulleted item each inside <constraints>. Do not invent requirements the original does not state; if the output format is missing, leave it out rather than guessing. Remove pleasantries that carry no instruction.',
    '[{"before": "You are a helpful analyst. Please read {{report}} and tell me the three biggest risks, don''t use jargon, answer in bullet points. Thanks!", "after": "You are a helpful analyst.\n\n<input>\n<report>\n{{report}}\n</report>\n</input>\n\n<instructions>\nIdentify the three biggest risks described in the report.\n</instructions>\n\n<constraints>\n- Do not use jargon.\n</constraints>\n\n<output_format>\nThree bullet points, one risk each.\n</output_format>"}]'
),
(
    'concise',
    'Cuts filler, hedging, politeness padding and repetition while keeping every instruction.',
    'builtin',
    'Rewrite the prompt to be as short as possible without losing any instruction, constraint, piece of data or variable. Remove filler and hedging ("basically", "I think", "just", "really"), politeness padding ("could you please", "I would like you to", "thanks in advance") and sentences that repeat an earlier instruction. Replace wordy phrases with short ones ("in order to" becomes "to", "due to the fact that" becomes "because"). Prefer direct imperative sentences. Keep numbers, names, quoted text, code and examples exactly as written. Do not merge separate requirements into a vague summary: every requirement of the original must still be checkable in the result.',
    '[{"before": "Hi! I was wondering if you could basically help me out by writing a short summary of {{article}}. I would really like it to be short, like maybe around 100 words or so. It is very important that it is short. Thank you so much in advance!", "after": "Summarize {{article}} in about 100 words."}]'
),
(
    'chain-of-thought',
    'Adds a reasoning scaffold: think step by step in <thinking>, then give the final answer in <answer>.',
    'builtin',
    'Keep the original task, data and constraints unchanged, and add explicit instructions to reason before answering. Ask the model to work inside <thinking> tags: restate what is asked, list the relevant facts and assumptions from the input, work through the problem one step at a time (showing intermediate calculations for numeric work), and check the conclusion against every requirement. Then ask for only the final answer inside <answer> tags, in the output format the original prompt requires. Tailor the reasoning steps to the task (calculation, code tracing, comparison, classification) instead of using a generic formula, and never let the scaffold override the original output format.',
    '[{"before": "A shop sells {{item}} for {{price}} each with a 15% discount on orders over 10 units. What does an order of {{quantity}} units cost?", "after": "A shop sells {{item}} for {{price}} each with a 15% discount on orders over 10 units. What does an order of {{quantity}} units cost?\n\nBefore you answer, think it through inside <thinking> tags:\n1. Restate what is being asked.\n2. Note the unit price, the quantity and whether the discount applies.\n3. Compute the subtotal, the discount and the total, showing each calculation.\n4. Check the result against the discount rule.\nThen give only the final cost inside <answer> tags."}]'
),
(
    'few-shot',
    'Adds a section of input/output examples that pin down the expected format and quality.',
    'builtin',
    'Add two or three worked examples that show an input and the ideal output for this exact task. Examples must be realistic, varied (a typical case plus at least one edge case) and consistent with every constraint and the required output format; they demonstrate format, length and tone, so tell the model not to copy their content. Wrap them in <examples> with one <example> per pair, each holding <input> and <output>, and place them after the instructions and before the real input. Example inputs should mirror the prompt''s template variables, but must use concrete sample values, never the {{variable}} placeholders themselves, which stay only where the real input goes. Keep the original instructions intact.',
    '[{"before": "Classify the sentiment of {{review}} as positive, negative or mixed. Answer with one word.", "after": "Classify the sentiment of a product review as positive, negative or mixed. Answer with one word.\n\n<examples>\n<example>\n<input>The blender is powerful and easy to clean.</input>\n<output>positive</output>\n</example>\n<example>\n<input>Great sound, but the battery died after a week.</input>\n<output>mixed</output>\n</example>\n</examples>\n\nReview:\n{{review}}"}]'
),
(
    'expert-role',
    'Opens with a specific expert persona inferred from the task''s domain.',
    'builtin',
    'Infer the domain of the task (software, security, data analysis, law, medicine, finance, marketing, education, translation, customer support, research, editing, and so on) and open the prompt with a specific expert persona for it: the expert''s title, level of experience and the professional standards they hold themselves to, in one or two sentences. The persona should shape how the task is done (what the expert checks, which terminology they use, when they state uncertainty) rather than flatter the model. Replace a generic persona such as "You are a helpful assistant" instead of stacking two. Keep the rest of the prompt, its data and its output format unchanged. For regulated domains, add that the expert flags when professional advice is needed.',
    '[{"before": "You are a helpful assistant. Look at this SQL query and tell me why it is slow: {{query}}", "after": "You are a senior database engineer with 15 years of experience tuning PostgreSQL in production. You reason from query plans and indexes, and you say which assumption each recommendation depends on.\n\nExplain why this SQL query is slow and how to speed it up:\n{{query}}"}]'
),
(
    'markdown-sections',
    'Reorganises the prompt under Markdown headings (Role, Context, Task, Input, Constraints, Output format).',
    'builtin',
    'Reorganise the prompt under Markdown level-two headings, using only the sections it needs, in this order: Role, Context, Task, Input, Examples, Constraints, Output format. Move each sentence of the original into the section it belongs to; write the Task as direct instructions, list the Constraints as bullets (one rule per bullet), and keep input data, code and template variables verbatim under Input. Do not add sections with invented content: if the original says nothing about an area, omit that section. Keep headings short and do not nest them more than one level.',
    '[{"before": "I''m a teacher. Make a quiz about {{topic}} for my 8th graders, 10 questions, multiple choice, and put the answers at the end. Keep the language simple.", "after": "## Context\nI am a teacher; the quiz is for 8th-grade students.\n\n## Task\nWrite a quiz about {{topic}}.\n\n## Constraints\n- 10 multiple-choice questions.\n- Use simple language.\n\n## Output format\nThe numbered questions first, then an answer key at the end."}]'
),
(
    'json-output',
    'Adds an explicit JSON output contract: exact keys, types, and no text around the object.',
    'builtin',
    'Keep the task and its data, and replace any loose output-format wording with an explicit JSON contract. Choose keys that fit the task (snake_case, descriptive), give each its type and meaning, and show the exact shape as an example object or a JSON Schema. State that the reply must be a single JSON object with no Markdown code fences and no text before or after it, that no other keys may be added, and that unknown values are null rather than guesses. If the original prompt already defines a JSON shape, keep that shape and its key names exactly. Preserve every template variable outside the JSON contract.',
    '[{"before": "Read {{email}} and tell me who sent it, what they want and how urgent it is.", "after": "Read the email below and extract the sender, their request and its urgency.\n\n<email>\n{{email}}\n</email>\n\nRespond with a single JSON object and nothing else (no code fences, no prose):\n{\n  \"sender\": \"string: name or address of the sender\",\n  \"request\": \"string: what they want, in one sentence\",\n  \"urgency\": \"one of low, medium, high\"\n}\nUse null for any value the email does not state."}]'
),
(
    'step-by-step',
    'Breaks the task into numbered steps, one action each, with a final check step.',
    'builtin',
    'Rewrite the task as an ordered, numbered list of steps, one concrete action per step, in the order they must be done. Split compound instructions ("read X and write Y, then list Z") into separate steps, start each step with an imperative verb, and add a first step to read the input when there is input data and a final step to check the result against the constraints and the output format. Keep the role and context before the steps and the constraints and output format after them (or fold them into the final check). Do not add steps that change what is being asked.',
    '[{"before": "Go through {{transcript}} and pull out the action items and who owns them and then write a short follow-up email to the team.", "after": "Follow these steps in order:\n1. Read the meeting transcript below.\n2. List every action item and its owner.\n3. Write a short follow-up email to the team that lists the action items and owners.\n4. Check that no action item from the transcript is missing.\n\nTranscript:\n{{transcript}}"}]'
),
(
    'constraints-first',
    'Moves every constraint and the output format to the top, one rule per bullet.',
    'builtin',
    'Collect every constraint in the prompt (length limits, forbidden content, required tone, sources, output format) and state them first, as a bulleted list under a heading such as "Constraints", one rule per bullet, phrased positively where possible ("Use plain language" rather than only "Don''t be technical"). Then give the role, context, task and input in their original order. For long prompts, repeat a one-line reminder to re-check the constraints at the end. If the prompt states no constraints, say so in the constraints section instead of inventing any.',
    '[{"before": "Write a product description for {{product}}. It should appeal to busy parents. Keep it under 80 words, don''t mention competitors, and end with a call to action.", "after": "Constraints:\n- Keep it under 80 words.\n- Do not mention competitors.\n- End with a call to action.\n\nWrite a product description for {{product}} that appeals to busy parents."}]'
),
(
    'friendly-tone',
    'Rewrites the prompt in a warm, collaborative voice and asks for a friendly, approachable answer.',
    'builtin',
    'Rewrite the prompt in a warm, polite and collaborative voice: turn bare commands into requests ("Could you please ..."), soften prohibitions ("Please don''t ..."), replace ALL-CAPS emphasis and repeated exclamation marks with a short reason, and add a brief friendly opening and thanks. Ask for an answer in a friendly, encouraging, jargon-free tone. Keep every instruction, constraint, number, piece of data and template variable exactly as strict as in the original; only the tone changes, not the requirements.',
    '[{"before": "Explain {{concept}} to a beginner. NO JARGON!!! Max 200 words.", "after": "Hi! Could you please explain {{concept}} to someone who is just starting out? Please avoid jargon, since they are new to the topic, and keep it to 200 words at most. A friendly, encouraging tone would be perfect. Thank you!"}]'
);
