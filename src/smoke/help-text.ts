import { exec as plainExec, type Exec } from '../process/exec.js';

/**
 * What a toy program says about its flags. Chromium's programs list every flag under --help; quiche's
 * standalone ones (absl flags) answer "No flags matched" there and list them under --helpfull.
 */
export async function helpText(program: string, exec: Exec = plainExec): Promise<string> {
  const texts: string[] = [];
  for (const flag of ['--help', '--helpfull']) {
    const result = await exec(program, [flag], { allowFailure: true, timeoutMs: 10_000 });
    texts.push(result.stdout, result.stderr);
    if (!/No flags matched/.test(`${result.stdout}${result.stderr}`)) break;
  }
  return texts.join('\n');
}
