import { chatApi, type HistoryMessage, type JobView } from './api.js';
import { AssistantTurn } from './assistant-turn.js';
import { el } from './dom.js';
import type { FeedEvent } from './session-feed.js';

/** What an interrupted job left for the next one. */
interface Kept {
  partialText: string;
  /** Its finished steps. */
  steps: number;
}

interface Previous extends Kept {
  jobId: string;
}

/**
 * The conversation on the page: the user's messages, and one `AssistantTurn` per job of the
 * session, driven by the session's events. Sending while an answer streams is allowed: the
 * server interrupts that answer (the session's strategy) and the new one gets its partial text.
 */
export class ChatSession {
  private readonly turns = new Map<string, AssistantTurn>();
  /** Finished exchanges, sent along with each new message. */
  private readonly history: HistoryMessage[] = [];
  /** job id → the job id whose interruption gave it context (known from either side first). */
  private readonly contextFrom = new Map<string, Previous>();
  private readonly inputs = new Map<string, string>();

  constructor(
    readonly sessionId: string,
    private readonly list: HTMLOListElement,
    private readonly onInspect: (jobId: string) => void,
    private readonly onJobEvent: (jobId: string, type: string) => void,
  ) {}

  async send(message: string): Promise<void> {
    this.list.append(el('li', { class: 'msg user', attrs: { 'aria-label': 'Your message' } }, el('div', { class: 'meta' }, el('span', { class: 'who', text: 'You' })), el('p', { text: message })));
    this.scroll();
    const { job } = await chatApi.send(this.sessionId, message, [...this.history]);
    this.inputs.set(job.id, message);
    const turn = this.turn(job.id);
    this.applyJob(turn, job);
  }

  handle(event: FeedEvent): void {
    const turn = this.turn(event.jobId);
    const data = event.data;
    switch (event.type) {
      case 'job.started':
      case 'job.resumed':
        turn.setStatus('streaming');
        break;
      case 'model.started':
        turn.startParagraph();
        break;
      case 'model.delta':
        if (turn.status === 'queued') turn.setStatus('streaming');
        turn.append(String(data['textDelta'] ?? ''));
        this.scroll();
        break;
      case 'job.waiting':
        turn.setStatus('waiting');
        break;
      case 'action.required':
        void this.showApproval(turn, String(data['actionId']));
        break;
      case 'action.resolved':
        turn.actionResolved(String(data['actionId']), String(data['outcome'] ?? 'resolved'));
        break;
      case 'interruption.completed':
        if (typeof data['nextJobId'] === 'string') this.linkContext(data['nextJobId'], { jobId: event.jobId, partialText: turn.text, steps: 0 });
        break;
      case 'job.interrupted':
        turn.markInterrupted();
        void this.showKept(turn);
        break;
      case 'job.completed': {
        const text = (data['result'] as { text?: unknown } | undefined)?.text;
        // The result holds the last model call's text; the page shows every call's.
        if (typeof text === 'string' && !turn.text.includes(text)) turn.setText(text);
        turn.setStatus('completed');
        const input = this.inputs.get(event.jobId);
        if (input !== undefined && typeof text === 'string') this.history.push({ role: 'user', content: input }, { role: 'assistant', content: text });
        break;
      }
      case 'job.failed':
        turn.setStatus('failed');
        turn.closeCards('No longer needed: the job failed.');
        turn.showEnd(`The answer failed: ${String((data['error'] as { message?: unknown } | undefined)?.message ?? 'unknown error')}`);
        break;
      case 'job.cancelled':
        turn.setStatus('cancelled');
        turn.closeCards('No longer needed: the job was cancelled.');
        break;
      default:
        break;
    }
    this.onJobEvent(event.jobId, event.type);
  }

  private turn(jobId: string): AssistantTurn {
    let turn = this.turns.get(jobId);
    if (!turn) {
      turn = new AssistantTurn(jobId, this.onInspect);
      this.turns.set(jobId, turn);
      this.list.append(turn.root);
      const previous = this.contextFrom.get(jobId);
      if (previous) turn.showContext(previous.jobId, previous);
      this.scroll();
    }
    return turn;
  }

  private applyJob(turn: AssistantTurn, job: JobView): void {
    const previous = job.metadata['previousContext'] as { jobId?: unknown; partialText?: unknown; completedSteps?: unknown } | undefined;
    if (previous && typeof previous.jobId === 'string') {
      // The job's own record is authoritative over what this page saw stream.
      this.contextFrom.delete(job.id);
      this.linkContext(job.id, { jobId: previous.jobId, ...keptOf(previous) });
    }
    if (job.status === 'interrupted') void this.showKept(turn);
  }

  /** Reads what the server kept of an interrupted job and says so on its answer. */
  private async showKept(turn: AssistantTurn): Promise<void> {
    const { job } = await chatApi.job(turn.jobId);
    const interrupted = (job.result as { interrupted?: { partialText?: unknown; completedSteps?: unknown } } | undefined)?.interrupted;
    if (interrupted) turn.markInterrupted(keptOf(interrupted));
  }

  private linkContext(jobId: string, previous: Previous): void {
    if (this.contextFrom.has(jobId)) return;
    this.contextFrom.set(jobId, previous);
    this.turns.get(jobId)?.showContext(previous.jobId, previous);
  }

  private async showApproval(turn: AssistantTurn, actionId: string): Promise<void> {
    const { actions } = await chatApi.actions(turn.jobId);
    const action = actions.find((a) => a.id === actionId);
    if (!action || action.status !== 'pending' || !action.resumeToken) return;
    const token = action.resumeToken;
    turn.showApproval(action, async (approved, comment) => {
      await chatApi.resolve(token, approved, comment);
    });
    this.scroll();
  }

  private scroll(): void {
    this.list.lastElementChild?.scrollIntoView({ block: 'end' });
  }
}

function keptOf(context: { partialText?: unknown; completedSteps?: unknown }): Kept {
  return { partialText: typeof context.partialText === 'string' ? context.partialText : '', steps: Array.isArray(context.completedSteps) ? context.completedSteps.length : 0 };
}
