/**
 * The one session a driver keeps with its router: opened on first use, opened again after it ends,
 * and never opened twice at once (every caller that needs it while it opens waits on the same
 * attempt).
 */
export class SessionKeeper<S> {
  private current: S | undefined;
  private opening: Promise<S> | undefined;

  constructor(
    private readonly open: () => Promise<S>,
    private readonly alive: (session: S) => boolean,
  ) {}

  /** The live session, opening one when there is none. */
  get(): Promise<S> {
    if (this.current !== undefined && this.alive(this.current)) return Promise.resolve(this.current);
    this.opening ??= this.open()
      .then((s) => {
        this.current = s;
        return s;
      })
      .finally(() => {
        this.opening = undefined;
      });
    return this.opening;
  }

  /** The live session, if there is one now (never opens one). */
  live(): S | undefined {
    return this.current !== undefined && this.alive(this.current) ? this.current : undefined;
  }

  /** Forgets a session that ended (the next {@link get} opens a new one). */
  forget(session: S): void {
    if (this.current === session) this.current = undefined;
  }

  /** Hands over the live or opening session, for the driver to end, and forgets it. */
  async release(): Promise<S | undefined> {
    const s = this.current ?? (await this.opening?.catch(() => undefined));
    this.current = undefined;
    return s;
  }
}
