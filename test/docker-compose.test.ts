/**
 * docker-compose.yml is documentation that can rot silently (nothing here runs Docker): these checks make a
 * renamed config variable, a dangling depends_on or a changed search attribute fail the build instead.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { environmentVariables, fileVariables } from '../lib/config';
import { searchAttributes } from '../lib/search-attributes';
import { buildApps, nodeArgs } from '../scripts/build-apps';

interface Service {
  environment?: Record<string, unknown> | string[];
  ports?: string[];
  depends_on?: Record<string, unknown> | string[];
  command?: string | string[];
}
const compose = parse(readFileSync(new URL('../docker-compose.yml', import.meta.url), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
};
const appServices = ['workers', 'api'];

function variableNames(service: Service): string[] {
  const env = service.environment ?? {};
  return Array.isArray(env) ? env.map((entry) => entry.split('=')[0]!) : Object.keys(env);
}

/** Variables config/model.yaml interpolates (`${OPENAI_API_KEY}`): the model providers' keys. */
const modelVariables = [...readFileSync(new URL('../config/model.yaml', import.meta.url), 'utf8').matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]!);

function isKnownVariable(name: string): boolean {
  const known = (n: string) => n in environmentVariables || (fileVariables as readonly string[]).includes(n) || modelVariables.includes(n);
  return known(name) || (name.endsWith('_FILE') && known(name.slice(0, -'_FILE'.length)));
}

describe('docker-compose.yml', () => {
  it.each(appServices)('when the %s service is configured then it uses only variables lib/config.ts reads', (name) => {
    const service = compose.services[name];
    expect(service, `service ${name}`).toBeDefined();
    const names = variableNames(service!);
    expect(names).toContain('TEMPORAL_ADDRESS');
    expect(names.filter((variable) => !isKnownVariable(variable))).toEqual([]);
  });

  it('when the topology starts then only the API is published, and the app reaches MinIO and Redis without root or open access', () => {
    const published = Object.entries(compose.services).flatMap(([name, service]) => (service.ports ?? []).map((port) => `${name} ${port}`));
    expect(published).toEqual(['api 3000:3000']);
    const env = compose.services.api?.environment as Record<string, string>;
    expect(env.S3_ACCESS_KEY_ID).not.toMatch(/MINIO_ROOT/);
    expect(env.S3_SECRET_ACCESS_KEY).not.toMatch(/MINIO_ROOT/);
    expect(env.REDIS_URL).toMatch(/^redis:\/\/:\$\{REDIS_PASSWORD:\?/);
    expect([compose.services.redis?.command ?? ''].flat().join(' ')).toMatch(/--requirepass/);
  });

  it('when a service depends on another then that service exists', () => {
    const dangling = Object.entries(compose.services).flatMap(([name, service]) => {
      const deps = service.depends_on ?? [];
      return (Array.isArray(deps) ? deps : Object.keys(deps))
        .filter((dep) => !(dep in compose.services))
        .map((dep) => `${name} → ${dep}`);
    });
    expect(dangling).toEqual([]);
  });

  it('when the setup job runs then it registers exactly the search attributes of lib/search-attributes.ts', () => {
    const command = [compose.services['temporal-search-attributes']?.command ?? ''].flat().join('\n');
    const registered = Object.fromEntries(
      [...command.matchAll(/search-attribute create .*--name (\w+) --type (\w+)/g)].map((m) => [m[1], m[2]]),
    );
    expect(registered).toEqual(searchAttributes);
  });
});

describe('Dockerfile', () => {
  it('when the image builds then its base is a Node 20 image pinned by digest, run in production mode as a non-root user', () => {
    const dockerfile = readFileSync(new URL('../Dockerfile', import.meta.url), 'utf8');
    const bases = [...dockerfile.matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1]!);
    expect(bases.length).toBeGreaterThan(0);
    for (const base of bases) expect(base).toMatch(/^node:20[\w.-]*@sha256:[0-9a-f]{64}$/);
    expect(dockerfile).toMatch(/^ENV .*APP_ENV=production/m);
    expect(dockerfile).toMatch(/^USER node$/m);
  });

  it('when the image\'s processes start then they run what `npm run build` makes, and it loads as far as the production checks', async () => {
    const root = fileURLToPath(new URL('..', import.meta.url));
    const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
    const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(dockerfile)![1]!) as string[];
    const commands = [cmd, ...appServices.map((name) => [compose.services[name]?.command ?? ''].flat())];
    const built = await buildApps(join(root, 'dist'));
    expect(commands.map((command) => command.at(-1))).toEqual(['dist/api/main.js', 'dist/workers/main.js', 'dist/api/main.js']);
    // The launcher's Node flags: source maps on each command line, the memory flags for every process of the image.
    for (const command of commands) expect(command).toContain('--enable-source-maps');
    const imageOptions = /^ENV NODE_OPTIONS=(.*)$/m.exec(dockerfile)?.[1]?.split(' ') ?? [];
    expect(['--enable-source-maps', ...imageOptions].sort()).toEqual([...nodeArgs].sort());
    for (const command of commands) expect(existsSync(join(root, command.at(-1)!))).toBe(true);
    // Started through a symlink (a worktree sharing node_modules, a link in /usr/local/bin) it runs all the same.
    const linked = join(mkdtempSync(join(tmpdir(), 'entry-link-')), 'worker.js');
    symlinkSync(built.worker, linked);
    // Production mode without keys or a model: both refuse to start, naming what is missing.
    for (const entry of [built.worker, built.api, linked]) {
      const failed = await promisify(execFile)(process.execPath, [entry], { env: { PATH: process.env.PATH, APP_ENV: 'production' } }).catch((error) => error);
      expect(failed.code).toBe(1);
      expect(failed.stderr).toMatch(/ENCRYPTION_KEYS/);
    }
  });
});
