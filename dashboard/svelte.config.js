import { copyFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import adapter from '@sveltejs/adapter-node';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** @param {string} file */
const here = (file) => fileURLToPath(new URL(file, import.meta.url));
const node = adapter({ out: 'build', precompress: true });

/** @type {import('@sveltejs/kit').Config} */
export default {
  preprocess: vitePreprocess(),
  kit: {
    // adapter-node's build/index.js is replaced by entry/index.js, which serves the same handler
    // but tells it whether each request came over http or https (see there).
    adapter: {
      ...node,
      async adapt(builder) {
        await node.adapt(builder);
        copyFileSync(here('entry/index.js'), here('build/index.js'));
        rmSync(here('build/index.js.map'), { force: true });
      },
    },
    alias: { $components: 'src/lib/components' },
    // Scripts only from our origin or with this response's nonce (SvelteKit's hydration script and
    // app.html's one line carry it): an injected <script> or onclick= does not run. Styles may be
    // inline (Svelte writes style attributes); nothing may frame the dashboard.
    csp: {
      mode: 'auto',
      directives: {
        'default-src': ['self'],
        'script-src': ['self'],
        'style-src': ['self', 'unsafe-inline'],
        'img-src': ['self', 'data:'],
        'font-src': ['self'],
        'connect-src': ['self'],
        'object-src': ['none'],
        'base-uri': ['self'],
        'form-action': ['self'],
        'frame-ancestors': ['none'],
      },
    },
  },
};
