import type { DeadLetters } from '../../core/ports';

export class InMemoryDeadLetters implements DeadLetters {
  readonly messages: { body: string; reason: string; source: string; detail?: string }[] = [];
  async send(message: { body: string; reason: string; source: string; detail?: string }): Promise<void> {
    this.messages.push(message);
  }
}
