/** What the dispatcher keeps per connected agent. */
export interface SessionState {
  /** What the agent said it speaks in its hello (1 until then). */
  capability: number;
  running: boolean;
  again: boolean;
  /** When the last drain started. */
  lastDrainAt: number;
  /** The timer of a claim put off (spacing, or waiting for the acks of the last batch). */
  spacing?: NodeJS.Timeout;
  /** Commands sent and not yet settled (the ack written). */
  inFlight: number;
  /** Jobs sent whose final ack has not arrived yet (an ack counts on arrival, before it is written). */
  unacked: number;
  /** When commands last went out. */
  lastSentAt: number;
  /** The last drain stopped because too many commands awaited acks: settling acks must start another. */
  starved: boolean;
  /** Successful acks waiting to be written together. */
  applied: { commandId: string; result: Record<string, unknown> | null; event: string; seq: number }[];
  flushing: boolean;
}

export function newSessionState(): SessionState {
  return { capability: 1, running: false, again: false, lastDrainAt: 0, inFlight: 0, unacked: 0, lastSentAt: 0, starved: false, applied: [], flushing: false };
}
