/**
 * Group commit: requests that arrive in the same turn of the event loop are handed to `commit`
 * together (at most `maxPerGroup` at a time), so a busy store pays one durable commit for many of
 * them. `commit` settles every request it is given.
 */
export interface Pending<Req, Res> {
  request: Req;
  resolve(result: Res): void;
  reject(error: unknown): void;
}

export class GroupCommit<Req, Res> {
  private queue: Pending<Req, Res>[] = [];
  private scheduled = false;

  constructor(
    private readonly maxPerGroup: number,
    private readonly commit: (group: Pending<Req, Res>[]) => void | Promise<void>,
  ) {}

  submit(request: Req): Promise<Res> {
    return new Promise<Res>((resolve, reject) => {
      this.queue.push({ request, resolve, reject });
      this.schedule();
    });
  }

  get pending(): number {
    return this.queue.length;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => void this.flush());
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    const group = this.queue.splice(0, this.maxPerGroup);
    if (this.queue.length > 0) this.schedule();
    if (group.length === 0) return;
    try {
      await this.commit(group);
    } catch (error) {
      for (const p of group) p.reject(error);
    }
  }

  /** Commits everything queued now (synchronous committers only: before an import, on close). */
  flushNow(): void {
    while (this.queue.length > 0) {
      const group = this.queue.splice(0, this.maxPerGroup);
      try {
        void this.commit(group);
      } catch (error) {
        for (const p of group) p.reject(error);
      }
    }
  }
}
