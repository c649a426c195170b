import { sveltekit } from '@sveltejs/kit/vite';
import { defaultClientConditions, defaultServerConditions, defineConfig } from 'vite';

// The workspaces' package exports offer their TypeScript sources under the "mtandao-source"
// condition (their compiled dist/ otherwise): the dashboard bundles the protocol from its sources,
// so it builds without `npm run build` of the other workspaces first.
export default defineConfig({
  plugins: [sveltekit()],
  resolve: { conditions: ['mtandao-source', ...defaultClientConditions] },
  ssr: { resolve: { conditions: ['mtandao-source', ...defaultServerConditions] } },
  server: { port: Number(process.env.MTANDAO_DASHBOARD_PORT ?? 3000) },
});
