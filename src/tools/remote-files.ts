import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { BuildQuicheError, NetworkError, NotFoundError } from '../errors.js';
import type { Exec, ExecOptions } from '../process/exec.js';
import { withRetry, type RetryPolicy } from '../process/retry.js';
import { sha256, writeFileAtomic } from '../util/fs.js';
import { hasCommit, showFile } from './git.js';

export interface RemoteFilesOptions {
  /** 'auto' (gitiles at the git URL minus .git, then git), 'off' (git only), or a gitiles base per repo URL. */
  gitiles: 'auto' | 'off';
  gitilesOverrides?: Record<string, string>;
  /** Per-commit file cache and bare repos for the git fallback. */
  cacheDir: string;
  gitObjectsDir: string;
  retry: RetryPolicy;
  exec: Exec;
  signal?: AbortSignal;
  onNote?: (message: string) => void;
  env?: Record<string, string>;
}

const isCommitHash = (rev: string) => /^[0-9a-f]{40}$/.test(rev);
const repoKey = (url: string) => sha256(url).slice(0, 16);

/**
 * Reads single files of a remote repo at a revision without a checkout: gitiles' `?format=TEXT`
 * when the host offers it (seconds, a few KB), else a shallow, blob-less git fetch of that one
 * commit. Files at commit hashes are immutable and cached on disk.
 */
export class RemoteFiles {
  /** How reads were served, for plan/--json ("DEPS via gitiles"). */
  readonly stats = { cache: 0, local: 0, gitiles: 0, git: 0 };

  constructor(private readonly options: RemoteFilesOptions) {}

  /** The commit a ref (tag, branch) points at, peeled; via `git ls-remote`. */
  async resolveRef(url: string, ref: string): Promise<string> {
    if (isCommitHash(ref)) return ref;
    const result = await this.retrying(() =>
      this.options.exec('git', ['ls-remote', url, ref, `${ref}^{}`], { signal: this.options.signal, env: this.options.env }),
    );
    const lines = result.stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split('\t'));
    const peeled = lines.find(([, name]) => name === `${ref}^{}`) ?? lines.find(([, name]) => name === ref);
    if (!peeled?.[0]) {
      throw new NotFoundError(`${ref} does not exist at ${url}.`, {
        hint: 'Check chromium.version (a Chromium version tag such as 152.0.7977.83) and chromium.srcUrl.',
        data: { url, ref },
      });
    }
    return peeled[0];
  }

  /** The file's bytes, or undefined when the file does not exist at that commit. */
  async read(url: string, commit: string, file: string, localRepo?: string): Promise<Buffer | undefined> {
    const cached = path.join(this.options.cacheDir, 'files', repoKey(url), commit, file);
    if (isCommitHash(commit) && existsSync(cached)) {
      this.stats.cache++;
      return readFile(cached);
    }
    if (existsSync(`${cached}.absent`)) {
      this.stats.cache++;
      return undefined;
    }
    const content = await this.readUncached(url, commit, file, localRepo);
    if (isCommitHash(commit)) await writeFileAtomic(content === undefined ? `${cached}.absent` : cached, content ?? '');
    return content;
  }

  private async readUncached(url: string, commit: string, file: string, localRepo?: string): Promise<Buffer | undefined> {
    if (localRepo && (await hasCommit(localRepo, commit))) {
      this.stats.local++;
      return showFile(localRepo, commit, file);
    }
    const base = this.gitilesBase(url);
    if (base) {
      const viaGitiles = await this.readGitiles(base, commit, file);
      if (viaGitiles !== 'unavailable') {
        this.stats.gitiles++;
        return viaGitiles;
      }
    }
    this.stats.git++;
    return this.readViaGit(url, commit, file);
  }

  gitilesBase(url: string): string | undefined {
    const override = this.options.gitilesOverrides?.[url];
    if (override) return override.replace(/\/$/, '');
    if (this.options.gitiles === 'off') return undefined;
    return /^https?:\/\//.test(url) ? url.replace(/\/$/, '').replace(/\.git$/, '') : undefined;
  }

  /** Buffer: found; undefined: gitiles says the file is not there; 'unavailable': ask git instead. */
  private async readGitiles(base: string, commit: string, file: string): Promise<Buffer | undefined | 'unavailable'> {
    const url = `${base}/+/${commit}/${file.split('/').map(encodeURIComponent).join('/')}?format=TEXT`;
    try {
      return await this.retrying(async () => {
        let response: Response;
        let body: string;
        try {
          const signals = [AbortSignal.timeout(60_000), ...(this.options.signal ? [this.options.signal] : [])];
          response = await fetch(url, { signal: AbortSignal.any(signals) });
          body = await response.text();
        } catch (error) {
          this.options.signal?.throwIfAborted();
          throw new NetworkError(`Reading ${url} failed: ${(error as Error).message}`, { cause: error });
        }
        if (response.status >= 500 || response.status === 429) {
          throw new NetworkError(`Reading ${url} failed: HTTP ${response.status}`);
        }
        if (response.status === 404) return 'unavailable' as const;
        if (!response.ok) return 'unavailable' as const;
        // ?format=TEXT is base64; anything else (a login page, a proxy's HTML) is not gitiles.
        const text = body.replace(/\s+/g, '');
        if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return 'unavailable' as const;
        return Buffer.from(text, 'base64');
      });
    } catch (error) {
      if (error instanceof NetworkError) {
        this.options.onNote?.(`gitiles unreachable (${error.message}); reading through git instead`);
        return 'unavailable';
      }
      throw error;
    }
  }

  private async readViaGit(url: string, commit: string, file: string): Promise<Buffer | undefined> {
    const gitDir = path.join(this.options.gitObjectsDir, `${repoKey(url)}.git`);
    const git = (args: string[], options: ExecOptions = {}) =>
      this.options.exec('git', ['--git-dir', gitDir, ...args], { signal: this.options.signal, env: this.options.env, ...options });
    if (!existsSync(gitDir)) {
      await mkdir(path.dirname(gitDir), { recursive: true });
      await git(['init', '--bare', '-q']);
      await git(['remote', 'add', 'origin', url]);
    }
    if (!(await hasCommit(gitDir, commit))) {
      // Blob-less and one commit deep: DEPS of chromium/src costs KBs, not the 1.5 GB of its tree.
      await this.retrying(() => git(['fetch', '--depth=1', '--filter=blob:none', '--no-tags', 'origin', commit])).catch(
        (error: unknown) => {
          if (!(error instanceof BuildQuicheError) || error.failureClass !== 'not-found') throw error;
          // The headline says what is missing where; the git command line stays in the log.
          throw new NotFoundError(`Commit ${commit} does not exist at ${url}.`, {
            hint: 'Check chromium.version (a version tag, or a full 40-character src commit) and chromium.srcUrl.',
            logPath: error.logPath,
            tail: error.tail,
            cause: error,
            data: { url, commit },
          });
        },
      );
    }
    // Existence first (this also lazily fetches the blob), then the bytes without logging them.
    const exists = await git(['cat-file', '-e', `${commit}:${file}`], { allowFailure: true });
    return exists.exitCode === 0 ? showFile(gitDir, commit, file) : undefined;
  }

  private retrying<T>(operation: () => Promise<T>): Promise<T> {
    return withRetry(operation, this.options.retry, {
      signal: this.options.signal,
      onRetry: (error, attempt, left) => this.options.onNote?.(`${error.message} (attempt ${attempt}; ${left} retries left)`),
    });
  }
}
