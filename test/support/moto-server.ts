/**
 * The moto_server launcher lives in lambdas/wiring/moto.ts (the simulator's `--backend moto` and
 * `npm run demo` start it too); tests import it from here as before.
 */
export {
  freePort,
  MotoMissingError,
  type MotoServer,
  motoAvailable,
  motoState,
  startMoto,
} from '../../lambdas/wiring/moto';
