/**
 * The current config, replaced only by a whole new one that loaded cleanly (blackbox's
 * SafeConfig.ReloadConfig): a bad file leaves the running config untouched. Metrics code
 * reads lastReloadSuccessful and lastReloadSuccessTimestampSeconds; no prom-client here.
 */
import type { loadConfigFile, LoadedConfig, LoadOptions } from './load.js';
import { loadConfigFileOffThread } from './off-thread.js';

export type ConfigChangeListener = (next: LoadedConfig, previous: LoadedConfig) => void;

export type ReloadOutcome =
  | {
      ok: true;
      /** false when the file's checksum is unchanged: nothing was swapped. */
      changed: boolean;
      config: LoadedConfig;
      /** Errors thrown by onChange listeners; they neither undo the swap nor stop other listeners. */
      listenerErrors: unknown[];
    }
  | { ok: false; error: Error };

export interface ConfigStoreOptions extends LoadOptions {
  /** Epoch milliseconds; injected so tests can pin the timestamps. */
  now?: () => number;
  /** The loader (tests count or stall loads); default loadConfigFileOffThread, so a big file never stalls the daemon. */
  load?: typeof loadConfigFile;
}

export class ConfigStore {
  readonly path: string;
  #current: LoadedConfig;
  #lastReloadSuccessful = true;
  #lastReloadSuccessMs: number;
  readonly #listeners = new Set<ConfigChangeListener>();
  readonly #options: LoadOptions;
  readonly #now: () => number;
  readonly #load: typeof loadConfigFile;
  // Reloads run one at a time (a SIGHUP and a POST /-/reload must not interleave), and a
  // burst coalesces: every request made while one runs shares the single reload after it.
  #running: Promise<ReloadOutcome> | undefined;
  #next: Promise<ReloadOutcome> | undefined;

  constructor(initial: LoadedConfig, options: ConfigStoreOptions = {}) {
    this.path = initial.path;
    this.#current = initial;
    this.#now = options.now ?? Date.now;
    this.#options = {
      ...(options.env ? { env: options.env } : {}),
      ...(options.maxBytes !== undefined ? { maxBytes: options.maxBytes } : {}),
    };
    this.#load = options.load ?? loadConfigFileOffThread;
    this.#lastReloadSuccessMs = this.#now();
  }

  /** Loads the first config; throws the ConfigError when the file is bad (nothing to fall back to). */
  static async open(path: string, options: ConfigStoreOptions = {}): Promise<ConfigStore> {
    return new ConfigStore(await (options.load ?? loadConfigFileOffThread)(path, options), options);
  }

  get current(): LoadedConfig {
    return this.#current;
  }

  /** false after a failed reload, until one succeeds. The first load counts as a success. */
  get lastReloadSuccessful(): boolean {
    return this.#lastReloadSuccessful;
  }

  /** When a load last succeeded, seconds since the epoch (the gauge's unit). */
  get lastReloadSuccessTimestampSeconds(): number {
    return this.#lastReloadSuccessMs / 1000;
  }

  /** Called with (new, old) after each swap; returns a function that unsubscribes. */
  onChange(listener: ConfigChangeListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Reads the file again; resolves once a reload that started after this call has ended. */
  reload(): Promise<ReloadOutcome> {
    if (!this.#running) return this.#start();
    this.#next ??= this.#running.then(() => {
      this.#next = undefined;
      return this.#start();
    });
    return this.#next;
  }

  #start(): Promise<ReloadOutcome> {
    const run = this.#reloadNow().finally(() => {
      if (this.#running === run) this.#running = undefined;
    });
    this.#running = run;
    return run;
  }

  async #reloadNow(): Promise<ReloadOutcome> {
    let next: LoadedConfig;
    try {
      next = await this.#load(this.path, this.#options);
    } catch (error) {
      this.#lastReloadSuccessful = false;
      return { ok: false, error: error instanceof Error ? error : new Error(String(error)) };
    }
    this.#lastReloadSuccessful = true;
    this.#lastReloadSuccessMs = this.#now();
    if (next.checksum === this.#current.checksum) {
      return { ok: true, changed: false, config: this.#current, listenerErrors: [] };
    }
    const previous = this.#current;
    this.#current = next;
    const listenerErrors: unknown[] = [];
    for (const listener of this.#listeners) {
      try {
        listener(next, previous);
      } catch (error) {
        listenerErrors.push(error);
      }
    }
    return { ok: true, changed: true, config: next, listenerErrors };
  }
}
