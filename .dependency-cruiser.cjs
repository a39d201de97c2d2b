// The dependency rule of docs/architecture (../shared/design/architecture.md), enforced in `npm test`.
//   contracts <- core <- app <- adapters <- wiring <- handlers/cli ;  infra -> contracts only
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'core-is-pure',
      comment: 'lambdas/core is pure domain code: only contracts and other core modules (plus zod).',
      severity: 'error',
      from: { path: '^lambdas/core/' },
      to: { pathNot: ['^lambdas/core/', '^lambdas/contracts/', '^node_modules/zod/'] },
    },
    {
      name: 'contracts-are-leaves',
      comment: 'lambdas/contracts holds names and schemas shared with infra; it depends on nothing but zod.',
      severity: 'error',
      from: { path: '^lambdas/contracts/' },
      to: { pathNot: ['^lambdas/contracts/', '^node_modules/zod/'] },
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
