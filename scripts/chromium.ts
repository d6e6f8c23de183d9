/**
 * Chromium for browser tests: Debian's `chromium` package driven by playwright-core. Playwright's own browser
 * downloads are never used (the test machines have no route to its CDN); a missing package is installed with
 * apt-get instead.
 * @example
 * const browser = await launchChromium();
 * try { await browser.page.goto(url); } finally { await browser.close(); }
 */
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { onPath } from './provision';

/** Where Debian's `chromium` package puts its launcher. */
export const debianChromiumPath = '/usr/bin/chromium';

/**
 * Flags this machine's closed network needs: no QUIC, no background requests to Google (component updates,
 * sync, first-run pings) that would hang or spam the log; no sandbox (tests run as root in a container) and no
 * GPU (there is none).
 */
export const chromiumArgs: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

type Log = (line: string) => void;
const stderrLog: Log = (line) => process.stderr.write(`${line}\n`);

export interface EnsureChromiumOptions {
  /** Default {@link debianChromiumPath}. */
  executablePath?: string;
  /** Environment for apt-get (and where to look for it on PATH); default `process.env`. */
  env?: Record<string, string | undefined>;
}

/**
 * The path of Debian's chromium; installs the package first when it is missing (apt-get update + install,
 * which takes a minute or two and needs root). Progress goes to `log`.
 * @throws Error naming the way out when apt-get is absent or fails.
 */
export async function ensureChromium(log: Log = stderrLog, options: EnsureChromiumOptions = {}): Promise<string> {
  const executablePath = options.executablePath ?? debianChromiumPath;
  const env = options.env ?? process.env;
  if (isExecutable(executablePath)) return executablePath;

  const aptGet = onPath('apt-get', env);
  if (!aptGet) {
    throw new Error(
      `Chromium not found at ${executablePath}, and apt-get is not available to install it: install Debian's ` +
        '`chromium` package (or a Chromium whose launcher is at that path) and run the tests again.',
    );
  }
  log(`[chromium] ${executablePath} is missing; installing Debian's chromium package with apt-get…`);
  const aptEnv = { ...env, DEBIAN_FRONTEND: 'noninteractive' };
  // Another apt run (unattended upgrades, a parallel setup) may hold the dpkg lock: wait up to two minutes for it.
  const lockWait = ['-o', 'DPkg::Lock::Timeout=120'];
  try {
    await run(aptGet, ['update', ...lockWait], aptEnv, log);
    await run(aptGet, ['install', '-y', ...lockWait, 'chromium'], aptEnv, log);
  } catch (error) {
    const hint = process.getuid?.() === 0 ? 'see the [apt-get] lines above' : 'apt-get needs root: run `sudo apt-get install chromium`';
    throw new Error(`${(error as Error).message}; ${hint}. The browser tests need Chromium at ${executablePath}.`, { cause: error });
  }
  if (!isExecutable(executablePath)) {
    throw new Error(`apt-get installed chromium, but ${executablePath} is still missing`);
  }
  log(`[chromium] installed ${executablePath}`);
  return executablePath;
}

export interface ChromiumSession {
  context: BrowserContext;
  /** The context's first tab. */
  page: Page;
  /** Closes the browser and deletes its profile directory. */
  close(): Promise<void>;
}

export interface LaunchChromiumOptions {
  viewport?: { width: number; height: number };
  log?: Log;
}

/**
 * Headless Chromium with a fresh profile in a temp directory (removed by close()), installing the package
 * first when needed. A persistent context because Playwright owns `--user-data-dir`: it refuses the flag in
 * launch() args and takes the directory as a parameter here instead.
 */
export async function launchChromium(options: LaunchChromiumOptions = {}): Promise<ChromiumSession> {
  const executablePath = await ensureChromium(options.log);
  const userDataDir = await mkdtemp(join(tmpdir(), 'aac-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath,
      headless: true,
      args: [...chromiumArgs],
      viewport: options.viewport ?? { width: 1280, height: 800 },
    });
  } catch (error) {
    await rm(userDataDir, { recursive: true, force: true });
    throw error;
  }
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    async close() {
      try {
        await context.close();
      } finally {
        await rm(userDataDir, { recursive: true, force: true });
      }
    },
  };
}

/** Runs apt-get to completion, its output lines prefixed into `log`; rejects on a non-zero exit. */
async function run(command: string, args: string[], env: Record<string, string | undefined>, log: Log): Promise<void> {
  const label = [command, ...args].join(' ');
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => log(`[apt-get] ${line}`));
  }
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  if (code !== 0) throw new Error(`${label} failed with exit code ${code}`);
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
