import { z } from 'zod';

const Env = z.object({
  MTANDAO_CONTROLLER_URL: z.url('MTANDAO_CONTROLLER_URL must be a URL like http://127.0.0.1:8080').optional(),
  MTANDAO_CONTROLLER_PORT: z.coerce.number().int().min(1).max(65535, 'MTANDAO_CONTROLLER_PORT must be a port number').default(8080),
  /** The agent image routers pull (agent/Dockerfile, pushed to the ISP's registry), for the enrolment commands. */
  MTANDAO_AGENT_IMAGE: z.string().trim().min(1).max(300).optional(),
});

function load() {
  const parsed = Env.safeParse(process.env);
  if (!parsed.success) {
    throw new Error(`bad dashboard settings: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const env = parsed.data;
  return {
    controllerUrl: (env.MTANDAO_CONTROLLER_URL ?? `http://127.0.0.1:${env.MTANDAO_CONTROLLER_PORT}`).replace(/\/+$/, ''),
    agentImage: env.MTANDAO_AGENT_IMAGE,
  };
}

/** The dashboard server's settings, parsed from the environment once, on first use. */
export const config = load();
