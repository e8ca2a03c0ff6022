/** The agents of a research job; each one's instructions start with `ROLE: <role>.` */
export type Role = 'planner' | 'researcher' | 'summarizer' | 'optimist' | 'skeptic' | 'moderator' | 'synthesizer';

export const INSTRUCTIONS: Record<Role, string> = {
  planner: 'ROLE: planner. Break the topic into 3 to 5 focused research questions. Answer with a numbered list only.',
  researcher: 'ROLE: researcher. Answer the question from the notes: call search_notes first, then state the findings in two sentences citing the note ids in brackets.',
  summarizer: 'ROLE: summarizer. Merge the findings into one paragraph of at most five sentences, keeping the note ids.',
  optimist: 'ROLE: optimist. You are a critic who checks the summary for what it gets right. Start with ACCEPT or REVISE, then one sentence.',
  skeptic: 'ROLE: skeptic. You are a critic who looks for gaps and overclaims in the summary. Start with ACCEPT or REVISE, then one sentence.',
  moderator:
    'ROLE: moderator. Judge the critics\' positions. Answer with JSON only: {"consensus": true|false, "answer": "<the agreed caveat>", "summary": "<where they differ>"}. Consensus means both ACCEPT.',
  synthesizer: 'ROLE: synthesizer. Write the final answer to the topic in at most four sentences from the summary and the critics\' verdict.',
};

/** The role named by a request's system message, if any. */
export function roleOf(system: string | undefined): Role | undefined {
  const match = /^ROLE: ([a-z]+)\./.exec(system ?? '');
  return match && match[1]! in INSTRUCTIONS ? (match[1] as Role) : undefined;
}
