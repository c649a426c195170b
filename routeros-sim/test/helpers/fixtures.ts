/** Emulators for the emulator's own tests: started on ephemeral ports, stopped by the caller. */
import { RouterOsSim, type RouterOsSimOptions, type SimPorts } from '../../src/index.ts';

export const USER = 'admin';
export const PASSWORD = 'pass word';

/** A started emulator and its ports. */
export interface Router {
  sim: RouterOsSim;
  ports: SimPorts;
}

/** Starts an emulator with the test credentials. */
export async function startRouter(options: RouterOsSimOptions = {}): Promise<Router> {
  const sim = new RouterOsSim({ username: USER, password: PASSWORD, identity: 'test-router', ...options });
  const ports = await sim.start();
  return { sim, ports };
}
