import type { ActionView } from './api.js';
import { approvalCard, type ApprovalCard } from './approval-card.js';
import { el, shortId } from './dom.js';

export type TurnStatus = 'queued' | 'streaming' | 'waiting' | 'completed' | 'interrupted' | 'failed' | 'cancelled';

const STATUS_LABEL: Record<TurnStatus, string> = {
  queued: 'starting',
  streaming: 'streaming',
  waiting: 'waiting for approval',
  completed: 'done',
  interrupted: 'interrupted',
  failed: 'failed',
  cancelled: 'cancelled',
};

/** One answer of the assistant: a job of the session, shown as it streams. */
export class AssistantTurn {
  readonly root: HTMLLIElement;
  status: TurnStatus = 'queued';
  private readonly badge = el('span', { class: 'badge' });
  private readonly contextNote = el('p', { class: 'note context-note', attrs: { hidden: true } });
  private readonly body = el('div', { class: 'text' });
  private readonly endNote = el('p', { class: 'note end-note', attrs: { hidden: true } });
  private paragraph: HTMLParagraphElement | undefined;
  private readonly cards = new Map<string, ApprovalCard>();

  constructor(
    readonly jobId: string,
    onInspect: (jobId: string) => void,
  ) {
    const inspect = el('button', { class: 'link', text: 'Inspect', attrs: { type: 'button', 'aria-label': `Inspect job ${jobId}` }, on: { click: () => onInspect(jobId) } });
    this.root = el(
      'li',
      { class: 'msg assistant', attrs: { 'data-job-id': jobId, 'aria-label': 'Assistant answer' } },
      el('div', { class: 'meta' }, el('span', { class: 'who', text: 'Assistant' }), this.badge, el('code', { class: 'job-id', text: shortId(jobId), attrs: { title: jobId } }), inspect),
      this.contextNote,
      this.body,
      this.endNote,
    );
    this.setStatus('queued');
  }

  /** The text shown so far. */
  get text(): string {
    return [...this.body.querySelectorAll(':scope > p')].map((p) => p.textContent ?? '').filter((t) => t !== '').join('\n\n');
  }

  setStatus(status: TurnStatus): void {
    this.status = status;
    this.root.dataset['status'] = status;
    this.root.setAttribute('aria-busy', String(status === 'queued' || status === 'streaming'));
    this.badge.textContent = STATUS_LABEL[status];
    this.badge.className = `badge status-${status}`;
  }

  /** A new model call starts: its text goes in a new paragraph. */
  startParagraph(): void {
    if (this.paragraph && this.paragraph.textContent === '') return;
    this.paragraph = el('p');
    this.body.append(this.paragraph);
  }

  append(delta: string): void {
    if (!this.paragraph) this.startParagraph();
    this.paragraph!.textContent += delta;
  }

  /** Replaces what was streamed with the final answer (when some deltas were not seen). */
  setText(text: string): void {
    for (const p of this.body.querySelectorAll(':scope > p')) p.remove();
    this.paragraph = undefined;
    for (const part of text.split(/\n{2,}/)) {
      this.startParagraph();
      this.append(part);
    }
  }

  /**
   * This answer was cut off by the user's next message: its text stays, marked. `kept` is what
   * the server kept for the next answer (known once the job record is read).
   */
  markInterrupted(kept?: { partialText: string; steps: number }): void {
    this.setStatus('interrupted');
    this.closeCards('No longer needed: this answer was interrupted.');
    if (!kept) {
      this.showEnd('Interrupted by your next message.');
      return;
    }
    const parts: string[] = [];
    if (kept.partialText !== '') parts.push(`the partial answer (${kept.partialText.length} characters)`);
    if (kept.steps > 0) parts.push(`${kept.steps} finished step${kept.steps === 1 ? '' : 's'}`);
    this.showEnd(parts.length > 0 ? `Interrupted by your next message. Kept and handed to the next answer as context: ${parts.join(' and ')}.` : 'Interrupted by your next message before it had done anything.');
  }

  /** This answer started by interrupting another one, whose partial results it was given. */
  showContext(fromJobId: string, kept: { partialText: string; steps: number }): void {
    const words = kept.partialText.split(/\s+/).filter((w) => w !== '').length;
    const parts: string[] = [];
    if (words > 0) parts.push(`${words} words of its text`);
    if (kept.steps > 0) parts.push(`${kept.steps} finished step${kept.steps === 1 ? '' : 's'}`);
    this.contextNote.textContent = `Continues from the interrupted answer (${shortId(fromJobId)}): ${parts.length > 0 ? parts.join(' and ') : 'its question'} passed on as context.`;
    this.contextNote.hidden = false;
    this.root.dataset['hasContext'] = 'true';
  }

  showEnd(text: string): void {
    this.endNote.textContent = text;
    this.endNote.hidden = false;
  }

  showApproval(action: ActionView, resolve: (approved: boolean, comment: string) => Promise<void>): void {
    if (this.cards.has(action.id)) return;
    const card = approvalCard(action, resolve);
    this.cards.set(action.id, card);
    // In the flow of the answer: what the model said before asking, the card, then what it says after.
    this.body.append(card.root);
    this.paragraph = undefined;
  }

  actionResolved(actionId: string, outcome: string): void {
    this.cards.get(actionId)?.close(`Answered elsewhere (${outcome}).`);
  }

  closeCards(text: string): void {
    for (const card of this.cards.values()) card.close(text);
  }
}
