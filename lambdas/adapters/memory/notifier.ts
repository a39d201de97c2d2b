import type { Notification } from '../../contracts/notification';
import type { Notifier } from '../../core/ports';

/** In-memory Notifier: records what would have been published, by topic severity. */
export class RecordingNotifier implements Notifier {
  readonly published: (Notification & { messageId: string })[] = [];
  /** Makes the next `n` publishes throw, as a throttled or unreachable SNS would. */
  failNext = 0;
  private seq = 0;

  async publish(notification: Notification): Promise<string> {
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('injected publish failure');
    }
    const messageId = `msg-${++this.seq}`;
    this.published.push({ ...structuredClone(notification), messageId });
    return messageId;
  }
}
