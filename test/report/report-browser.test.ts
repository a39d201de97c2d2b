import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GoodputDrop, type KpiPoint, renderReport } from '../../lambdas/sim/report';
import { validateScenario } from '../../lambdas/sim/scenario';
import {
  reportOf,
  runSimulation,
  type SimulationResult,
  type SimulationSummary,
  summaryOf,
} from '../../lambdas/wiring/simulation';
import { FAULTS_SCENARIO } from '../scenarios/fixtures';

/**
 * The scenario report as a person sees it: a short scenario through the real runner (memory
 * backend), its report written to a temp dir, served from a local HTTP server and opened in
 * headless Debian Chromium through playwright-core. Chromium is a system package (.ci/run installs
 * it); when it is missing this test fails and says how to install it, it never skips.
 */
const CHROMIUM = process.env.FLEETWATCH_CHROMIUM ?? '/usr/bin/chromium';
const LAUNCH_TIMEOUT_MS = 30_000;
/** Without the networking flags Chromium hangs on this machine's refused connections. */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let dir: string;
let server: Server;
let baseUrl: string;
let browser: Browser | undefined;
let result: SimulationResult;
let summary: SimulationSummary;
const pages = new Map<string, string>();

/** What a page did while it loaded: anything here but its own URL means the report is not self-contained. */
interface Visit {
  page: Page;
  requests: string[];
  consoleErrors: string[];
  pageErrors: string[];
}

const MISSING_CHROMIUM =
  `Chromium is not installed at ${CHROMIUM}; the report browser test needs it. Install the Debian package: ` +
  'sudo apt-get install -y --no-install-recommends chromium (.ci/run does this), or set FLEETWATCH_CHROMIUM to a Chromium binary.';

async function visit(name: string): Promise<Visit> {
  if (!existsSync(CHROMIUM)) throw new Error(MISSING_CHROMIUM);
  if (browser === undefined) throw new Error('Chromium did not start (see the beforeAll error)');
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  const v: Visit = { page, requests: [], consoleErrors: [], pageErrors: [] };
  page.on('request', (r) => v.requests.push(r.url()));
  page.on('console', (m) => {
    if (m.type() === 'error') v.consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => v.pageErrors.push(e.message));
  const response = await page.goto(`${baseUrl}/${name}`, { waitUntil: 'load', timeout: LAUNCH_TIMEOUT_MS });
  expect(response?.status()).toBe(200);
  return v;
}

async function box(page: Page, selector: string): Promise<{ width: number; height: number }> {
  const b = await page.locator(selector).boundingBox();
  if (b === null) throw new Error(`${selector} is not rendered`);
  return b;
}

/** Width and height from a PNG's IHDR chunk, after checking the signature. */
function pngSize(png: Buffer): { width: number; height: number } {
  expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
  expect(png.subarray(12, 16).toString('ascii')).toBe('IHDR');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

beforeAll(async () => {
  // Without Chromium each test fails in visit() with the install hint: counted as failures, not skips.
  if (!existsSync(CHROMIUM)) return;
  dir = await mkdtemp(join(tmpdir(), 'fleetwatch-report-'));
  const loaded = validateScenario(FAULTS_SCENARIO);
  if (!loaded.ok) throw new Error(loaded.errors.join('\n'));
  result = await runSimulation(loaded.scenario);
  summary = summaryOf(result);
  await mkdir(join(dir, 'run'), { recursive: true });
  await writeFile(join(dir, 'run', 'index.html'), reportOf(result, summary), 'utf8');
  pages.set('/run/index.html', join(dir, 'run', 'index.html'));

  // The same run with a KPI series and drops, so the north-star chart is exercised in a real
  // browser before the simulator computes KPIs itself: goodput follows the measured utilisation.
  const kpis: KpiPoint[] = result.utilisation.map((u, i) => ({
    tMs: u.tMs,
    goodput: i % 50 === 25 ? null : (u.utilPercent / 100) * 0.8,
    allocationRate: Math.min(1, u.utilPercent / 100 + 0.1),
    effectiveSmActivity: (u.utilPercent / 100) * 0.9,
  }));
  const mid = result.scenario.startMs + (result.scenario.endMs - result.scenario.startMs) / 2;
  const goodputDrops: GoodputDrop[] = [
    {
      atMs: mid,
      scope: 'cluster=train-a',
      dropPercent: 8.4,
      cause: 'hardware',
      shares: { hardware: 0.7, software: 0.3 },
    },
  ];
  const withKpis = renderReport({
    summary,
    startMs: result.scenario.startMs,
    endMs: result.scenario.endMs,
    utilisation: result.utilisation,
    notifications: result.notifications,
    incidents: result.incidents,
    maintenance: result.maintenance,
    backend: result.backend,
    kpis,
    goodputDrops,
  });
  await mkdir(join(dir, 'kpis'), { recursive: true });
  await writeFile(join(dir, 'kpis', 'index.html'), withKpis, 'utf8');
  pages.set('/kpis/index.html', join(dir, 'kpis', 'index.html'));

  server = createServer((req, res) => {
    const file = pages.get(req.url ?? '');
    if (file === undefined) {
      res.writeHead(404).end();
      return;
    }
    readFile(file).then(
      (body) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(body),
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: LAUNCH_TIMEOUT_MS,
  });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  if (dir !== undefined && process.env.FLEETWATCH_KEEP_REPORT === undefined) {
    await rm(dir, { recursive: true, force: true });
  }
});

describe('the scenario report in headless Chromium', () => {
  it('renders the run with no errors, as one self-contained file, and looks like a report', async () => {
    const v = await visit('run/index.html');
    expect(v.consoleErrors).toEqual([]);
    expect(v.pageErrors).toEqual([]);
    expect(v.requests).toEqual([`${baseUrl}/run/index.html`]);

    for (const chart of ['#utilisation', '#fault-timeline']) {
      const b = await box(v.page, chart);
      expect(b.width, chart).toBeGreaterThan(500);
      expect(b.height, chart).toBeGreaterThan(50);
    }
    // The utilisation line is drawn across the chart, not collapsed to a point.
    const line = await box(v.page, '#utilisation path');
    expect(line.width).toBeGreaterThan(500);

    // The north star: the chart when the run carries KPIs, otherwise the one-line note.
    await expect(v.page.locator('h2', { hasText: 'North star: goodput' }).count()).resolves.toBe(1);
    const kpiShown =
      (await v.page.locator('#goodput').count()) + (await v.page.locator('#goodput-none').count());
    expect(kpiShown).toBe(1);

    const screenshot = join(dir, 'run', 'report.png');
    await v.page.screenshot({ path: screenshot, fullPage: true });
    const png = await readFile(screenshot);
    const size = pngSize(png);
    expect(size.width).toBeGreaterThanOrEqual(1000);
    expect(size.height).toBeGreaterThan(900);
    expect(png.length).toBeGreaterThan(30_000);
    await v.page.close();
  });

  it('shows one timeline row per injected fault, every incident, and each suppression with its reason', async () => {
    const v = await visit('run/index.html');
    const injected = result.scenario.faults.map((f) => f.id);
    expect(injected.length).toBeGreaterThan(0);
    const rows = v.page.locator('#fault-timeline .fault-row');
    await expect(rows.count()).resolves.toBe(injected.length);
    const rowFaults = await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-fault')));
    expect(rowFaults.sort()).toEqual([...injected].sort());
    for (let i = 0; i < injected.length; i += 1) {
      const b = await rows.nth(i).boundingBox();
      expect(b?.height ?? 0, `timeline row ${i}`).toBeGreaterThan(0);
    }

    expect(result.incidents.length).toBeGreaterThan(0);
    await expect(v.page.locator('#incidents tbody tr').count()).resolves.toBe(result.incidents.length);
    const incidentIds = await v.page.locator('#incidents tbody tr td:first-child').allTextContents();
    expect(incidentIds.sort()).toEqual(result.incidents.map((i) => i.id).sort());

    // The scenario holds an Xid back in a maintenance window: at least that one is listed.
    expect(summary.suppressedIncidents.length).toBeGreaterThan(0);
    const suppressed = await v.page
      .locator('#suppressed tbody tr')
      .evaluateAll((trs) =>
        trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')),
      );
    expect(suppressed).toEqual(
      summary.suppressedIncidents.map((s) => [s.incidentId, s.kind, s.stage, s.reason]),
    );
    expect(suppressed.every((cells) => (cells[3] ?? '').length > 0)).toBe(true);
    await v.page.close();
  });

  it('draws the north-star chart with its supporting lines, drops marked, and the decomposition table', async () => {
    const v = await visit('kpis/index.html');
    expect(v.consoleErrors).toEqual([]);
    expect(v.pageErrors).toEqual([]);
    expect(v.requests).toEqual([`${baseUrl}/kpis/index.html`]);

    const chart = await box(v.page, '#goodput');
    expect(chart.width).toBeGreaterThan(500);
    for (const kpi of ['goodput', 'allocationRate', 'effectiveSmActivity']) {
      const b = await box(v.page, `#goodput path.kpi-line[data-kpi="${kpi}"]`);
      expect(b.width, kpi).toBeGreaterThan(300);
    }
    // The goodput line has gaps where the series has nulls: more than one segment (one M each).
    const d = (await v.page.locator('#goodput path[data-kpi="goodput"]').getAttribute('d')) ?? '';
    expect(d.match(/M/g)?.length ?? 0).toBeGreaterThan(1);
    await expect(v.page.locator('#goodput .drop-mark').count()).resolves.toBe(1);
    const drop = await v.page.locator('#goodput-drops tbody tr td').allTextContents();
    expect(drop).toEqual([
      '1',
      expect.any(String),
      'cluster=train-a',
      '-8.4 %',
      'hardware',
      '70.0 %',
      '30.0 %',
    ]);

    const screenshot = join(dir, 'kpis', 'report.png');
    await v.page.locator('#goodput').screenshot({ path: screenshot });
    const png = await readFile(screenshot);
    expect(pngSize(png).width).toBeGreaterThanOrEqual(900);
    expect(png.length).toBeGreaterThan(5_000);
    await v.page.close();
  });
});
