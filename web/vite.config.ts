import { defineConfig } from 'vite';

// The page is served by `agora serve` from web/dist at '/'. In development, `npm run dev`
// starts the mock API (mock/server.mjs, port 8787) and Vite proxies the API paths to it;
// AGORA_API=http://127.0.0.1:8080 points the dev server at a real `agora serve` instead.
const api = process.env.AGORA_API || 'http://127.0.0.1:8787';

export default defineConfig({
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    target: 'es2022',
    outDir: 'dist',
    emptyOutDir: true,
    modulePreload: { polyfill: false },
    cssCodeSplit: false,
    sourcemap: false,
    reportCompressedSize: false,
  },
  server: {
    proxy: { '/v1': { target: api, changeOrigin: false }, '/auth': { target: api, changeOrigin: false } },
  },
});
