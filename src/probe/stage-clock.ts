import { performance } from 'node:perf_hooks';
import { ioTime } from '../io-clock.js';
import type { Stage } from './stages.js';

/**
 * Times one probe's stages. A stage ends when the bytes that end it came in, not when
 * this probe's continuation got its turn behind other probes' work (io-clock.ts), and
 * never before it started (a response already buffered takes no time). A stage that
 * sends a command starts when it does; the greeting, which the server sends unasked,
 * starts when the connection (or the TLS session) was up: measured against the packets'
 * kernel timestamps, starting it when the loop got round to it made the greeting up to
 * 18 ms short at 200 probes in flight (bench/stage-timing.ts --wire).
 */
export class StageClock {
  #previousEnd: number | undefined;

  constructor(
    private readonly now: () => number = () => performance.now(),
    private readonly ioNow: () => number = ioTime,
  ) {}

  /** Starts timing `stage`; the function returned ends it and gives its length in seconds. */
  start(stage: Stage): () => number {
    const start = stage === 'greeting' && this.#previousEnd !== undefined ? this.#previousEnd : this.now();
    return () => {
      const end = Math.max(start, this.ioNow());
      this.#previousEnd = end;
      return (end - start) / 1000;
    };
  }
}
