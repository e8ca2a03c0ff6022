import type { ActionView } from './api.js';
import { el } from './dom.js';

export interface ApprovalCard {
  readonly root: HTMLElement;
  /** The action was answered elsewhere (another tab) or is no longer needed: locks the card, unless this card answered it. */
  close(text: string): void;
}

/**
 * A pending approval: what the tool would do, a comment box, and approve / reject. Answering
 * resumes the job; the card then says what was decided.
 */
export function approvalCard(action: ActionView, resolve: (approved: boolean, comment: string) => Promise<void>): ApprovalCard {
  const payload = (action.payload ?? {}) as { tool?: unknown; arguments?: unknown };
  const headingId = `approval-${action.id}`;
  const commentId = `comment-${action.id}`;
  const comment = el('textarea', { attrs: { id: commentId, rows: 2, placeholder: 'Why, or what to change (sent with your answer)' } });
  const approve = el('button', { class: 'approve', text: 'Approve', attrs: { type: 'button' } });
  const reject = el('button', { class: 'reject', text: 'Reject', attrs: { type: 'button' } });
  const outcome = el('p', { class: 'outcome', attrs: { role: 'status' } });
  const controls = el('div', { class: 'controls' }, el('label', { text: 'Comment (optional)', attrs: { for: commentId } }), comment, el('div', { class: 'buttons' }, approve, reject));
  const root = el(
    'section',
    { class: 'approval-card', attrs: { 'aria-labelledby': headingId, 'data-action-id': action.id, 'data-state': 'pending' } },
    el('h3', { text: action.title, attrs: { id: headingId } }),
    action.description ? el('p', { class: 'why', text: action.description }) : null,
    el(
      'dl',
      {},
      el('dt', { text: 'Tool' }),
      el('dd', {}, el('code', { text: typeof payload.tool === 'string' ? payload.tool : 'unknown' })),
      el('dt', { text: 'Arguments' }),
      el('dd', {}, el('pre', { text: JSON.stringify(payload.arguments ?? null, null, 2) })),
    ),
    controls,
    outcome,
  );

  let answering = false;
  const settle = (text: string, state: string): void => {
    root.dataset['state'] = state;
    controls.remove();
    outcome.textContent = text;
  };
  const answer = async (approved: boolean): Promise<void> => {
    answering = true;
    approve.disabled = reject.disabled = comment.disabled = true;
    outcome.textContent = approved ? 'Approving…' : 'Rejecting…';
    const note = comment.value.trim();
    try {
      await resolve(approved, note);
      settle(`${approved ? 'Approved' : 'Rejected'} by you${note ? `: “${note}”` : ''}.`, approved ? 'approved' : 'rejected');
    } catch (error) {
      answering = false;
      approve.disabled = reject.disabled = comment.disabled = false;
      outcome.textContent = `Could not send the answer: ${(error as Error).message}`;
    }
  };
  approve.addEventListener('click', () => void answer(true));
  reject.addEventListener('click', () => void answer(false));
  const close = (text: string): void => {
    if (!answering && root.dataset['state'] === 'pending') settle(text, 'closed');
  };
  return { root, close };
}
