import path from 'node:path';
import type { LedgerLocation } from '../../../patches/ledger.js';
import type { AppContext } from '../../context.js';

/**
 * Where the standalone backend keeps things under the cache dir. Checkouts and install prefixes are
 * keyed by commit (and, for prefixes, by compiler and flags), so builds that pin the same commit share
 * them; the out dir is keyed by everything that goes into build.ninja.
 *
 *   cache/quiche/src/<name>-<commit12>        shallow checkouts (quiche is patched in place)
 *   cache/quiche/build/<prefix name>          CMake build trees of the dependencies
 *   cache/quiche/prefix/<prefix name>         their installs; INSTALLED_MARKER is written last
 *   cache/quiche/out/<key>                    build.ninja, obj/, gen/, bin/epoll_quic_{client,server}
 */
export const quicheCache = (app: Pick<AppContext, 'paths'>) => path.join(app.paths.cacheDir, 'quiche');
/** Every checkout (the patch ledger's paths are relative to it). */
export const checkoutsDir = (app: Pick<AppContext, 'paths'>) => path.join(quicheCache(app), 'src');
export const checkoutDir = (app: AppContext, name: string, commit: string) =>
  path.join(checkoutsDir(app), `${name}-${commit.slice(0, 12)}`);
export const buildDir = (app: AppContext, prefixName: string) => path.join(quicheCache(app), 'build', prefixName);
export const prefixDir = (app: AppContext, prefixName: string) => path.join(quicheCache(app), 'prefix', prefixName);
export const outDir = (app: AppContext, key: string) => path.join(quicheCache(app), 'out', key);

/** What `clean --checkout` removes: the four directories above. */
export const buildTreesOf = (app: Pick<AppContext, 'paths'>): string[] =>
  ['src', 'build', 'prefix', 'out'].map((dir) => path.join(quicheCache(app), dir));

/** The patch ledger, with its paths relative to the checkouts directory. */
export const standaloneLedger = (app: AppContext): LedgerLocation => ({ ledgerFile: app.paths.appliedPatches, root: checkoutsDir(app) });

/**
 * ccache's base_dir: paths under the quiche cache are hashed relative to the compile's directory, so a
 * second cache dir (another checkout of the project, CI's kill-and-resume runs) hits the objects the
 * first one compiled. That also needs hash_dir off: BoringSSL compiles with -ggdb, and with debug info
 * ccache hashes the working directory too, so every BoringSSL object missed in a second cache dir
 * (measured: 1 hit in 1,373 calls). ccache's documented price, an object whose DW_AT_comp_dir names the
 * first cache dir, is gone: every compile maps its directory to "." (standalone/path-map.ts), and the
 * maps spell paths exactly as base_dir's rewrite does, so the bytes are the same with ccache or without.
 * A user's own CCACHE_BASEDIR / CCACHE_[NO]HASHDIR win.
 */
export const compilerCacheEnv = (app: AppContext): Record<string, string> => ({
  CCACHE_BASEDIR: app.env.CCACHE_BASEDIR ?? quicheCache(app),
  ...(app.env.CCACHE_HASHDIR === undefined && { CCACHE_NOHASHDIR: app.env.CCACHE_NOHASHDIR ?? '1' }),
});

/** Written after `cmake --install` finished: a prefix without it is from a killed build and is redone. */
export const INSTALLED_MARKER = '.build-quiche-installed';
