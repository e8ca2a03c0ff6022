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

  /** This answer was cut off by the user's next message: its partial text stays, marked. */
  markInterrupted(partialText: string | undefined): void {
    this.setStatus('interrupted');
    if (partialText !== undefined && partialText !== '' && this.text === '') this.setText(partialText);
    const chars = (partialText ?? this.text).length;
    this.endNote.textContent = `Interrupted by your next message. The partial answer (${chars} characters) was kept and handed to the next answer as context.`;
    this.endNote.hidden = false;
  }

  /** This answer started by interrupting another one, whose partial text it was given. */
  showContext(fromJobId: string, partialText: string): void {
    const words = partialText.split(/\s+/).filter((w) => w !== '').length;
    this.contextNote.textContent = `Continues from the interrupted answer (${shortId(fromJobId)}): ${words} words of it were passed on as context.`;
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
    this.cards.get(actionId)?.resolvedElsewhere(outcome);
  }
}
