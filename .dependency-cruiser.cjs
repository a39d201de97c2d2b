// The dependency rule of docs/architecture (../shared/design/architecture.md), enforced in `npm test`.
//   contracts <- core <- app <- adapters <- wiring <- handlers/cli ;  infra -> contracts only
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'core-is-pure',
      comment:
        'lambdas/core is pure domain code: only contracts and other core modules (plus zod, and the pure time libraries croner, rrule, luxon).',
      severity: 'error',
      from: { path: '^lambdas/core/' },
      to: {
        pathNot: [
          '^lambdas/core/',
          '^lambdas/contracts/',
          '^node_modules/zod/',
          '^node_modules/(croner|rrule|luxon)/',
        ],
      },
    },
    {
      name: 'contracts-are-leaves',
      comment:
        'lambdas/contracts holds names and schemas shared with infra; it depends on nothing but zod (and croner, rrule, luxon: calendar.ts expands windows for infra too).',
      severity: 'error',
      from: { path: '^lambdas/contracts/' },
      to: { pathNot: ['^lambdas/contracts/', '^node_modules/zod/', '^node_modules/(croner|rrule|luxon)/'] },
    },
    {
      name: 'sim-is-pure',
      comment:
        'lambdas/sim (the fleet simulator) is pure like core: contracts, core and its own modules, plus zod, yaml and the time libraries. No SDK, no adapters, no wiring.',
      severity: 'error',
      from: { path: '^lambdas/sim/' },
      to: {
        pathNot: [
          '^lambdas/(sim|core|contracts)/',
          '^node_modules/(zod|yaml|luxon|croner|rrule)/',
          '^node_modules/@types/luxon/',
        ],
      },
    },
    {
      name: 'simulator-is-for-entry-points',
      comment:
        'Only the CLI (fleetwatch simulate, npm run demo), its composition root lambdas/wiring/simulation.ts, tests, benchmarks and scripts drive the simulator; no Lambda ships it.',
      severity: 'error',
      from: {
        pathNot: [
          '^lambdas/(sim|cli)/',
          '^lambdas/wiring/simulation\\.ts$',
          '^test/',
          '^bench/',
          '^scripts/',
        ],
      },
      to: { path: '^lambdas/sim/' },
    },
    {
      name: 'app-uses-ports-not-adapters',
      comment: 'Use cases orchestrate core over ports; they never import adapters, wiring, SDKs or handlers.',
      severity: 'error',
      from: { path: '^lambdas/app/' },
      to: { pathNot: ['^lambdas/(app|core|contracts)/', '^node_modules/zod/'] },
    },
    {
      name: 'only-adapters-import-the-aws-sdk',
      comment: 'The AWS SDK is imported by lambdas/adapters (and the wiring that builds clients) only.',
      severity: 'error',
      from: { path: '^lambdas/', pathNot: ['^lambdas/adapters/', '^lambdas/wiring/'] },
      to: { path: '^node_modules/@aws-sdk/' },
    },
    {
      name: 'adapters-do-not-reach-up',
      comment: 'Adapters implement ports; they must not import use cases, wiring, handlers or the CLI.',
      severity: 'error',
      from: { path: '^lambdas/adapters/' },
      to: { path: '^lambdas/(app|wiring|handlers|cli)/' },
    },
    {
      name: 'handlers-are-entry-points',
      comment: 'Nothing imports a handler: each is a Lambda entry point (tests call makeHandler).',
      severity: 'error',
      from: { pathNot: ['^test/', '^bench/'] },
      to: { path: '^lambdas/handlers/' },
    },
    {
      name: 'cli-is-an-entry-point',
      comment: 'Only bin/fleetwatch.mjs, the CLI itself and tests import lambdas/cli.',
      severity: 'error',
      from: { pathNot: ['^test/', '^bench/', '^bin/', '^lambdas/cli/'] },
      to: { path: '^lambdas/cli/' },
    },
    {
      name: 'infra-sees-contracts-only',
      comment: 'CDK code refers to handlers by entry path and imports only lambdas/contracts.',
      severity: 'error',
      from: { path: '^infra/' },
      to: { path: '^lambdas/', pathNot: '^lambdas/contracts/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default'],
    },
    exclude: { path: ['cdk.out', 'node_modules'] },
  },
};
