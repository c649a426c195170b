/**
 * A child process for crash tests: the real `mtandao-agent run` code path (arguments, config
 * file, journal, channel) with an executor that takes `delayMs` per command and writes
 * `start <id>` / `end <id>` lines, fsynced, to an effects file so the parent can see what ran.
 *
 *   node --conditions=mtandao-source --import tsx test/helpers/slow-agent.ts STATE_DIR CONFIG_FILE EFFECTS_FILE DELAY_MS
 */
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { runCli } from '../../src/cli.ts';
import { FAST, healthyProbe } from './agent-fixtures.ts';

const [stateDir, configFile, effectsFile, delay] = process.argv.slice(2) as [string, string, string, string];
const effects = openSync(effectsFile, 'a');
const record = (line: string): void => {
  writeSync(effects, `${line}\n`);
  fsyncSync(effects);
};

process.exitCode = await runCli(['run', '--state-dir', stateDir, '--config', configFile], {
  executor: async (_router, envelope) => {
    record(`start ${envelope.id}`);
    await new Promise((resolve) => setTimeout(resolve, Number(delay)));
    record(`end ${envelope.id}`);
    return { changes: [`applied ${envelope.type}`] };
  },
  probe: healthyProbe,
  timing: FAST,
});
closeSync(effects);
