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
  },
};
