import { expect } from 'chai';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

/**
 * docker-compose.yml and the Dockerfile cannot run on a machine without a container engine: what
 * can be checked without one is checked here — every command a service runs is a file the image
 * holds, every secret and volume a service names is declared, every setting it passes is one the
 * program reads.
 */
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const read = (p: string) => readFileSync(path.join(root, p), 'utf8');

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  secrets?: string[];
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
}
const compose = parse(read('docker-compose.yml')) as {
  services: Record<string, Service>;
  secrets: Record<string, { file: string }>;
  volumes: Record<string, unknown>;
};

/** What the final stage of the root Dockerfile copies into the image, as repository paths. */
function imagePaths(): string[] {
  const dockerfile = read('Dockerfile');
  const finalStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
  return [...finalStage.matchAll(/^COPY (?:--from=\w+ )?(\S+) (\S+)$/gm)].flatMap(([, from, to]) => {
    // COPY a b c dir/ — every source but the last word
    const sources = `${from} ${to}`.split(' ').slice(0, -1);
    return sources.map((s) => s.replace(/^\/app\//, ''));
  });
}

/** Every source file below a folder (the settings a program reads are named in its code). */
function sourceText(dir: string): string {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(path.join(root, d), { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory() && e.name !== 'node_modules' && e.name !== 'dist' && e.name !== 'build') walk(p);
      else if (/\.(ts|mjs|js|svelte)$/.test(e.name)) out.push(read(p));
    }
  };
  walk(dir);
  return out.join('\n');
}

describe('docker-compose.yml and the Dockerfile (checked without a container engine)', () => {
  const copied = imagePaths();

  it('runs, in every service of the mtandao image, a program file the image holds', () => {
    const ours = Object.entries(compose.services).filter(([, s]) => s.image === 'mtandao:latest');
    expect(ours.map(([name]) => name).sort()).to.deep.equal(['agent', 'controller', 'dashboard']);
    for (const [name, s] of ours) {
      for (const argv of [s.entrypoint, s.command]) {
        if (!argv || argv[0] !== 'node') continue;
        const file = argv[1]!;
        // the dashboard's build/index.js is made by its build from entry/index.js (svelte.config.js)
        const source = file === 'dashboard/build/index.js' ? 'dashboard/entry/index.js' : file;
        if (source !== file) expect(read('dashboard/svelte.config.js')).to.match(/out: 'build'/);
        expect(existsSync(path.join(root, source)), `${name}: ${source} is in the repository`).to.equal(true);
        expect(
          copied.some((c) => file === c || file.startsWith(`${c}/`)),
          `${name}: ${file} is copied into the image`,
        ).to.equal(true);
      }
    }
    // the controller's entry wraps its command; the agent's entry takes run's flags
    expect(compose.services.controller!.command).to.deep.equal(['node', 'controller/bin/mtandao-controller.mjs']);
    expect(compose.services.agent!.command![0]).to.equal('run');
  });

  it("copies the compiled programs the bins load, and the dashboard's build, into the image", () => {
    for (const dir of ['protocol/dist', 'controller/dist', 'agent/dist', 'dashboard/build']) expect(copied, dir).to.include(dir);
    // the emulator is a development tool: its code is in no image
    expect(copied.filter((c) => c.startsWith('routeros-sim/') && !c.endsWith('package.json'))).to.deep.equal([]);
  });

  it('declares every secret and named volume a service uses, and every secret file is one the comment tells you to make', () => {
    const header = read('docker-compose.yml').split('\nname:')[0]!;
    for (const [name, s] of Object.entries(compose.services)) {
      for (const secret of s.secrets ?? []) expect(compose.secrets, `${name}: secret ${secret}`).to.have.property(secret);
      for (const v of s.volumes ?? []) {
        const volume = v.split(':')[0]!;
        if (!volume.startsWith('.') && !volume.startsWith('/')) expect(compose.volumes, `${name}: volume ${volume}`).to.have.property(volume);
      }
      for (const dep of Object.keys(s.depends_on ?? {})) expect(compose.services, `${name} depends on ${dep}`).to.have.property(dep);
    }
    for (const { file } of Object.values(compose.secrets)) expect(header, file).to.include(file.replace(/^\.\//, ''));
  });

  it('passes only settings the programs read', () => {
    const programs: Record<string, string> = {
      controller: sourceText('controller/src') + sourceText('controller/bin'),
      dashboard: sourceText('dashboard/src') + read('dashboard/entry/index.js'),
      agent: sourceText('agent/src'),
    };
    for (const [name, text] of Object.entries(programs)) {
      for (const key of Object.keys(compose.services[name]!.environment ?? {})) {
        if (key === 'PORT' || key === 'HOST') continue; // adapter-node's own
        // a secret's KEY_FILE is read as KEY (config.ts reads both)
        const base = key.replace(/_FILE$/, '');
        expect(text.includes(key) || text.includes(base), `${name}: ${key} is read`).to.equal(true);
      }
    }
  });

  it("checks the controller's health on a route it serves", () => {
    const test = compose.services.controller!.healthcheck!.test.join(' ');
    expect(test).to.include('/readyz');
    expect(sourceText('controller/src/http')).to.include("'/readyz'");
  });
});
