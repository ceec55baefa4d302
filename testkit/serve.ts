/**
 * Serves the local upstream for hand runs:
 *
 *   npx tsx testkit/serve.ts [--port N] [--root DIR] [--dir DIR]
 *
 * Builds (or reuses) the cached upstream, starts the loopback server, writes a build-quiche
 * pipeline.config.ts pointing at it into --dir (default $TMPDIR/build-quiche-serve) and prints it,
 * with the base URL, the tags and commits and a .gclient snippet. Stays up until Ctrl-C.
 * Faults can be set from another shell: curl -X POST $URL/_faults -d '{"fail":{"count":2}}'.
 */
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { offlineConfig, writeConfigFile } from './world.js';
import { buildUpstream, cachedUpstream, TAG_150, TAG_152, type UpstreamInfo } from './build.js';
import { startUpstreamServer } from './server.js';

function parseArgs(argv: string[]): { port?: number; root?: string; dir?: string } {
  const result: { port?: number; root?: string; dir?: string } = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [name, inline] = arg.split('=', 2) as [string, string | undefined];
    const value = () => inline ?? argv[++i];
    if (name === '--port') result.port = Number.parseInt(value() ?? '', 10);
    else if (name === '--root') result.root = value();
    else if (name === '--dir') result.dir = value();
    else if (name === '--help' || name === '-h') {
      process.stdout.write('usage: tsx testkit/serve.ts [--port N] [--root DIR] [--dir DIR]\n');
      process.exit(0);
    } else {
      process.stderr.write(`unknown argument: ${arg}\n`);
      process.exit(2);
    }
  }
  if (result.port !== undefined && !Number.isInteger(result.port)) {
    process.stderr.write('--port needs a number\n');
    process.exit(2);
  }
  return result;
}

function describe(info: UpstreamInfo, baseUrl: string, configFile: string, configText: string): string {
  const tag = (name: typeof TAG_152 | typeof TAG_150) => {
    const pin = info.tags[name];
    return [
      `  ${name}  src ${pin.srcCommit}`,
      `      quiche_revision ${pin.quicheRevision}`,
      `      depot_tools     ${pin.depotToolsRevision}`,
      `      gn_version      ${pin.gnVersion}`,
    ].join('\n');
  };
  return `local upstream serving ${info.reposDir}
base URL: ${baseUrl}

repos:
  ${baseUrl}/${info.urlPaths.src}
  ${baseUrl}/${info.urlPaths.quiche}
  ${baseUrl}/${info.urlPaths.depotTools}

tags:
${tag(TAG_152)}
${tag(TAG_150)}
  main (src) ${info.srcMain.srcCommit}  quiche ${info.srcMain.quicheRevision}

quiche commits (oldest first):      ${info.quicheCommits.join(' ')}
depot_tools commits (oldest first): ${info.depotToolsCommits.join(' ')}

fake depot_tools:
  git clone ${baseUrl}/${info.urlPaths.depotTools} depot_tools
  export PATH="$PWD/depot_tools:$PATH" DEPOT_TOOLS_UPDATE=0 \\
    VPYTHON_BYPASS="manually managed python not supported by chrome operations"

.gclient:
solutions = [{
  "name": "src",
  "url": "${baseUrl}/${info.urlPaths.src}",
  "managed": False,
  "custom_deps": {},
  "custom_vars": {
    "chromium_git": "${baseUrl}",
    "quiche_git": "${baseUrl}",
  },
}]
target_os = ["linux"]
target_os_only = True

then: gclient sync --no-history --nohooks -D -r src@refs/tags/${TAG_152} --ignore-dep-type=cipd && gclient runhooks
gitiles: curl ${baseUrl}/chromium/src/+/refs/tags/${TAG_152}/DEPS?format=TEXT | base64 -d
faults:  curl ${baseUrl}/_faults ; curl -X POST ${baseUrl}/_faults -d '{"fail":{"count":2,"status":503}}'

build-quiche config (${configFile}):
${configText}
then: cd ${path.dirname(configFile)} && build-quiche build     (or: npx tsx ${path.resolve('src/cli/entry.ts')} build)

Ctrl-C to stop.
`;
}

const args = parseArgs(process.argv.slice(2));
const info = args.root ? await buildUpstream(args.root) : await cachedUpstream();
const server = await startUpstreamServer({ reposDir: info.reposDir, port: args.port });
const dir = path.resolve(args.dir ?? path.join(os.tmpdir(), 'build-quiche-serve'));
const configFile = await writeConfigFile(dir, offlineConfig(server.baseUrl, dir));
process.stdout.write(describe(info, server.baseUrl, configFile, await readFile(configFile, 'utf8')));

const stop = async () => {
  await server.close();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
